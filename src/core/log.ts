// The Raft log (the course's "Project 4"): entries in order, no holes, with
// the AppendEntries consistency check of §5.3 and a compaction base so that a
// snapshot can replace a prefix (§7).
//
// Indexing is the paper's: the first entry has index 1; index 0 (or the
// snapshot's lastIncludedIndex) is the empty prefix every log agrees on.

import { decodeConfiguration } from "./configuration.js";
import { EntryType, type Configuration, type Entry } from "./types.js";

/** A configuration and the index of the entry that holds it (the snapshot's index for the one it carries). */
export interface ConfigAt {
  readonly index: number;
  readonly config: Configuration;
}

/** The outcome of `RaftLog.tryAppend`. */
export type AppendResult =
  | {
      readonly ok: true;
      /** Index of the last entry the call made known to match the leader (prevIndex + entries.length). */
      readonly lastNewIndex: number;
      /** First index that was overwritten because of a conflict, if any (its old suffix is gone). */
      readonly truncatedFrom: number | null;
    }
  | {
      readonly ok: false;
      /**
       * Fast-backtracking hint (§5.3): the term of our entry at prevIndex and
       * the first index we hold of that term; conflictTerm 0 means our log is
       * too short and conflictIndex is our lastIndex + 1.
       */
      readonly conflictIndex: number;
      readonly conflictTerm: number;
    };

/** What an entry costs on the wire besides its data (index, term, type, length), for byte budgets. */
export const ENTRY_OVERHEAD_BYTES = 24;

/** The log as drivers and checkers may see it: reading only. */
export type ReadonlyLog = Pick<RaftLog, "snapshotIndex" | "snapshotTerm" | "firstIndex" | "lastIndex" | "lastTerm" | "term" | "entry" | "slice" | "isUpToDate" | "lastIndexOfTerm" | "latestConfig" | "configAt">;

export class RaftLog {
  /** lastIncludedIndex / lastIncludedTerm of the newest snapshot; 0/0 when there is none. */
  private base = { index: 0, term: 0 };
  /** entries[i] has index base.index + 1 + i. */
  private entries: Entry[] = [];
  /** The configuration as of the base (the snapshot's), or null: none known, the bootstrap one applies. */
  private baseConfig: ConfigAt | null = null;
  /** Every Config entry held, decoded, in index order (thesis §4.1: the latest one is in effect, committed or not). */
  private configs: ConfigAt[] = [];

  constructor(entries: readonly Entry[] = [], snapshot: { index: number; term: number; config?: Configuration | null } = { index: 0, term: 0 }) {
    this.base = { index: snapshot.index, term: snapshot.term };
    if (snapshot.config) this.baseConfig = { index: snapshot.index, config: snapshot.config };
    for (const e of entries) {
      if (e.index <= this.base.index) continue;
      if (e.index !== this.lastIndex() + 1) throw new Error(`log restore: hole before index ${e.index}`);
      this.push(e);
    }
  }

  /** Every entry enters the log here, so that Config entries are noted. */
  private push(e: Entry): void {
    this.entries.push(e);
    if (e.type === EntryType.Config) this.configs.push({ index: e.index, config: decodeConfiguration(e.data) });
  }

  /** The configuration in effect: the latest in the log, else the snapshot's; null when neither has one. */
  latestConfig(): ConfigAt | null {
    return this.configs.length > 0 ? this.configs[this.configs.length - 1]! : this.baseConfig;
  }

  /** The configuration in effect at `index` (>= snapshotIndex): the latest one at or before it. */
  configAt(index: number): ConfigAt | null {
    for (let i = this.configs.length - 1; i >= 0; i--) if (this.configs[i]!.index <= index) return this.configs[i]!;
    return this.baseConfig;
  }

  get snapshotIndex(): number {
    return this.base.index;
  }

  get snapshotTerm(): number {
    return this.base.term;
  }

  /** Index of the first entry still held (snapshotIndex + 1; may be > lastIndex when empty). */
  firstIndex(): number {
    return this.base.index + 1;
  }

  lastIndex(): number {
    return this.base.index + this.entries.length;
  }

  lastTerm(): number {
    return this.entries.length > 0 ? this.entries[this.entries.length - 1]!.term : this.base.term;
  }

  /**
   * The term of the entry at `index`, or undefined when it is unknown: beyond
   * the end, or compacted into the snapshot (except the snapshot's last index).
   */
  term(index: number): number | undefined {
    if (index === this.base.index) return this.base.term;
    if (index < this.base.index || index > this.lastIndex()) return undefined;
    return this.entries[index - this.base.index - 1]!.term;
  }

  /** The entry at `index`, if held. */
  entry(index: number): Entry | undefined {
    if (index <= this.base.index || index > this.lastIndex()) return undefined;
    return this.entries[index - this.base.index - 1];
  }

  /** Entries with lo <= index < hi (clamped to what is held), at most `maxBytes` in size (always at least one). */
  slice(lo: number, hi: number, maxBytes = Infinity): Entry[] {
    const from = Math.max(lo, this.firstIndex()) - this.base.index - 1;
    const to = Math.min(hi, this.lastIndex() + 1) - this.base.index - 1;
    if (to <= from) return [];
    if (maxBytes === Infinity) return this.entries.slice(from, to);
    let bytes = 0;
    let end = from;
    while (end < to) {
      bytes += this.entries[end]!.data.length + ENTRY_OVERHEAD_BYTES;
      if (end > from && bytes > maxBytes) break;
      end++;
    }
    return this.entries.slice(from, end);
  }

  /** §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up-to-date as this one? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** The leader's own append: the next index, no checks needed. */
  appendNew(entry: Entry): void {
    if (entry.index !== this.lastIndex() + 1) throw new Error(`append: expected index ${this.lastIndex() + 1}, got ${entry.index}`);
    this.push(entry);
  }

  /**
   * AppendEntries receiver rules 2–4 (Figure 2):
   *  2. fail if the log has no entry at prevIndex whose term is prevTerm;
   *  3. if an existing entry conflicts with a new one (same index, different
   *     term), delete it and all that follow it;
   *  4. append any new entries not already in the log.
   * Entries that match are never removed, so a stale or reordered request
   * that carries fewer entries cannot shorten the log. An empty `entries`
   * only checks whether an append at prevIndex would be legal.
   */
  tryAppend(prevIndex: number, prevTerm: number, entries: readonly Entry[]): AppendResult {
    // Entries at or below the snapshot are committed, so they match the
    // leader's: skip them and check continuity at the snapshot instead.
    if (prevIndex < this.base.index) {
      const skip = Math.min(entries.length, this.base.index - prevIndex);
      const last = skip > 0 ? entries[skip - 1]! : undefined;
      const lastNewIndex = prevIndex + entries.length;
      if (lastNewIndex <= this.base.index) return { ok: true, lastNewIndex, truncatedFrom: null };
      return this.tryAppend(this.base.index, last?.term ?? this.base.term, entries.slice(skip));
    }
    const myPrevTerm = this.term(prevIndex);
    if (myPrevTerm === undefined) return { ok: false, conflictIndex: this.lastIndex() + 1, conflictTerm: 0 };
    if (myPrevTerm !== prevTerm) return { ok: false, conflictIndex: this.firstIndexOfTerm(prevIndex), conflictTerm: myPrevTerm };

    let truncatedFrom: number | null = null;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const mine = this.term(e.index);
      if (mine === e.term) continue; // rule 4: already there
      if (mine !== undefined) {
        this.truncateFrom(e.index); // rule 3: conflict
        truncatedFrom = e.index;
      }
      for (let j = i; j < entries.length; j++) this.push(entries[j]!);
      break;
    }
    return { ok: true, lastNewIndex: prevIndex + entries.length, truncatedFrom };
  }

  /** Removes the entries from `index` on. Only ever called on uncommitted entries. */
  truncateFrom(index: number): void {
    if (index <= this.base.index) throw new Error(`truncate: index ${index} is inside the snapshot`);
    this.entries.length = Math.max(0, index - this.base.index - 1);
    // A configuration taken back: the one before it is in effect again (thesis §4.1).
    while (this.configs.length > 0 && this.configs[this.configs.length - 1]!.index >= index) this.configs.pop();
  }

  /** The first index of the run of entries that share the term of the entry at `index` (for the backtracking hint). */
  private firstIndexOfTerm(index: number): number {
    const t = this.term(index);
    let i = index;
    while (i - 1 > this.base.index && this.term(i - 1) === t) i--;
    return i;
  }

  /** The last index whose entry has term `term`, or 0 when there is none (leader side of fast backtracking). */
  lastIndexOfTerm(term: number): number {
    for (let i = this.lastIndex(); i > this.base.index; i--) {
      const t = this.term(i)!;
      if (t === term) return i;
      if (t < term) return 0; // terms only grow along the log
    }
    return this.base.term === term ? this.base.index : 0;
  }

  /** An independent copy (entries are immutable and shared). */
  clone(): RaftLog {
    const c = new RaftLog();
    c.base = { ...this.base };
    c.entries = [...this.entries];
    c.baseConfig = this.baseConfig;
    c.configs = [...this.configs];
    return c;
  }

  /** Drops the entries covered by a snapshot ending at (index, term), keeping the suffix after it. */
  compact(index: number, term: number): void {
    if (index <= this.base.index) return;
    if (this.term(index) !== term) throw new Error(`compact: entry ${index} does not have term ${term}`);
    const config = this.configAt(index);
    this.entries = this.entries.slice(index - this.base.index);
    this.base = { index, term };
    this.baseConfig = config && { index, config: config.config };
    this.configs = this.configs.filter((k) => k.index > index);
  }

  /**
   * Installs a snapshot received from the leader (§7): if we hold an entry
   * with the snapshot's last index and term, the entries after it are kept;
   * otherwise the whole log is replaced by the snapshot.
   */
  restore(index: number, term: number, config: Configuration | null): void {
    if (this.term(index) === term && index >= this.base.index) {
      this.compact(index, term);
    } else {
      this.entries = [];
      this.configs = [];
      this.base = { index, term };
    }
    if (config !== null) this.baseConfig = { index, config };
  }
}
