// Rebuilds a node's log from its WAL records, refusing any record that a
// correct WAL could not have written at that point (apply() throws: the
// caller treats the record as damaged and cuts the log there).
//
// Segments compacted away leave the replay starting mid-log: the entries
// before the first remaining segment are unknown, which is fine exactly when
// a snapshot covers them — checked at the end.

import type { Entry } from "../core/types.js";
import { assertNever } from "../util/assert.js";
import { WalCorruptionError } from "./errors.js";
import type { WalRecord } from "./records.js";

export interface SnapshotMark {
  readonly index: number;
  readonly term: number;
}

export interface ReplayedLog {
  /** The snapshot the log follows; (0, 0) for none. */
  readonly baseIndex: number;
  readonly baseTerm: number;
  /** The entries after the base, in order. */
  readonly entries: Entry[];
}

/** Where a record was read, for error messages. */
export interface Position {
  readonly file: string;
  readonly offset: number;
}

export class Replay {
  private baseIndex = 0;
  private baseTerm = 0;
  private lastIndex: number;
  /** The known tail of the log: entries[i] has index lastIndex - entries.length + 1 + i. */
  private entries: Entry[] = [];
  /** The newest snapshot record, and where it was. */
  private mark: { snapshot: SnapshotMark; at: Position } | null = null;

  /** `firstIndex`: the index the first remaining segment starts at. */
  constructor(firstIndex: number) {
    this.lastIndex = firstIndex - 1;
  }

  /** Checks that a segment starts where the previous one left the log. */
  startSegment(firstIndex: number, at: Position): void {
    if (firstIndex !== this.lastIndex + 1) {
      throw new WalCorruptionError(at.file, 0, `the segment starts at index ${firstIndex} but the log before it ends at ${this.lastIndex}`);
    }
  }

  /** The log as replayed so far: its base and last index. */
  get state(): { readonly baseIndex: number; readonly baseTerm: number; readonly lastIndex: number } {
    return { baseIndex: this.baseIndex, baseTerm: this.baseTerm, lastIndex: this.lastIndex };
  }

  apply(record: WalRecord, at: Position): void {
    switch (record.kind) {
      case "entry": {
        const e = record.entry;
        if (e.index !== this.lastIndex + 1) this.fail(at, `entry ${e.index} does not follow the last index ${this.lastIndex}`);
        const prevTerm = this.termAt(e.index - 1);
        if (e.term < 1 || (prevTerm !== undefined && e.term < prevTerm)) {
          this.fail(at, `entry ${e.index} has term ${e.term}, after an entry of term ${prevTerm}`);
        }
        this.entries.push(e);
        this.lastIndex = e.index;
        return;
      }
      case "truncate": {
        const from = record.fromIndex;
        if (from <= this.baseIndex || from > this.lastIndex + 1) {
          this.fail(at, `truncation from ${from} outside the log (${this.baseIndex + 1}..${this.lastIndex + 1})`);
        }
        this.entries.length = Math.max(0, this.entries.length - (this.lastIndex - from + 1));
        this.lastIndex = from - 1;
        return;
      }
      case "snapshot": {
        const { index, term } = record;
        if (index < this.baseIndex || (index === this.baseIndex && term !== this.baseTerm)) {
          this.fail(at, `snapshot (${index}, term ${term}) after snapshot (${this.baseIndex}, term ${this.baseTerm})`);
        }
        this.dropThrough(index);
        this.baseIndex = index;
        this.baseTerm = term;
        this.mark = { snapshot: { index, term }, at };
        return;
      }
      default:
        assertNever(record);
    }
  }

  /**
   * Brings in the newest intact snapshot file (null: none) and returns the
   * log the node restarts with, or what makes that impossible: the log
   * follows a snapshot that is gone (then nothing of it can be used), or
   * entries are in neither a snapshot nor a segment (then only the snapshot
   * can).
   */
  finish(snapshot: SnapshotMark | null): { readonly log: ReplayedLog; readonly problem: null } | { readonly problem: "snapshot" | "gap"; readonly reason: string } {
    const mark = this.mark;
    if (mark !== null && (snapshot === null || snapshot.index < mark.snapshot.index)) {
      const newest = snapshot === null ? "there is none" : `the newest intact one is at index ${snapshot.index}`;
      return { problem: "snapshot", reason: `the log follows a snapshot at index ${mark.snapshot.index}, but ${newest}` };
    }
    if (snapshot !== null) {
      if (mark !== null && snapshot.index === mark.snapshot.index) {
        if (snapshot.term !== mark.snapshot.term) {
          return { problem: "snapshot", reason: `the log's snapshot at index ${snapshot.index} has term ${mark.snapshot.term}, the snapshot file term ${snapshot.term}` };
        }
      } else {
        // Saved, but the crash came before its record.
        this.adopt(snapshot.index, snapshot.term);
      }
    }
    const firstKnown = this.lastIndex - this.entries.length + 1;
    if (firstKnown > this.baseIndex + 1) {
      return { problem: "gap", reason: `entries ${this.baseIndex + 1}..${firstKnown - 1} are in neither a snapshot nor a WAL segment (a segment file is missing)` };
    }
    return { log: { baseIndex: this.baseIndex, baseTerm: this.baseTerm, entries: this.entries }, problem: null };
  }

  /**
   * A segment's header says the log followed a snapshot its records may not
   * mention (one saved just before a crash and applied on recovery, when the
   * segment was started): follow it too.
   */
  followSnapshot(index: number, term: number, at: Position): void {
    if (index < this.baseIndex || (index === this.baseIndex && term !== this.baseTerm)) {
      this.fail(at, `the segment follows a snapshot (${index}, term ${term}) older than (${this.baseIndex}, term ${this.baseTerm})`);
    }
    if (index === this.baseIndex) return;
    this.adopt(index, term);
    this.mark = { snapshot: { index, term }, at };
  }

  /** Makes the log follow a snapshot as saveSnapshot does (Raft §7): the entries after it stay only if the log holds its last entry. */
  private adopt(index: number, term: number): void {
    const firstKnown = this.lastIndex - this.entries.length + 1;
    // Below the first entry read, the log is in segments compaction deleted: nothing to check it against.
    if (this.termAt(index) === term || (index < firstKnown && index !== this.baseIndex)) {
      this.dropThrough(index);
    } else {
      this.entries = [];
      this.lastIndex = index;
    }
    this.baseIndex = index;
    this.baseTerm = term;
  }

  /** Drops the entries up to `index`; a log shorter than that now ends there. */
  private dropThrough(index: number): void {
    if (index >= this.lastIndex) {
      this.entries = [];
      this.lastIndex = index;
      return;
    }
    const firstKnown = this.lastIndex - this.entries.length + 1;
    if (index >= firstKnown) this.entries = this.entries.slice(index - firstKnown + 1);
  }

  private termAt(index: number): number | undefined {
    if (index === this.baseIndex) return this.baseTerm;
    const i = index - (this.lastIndex - this.entries.length + 1);
    return i >= 0 && i < this.entries.length ? this.entries[i]!.term : undefined;
  }

  private fail(at: Position, reason: string): never {
    throw new WalCorruptionError(at.file, at.offset, `impossible record: ${reason}`);
  }
}
