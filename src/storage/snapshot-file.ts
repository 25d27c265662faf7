// Snapshot files: `snapshot-<lastIncludedIndex>.snap`, written whole under a
// temporary name, fsynced, renamed into place and the directory fsynced, so
// a crash leaves either the complete file or none.
//
//   crc32 u32 | "RKS" 2 | lastIncludedIndex u64 | lastIncludedTerm u64 | configLength u32 | config | data
//
// The CRC covers everything after itself. `config` is the cluster
// configuration as of lastIncludedIndex (src/core/configuration.ts's
// encoding; length 0: none). A file without the "RKS" 2 mark was written
// before membership changes existed: crc | index | term | data, no
// configuration (the bootstrap one applies).

import { open, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Snapshot } from "../core/api.js";
import { decodeConfiguration, encodeConfiguration } from "../core/configuration.js";
import { CodecError, ByteReader, writeUint64 } from "../codec/entry.js";
import { crc32 } from "./crc32.js";
import { WalCorruptionError } from "./errors.js";
import { TEMP_SUFFIX, fsyncDirectory, listDirectory, snapshotFileName, writeFully } from "./files.js";

const LEGACY_HEADER_BYTES = 4 + 8 + 8;
const MARK = Buffer.from([0x52, 0x4b, 0x53, 2]); // "RKS" 2
const HEADER_BYTES = 4 + MARK.length + 8 + 8 + 4;

export async function writeSnapshotFile(dir: string, snapshot: Snapshot): Promise<void> {
  const config = snapshot.config === null ? new Uint8Array(0) : encodeConfiguration(snapshot.config);
  const header = Buffer.allocUnsafe(HEADER_BYTES + config.length);
  MARK.copy(header, 4);
  const at = writeUint64(header, snapshot.lastIncludedTerm, writeUint64(header, snapshot.lastIncludedIndex, 4 + MARK.length));
  header.writeUInt32BE(config.length, at);
  header.set(config, at + 4);
  header.writeUInt32BE(crc32(snapshot.data, crc32(header.subarray(4))), 0);
  const path = join(dir, snapshotFileName(snapshot.lastIncludedIndex));
  const temp = path + TEMP_SUFFIX;
  const fh = await open(temp, "w");
  try {
    await writeFully(fh, [header, Buffer.from(snapshot.data.buffer, snapshot.data.byteOffset, snapshot.data.byteLength)]);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(temp, path);
  await fsyncDirectory(dir);
}

/** Reads and verifies a snapshot file; the data is a view of the file's bytes. */
export async function readSnapshotFile(dir: string, file: string, expectedIndex: number): Promise<Snapshot> {
  const path = join(dir, file);
  const buf = await readFile(path);
  if (buf.length < LEGACY_HEADER_BYTES) throw new WalCorruptionError(path, 0, `a snapshot file needs ${LEGACY_HEADER_BYTES} header bytes, it has ${buf.length}`);
  if (crc32(buf.subarray(4)) !== buf.readUInt32BE(0)) throw new WalCorruptionError(path, 0, "snapshot checksum mismatch");
  const marked = buf.subarray(4, 4 + MARK.length).equals(MARK);
  let lastIncludedIndex: number;
  let lastIncludedTerm: number;
  let config: Snapshot["config"] = null;
  let dataStart = LEGACY_HEADER_BYTES;
  try {
    const r = new ByteReader(buf.subarray(marked ? 4 + MARK.length : 4));
    lastIncludedIndex = r.u64();
    lastIncludedTerm = r.u64();
    if (marked) {
      const length = r.u32();
      if (length > 0) config = decodeConfiguration(r.bytes(length));
      dataStart = HEADER_BYTES + length;
    }
  } catch (err) {
    if (err instanceof CodecError) throw new WalCorruptionError(path, 4 + err.offset, err.message);
    if (err instanceof Error) throw new WalCorruptionError(path, 4, err.message);
    throw err;
  }
  if (lastIncludedIndex !== expectedIndex) {
    throw new WalCorruptionError(path, 4, `the file name says index ${expectedIndex}, its content ${lastIncludedIndex}`);
  }
  return { lastIncludedIndex, lastIncludedTerm, data: buf.subarray(dataStart), config };
}

/** Removes the snapshot files older than `index`: the newer one supersedes them. */
export async function removeSnapshotsBefore(dir: string, index: number): Promise<void> {
  const { snapshots } = await listDirectory(dir);
  const stale = snapshots.filter((s) => s.index < index);
  for (const s of stale) await unlink(join(dir, s.file));
  if (stale.length > 0) await fsyncDirectory(dir);
}
