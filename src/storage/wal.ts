// The write-ahead log of one Raft node: its hard state (term, vote), its log
// entries and its snapshots, in its data directory (docs/STORAGE.md).
//
// Group commit: setHardState(), append() and saveSnapshot() only add to an
// in-memory batch; sync() writes the whole batch and one fsync makes it
// durable. sync() calls made while a write is in flight share the next one,
// so a burst of proposals costs two fsyncs, not one each.
//
// The log lives in segment files (files.ts for names). A segment starts with
// two header slots (header.ts) and then holds records (records.ts). Each
// write appends the batch's records, then rewrites one header slot — the
// slots take turns — with what is now durable: the hard state, how far the
// records go, and the last index, which is what the node may acknowledge.
// One fdatasync covers both. A segment is closed once it passes
// `segmentBytes`; whole old segments are deleted once a snapshot covers
// their entries.
//
// On open, recover.ts reads everything back and decides what survived: a
// torn write past what a header vouches for is cut off with a warning;
// anything damaged before it is cut off too, moved aside, and remembered in
// the hard state as a lost mark, for the Raft core to recover through the
// protocol.

import { writeSync } from "node:fs";
import { mkdir, open as openFile, unlink, type FileHandle } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import type { RestoredState, Snapshot } from "../core/api.js";
import { EntryType, type Entry, type HardState } from "../core/types.js";
import { silentLogger, type Logger } from "../util/log.js";
import { fsyncDirectory, segmentFileName, writeFully, type SegmentName } from "./files.js";
import { HEADER_BYTES, encodeHeader, slotOffset, type SegmentHeader } from "./header.js";
import { LogShape } from "./log-shape.js";
import { RecordBuffer } from "./records.js";
import { recoverDirectory } from "./recover.js";
import { removeSnapshotsBefore, writeSnapshotFile } from "./snapshot-file.js";

export interface WalOptions {
  readonly logger?: Logger;
  /** A new segment is started once the current one holds this many bytes of records. Default 64 MiB. */
  readonly segmentBytes?: number;
  /** Called after each fsync of the log, with its duration and the bytes it made durable (for metrics). */
  readonly onFsync?: (seconds: number, bytes: number) => void;
  /** The clock in ms, for a new incarnation (tests). Default Date.now(). */
  readonly now?: () => number;
}

/** What a node restarts with (RestoredState, the shape RaftNode takes), and what was found. */
export interface RecoveredState extends RestoredState {
  /** The entries after the snapshot, in order. Their data are views of the bytes read from disk. */
  readonly entries: Entry[];
  /** The node's incarnation (RaftConfig.incarnation): new, and greater than every earlier one, after a start that found something lost. */
  readonly incarnation: number;
  /** What was found damaged or missing; empty when nothing was. */
  readonly damage: readonly string[];
}

export interface WalStats {
  readonly fsyncs: number;
  readonly fsyncSeconds: number;
  readonly bytesWritten: number;
  readonly segments: number;
}

/** The segment being written. */
interface ActiveSegment {
  readonly name: SegmentName;
  readonly fh: FileHandle;
  readonly startBaseIndex: number;
  readonly startBaseTerm: number;
  /** Bytes of records written (and, once synced, vouched for by a header). */
  dataEnd: number;
  /** Header writes so far; the next goes to slot (writeSeq + 1) % 2. */
  writeSeq: number;
}

export class Wal {
  private batch = new RecordBuffer();
  private spare = new RecordBuffer();
  /** The write + fsync in progress, if any. */
  private writing: Promise<void> | null = null;
  /** The write + fsync that will follow it, shared by every sync() since it started. */
  private queued: Promise<void> | null = null;
  /** Snapshot files being written; a batch holding their records waits for them. */
  private snapshotFiles: Promise<void> = Promise.resolve();
  /** The hard state changed since the last write: the next sync must write a header even with no records. */
  private hardStateDirty = false;
  private failure: Error | null = null;
  private closed = false;
  private counters = { fsyncs: 0, fsyncSeconds: 0, bytesWritten: 0 };
  /** The log as the last completed write left it: what the active segment's newest header says. */
  private written: { baseIndex: number; baseTerm: number; lastIndex: number };

  private constructor(
    private readonly dir: string,
    private readonly options: WalOptions,
    private readonly logger: Logger,
    /** The durable segments, oldest first; the last is being written. */
    private readonly segments: SegmentName[],
    private active: ActiveSegment,
    private hardState: HardState | null,
    private readonly shape: LogShape,
    private readonly incarnation: number,
    /** Newest snapshot whose file and record are both durable: compaction may go up to it. */
    private durableSnapshotIndex: number,
  ) {
    this.written = this.shapeAt();
  }

  /** Opens (creating if needed) the WAL in `dir` and returns it with the state it recovered. */
  static async open(dir: string, options: WalOptions = {}): Promise<{ wal: Wal; state: RecoveredState }> {
    const logger = options.logger ?? silentLogger;
    dir = resolve(dir);
    const created = await mkdir(dir, { recursive: true });
    if (created !== undefined) {
      // A new directory survives a crash only once its entry in its parent is durable.
      for (let d = dir; ; d = dirname(d)) {
        await fsyncDirectory(dirname(d));
        if (d === created) break;
      }
    }
    const found = await recoverDirectory(dir, logger);
    const shape = new LogShape(found.baseIndex, found.baseTerm);
    for (const e of found.entries) shape.push(e.term);
    // A new incarnation whenever the disk may have lost something the node had promised (or nothing is known of it):
    // greater than every earlier one, even if the clock went back. An intact restart keeps the last one.
    const damaged = found.hardState === null || found.hardState.lost !== undefined || found.lastIncarnation === 0;
    const incarnation = damaged ? Math.max((options.now ?? Date.now)(), found.lastIncarnation + 1) : found.lastIncarnation;

    // Appending always starts a fresh segment: the old last one may just have been cut.
    const previous = found.segments.at(-1);
    const seq = previous ? previous.name.seq + 1 : 0;
    const name: SegmentName = { seq, firstIndex: shape.lastIndex + 1, file: segmentFileName(seq, shape.lastIndex + 1) };
    const fh = await openFile(join(dir, name.file), "wx");
    const active: ActiveSegment = { name, fh, startBaseIndex: shape.baseIndex, startBaseTerm: shape.baseTerm, dataEnd: 0, writeSeq: 0 };
    const wal = new Wal(dir, options, logger, [...found.segments.map((s) => s.name), name], active, found.hardState, shape, incarnation, found.baseIndex);
    await fh.write(encodeHeader(wal.header(active, ++active.writeSeq, false)), 0, undefined, slotOffset(active.writeSeq));
    await fh.datasync();
    await fsyncDirectory(dir);
    if (previous?.header) await markSucceeded(join(dir, previous.name.file), previous.header);
    logger.info("wal_opened", { dir, segments: wal.segments.length, snapshotIndex: found.baseIndex, lastIndex: shape.lastIndex, incarnation });
    return { wal, state: { hardState: found.hardState, snapshot: found.snapshot, entries: found.entries, incarnation, damage: found.damage } };
  }

  /** Index of the last entry (or of the snapshot, when the log after it is empty), including unsynced appends. */
  get lastIndex(): number {
    return this.shape.lastIndex;
  }

  get stats(): WalStats {
    return { ...this.counters, segments: this.segments.length };
  }

  /** Batches a new term and vote (and lost mark); durable after the next sync(). */
  setHardState(hs: HardState): void {
    this.checkUsable();
    this.hardState = hs;
    this.hardStateDirty = true;
  }

  /**
   * Batches entries; durable after the next sync(). The entries must be
   * consecutive; if the first one is not past the last index, the stored
   * suffix from there is replaced (a Raft log's conflicting suffix).
   */
  append(entries: readonly Entry[]): void {
    this.checkUsable();
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    const { baseIndex, lastIndex } = this.shape;
    if (!Number.isSafeInteger(first) || first <= baseIndex || first > lastIndex + 1) {
      throw new RangeError(`append: entry ${first} cannot follow a log that holds ${baseIndex + 1}..${lastIndex}`);
    }
    // Check everything before batching anything: a refused call leaves the log as it was.
    let prevTerm = this.shape.termAt(first - 1)!;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (e.index !== first + i) throw new RangeError(`append: entry ${e.index} where ${first + i} was expected`);
      if (!Number.isSafeInteger(e.term) || e.term < Math.max(1, prevTerm)) {
        throw new RangeError(`append: entry ${e.index} has term ${e.term}, after term ${prevTerm}`);
      }
      if (e.type !== EntryType.Normal && e.type !== EntryType.Noop && e.type !== EntryType.Config) throw new RangeError(`append: entry ${e.index} has unknown type ${e.type}`);
      prevTerm = e.term;
    }
    if (first <= lastIndex) {
      this.batch.truncate(first);
      this.shape.truncate(first);
    }
    for (const e of entries) {
      this.batch.entry(e);
      this.shape.push(e.term);
    }
  }

  /**
   * Saves a snapshot and makes the log follow it: the entries after it are
   * kept if the log holds its last entry with the same term, else the whole
   * log is discarded (Raft §7). The change takes its place in the batch at
   * once — entries appended next may follow the snapshot — and is durable,
   * file included, when the returned promise or the next sync() resolves.
   * `data` must not change until then.
   */
  saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.checkUsable();
    const { lastIncludedIndex: index, lastIncludedTerm: term } = snapshot;
    const { baseIndex, baseTerm, lastIndex } = this.shape;
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(term) || index < 1 || term < 1) {
      throw new RangeError(`saveSnapshot: invalid index ${index} / term ${term}`);
    }
    if (index < baseIndex || (index === baseIndex && term !== baseTerm)) {
      throw new RangeError(`saveSnapshot: snapshot (${index}, term ${term}) is older than the saved one (${baseIndex}, term ${baseTerm})`);
    }
    this.snapshotFiles = this.snapshotFiles.then(() => writeSnapshotFile(this.dir, snapshot));
    // A failure surfaces through the flush that waits for the file; until then it must not count as unhandled.
    this.snapshotFiles.catch(() => {});
    const kept = this.shape.applySnapshot(index, term);
    this.batch.snapshot(index, term);
    if (!kept && lastIndex > index) this.batch.truncate(index + 1);
    return this.sync().then(async () => {
      this.durableSnapshotIndex = Math.max(this.durableSnapshotIndex, index);
      await removeSnapshotsBefore(this.dir, index);
    });
  }

  /** Resolves once everything batched so far is on disk. */
  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.batch.length === 0 && !this.hardStateDirty) return this.queued ?? this.writing ?? Promise.resolve();
    if (this.writing === null) return this.startFlush();
    this.queued ??= this.writing.then(() => {
      this.queued = null;
      return this.startFlush();
    });
    return this.queued;
  }

  /**
   * Deletes the oldest segments whose entries are all <= upToIndex. Only
   * entries a saved snapshot covers may go: upToIndex must not pass it.
   */
  async compact(upToIndex: number): Promise<void> {
    this.checkUsable();
    if (upToIndex > this.durableSnapshotIndex) {
      throw new RangeError(`compact: index ${upToIndex} is past the newest saved snapshot (${this.durableSnapshotIndex})`);
    }
    // A segment's live entries all come before the next segment's firstIndex.
    // Oldest first, so that a crash midway leaves an unbroken run of segments.
    let removed = 0;
    while (this.segments.length > 1 && this.segments[1]!.firstIndex - 1 <= upToIndex) {
      await unlink(join(this.dir, this.segments.shift()!.file));
      removed++;
    }
    if (removed > 0) {
      await fsyncDirectory(this.dir);
      this.logger.info("wal_compacted", { upToIndex, segmentsRemoved: removed });
    }
  }

  /** Syncs what is batched, then closes the files. The WAL cannot be used afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      await this.sync();
    } finally {
      this.closed = true;
      await this.active.fh.close();
    }
  }

  /** What a header written now says about the log. */
  private shapeAt(): { baseIndex: number; baseTerm: number; lastIndex: number } {
    return { baseIndex: this.shape.baseIndex, baseTerm: this.shape.baseTerm, lastIndex: this.shape.lastIndex };
  }

  private header(seg: ActiveSegment, writeSeq: number, successor: boolean, log = this.shapeAt()): SegmentHeader {
    return {
      writeSeq,
      segmentSeq: seg.name.seq,
      firstIndex: seg.name.firstIndex,
      startBaseIndex: seg.startBaseIndex,
      startBaseTerm: seg.startBaseTerm,
      dataEnd: seg.dataEnd,
      ...log,
      hardState: this.hardState,
      incarnation: this.incarnation,
      successor,
    };
  }

  private startFlush(): Promise<void> {
    const done = this.flush();
    this.writing = done;
    const clear = () => {
      if (this.writing === done) this.writing = null;
    };
    done.then(clear, clear);
    return done;
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = this.spare;
    this.spare = batch;
    this.hardStateDirty = false;
    // What this batch leaves the log at: the header written with it says so.
    const after = this.shapeAt();
    const snapshotFiles = this.snapshotFiles;
    try {
      // A snapshot record may reach the log only after its file is durable.
      await snapshotFiles;
      if (this.active.dataEnd >= (this.options.segmentBytes ?? 64 * 1024 * 1024)) await this.rotate();
      const seg = this.active;
      const records = batch.bytes();
      // The records first, the header that vouches for them second; one fdatasync makes both durable.
      // A small batch is copied into the page cache right here (microseconds), so the fdatasync is the
      // one trip through libuv's thread pool; a large one is written there too, not to hold up the event loop.
      if (records.length <= SYNC_WRITE_BYTES) {
        writeFullySync(seg.fh.fd, records, HEADER_BYTES + seg.dataEnd);
        seg.dataEnd += records.length;
        writeFullySync(seg.fh.fd, encodeHeader(this.header(seg, ++seg.writeSeq, false, after)), slotOffset(seg.writeSeq));
      } else {
        await writeFully(seg.fh, [records], HEADER_BYTES + seg.dataEnd);
        seg.dataEnd += records.length;
        await seg.fh.write(encodeHeader(this.header(seg, ++seg.writeSeq, false, after)), 0, undefined, slotOffset(seg.writeSeq));
      }
      const start = performance.now();
      await seg.fh.datasync();
      const seconds = (performance.now() - start) / 1000;
      this.written = after;
      this.counters.fsyncs++;
      this.counters.fsyncSeconds += seconds;
      this.counters.bytesWritten += records.length;
      this.options.onFsync?.(seconds, records.length);
    } catch (err) {
      // After a failed write or fsync nobody knows what is on disk: stop rather than guess (the "fsyncgate" lesson).
      this.failure ??= new Error(`WAL write in ${this.dir} failed, the log is no longer usable: ${(err as Error).message}`, { cause: err });
      this.logger.error("wal_failed", { dir: this.dir, error: err });
      throw this.failure;
    } finally {
      batch.clear();
    }
  }

  /**
   * Starts the next segment. It must be durable (file, header, directory
   * entry) before the old one says it has a successor; from then on a
   * missing newest segment is noticed at start.
   */
  private async rotate(): Promise<void> {
    const previous = this.active;
    const seq = previous.name.seq + 1;
    // The batch being written goes into the new segment: it starts where the last write left the log.
    const written = this.written;
    const name: SegmentName = { seq, firstIndex: written.lastIndex + 1, file: segmentFileName(seq, written.lastIndex + 1) };
    const fh = await openFile(join(this.dir, name.file), "wx");
    const next: ActiveSegment = { name, fh, startBaseIndex: written.baseIndex, startBaseTerm: written.baseTerm, dataEnd: 0, writeSeq: 0 };
    await fh.write(encodeHeader(this.header(next, ++next.writeSeq, false, written)), 0, undefined, slotOffset(next.writeSeq));
    await fh.datasync();
    await fsyncDirectory(this.dir);
    await previous.fh.write(encodeHeader(this.header(previous, ++previous.writeSeq, true, written)), 0, undefined, slotOffset(previous.writeSeq));
    await previous.fh.datasync();
    await previous.fh.close();
    this.active = next;
    this.segments.push(name);
  }

  private checkUsable(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error(`the WAL in ${this.dir} is closed`);
  }
}

/** Batches up to this size are written with a synchronous write before the (asynchronous) fdatasync. */
const SYNC_WRITE_BYTES = 1 << 20;

function writeFullySync(fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
}

/** Tells a segment, no longer the newest, that a newer one exists: from now on its loss is noticed. */
async function markSucceeded(path: string, h: SegmentHeader): Promise<void> {
  const fh = await openFile(path, "r+");
  try {
    const header: SegmentHeader = { ...h, writeSeq: h.writeSeq + 1, successor: true };
    await fh.write(encodeHeader(header), 0, undefined, slotOffset(header.writeSeq));
    await fh.datasync();
  } finally {
    await fh.close();
  }
}
