// Rebuilds a node's log from its WAL records, refusing any record that a
// correct WAL could not have written at that point.
//
// Segments compacted away leave the replay starting mid-log: the entries
// before the first remaining segment are unknown, which is fine exactly when
// a snapshot covers them — checked at the end.

import { assertNever, type Entry, type HardState } from "../core/types.js";
import { WalCorruptionError } from "./errors.js";
import type { WalRecord } from "./records.js";

export interface SnapshotMark {
  readonly index: number;
  readonly term: number;
}

export interface ReplayedLog {
  readonly hardState: HardState;
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
  private hardState: HardState = { currentTerm: 0, votedFor: null };
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

  apply(record: WalRecord, at: Position): void {
    switch (record.kind) {
      case "hardState":
        this.hardState = record.hardState;
        return;
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
   * Brings in the newest snapshot file (null: none) and returns the log the
   * node restarts with. `dir` names the data directory in errors.
   */
  finish(snapshot: SnapshotMark | null, dir: string): ReplayedLog {
    const mark = this.mark;
    if (mark !== null && (snapshot === null || snapshot.index < mark.snapshot.index)) {
      const newest = snapshot === null ? "there is none" : `the newest is at index ${snapshot.index}`;
      throw new WalCorruptionError(mark.at.file, mark.at.offset, `the log follows a snapshot at index ${mark.snapshot.index}, but ${newest} in ${dir}`);
    }
    if (snapshot !== null) {
      if (mark !== null && snapshot.index === mark.snapshot.index) {
        if (snapshot.term !== mark.snapshot.term) {
          throw new WalCorruptionError(mark.at.file, mark.at.offset, `the log's snapshot at index ${snapshot.index} has term ${mark.snapshot.term}, the snapshot file term ${snapshot.term}`);
        }
      } else {
        // Saved, but the crash came before its record: apply it as saveSnapshot would have (Raft §7):
        // the entries after it stay only if the log holds its last entry.
        if (this.termAt(snapshot.index) === snapshot.term) {
          this.dropThrough(snapshot.index);
        } else {
          this.entries = [];
          this.lastIndex = snapshot.index;
        }
        this.baseIndex = snapshot.index;
        this.baseTerm = snapshot.term;
      }
    }
    const firstKnown = this.lastIndex - this.entries.length + 1;
    if (firstKnown > this.baseIndex + 1) {
      throw new WalCorruptionError(dir, 0, `entries ${this.baseIndex + 1}..${firstKnown - 1} are in neither a snapshot nor a WAL segment (a segment file is missing)`);
    }
    return { hardState: this.hardState, baseIndex: this.baseIndex, baseTerm: this.baseTerm, entries: this.entries };
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
