import assert from "node:assert/strict";
import { appendFile, readFile, readdir, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import zlib from "node:zlib";
import { EntryType, type Entry } from "../../src/core/types.js";
import { crc32Table } from "../../src/storage/crc32.js";
import { WalCorruptionError } from "../../src/storage/errors.js";
import { writeSnapshotFile } from "../../src/storage/snapshot-file.js";
import { Wal } from "../../src/storage/wal.js";
import { Rng, entries, entry, recordingLogger, recover, tempDir } from "./support.js";

/** Bytes of the records these tests write: a hard state, and an entry with 10 bytes of data. */
const HARD_STATE_RECORD = 9 + 12;
const ENTRY_RECORD = 9 + 21 + 10;

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.startsWith("wal-")).sort();
}

function indexes(list: readonly Entry[]): number[] {
  return list.map((e) => e.index);
}

async function assertCorrupt(dir: string, file: string, offset: number, reason: RegExp): Promise<void> {
  await assert.rejects(recover(dir), (err: unknown) => {
    assert.ok(err instanceof WalCorruptionError, `expected WalCorruptionError, got ${String(err)}`);
    assert.equal(err.file, join(dir, file));
    assert.equal(err.offset, offset);
    assert.match(err.reason, reason);
    assert.ok(err.message.includes(join(dir, file)) && err.message.includes(`at byte ${offset}`), err.message);
    return true;
  });
}

describe("WAL: write and recover", () => {
  test("a new directory recovers an empty log", async () => {
    const state = await recover(join(await tempDir(), "node-1"));
    assert.deepEqual(state, { hardState: { currentTerm: 0, votedFor: null }, snapshot: null, entries: [] });
  });

  test("recovers the hard state and entries it synced, byte for byte", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    const written: Entry[] = [
      { index: 1, term: 1, type: EntryType.Noop, data: Buffer.alloc(0) },
      entry(2, 1),
      { index: 3, term: 2, type: EntryType.Normal, data: Buffer.alloc(3 << 20, 0x5a) },
      entry(4, 2, 0),
    ];
    wal.setHardState({ currentTerm: 1, votedFor: 3 });
    wal.append(written.slice(0, 2));
    await wal.sync();
    wal.setHardState({ currentTerm: 2, votedFor: null });
    wal.append(written.slice(2));
    await wal.close();

    const state = await recover(dir);
    assert.deepEqual(state.hardState, { currentTerm: 2, votedFor: null });
    assert.equal(state.snapshot, null);
    assert.deepEqual(state.entries, written.map((e) => ({ ...e, data: Buffer.from(e.data) })));
  });

  test("keeps appending where it left off, across several reopenings", async () => {
    const dir = await tempDir();
    for (let round = 0; round < 4; round++) {
      const { wal, state } = await Wal.open(dir);
      assert.deepEqual(indexes(state.entries), indexes(entries(1, 10 * round, 1)));
      assert.equal(wal.lastIndex, 10 * round);
      wal.append(entries(10 * round + 1, 10 * round + 10, 1));
      await wal.close();
    }
  });

  test("an append at or below the last index replaces the suffix from there", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    wal.append(entries(1, 10, 1));
    await wal.sync();
    wal.append(entries(6, 8, 2));
    assert.equal(wal.lastIndex, 8);
    wal.append(entries(8, 9, 3)); // again, within the same batch
    await wal.close();

    const state = await recover(dir);
    assert.deepEqual(
      state.entries.map((e) => [e.index, e.term]),
      [...entries(1, 5, 1), ...entries(6, 7, 2), ...entries(8, 9, 3)].map((e) => [e.index, e.term]),
    );
    assert.deepEqual(state.entries[6]!.data, entry(7, 2).data);
  });

  test("refuses appends that would leave a hole, go back in term, or reach into the snapshot; the log is unchanged", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    wal.append(entries(1, 5, 2));
    assert.throws(() => wal.append([entry(7, 2)]), /entry 7 cannot follow a log that holds 1..5/);
    assert.throws(() => wal.append([entry(6, 2), entry(8, 2)]), /entry 8 where 7 was expected/);
    assert.throws(() => wal.append([entry(6, 1)]), /has term 1, after term 2/);
    assert.throws(() => wal.append([entry(3, 2), entry(4, 1)]), /has term 1, after term 2/);
    assert.throws(() => wal.append([entry(0, 2)]), RangeError);
    assert.throws(() => wal.append([{ ...entry(6, 2), type: 7 as EntryType }]), /unknown type 7/);
    assert.equal(wal.lastIndex, 5);
    await wal.saveSnapshot({ lastIncludedIndex: 3, lastIncludedTerm: 2, data: Buffer.from("s") });
    assert.throws(() => wal.append([entry(3, 2)]), /cannot follow a log that holds 4..5/);
    await wal.close();
    assert.deepEqual(indexes((await recover(dir)).entries), [4, 5]);
  });

  test("rolls over to new segments past segmentBytes, and reads them all back", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentBytes: 1024 });
    for (let i = 1; i <= 300; i += 3) {
      wal.setHardState({ currentTerm: i, votedFor: 1 });
      wal.append(entries(i, i + 2, 1));
      await wal.sync();
    }
    await wal.close();
    const files = await segmentFiles(dir);
    assert.ok(files.length >= 10, `only ${files.length} segments`);
    for (const f of files.slice(0, -2)) assert.ok((await stat(join(dir, f))).size >= 1024, `${f} closed early`);

    const state = await recover(dir, { segmentBytes: 1024 });
    assert.deepEqual(indexes(state.entries), indexes(entries(1, 300, 1)));
    assert.deepEqual(state.hardState, { currentTerm: 298, votedFor: 1 });
  });

  test("group commit: syncs requested while one is in flight share the next fsync", async () => {
    const dir = await tempDir();
    const fsyncs: number[] = [];
    const { wal } = await Wal.open(dir, { onFsync: (_seconds, bytes) => fsyncs.push(bytes) });
    const done: Promise<void>[] = [];
    for (let i = 1; i <= 100; i++) {
      wal.append([entry(i, 1)]);
      done.push(wal.sync());
    }
    await Promise.all(done);
    // The first sync starts at once with entry 1; the 99 others wait for it and go out together.
    assert.deepEqual(fsyncs, [ENTRY_RECORD, 99 * ENTRY_RECORD]);
    assert.equal(wal.stats.fsyncs, 2);
    assert.equal(wal.stats.bytesWritten, 100 * ENTRY_RECORD);
    await wal.sync(); // nothing batched: no fsync
    assert.equal(wal.stats.fsyncs, 2);
    await wal.close();
    assert.equal((await recover(dir)).entries.length, 100);
  });

  test("crc32 falls back to a table-driven version that agrees with zlib", () => {
    const rng = new Rng(5);
    for (let i = 0; i < 200; i++) {
      const data = rng.bytes(rng.int(3000));
      assert.equal(crc32Table(data), zlib.crc32(data));
      assert.equal(crc32Table(data.subarray(100), crc32Table(data.subarray(0, 100))), zlib.crc32(data));
    }
  });
});

describe("WAL: damage on disk", () => {
  /** A directory whose only segment holds a hard state and entries 1..n. */
  async function oneSegment(n: number): Promise<{ dir: string; file: string }> {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    wal.append(entries(1, n, 1));
    await wal.close();
    const [file] = await segmentFiles(dir);
    return { dir, file: file! };
  }

  test("a half-written record at the end is cut off with a warning; the rest survives", async () => {
    const { dir, file } = await oneSegment(5);
    const path = join(dir, file);
    const intact = (await stat(path)).size;
    const record = (await readFile(path)).subarray(HARD_STATE_RECORD, HARD_STATE_RECORD + ENTRY_RECORD);
    await appendFile(path, record.subarray(0, 25));

    const { logger, lines } = recordingLogger();
    const state = await recover(dir, { logger });
    assert.deepEqual(indexes(state.entries), [1, 2, 3, 4, 5]);
    const warning = lines.find((l) => l.event === "wal_torn_tail_cut");
    assert.ok(warning, "no warning");
    assert.equal(warning.level, "warn");
    assert.equal(warning.offset, intact);
    assert.equal((await stat(path)).size, intact, "the torn bytes are gone from the file");
    assert.deepEqual(indexes((await recover(dir)).entries), [1, 2, 3, 4, 5]);
  });

  test("garbage at the end of the log is cut off the same way", async () => {
    const rng = new Rng(6);
    for (const size of [1, 8, 9, 100, 5000]) {
      const { dir, file } = await oneSegment(4);
      await appendFile(join(dir, file), rng.bytes(size));
      const { logger, lines } = recordingLogger();
      assert.deepEqual(indexes((await recover(dir, { logger })).entries), [1, 2, 3, 4], `${size} bytes of garbage`);
      assert.ok(lines.some((l) => l.event === "wal_torn_tail_cut"));
    }
  });

  test("a damaged last record is treated as torn: cut, with a warning", async () => {
    const { dir, file } = await oneSegment(5);
    const path = join(dir, file);
    const bytes = await readFile(path);
    bytes[bytes.length - 3]! ^= 0xff;
    await writeFile(path, bytes);
    const { logger, lines } = recordingLogger();
    assert.deepEqual(indexes((await recover(dir, { logger })).entries), [1, 2, 3, 4]);
    assert.ok(lines.some((l) => l.event === "wal_torn_tail_cut" && l.reason === "checksum mismatch"));
  });

  test("a flipped byte in the middle of a segment is fatal, naming the file and offset", async () => {
    const { dir, file } = await oneSegment(8);
    const path = join(dir, file);
    const bytes = await readFile(path);
    const damaged = HARD_STATE_RECORD + 3 * ENTRY_RECORD;
    bytes[damaged + 20]! ^= 0x01;
    await writeFile(path, bytes);
    await assertCorrupt(dir, file, damaged, /checksum mismatch/);
    assert.deepEqual(await readFile(path), bytes, "nothing was cut");
  });

  test("a damaged length in the middle is fatal too, though it makes the record run past the end", async () => {
    const { dir, file } = await oneSegment(8);
    const path = join(dir, file);
    const bytes = await readFile(path);
    const damaged = HARD_STATE_RECORD + 2 * ENTRY_RECORD;
    bytes.writeUInt32BE(1 << 20, damaged + 4);
    await writeFile(path, bytes);
    await assertCorrupt(dir, file, damaged, /runs past the end of the file/);
  });

  test("any damage in a segment other than the last is fatal, even at its end", async () => {
    const { dir, file } = await oneSegment(3);
    await recover(dir); // a second segment now follows the first
    await appendFile(join(dir, file), Buffer.from([1, 2, 3]));
    const size = HARD_STATE_RECORD + 3 * ENTRY_RECORD;
    await assertCorrupt(dir, file, size, /incomplete record header/);
  });

  test("a record with a valid checksum that cannot follow the log is fatal", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    wal.append(entries(1, 3, 1));
    await wal.close();
    // Splice in a copy of entry 2's record after entry 3: intact, but impossible there.
    const [file] = await segmentFiles(dir);
    const path = join(dir, file!);
    const bytes = await readFile(path);
    const second = bytes.subarray(HARD_STATE_RECORD + ENTRY_RECORD, HARD_STATE_RECORD + 2 * ENTRY_RECORD);
    await appendFile(path, Buffer.concat([second, second]));
    await assertCorrupt(dir, file!, bytes.length, /impossible record: entry 2 does not follow the last index 3/);
  });

  test("a missing segment is fatal", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentBytes: 200 });
    for (let i = 1; i <= 40; i += 4) {
      wal.append(entries(i, i + 3, 1));
      await wal.sync();
    }
    await wal.close();
    const files = await segmentFiles(dir);
    await unlink(join(dir, files[2]!));
    await assertCorrupt(dir, files[3]!, 0, /segment \d+ is missing before it/);
  });

  test("a missing first segment that no snapshot covers is fatal", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentBytes: 1 });
    for (let i = 1; i <= 5; i++) {
      wal.append([entry(i, 1)]);
      await wal.sync();
    }
    await wal.close();
    const files = await segmentFiles(dir);
    await unlink(join(dir, files[0]!));
    await unlink(join(dir, files[1]!)); // the one holding entry 1
    await assertCorrupt(dir, "", 0, /entries 1..1 are in neither a snapshot nor a WAL segment/);
  });
});

describe("WAL: snapshots and compaction", () => {
  const snap = (index: number, term: number, data = `state@${index}`) => ({ lastIncludedIndex: index, lastIncludedTerm: term, data: Buffer.from(data) });

  test("compaction deletes the segments a snapshot covers; recovery starts after the snapshot", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentBytes: 512 });
    wal.setHardState({ currentTerm: 4, votedFor: 2 });
    for (let i = 1; i <= 300; i += 5) {
      wal.append(entries(i, i + 4, 1));
      await wal.sync();
    }
    const before = await segmentFiles(dir);
    await assert.rejects(wal.compact(200), /past the newest saved snapshot \(0\)/);
    await wal.saveSnapshot(snap(200, 1));
    await wal.compact(200);
    const after = await segmentFiles(dir);
    assert.ok(after.length < before.length / 2, `${before.length} -> ${after.length} segments`);
    // What is left starts at or before 201: nothing after the snapshot went.
    assert.ok(Number(after[0]!.slice(21, 41)) <= 201, after[0]);
    await wal.close();

    const state = await recover(dir);
    assert.deepEqual(state.snapshot, snap(200, 1));
    assert.deepEqual(indexes(state.entries), indexes(entries(201, 300, 1)));
    assert.deepEqual(state.hardState, { currentTerm: 4, votedFor: 2 }, "the hard state survives its segment");
  });

  test("compaction stops exactly at the snapshot; the segments left carry the hard state and snapshot they follow", async () => {
    const dir = await tempDir();
    // A segment per sync: entry i alone in its segment, the snapshot's record alone in one too.
    const { wal } = await Wal.open(dir, { segmentBytes: 1 });
    wal.setHardState({ currentTerm: 3, votedFor: 1 });
    for (let i = 1; i <= 10; i++) {
      wal.append([entry(i, 3)]);
      await wal.sync();
    }
    await wal.saveSnapshot(snap(10, 3));
    for (let i = 11; i <= 20; i++) {
      wal.append([entry(i, 3)]);
      await wal.sync();
    }
    await wal.compact(10);
    // Left: the segments that start at 11 (one per entry from 11 on).
    const firstIndexes = (await segmentFiles(dir)).map((f) => Number(f.slice(21, 41)));
    assert.deepEqual(firstIndexes, [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    await wal.close();

    const state = await recover(dir);
    assert.deepEqual(state.hardState, { currentTerm: 3, votedFor: 1 });
    assert.deepEqual(state.snapshot, snap(10, 3));
    assert.deepEqual(indexes(state.entries), indexes(entries(11, 20, 3)));
  });

  test("keeps only the newest snapshot file", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    wal.append(entries(1, 30, 1));
    for (const i of [10, 20, 30]) await wal.saveSnapshot(snap(i, 1));
    await wal.close();
    assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith("snapshot-")), ["snapshot-00000000000000000030.snap"]);
    const state = await recover(dir);
    assert.deepEqual(state.snapshot, snap(30, 1));
    assert.deepEqual(state.entries, []);
  });

  test("a snapshot the log holds keeps the entries after it; one it does not hold replaces the log (Raft §7)", async () => {
    const held = await tempDir();
    {
      const { wal } = await Wal.open(held);
      wal.append(entries(1, 150, 1));
      await wal.saveSnapshot(snap(100, 1));
      await wal.close();
    }
    assert.deepEqual(indexes((await recover(held)).entries), indexes(entries(101, 150, 1)));

    const conflicting = await tempDir();
    {
      const { wal } = await Wal.open(conflicting);
      wal.append(entries(1, 150, 1));
      await wal.saveSnapshot(snap(100, 3));
      assert.equal(wal.lastIndex, 100);
      await wal.close();
    }
    const state = await recover(conflicting);
    assert.deepEqual(state.entries, []);
    assert.deepEqual(state.snapshot, snap(100, 3));
  });

  test("a snapshot beyond the log (installed from a leader) is followed by the entries after it", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentBytes: 256 });
    wal.append(entries(1, 50, 1));
    await wal.sync();
    // Not awaited: entries appended next already follow the snapshot, and one sync covers both.
    const saved = wal.saveSnapshot(snap(1000, 5));
    wal.append(entries(1001, 1010, 5));
    await wal.sync();
    await saved;
    await wal.compact(1000);
    await wal.close();
    const state = await recover(dir);
    assert.deepEqual(state.snapshot, snap(1000, 5));
    assert.deepEqual(indexes(state.entries), indexes(entries(1001, 1010, 5)));
    assert.ok(state.entries.every((e) => e.term === 5));
  });

  test("a snapshot saved just before a crash, without its log record, is applied on recovery", async () => {
    for (const [term, expected] of [
      [1, indexes(entries(21, 40, 1))], // held by the log: the entries after it stay
      [2, []], // not held: the log is replaced
    ] as const) {
      const dir = await tempDir();
      const { wal } = await Wal.open(dir);
      wal.append(entries(1, 40, 1));
      await wal.close();
      await writeSnapshotFile(dir, snap(20, term));
      const state = await recover(dir);
      assert.deepEqual(state.snapshot, snap(20, term));
      assert.deepEqual(indexes(state.entries), expected);
    }
  });

  test("a snapshot file the log refers to must exist, and must be intact", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    wal.append(entries(1, 10, 1));
    await wal.saveSnapshot(snap(5, 1));
    await wal.close();
    const snapshotFile = join(dir, "snapshot-00000000000000000005.snap");
    const bytes = await readFile(snapshotFile);

    bytes[bytes.length - 1]! ^= 1;
    await writeFile(snapshotFile, bytes);
    await assert.rejects(recover(dir), (err: unknown) => err instanceof WalCorruptionError && err.file === snapshotFile && /checksum/.test(err.reason));

    await unlink(snapshotFile);
    const [file] = await segmentFiles(dir);
    await assert.rejects(
      recover(dir),
      (err: unknown) => err instanceof WalCorruptionError && err.file === join(dir, file!) && /follows a snapshot at index 5, but there is none/.test(err.reason),
    );
  });

  test("a snapshot a crash left half-written is ignored and removed; other files are left alone", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    wal.append(entries(1, 10, 1));
    await wal.close();
    await writeFile(join(dir, "snapshot-00000000000000000008.snap.tmp"), "half a snap");
    await writeFile(join(dir, "notes.tmp"), "not ours");
    const state = await recover(dir);
    assert.equal(state.snapshot, null);
    assert.equal(state.entries.length, 10);
    const files = await readdir(dir);
    assert.ok(!files.includes("snapshot-00000000000000000008.snap.tmp"));
    assert.ok(files.includes("notes.tmp"));
  });

  test("refuses a snapshot older than the saved one", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    wal.append(entries(1, 10, 1));
    await wal.saveSnapshot(snap(8, 1));
    assert.throws(() => wal.saveSnapshot(snap(7, 1)), /older than the saved one/);
    assert.throws(() => wal.saveSnapshot(snap(8, 2)), /older than the saved one/);
    await wal.close();
  });
});

describe("WAL: random histories", () => {
  /** What the WAL should recover: the same rules, kept with whole entries in memory. */
  class Model {
    hardState = { currentTerm: 0, votedFor: null as number | null };
    snapshot: { lastIncludedIndex: number; lastIncludedTerm: number; data: Buffer } | null = null;
    entries: Entry[] = [];
    get baseIndex() {
      return this.snapshot?.lastIncludedIndex ?? 0;
    }
    get lastIndex() {
      return this.baseIndex + this.entries.length;
    }
    termAt(index: number): number | undefined {
      if (index === this.baseIndex) return this.snapshot?.lastIncludedTerm ?? 0;
      return this.entries[index - this.baseIndex - 1]?.term;
    }
    append(list: Entry[]) {
      this.entries = [...this.entries.slice(0, list[0]!.index - this.baseIndex - 1), ...list];
    }
    install(s: { lastIncludedIndex: number; lastIncludedTerm: number; data: Buffer }) {
      const held = this.termAt(s.lastIncludedIndex) === s.lastIncludedTerm;
      this.entries = held ? this.entries.slice(s.lastIncludedIndex - this.baseIndex) : [];
      this.snapshot = s;
    }
  }

  test("recovers exactly what a model of the log holds, through appends, conflicts, snapshots, compactions and restarts", async () => {
    const rng = new Rng(11);
    for (let run = 0; run < 6; run++) {
      const dir = await tempDir();
      const model = new Model();
      let maxTerm = 1;
      /** Compaction may only go as far as a snapshot known to be saved. */
      let savedIndex = 0;
      let { wal } = await Wal.open(dir, { segmentBytes: 300 + rng.int(2000) });
      for (let step = 0; step < 150; step++) {
        const op = rng.int(20);
        if (op < 10) {
          const from = Math.max(model.baseIndex + 1, model.lastIndex + 1 - rng.int(6));
          if (rng.int(4) === 0) maxTerm++;
          const list = Array.from({ length: 1 + rng.int(5) }, (_, i) => ({ ...entry(from + i, maxTerm, rng.int(40)), type: rng.int(5) === 0 ? EntryType.Noop : EntryType.Normal }));
          wal.append(list);
          model.append(list);
        } else if (op < 12) {
          model.hardState = { currentTerm: maxTerm, votedFor: rng.int(3) === 0 ? null : 1 + rng.int(5) };
          wal.setHardState(model.hardState);
        } else if (op < 14) {
          const index = model.baseIndex + 1 + rng.int(model.lastIndex - model.baseIndex + 5);
          const heldTerm = model.termAt(index);
          const term = heldTerm !== undefined && rng.int(2) === 0 ? heldTerm : ++maxTerm;
          const s = { lastIncludedIndex: index, lastIncludedTerm: term, data: rng.bytes(rng.int(100)) };
          const saved = wal.saveSnapshot(s);
          model.install(s);
          if (rng.int(2) === 0) {
            await saved;
            savedIndex = index;
          }
        } else if (op < 16) {
          await wal.compact(rng.int(2) === 0 ? savedIndex : rng.int(savedIndex + 1));
        } else if (op < 19) {
          await wal.sync();
        } else {
          await wal.close();
          let state;
          ({ wal, state } = await Wal.open(dir, { segmentBytes: 300 + rng.int(2000) }));
          savedIndex = model.baseIndex;
          assert.deepEqual(state.hardState, model.hardState, `run ${run} step ${step}`);
          assert.deepEqual(state.snapshot, model.snapshot, `run ${run} step ${step}`);
          assert.deepEqual(state.entries, model.entries.map((e) => ({ ...e, data: Buffer.from(e.data) })), `run ${run} step ${step}`);
          assert.equal(wal.lastIndex, model.lastIndex);
        }
      }
      await wal.close();
    }
  });
});
