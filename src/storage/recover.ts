// Reading a data directory back at start, trusting nothing (docs/STORAGE.md).
//
// The newest segment's header holds the hard state and the promise (the
// last index the node may have acknowledged). Every segment's records are
// read up to what its header vouches for. Whatever does not add up is damage:
//
//   a record that fails its checksum, or cannot be decoded, or could not
//   follow the log, before the end its header vouches for;
//   a segment file shorter than its header says;
//   a segment missing between two others, or before the first one where no
//   snapshot covers its entries;
//   the newest segment missing (the one before says a successor was started);
//   the snapshot the log follows missing or failing its checksum;
//   both header slots of the newest segment damaged (the hard state is gone).
//
// Damage is not fatal and is not papered over. The log is cut at the first
// damaged point (keeping the intact prefix), the damaged bytes and files are
// moved aside (*.damaged) for an operator to look at, and the hard state the
// node restarts with carries a lost mark up to the promise: the Raft core
// then takes no part in votes until a leader has brought it that far again
// (src/core/recovery.ts). With the hard state itself gone, it is null, and
// the core asks the other servers first. Bytes past the end a header vouches
// for are a write a crash interrupted, never acknowledged: cut, with a
// warning, as always.

import { open as openFile, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Snapshot } from "../core/api.js";
import type { Entry, HardState } from "../core/types.js";
import type { Logger } from "../util/log.js";
import { WalCorruptionError, WalFormatError } from "./errors.js";
import { fsyncDirectory, listDirectory, type SegmentName } from "./files.js";
import { HEADER_BYTES, encodeHeader, readHeader, slotOffset, type SegmentHeader } from "./header.js";
import { FORMAT_1_HARD_STATE, decodeRecord, readRecord } from "./records.js";
import { Replay } from "./replay.js";
import { readSnapshotFile } from "./snapshot-file.js";

/** A kept segment, and what its header says (null: both slots damaged). */
export interface KeptSegment {
  readonly name: SegmentName;
  readonly header: SegmentHeader | null;
}

export interface RecoveredDirectory {
  /** null: the term and vote are lost (or there was no directory). Carries a lost mark when entries the node may have acknowledged are gone. */
  readonly hardState: HardState | null;
  readonly snapshot: Snapshot | null;
  readonly baseIndex: number;
  readonly baseTerm: number;
  /** The entries after the snapshot, in order (views of the bytes read). */
  readonly entries: Entry[];
  /** The segments kept, oldest first; the last one must be told when a newer one starts. */
  readonly segments: KeptSegment[];
  /** The highest incarnation any header names (0: none). */
  readonly lastIncarnation: number;
  /** What was found damaged or missing, one sentence each; empty when nothing. */
  readonly damage: string[];
}

/** The log's records, read segment by segment up to the first damage. */
interface ReadLog {
  readonly replay: Replay;
  /** Segments whose records were all read (their count); a segment cut inside is not counted. */
  readonly whole: number;
  /** The segment cut inside, at which byte (HEADER_BYTES: nothing of it is usable). */
  readonly cut: { readonly segment: number; readonly offset: number; readonly torn: boolean } | null;
}

export async function recoverDirectory(dir: string, logger: Logger): Promise<RecoveredDirectory> {
  const listing = await listDirectory(dir);
  for (const file of listing.temporary) await unlink(join(dir, file));
  const names = listing.segments;
  const files = await Promise.all(names.map((n) => readFile(join(dir, n.file))));
  const headers = files.map(readHeader);
  names.forEach((n, i) => {
    const f = files[i]!;
    if (headers[i] === null && f.length > 8 && f[8] === FORMAT_1_HARD_STATE && typeof readRecord(f, 0) !== "string") throw new WalFormatError(join(dir, n.file));
  });
  const damage: string[] = [];
  const last = names.length - 1;
  const newest = last >= 0 ? headers[last]! : null;
  let hardStateLost = last < 0 && listing.snapshots.length === 0; // no directory at all: the core finds out whether the cluster is new
  if (last >= 0 && newest === null) {
    damage.push(`${names[last]!.file}: both header slots are damaged: the term and vote are lost`);
    hardStateLost = true;
  } else if (newest?.successor) {
    damage.push(`segment ${names[last]!.seq + 1}, the newest, is missing (${names[last]!.file} says it was started): the term and vote are lost`);
    hardStateLost = true;
  }
  const promised = newest?.lastIndex ?? 0;
  const read = readRecords(dir, names, files, headers, damage, logger);

  // The snapshot the log follows.
  let snapshot: Snapshot | null = null;
  let dropSnapshots = false;
  const newestSnapshot = listing.snapshots[0];
  if (newestSnapshot) {
    try {
      snapshot = await readSnapshotFile(dir, newestSnapshot.file, newestSnapshot.index);
    } catch (err) {
      if (!(err instanceof WalCorruptionError)) throw err;
      damage.push(`${err.file} at byte ${err.offset}: ${err.reason}`);
      dropSnapshots = true;
    }
  }
  const finished = read.replay.finish(snapshot === null ? null : { index: snapshot.lastIncludedIndex, term: snapshot.lastIncludedTerm });
  let log: { baseIndex: number; baseTerm: number; entries: Entry[] };
  let keepSegments = read.whole + (read.cut !== null && read.cut.offset > HEADER_BYTES ? 1 : 0);
  if (finished.problem === null) {
    log = finished.log;
  } else {
    damage.push(`${dir}: ${finished.reason}`);
    keepSegments = 0;
    if (finished.problem === "gap" && snapshot !== null) {
      // Keep the snapshot; the entries found after it have no prefix to follow.
      log = { baseIndex: snapshot.lastIncludedIndex, baseTerm: snapshot.lastIncludedTerm, entries: [] };
    } else {
      // Without the snapshot the log follows, nothing of the log can be used.
      log = { baseIndex: 0, baseTerm: 0, entries: [] };
      snapshot = null;
      dropSnapshots = true;
    }
  }
  const lastIndex = log.baseIndex + log.entries.length;
  if (!hardStateLost && damage.length === 0 && lastIndex < promised) damage.push(`${dir}: the log ends at index ${lastIndex}, but index ${promised} was promised`);

  // The hard state the node restarts with.
  let hardState: HardState | null = hardStateLost ? null : newest!.hardState;
  if (hardState !== null && damage.length > 0) {
    // No entry it held has a term above its current one: that bounds what it lost.
    hardState = { ...hardState, lost: { through: Math.max(hardState.lost?.through ?? 0, promised), term: Math.max(hardState.lost?.term ?? 0, hardState.currentTerm) } };
  }

  // Make the directory hold exactly the state recovered: what is damaged moves aside.
  for (let i = keepSegments; i < names.length; i++) await rename(join(dir, names[i]!.file), join(dir, `${names[i]!.file}.damaged`));
  if (dropSnapshots) for (const s of listing.snapshots) await rename(join(dir, s.file), join(dir, `${s.file}.damaged`));
  const segments: KeptSegment[] = names.slice(0, keepSegments).map((name, i) => ({ name, header: headers[i]! }));
  const cut = read.cut;
  if (cut !== null && cut.segment === keepSegments - 1) {
    const name = names[cut.segment]!;
    const file = files[cut.segment]!;
    if (!cut.torn && cut.offset < file.length) await writeFile(join(dir, `${name.file}.damaged-at-${cut.offset}`), file.subarray(cut.offset));
    segments[cut.segment] = { name, header: await truncateSegment(join(dir, name.file), name, headers[cut.segment]!, cut.offset, log, lastIndex, hardState) };
  }
  if (damage.length > 0) {
    await fsyncDirectory(dir);
    logger.error("storage_damaged", { dir, damage, lostThrough: hardState?.lost?.through ?? null, hardStateLost: hardState === null && !(last < 0 && listing.snapshots.length === 0) });
  }
  const lastIncarnation = Math.max(0, ...headers.map((h) => h?.incarnation ?? 0));
  return { hardState, snapshot, baseIndex: log.baseIndex, baseTerm: log.baseTerm, entries: log.entries, segments, lastIncarnation, damage };
}

/** Replays the records of every segment, up to what each header vouches for, stopping at the first damage. */
function readRecords(dir: string, names: readonly SegmentName[], files: readonly Buffer[], headers: readonly (SegmentHeader | null)[], damage: string[], logger: Logger): ReadLog {
  const replay = new Replay(names[0]?.firstIndex ?? 1);
  const last = names.length - 1;
  for (let i = 0; i <= last; i++) {
    const name = names[i]!;
    const buf = files[i]!;
    const h = headers[i]!;
    const where = join(dir, name.file);
    const cutAt = (offset: number, reason: string): ReadLog => {
      damage.push(`${where} at byte ${offset}: ${reason}`);
      return { replay, whole: i, cut: { segment: i, offset, torn: false } };
    };
    if (i > 0 && name.seq !== names[i - 1]!.seq + 1) return cutAt(0, `segment ${names[i - 1]!.seq + 1} is missing before it`);
    if (h === null && i !== last) return cutAt(0, "both header slots are damaged");
    if (h !== null && (h.segmentSeq !== name.seq || h.firstIndex !== name.firstIndex)) {
      return cutAt(0, `its header names segment ${h.segmentSeq} from index ${h.firstIndex}, its file name segment ${name.seq} from index ${name.firstIndex}`);
    }
    try {
      if (h !== null && h.startBaseIndex > 0) replay.followSnapshot(h.startBaseIndex, h.startBaseTerm, { file: where, offset: 0 });
      replay.startSegment(name.firstIndex, { file: where, offset: 0 });
    } catch (err) {
      if (err instanceof WalCorruptionError) return cutAt(0, err.reason);
      throw err;
    }
    // Without an intact header (the newest segment's, with the hard state lost), where its records end is
    // unknown: they are read while intact, and the rest is cut (the core asks the other servers anyway).
    const vouched = h === null ? buf.length : HEADER_BYTES + h.dataEnd;
    const records = buf.subarray(0, Math.min(vouched, buf.length));
    let offset = HEADER_BYTES;
    while (offset < records.length) {
      const raw = readRecord(records, offset);
      if (typeof raw === "string") {
        if (h === null) return { replay, whole: i, cut: { segment: i, offset, torn: true } };
        return cutAt(offset, raw);
      }
      try {
        replay.apply(decodeRecord(raw), { file: where, offset });
      } catch (err) {
        return cutAt(offset, err instanceof WalCorruptionError ? err.reason : `impossible record: ${(err as Error).message}`);
      }
      offset = raw.next;
    }
    // Cut where the intact records end, so that the segment gets a header again.
    if (h === null) return { replay, whole: i, cut: { segment: i, offset, torn: true } };
    if (buf.length < vouched) return cutAt(buf.length, `the file ends at byte ${buf.length}, but its header vouches for records up to byte ${vouched}`);
    const at = replay.state;
    if (at.lastIndex !== h.lastIndex || at.baseIndex !== h.baseIndex || at.baseTerm !== h.baseTerm) {
      return cutAt(offset, `its records leave the log at ${at.lastIndex} after (${at.baseIndex}, term ${at.baseTerm}), its header says ${h.lastIndex} after (${h.baseIndex}, term ${h.baseTerm})`);
    }
    if (buf.length > vouched && i === last) {
      // A write the crash interrupted: never fsynced with a header that vouches for it, so never acknowledged.
      logger.warn("wal_torn_tail_cut", { file: where, offset: vouched, bytes: buf.length - vouched });
      return { replay, whole: i, cut: { segment: i, offset: vouched, torn: true } };
    }
    // In a closed segment nothing is ever written past what its last header vouches for: whatever is there was never part of the log.
    if (buf.length > vouched) logger.warn("wal_unvouched_bytes_ignored", { file: where, offset: vouched, bytes: buf.length - vouched });
  }
  return { replay, whole: names.length, cut: null };
}

/** Cuts a segment file at `offset` and writes a header that vouches for exactly what is left. */
async function truncateSegment(
  path: string,
  name: SegmentName,
  old: SegmentHeader | null,
  offset: number,
  log: { baseIndex: number; baseTerm: number },
  lastIndex: number,
  hardState: HardState | null,
): Promise<SegmentHeader> {
  const header: SegmentHeader = {
    writeSeq: (old?.writeSeq ?? 0) + 1,
    segmentSeq: name.seq,
    firstIndex: name.firstIndex,
    startBaseIndex: old?.startBaseIndex ?? log.baseIndex,
    startBaseTerm: old?.startBaseTerm ?? log.baseTerm,
    dataEnd: offset - HEADER_BYTES,
    baseIndex: log.baseIndex,
    baseTerm: log.baseTerm,
    lastIndex,
    hardState,
    incarnation: old?.incarnation ?? 0,
    successor: false,
  };
  const fh = await openFile(path, "r+");
  try {
    await fh.truncate(offset);
    await fh.write(encodeHeader(header), 0, undefined, slotOffset(header.writeSeq));
    await fh.datasync();
  } finally {
    await fh.close();
  }
  return header;
}
