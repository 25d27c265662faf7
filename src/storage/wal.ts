// The write-ahead log of one Raft node: its hard state (term, vote), its log
// entries and its snapshots, in its data directory (SPEC §6).
//
// Group commit: setHardState(), append() and saveSnapshot() only add records
// to an in-memory batch; sync() writes the whole batch with one write and
// one fsync. sync() calls made while a write is in flight share the next
// one, so a burst of proposals costs two fsyncs, not one each.
//
// The log lives in segment files (see files.ts for names, records.ts for the
// record format). A segment is closed once it passes `segmentBytes`, and each
// segment starts with the hard state and the snapshot the log follows, so
// whole old segments can be deleted once a snapshot covers their entries.
//
// On open, the newest snapshot and every segment are read back. A torn
// record at the very end — a write the crash interrupted, never
// acknowledged — is cut off with a warning. Anything else that fails its
// checksum or could not have been written is a WalCorruptionError naming the
// file and offset: it could hide committed entries.

import { mkdir, open as openFile, readFile, unlink, type FileHandle } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import type { Snapshot } from "../core/node.js";
import { EntryType, type Entry, type HardState } from "../core/types.js";
import { CodecError } from "../transport/codec.js";
import { silentLogger, type Logger } from "../util/log.js";
import { WalCorruptionError } from "./errors.js";
import { fsyncDirectory, listDirectory, segmentFileName, writeFully, type SegmentName } from "./files.js";
import { LogShape } from "./log-shape.js";
import { RecordBuffer, decodeRecord, intactRecordAfter, readRecord, type WalRecord } from "./records.js";
import { Replay } from "./replay.js";
import { readSnapshotFile, removeSnapshotsBefore, writeSnapshotFile } from "./snapshot-file.js";

export interface WalOptions {
  readonly logger?: Logger;
  /** A new segment is started once the current one reaches this many bytes. Default 64 MiB. */
  readonly segmentBytes?: number;
  /** Called after each fsync of the log, with its duration and the bytes it made durable (for metrics). */
  readonly onFsync?: (seconds: number, bytes: number) => void;
}

/** What a node restarts with (the shape RaftNode takes). */
export interface RecoveredState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  /** The entries after the snapshot, in order. Their data are views of the bytes read from disk. */
  readonly entries: Entry[];
}

export interface WalStats {
  readonly fsyncs: number;
  readonly fsyncSeconds: number;
  readonly bytesWritten: number;
  readonly segments: number;
}

/** The log's state at the end of what has been written: what a new segment must start with. */
interface WrittenState {
  readonly hardState: HardState;
  readonly baseIndex: number;
  readonly baseTerm: number;
  readonly lastIndex: number;
}

interface ActiveSegment {
  readonly name: SegmentName;
  readonly fh: FileHandle;
  size: number;
}

export class Wal {
  private batch = new RecordBuffer();
  private spare = new RecordBuffer();
  private readonly segmentHeader = new RecordBuffer();
  /** The write + fsync in progress, if any. */
  private writing: Promise<void> | null = null;
  /** The write + fsync that will follow it, shared by every sync() since it started. */
  private queued: Promise<void> | null = null;
  /** Snapshot files being written; a batch holding their records waits for them. */
  private snapshotFiles: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private closed = false;
  private counters = { fsyncs: 0, fsyncSeconds: 0, bytesWritten: 0 };

  private constructor(
    private readonly dir: string,
    private readonly options: WalOptions,
    private readonly logger: Logger,
    /** The durable segments, oldest first; the last is being written (or is about to give way to a new one). */
    private readonly segments: SegmentName[],
    private active: ActiveSegment,
    private hardState: HardState,
    private readonly shape: LogShape,
    private written: WrittenState,
    /** Newest snapshot whose file and record are both durable: compaction may go up to it. */
    private durableSnapshotIndex: number,
  ) {}

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
    const listing = await listDirectory(dir);
    for (const file of listing.temporary) await unlink(join(dir, file));

    const { segments } = listing;
    for (let i = 1; i < segments.length; i++) {
      if (segments[i]!.seq !== segments[i - 1]!.seq + 1) {
        throw new WalCorruptionError(join(dir, segments[i]!.file), 0, `segment ${segments[i - 1]!.seq + 1} is missing before it`);
      }
    }
    const newest = listing.snapshots[0];
    const snapshot = newest ? await readSnapshotFile(dir, newest.file, newest.index) : null;

    const replay = new Replay(segments[0]?.firstIndex ?? 1);
    for (let i = 0; i < segments.length; i++) {
      await replaySegment(join(dir, segments[i]!.file), segments[i]!.firstIndex, replay, i === segments.length - 1, logger);
    }
    const log = replay.finish(snapshot === null ? null : { index: snapshot.lastIncludedIndex, term: snapshot.lastIncludedTerm }, dir);

    const shape = new LogShape(log.baseIndex, log.baseTerm);
    for (const e of log.entries) shape.push(e.term);
    const written: WrittenState = { hardState: log.hardState, baseIndex: log.baseIndex, baseTerm: log.baseTerm, lastIndex: shape.lastIndex };

    // Appending always starts a fresh segment: the old last one may just have lost a torn tail.
    const seq = segments.length > 0 ? segments[segments.length - 1]!.seq + 1 : 0;
    const header = new RecordBuffer();
    const active = await createSegment(dir, seq, written, header);
    await writeFully(active.fh, [header.bytes()]);
    await active.fh.datasync();
    await fsyncDirectory(dir);
    active.size = header.length;
    segments.push(active.name);

    const wal = new Wal(dir, options, logger, segments, active, log.hardState, shape, written, log.baseIndex);
    logger.info("wal_opened", { dir, segments: segments.length, snapshotIndex: log.baseIndex, lastIndex: shape.lastIndex });
    return { wal, state: { hardState: log.hardState, snapshot, entries: log.entries } };
  }

  /** Index of the last entry (or of the snapshot, when the log after it is empty), including unsynced appends. */
  get lastIndex(): number {
    return this.shape.lastIndex;
  }

  get stats(): WalStats {
    return { ...this.counters, segments: this.segments.length };
  }

  /** Batches a new term and vote; durable after the next sync(). */
  setHardState(hs: HardState): void {
    this.checkUsable();
    this.batch.hardState(hs);
    this.hardState = hs;
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
      if (e.type !== EntryType.Normal && e.type !== EntryType.Noop) throw new RangeError(`append: entry ${e.index} has unknown type ${e.type}`);
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
    if (this.batch.length === 0) return this.queued ?? this.writing ?? Promise.resolve();
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
    const after: WrittenState = {
      hardState: this.hardState,
      baseIndex: this.shape.baseIndex,
      baseTerm: this.shape.baseTerm,
      lastIndex: this.shape.lastIndex,
    };
    const snapshotFiles = this.snapshotFiles;
    try {
      // A snapshot record may reach the log only after its file is durable.
      await snapshotFiles;
      const buffers = [batch.bytes()];
      let previous: ActiveSegment | null = null;
      if (this.active.size >= (this.options.segmentBytes ?? 64 * 1024 * 1024)) {
        previous = this.active;
        this.active = await createSegment(this.dir, previous.name.seq + 1, this.written, this.segmentHeader);
        buffers.unshift(this.segmentHeader.bytes());
      }
      const bytes = buffers.reduce((n, b) => n + b.length, 0);
      await writeFully(this.active.fh, buffers);
      const start = performance.now();
      await this.active.fh.datasync();
      const seconds = (performance.now() - start) / 1000;
      if (previous !== null) {
        // Only a durable segment, hard state header included, may let compaction delete the one before it.
        await fsyncDirectory(this.dir);
        this.segments.push(this.active.name);
        await previous.fh.close();
      }
      this.active.size += bytes;
      this.written = after;
      this.counters.fsyncs++;
      this.counters.fsyncSeconds += seconds;
      this.counters.bytesWritten += bytes;
      this.options.onFsync?.(seconds, bytes);
    } catch (err) {
      // After a failed write or fsync nobody knows what is on disk: stop rather than guess (the "fsyncgate" lesson).
      this.failure ??= new Error(`WAL write in ${this.dir} failed, the log is no longer usable: ${(err as Error).message}`, { cause: err });
      this.logger.error("wal_failed", { dir: this.dir, error: err });
      throw this.failure;
    } finally {
      batch.clear();
    }
  }

  private checkUsable(): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error(`the WAL in ${this.dir} is closed`);
  }
}

/**
 * Creates segment `seq` for a log in state `state`, with its header records
 * (hard state and, if any, the snapshot followed) encoded into `header`.
 * Nothing is written yet: the header goes out with the segment's first batch.
 */
async function createSegment(dir: string, seq: number, state: WrittenState, header: RecordBuffer): Promise<ActiveSegment> {
  const name: SegmentName = { seq, firstIndex: state.lastIndex + 1, file: segmentFileName(seq, state.lastIndex + 1) };
  const fh = await openFile(join(dir, name.file), "ax");
  header.clear();
  header.hardState(state.hardState);
  if (state.baseIndex > 0) header.snapshot(state.baseIndex, state.baseTerm);
  return { name, fh, size: 0 };
}

/** Replays one segment's records; cuts a torn tail off the last segment. */
async function replaySegment(path: string, firstIndex: number, replay: Replay, isLast: boolean, logger: Logger): Promise<void> {
  const buf = await readFile(path);
  replay.startSegment(firstIndex, { file: path, offset: 0 });
  let offset = 0;
  while (offset < buf.length) {
    const raw = readRecord(buf, offset);
    if (typeof raw === "string") {
      // Only the end of the log can hold a write the crash interrupted; and only if nothing intact follows.
      if (!isLast || intactRecordAfter(buf, offset + 1)) throw new WalCorruptionError(path, offset, raw);
      logger.warn("wal_torn_tail_cut", { file: path, offset, bytes: buf.length - offset, reason: raw });
      const fh = await openFile(path, "r+");
      try {
        await fh.truncate(offset);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      return;
    }
    let record: WalRecord;
    try {
      record = decodeRecord(raw);
    } catch (err) {
      const reason = err instanceof CodecError ? `record payload: ${err.message}` : (err as Error).message;
      throw new WalCorruptionError(path, offset, `impossible record: ${reason}`);
    }
    replay.apply(record, { file: path, offset });
    offset = raw.next;
  }
}
