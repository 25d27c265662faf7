// The files of a data directory and the few careful file operations the WAL
// needs: whole writes, directory fsync (a new or renamed file survives a
// crash only once its directory entry is on disk), and names that sort.

import { open, readdir, type FileHandle } from "node:fs/promises";

export interface SegmentName {
  /** Position in the sequence of segments; consecutive, never reused. */
  readonly seq: number;
  /** Index of the first entry the segment can hold: the log's lastIndex + 1 when it was started. */
  readonly firstIndex: number;
  readonly file: string;
}

const SEGMENT = /^wal-(\d{16})-(\d{20})\.log$/;
const SNAPSHOT = /^snapshot-(\d{20})\.snap$/;
/** A snapshot being written goes under its final name plus this, until it is complete. */
export const TEMP_SUFFIX = ".tmp";
const SNAPSHOT_TEMP = /^snapshot-\d{20}\.snap\.tmp$/;

export function segmentFileName(seq: number, firstIndex: number): string {
  return `wal-${String(seq).padStart(16, "0")}-${String(firstIndex).padStart(20, "0")}.log`;
}

export function snapshotFileName(index: number): string {
  return `snapshot-${String(index).padStart(20, "0")}.snap`;
}

export interface DirectoryListing {
  /** In sequence order. */
  readonly segments: SegmentName[];
  /** Snapshot files, newest (highest index) first. */
  readonly snapshots: { readonly index: number; readonly file: string }[];
  /** Snapshot files a crash interrupted. */
  readonly temporary: string[];
}

export async function listDirectory(dir: string): Promise<DirectoryListing> {
  const listing: DirectoryListing = { segments: [], snapshots: [], temporary: [] };
  for (const file of await readdir(dir)) {
    const segment = SEGMENT.exec(file);
    const snapshot = SNAPSHOT.exec(file);
    if (segment) listing.segments.push({ seq: Number(segment[1]), firstIndex: Number(segment[2]), file });
    else if (snapshot) listing.snapshots.push({ index: Number(snapshot[1]), file });
    else if (SNAPSHOT_TEMP.test(file)) listing.temporary.push(file);
  }
  listing.segments.sort((a, b) => a.seq - b.seq);
  listing.snapshots.sort((a, b) => b.index - a.index);
  return listing;
}

/** Makes the directory's entries (created, renamed, removed files) durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes all of `buffers` at `position` (or at the file's current position),
 * however many calls that takes (normally one).
 */
export async function writeFully(fh: FileHandle, buffers: Buffer[], position?: number): Promise<void> {
  let pending = buffers.filter((b) => b.length > 0);
  let at = position;
  while (pending.length > 0) {
    let { bytesWritten } = at === undefined ? await fh.writev(pending) : await fh.writev(pending, at);
    if (at !== undefined) at += bytesWritten;
    while (pending.length > 0 && bytesWritten >= pending[0]!.length) bytesWritten -= pending.shift()!.length;
    if (bytesWritten > 0) pending[0] = pending[0]!.subarray(bytesWritten);
  }
}
