// Snapshot files carry the cluster configuration as of their index
// (src/storage/snapshot-file.ts): written and read back exactly; older files
// without one read as "none"; a configuration that does not decode, even
// under a valid checksum (a forged or buggy file), is corruption, not a crash.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "../../src/storage/crc32.js";
import { WalCorruptionError } from "../../src/storage/errors.js";
import { snapshotFileName } from "../../src/storage/files.js";
import { readSnapshotFile, writeSnapshotFile } from "../../src/storage/snapshot-file.js";

const CONFIG = { voters: [1, 2, 4], outgoing: [1, 2, 3], learners: [5], context: '{"members":{}}' };

async function inDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "raftkv-snapfile-"));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Rewrites the file's checksum after `edit`, as a forger (or a bug) would. */
function reseal(path: string, edit: (buf: Buffer) => Buffer): void {
  const buf = edit(readFileSync(path));
  buf.writeUInt32BE(crc32(buf.subarray(4)), 0);
  writeFileSync(path, buf);
}

test("the configuration is written and read back; null stays null", async () => {
  await inDir(async (dir) => {
    await writeSnapshotFile(dir, { lastIncludedIndex: 7, lastIncludedTerm: 2, data: Buffer.from("state"), config: CONFIG });
    const s = await readSnapshotFile(dir, snapshotFileName(7), 7);
    assert.deepEqual(s.config, CONFIG);
    assert.equal(Buffer.from(s.data).toString(), "state");
    await writeSnapshotFile(dir, { lastIncludedIndex: 8, lastIncludedTerm: 2, data: Buffer.from("x"), config: null });
    assert.equal((await readSnapshotFile(dir, snapshotFileName(8), 8)).config, null);
  });
});

test("a file from before membership changes (no mark) reads with no configuration", async () => {
  await inDir(async (dir) => {
    const legacy = Buffer.alloc(4 + 8 + 8 + 3);
    legacy.writeUInt32BE(0, 4);
    legacy.writeUInt32BE(9, 8); // index 9
    legacy.writeUInt32BE(0, 12);
    legacy.writeUInt32BE(3, 16); // term 3
    legacy.write("old", 20);
    legacy.writeUInt32BE(crc32(legacy.subarray(4)), 0);
    writeFileSync(join(dir, snapshotFileName(9)), legacy);
    const s = await readSnapshotFile(dir, snapshotFileName(9), 9);
    assert.deepEqual([s.lastIncludedIndex, s.lastIncludedTerm, s.config, Buffer.from(s.data).toString()], [9, 3, null, "old"]);
  });
});

test("a configuration that does not decode, under a valid checksum, is corruption", async () => {
  await inDir(async (dir) => {
    await writeSnapshotFile(dir, { lastIncludedIndex: 7, lastIncludedTerm: 2, data: Buffer.from("state"), config: CONFIG });
    const path = join(dir, snapshotFileName(7));
    reseal(path, (buf) => {
      const at = buf.indexOf('"voters"');
      buf.write("#", at - 1, "latin1");
      return buf;
    });
    await assert.rejects(readSnapshotFile(dir, snapshotFileName(7), 7), (err: unknown) => err instanceof WalCorruptionError);
  });
});

test("a configuration length past the end of the file is corruption", async () => {
  await inDir(async (dir) => {
    await writeSnapshotFile(dir, { lastIncludedIndex: 7, lastIncludedTerm: 2, data: Buffer.from("state"), config: CONFIG });
    const path = join(dir, snapshotFileName(7));
    reseal(path, (buf) => {
      buf.writeUInt32BE(0xffff_fff0, 4 + 4 + 8 + 8);
      return buf;
    });
    await assert.rejects(readSnapshotFile(dir, snapshotFileName(7), 7), (err: unknown) => err instanceof WalCorruptionError);
  });
});
