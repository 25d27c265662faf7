import assert from "node:assert/strict";
import { appendFile, readFile, readdir, stat, truncate, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import zlib from "node:zlib";
import { EntryType, type Entry } from "../../src/core/types.js";
import { crc32Table } from "../../src/storage/crc32.js";
import { WalFormatError } from "../../src/storage/errors.js";
import { HEADER_BYTES, readHeader, slotOffset } from "../../src/storage/header.js";
import { RecordBuffer } from "../../src/storage/records.js";
import { writeSnapshotFile } from "../../src/storage/snapshot-file.js";
import { Wal } from "../../src/storage/wal.js";
import { Rng, entries, entry, recordingLogger, recover, tempDir } from "./support.js";

/** Bytes of the record of an entry with 10 bytes of data. */
const ENTRY_RECORD = 9 + 21 + 10;

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((f) => f.startsWith("wal-")).sort();
}

function indexes(list: readonly Entry[]): number[] {
  return list.map((e) => e.index);
}

describe("WAL: write and recover", () => {
  test("a new directory recovers an empty log", async () => {
    const state = await recover(join(await tempDir(), "node-1"));
    assert.deepEqual({ ...state, incarnation: 0 }, { hardState: null, snapshot: null, entries: [], incarnation: 0, damage: [] }, "no hard state: the Raft core finds out whether its cluster is new");
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
    await wal.saveSnapshot({ lastIncludedIndex: 3, lastIncludedTerm: 2, data: Buffer.from("s"), config: null });
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
  /** A directory whose segments hold entries 1..n of term 1 (one batch), with the hard state (1, 1). */
  async function oneSegment(n: number): Promise<{ dir: string; file: string; path: string }> {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    wal.setHardState({ currentTerm: 1, votedFor: 1 });
    wal.append(entries(1, n, 1));
    await wal.close();
    const files = await segmentFiles(dir);
    // Opening starts a new, empty segment: the records are in the one before it.
    const file = files.at(-1)!;
    const withRecords = (await stat(join(dir, file))).size > HEADER_BYTES ? file : files.at(-2)!;
    return { dir, file: withRecords, path: join(dir, withRecords) };
  }

  /** Recovers `dir`, checking that the damage was found and remembered: the lost mark, the log cut at `keep`. */
  async function assertRecovered(dir: string, keep: number, through: number, damage: RegExp): Promise<void> {
    const { logger, lines } = recordingLogger();
    const state = await recover(dir, { logger });
    assert.deepEqual(indexes(state.entries), indexes(entries(1, keep, 1)));
    assert.deepEqual(state.hardState, { currentTerm: 1, votedFor: 1, lost: { through, term: 1 } });
    assert.ok(state.damage.some((d) => damage.test(d)), `damage ${JSON.stringify(state.damage)} does not match ${damage}`);
    const error = lines.find((l) => l.event === "storage_damaged");
    assert.ok(error && error.level === "error", "one error line says what was lost");
    // Opening again finds the same state, with the lost mark still there: it was written down.
    const again = await recover(dir);
    assert.deepEqual(indexes(again.entries), indexes(entries(1, keep, 1)));
    assert.deepEqual(again.hardState?.lost, { through, term: 1 });
    assert.deepEqual(again.damage, [], "the damage was moved aside: the directory is whole again");
  }

  test("a half-written record past what the header vouches for is cut off with a warning; no loss", async () => {
    const { dir, path } = await oneSegment(5);
    const intact = (await stat(path)).size;
    const record = (await readFile(path)).subarray(HEADER_BYTES, HEADER_BYTES + ENTRY_RECORD);
    await appendFile(path, record.subarray(0, 25));

    const { logger, lines } = recordingLogger();
    const state = await recover(dir, { logger });
    assert.deepEqual(indexes(state.entries), [1, 2, 3, 4, 5]);
    assert.deepEqual(state.hardState, { currentTerm: 1, votedFor: 1 });
    assert.deepEqual(state.damage, []);
    const warning = lines.find((l) => l.event === "wal_torn_tail_cut");
    assert.ok(warning, "no warning");
    assert.equal(warning.level, "warn");
    assert.equal(warning.offset, intact);
    assert.equal((await stat(path)).size, intact, "the torn bytes are gone from the file");
    assert.deepEqual(indexes((await recover(dir)).entries), [1, 2, 3, 4, 5]);
  });

  test("garbage, or whole intact records, past what the header vouches for are cut the same way", async () => {
    const rng = new Rng(6);
    for (const size of [1, 8, 9, 100, 5000]) {
      const { dir, path } = await oneSegment(4);
      await appendFile(path, rng.bytes(size));
      const { logger, lines } = recordingLogger();
      const state = await recover(dir, { logger });
      assert.deepEqual(indexes(state.entries), [1, 2, 3, 4], `${size} bytes of garbage`);
      assert.deepEqual(state.damage, []);
      assert.ok(lines.some((l) => l.event === "wal_torn_tail_cut"));
    }
    // A valid record of entry 5 written but never vouched for by a header (the crash came before the header): cut too.
    const { dir, path } = await oneSegment(4);
    const five = new RecordBuffer();
    five.entry(entry(5, 1));
    await appendFile(path, five.bytes());
    assert.deepEqual(indexes((await recover(dir)).entries), [1, 2, 3, 4]);
  });

  test("a client's value that holds the bytes of a valid record cannot change the verdict (the torn tail is decided by the header)", async () => {
    // Entry 2's data is a whole, valid encoded record; then the tail is torn 5 bytes short, as a crash would.
    const forged = new RecordBuffer();
    forged.entry(entry(3, 1));
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    wal.setHardState({ currentTerm: 1, votedFor: 1 });
    wal.append([entry(1, 1), { index: 2, term: 1, type: EntryType.Normal, data: Buffer.from(forged.bytes()) }]);
    await wal.sync();
    wal.append([entry(3, 1)]);
    await wal.close();
    const [file] = await segmentFiles(dir);
    const path = join(dir, file!);
    // Past what was vouched for (a write torn before its header): cut, nothing lost.
    await appendFile(path, forged.bytes().subarray(0, forged.length - 5));
    const state = await recover(dir);
    assert.deepEqual(indexes(state.entries), [1, 2, 3]);
    assert.deepEqual(state.damage, []);
    // Within what was vouched for (the disk lost an acknowledged tail): a loss, recovered through the protocol, never fatal.
    const size = (await stat(path)).size;
    await truncate(path, size - 5);
    const after = await recover(dir);
    assert.deepEqual(indexes(after.entries), [1, 2]);
    assert.deepEqual(after.hardState?.lost, { through: 3, term: 1 });
  });

  test("a flipped byte in the middle: the log is cut before that record, the damage moved aside, the loss remembered", async () => {
    const { dir, file, path } = await oneSegment(8);
    const bytes = await readFile(path);
    const damaged = HEADER_BYTES + 3 * ENTRY_RECORD;
    bytes[damaged + 20]! ^= 0x01;
    await writeFile(path, bytes);
    await assertRecovered(dir, 3, 8, new RegExp(`${file} at byte ${damaged}: checksum mismatch`));
    const aside = await readFile(join(dir, `${file}.damaged-at-${damaged}`));
    assert.deepEqual(aside, bytes.subarray(damaged), "the damaged records are kept for an operator");
  });

  test("a damaged length in the middle, though it makes the record run past the end", async () => {
    const { dir, path } = await oneSegment(8);
    const bytes = await readFile(path);
    const damaged = HEADER_BYTES + 2 * ENTRY_RECORD;
    bytes.writeUInt32BE(1 << 20, damaged + 4);
    await writeFile(path, bytes);
    await assertRecovered(dir, 2, 8, /runs past the end of the file/);
  });

  test("a tail lost or zero-filled within what the header vouches for is a loss", async () => {
    for (const fault of ["truncate", "boundary", "zero"] as const) {
      const { dir, path } = await oneSegment(8);
      const size = (await stat(path)).size;
      if (fault === "truncate") await truncate(path, size - ENTRY_RECORD - 7);
      else if (fault === "boundary") await truncate(path, size - 2 * ENTRY_RECORD);
      else {
        const bytes = await readFile(path);
        bytes.fill(0, size - ENTRY_RECORD - 7);
        await writeFile(path, bytes);
      }
      const why = { truncate: /runs past the end of the file/, boundary: /the file ends at byte \d+, but its header vouches for records up to byte/, zero: /checksum mismatch/ }[fault];
      await assertRecovered(dir, 6, 8, why);
    }
  });

  test("damage in a segment other than the last: cut there, and the newer segments moved aside", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentBytes: 200 });
    wal.setHardState({ currentTerm: 1, votedFor: 1 });
    for (let i = 1; i <= 40; i += 4) {
      wal.append(entries(i, i + 3, 1));
      await wal.sync();
    }
    await wal.close();
    const files = await segmentFiles(dir);
    const second = join(dir, files[1]!);
    const bytes = await readFile(second);
    bytes[HEADER_BYTES + ENTRY_RECORD + 25]! ^= 0xff;
    await writeFile(second, bytes);
    const firstIndex = Number(files[1]!.slice(21, 41));
    await assertRecovered(dir, firstIndex, 40, /checksum mismatch/);
    const left = await readdir(dir);
    for (const f of files.slice(2)) assert.ok(left.includes(`${f}.damaged`), `${f} moved aside`);
  });

  test("a record with a valid checksum that cannot follow the log is damage too", async () => {
    const { dir, path } = await oneSegment(4);
    // Entries 2 and 3 swap places: each record intact, the order impossible.
    const bytes = await readFile(path);
    const a = HEADER_BYTES + ENTRY_RECORD;
    const two = Buffer.from(bytes.subarray(a, a + ENTRY_RECORD));
    bytes.copy(bytes, a, a + ENTRY_RECORD, a + 2 * ENTRY_RECORD);
    two.copy(bytes, a + ENTRY_RECORD);
    await writeFile(path, bytes);
    await assertRecovered(dir, 1, 4, /impossible record: entry 3 does not follow the last index 1/);
  });

  test("a missing segment in the middle: the log ends before it", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentBytes: 200 });
    wal.setHardState({ currentTerm: 1, votedFor: 1 });
    for (let i = 1; i <= 40; i += 4) {
      wal.append(entries(i, i + 3, 1));
      await wal.sync();
    }
    await wal.close();
    const files = await segmentFiles(dir);
    await unlink(join(dir, files[2]!));
    await assertRecovered(dir, Number(files[2]!.slice(21, 41)) - 1, 40, /segment \d+ is missing before it/);
  });

  test("a missing first segment that no snapshot covers: nothing of the log can be used", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentBytes: 1 });
    wal.setHardState({ currentTerm: 1, votedFor: 1 });
    for (let i = 1; i <= 5; i++) {
      wal.append([entry(i, 1)]);
      await wal.sync();
    }
    await wal.close();
    const files = await segmentFiles(dir);
    await unlink(join(dir, files[0]!));
    await assertRecovered(dir, 0, 5, /entries 1..\d+ are in neither a snapshot nor a WAL segment/);
  });

  test("the newest segment missing: the term and vote are lost with it (the one before says it was started)", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir, { segmentBytes: 1 });
    for (let i = 1; i <= 6; i++) {
      wal.setHardState({ currentTerm: i, votedFor: 1 });
      wal.append([entry(i, 1)]);
      await wal.sync();
    }
    await wal.close();
    const files = await segmentFiles(dir);
    await unlink(join(dir, files.at(-1)!));
    const { logger, lines } = recordingLogger();
    const state = await recover(dir, { logger });
    assert.equal(state.hardState, null, "an older term and vote must not be taken for the current ones");
    assert.ok(state.damage.some((d) => /the newest, is missing/.test(d)));
    assert.ok(lines.some((l) => l.event === "storage_damaged"));
    assert.equal((await recover(dir)).hardState, null, "still unknown after another restart");
  });

  test("both header slots of the newest segment damaged: the term and vote are lost, the intact records kept", async () => {
    const { dir, path } = await oneSegment(6);
    const bytes = await readFile(path);
    bytes.fill(0, 0, HEADER_BYTES);
    await writeFile(path, bytes);
    const state = await recover(dir);
    assert.equal(state.hardState, null);
    assert.deepEqual(indexes(state.entries), [1, 2, 3, 4, 5, 6]);
    assert.ok(state.damage.some((d) => /both header slots are damaged/.test(d)));
    assert.equal((await recover(dir)).hardState, null);
  });

  test("one header slot torn (a crash while writing it): the other, older slot is used, and nothing counts as lost", async () => {
    const dir = await tempDir();
    const { wal } = await Wal.open(dir);
    wal.setHardState({ currentTerm: 1, votedFor: 1 });
    wal.append(entries(1, 3, 1));
    await wal.sync();
    wal.append(entries(4, 6, 1));
    await wal.close();
    const [first] = await segmentFiles(dir);
    const path = join(dir, first!);
    const bytes = await readFile(path);
    const newest = readHeader(bytes)!;
    bytes.fill(0xee, slotOffset(newest.writeSeq), slotOffset(newest.writeSeq) + 100);
    await writeFile(path, bytes);
    const state = await recover(dir);
    assert.deepEqual(indexes(state.entries), [1, 2, 3], "the older slot vouches for entries 1..3 only: the rest was never acknowledged");
    assert.deepEqual(state.hardState, { currentTerm: 1, votedFor: 1 });
    assert.deepEqual(state.damage, []);
  });

  test("a directory of an older format is refused with a clear message, not mistaken for damage", async () => {
    const dir = await tempDir();
    // Format 1 began every segment with a hard-state record: crc | length 12 | type 1 | term | vote.
    const record = Buffer.alloc(9 + 12);
    record.writeUInt32BE(12, 4);
    record.writeUInt8(1, 8);
    record.writeUInt32BE(1, 9 + 4);
    record.writeUInt32BE(crc32Table(record.subarray(4)), 0);
    await writeFile(join(dir, "wal-0000000000000000-00000000000000000001.log"), record);
    await assert.rejects(recover(dir), (err: unknown) => err instanceof WalFormatError && /older raftkv/.test(err.message));
  });
});

describe("WAL: snapshots and compaction", () => {
  const snap = (index: number, term: number, data = `state@${index}`) => ({ lastIncludedIndex: index, lastIncludedTerm: term, data: Buffer.from(data), config: null });

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

  test("a damaged or missing snapshot file: nothing of the log can be used, and the loss is remembered", async () => {
    for (const fault of ["flip", "delete"] as const) {
      const dir = await tempDir();
      const { wal } = await Wal.open(dir);
      wal.setHardState({ currentTerm: 2, votedFor: 1 });
      wal.append(entries(1, 10, 1));
      await wal.saveSnapshot(snap(5, 1));
      await wal.close();
      const snapshotFile = join(dir, "snapshot-00000000000000000005.snap");
      if (fault === "flip") {
        const bytes = await readFile(snapshotFile);
        bytes[bytes.length - 1]! ^= 1;
        await writeFile(snapshotFile, bytes);
      } else await unlink(snapshotFile);
      const state = await recover(dir);
      assert.equal(state.snapshot, null, fault);
      assert.deepEqual(state.entries, []);
      assert.deepEqual(state.hardState, { currentTerm: 2, votedFor: 1, lost: { through: 10, term: 2 } });
      assert.ok(state.damage.some((d) => (fault === "flip" ? /checksum/ : /follows a snapshot at index 5, but there is none/).test(d)), JSON.stringify(state.damage));
      const again = await recover(dir);
      assert.deepEqual(again.damage, []);
      assert.deepEqual(again.hardState?.lost, { through: 10, term: 2 });
    }
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
    hardState: { currentTerm: number; votedFor: number | null } | null = null;
    snapshot: { lastIncludedIndex: number; lastIncludedTerm: number; data: Buffer; config: null } | null = null;
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
    install(s: { lastIncludedIndex: number; lastIncludedTerm: number; data: Buffer; config: null }) {
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
          const s = { lastIncludedIndex: index, lastIncludedTerm: term, data: rng.bytes(rng.int(100)), config: null };
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
