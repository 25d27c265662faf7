// Helpers for the storage tests: scratch directories, entries whose content
// follows from their index, and reopening a WAL.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { EntryType, type Entry } from "../../src/core/types.js";
import { Wal, type RecoveredState, type WalOptions } from "../../src/storage/wal.js";

export { Rng, recordingLogger } from "../transport/support.js";

const scratch: string[] = [];
after(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

/** A fresh directory, removed when the test file ends. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "raftkv-wal-"));
  scratch.push(dir);
  return dir;
}

/** The bytes entry `index` of term `term` carries in these tests. */
export function dataFor(index: number, term: number, size = 10): Buffer {
  return Buffer.alloc(size, `${index}:${term};`);
}

export function entry(index: number, term: number, size = 10): Entry {
  return { index, term, type: EntryType.Normal, data: dataFor(index, term, size) };
}

export function entries(from: number, to: number, term: number, size = 10): Entry[] {
  const list: Entry[] = [];
  for (let i = from; i <= to; i++) list.push(entry(i, term, size));
  return list;
}

/** Opens the WAL in `dir`, reads its state, and closes it again. */
export async function recover(dir: string, options: WalOptions = {}): Promise<RecoveredState> {
  const { wal, state } = await Wal.open(dir, options);
  await wal.close();
  return state;
}
