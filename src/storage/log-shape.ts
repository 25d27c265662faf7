// What the WAL must know about the log it stores, without holding the
// entries: where it starts (the snapshot it follows), where it ends, and the
// term of each entry, kept as runs of equal terms (terms change rarely, so
// this stays tiny). Enough to check appends and to apply a snapshot the way
// Raft §7 says: keep the entries after it only if the log holds its last
// entry.

interface Run {
  /** First index of a stretch of entries that share `term`. */
  readonly index: number;
  readonly term: number;
}

export class LogShape {
  private base: { index: number; term: number };
  private last: number;
  private runs: Run[] = [];

  /** An empty log after a snapshot at (baseIndex, baseTerm); (0, 0) for none. */
  constructor(baseIndex: number, baseTerm: number) {
    this.base = { index: baseIndex, term: baseTerm };
    this.last = baseIndex;
  }

  get baseIndex(): number {
    return this.base.index;
  }

  get baseTerm(): number {
    return this.base.term;
  }

  get lastIndex(): number {
    return this.last;
  }

  /** Term of the entry at `index`, the base's term at the base, undefined outside the log. */
  termAt(index: number): number | undefined {
    if (index === this.base.index) return this.base.term;
    if (index < this.base.index || index > this.last) return undefined;
    for (let i = this.runs.length - 1; ; i--) if (this.runs[i]!.index <= index) return this.runs[i]!.term;
  }

  /** Records the entry at lastIndex + 1. */
  push(term: number): void {
    this.last++;
    if (this.runs.length === 0 || this.runs[this.runs.length - 1]!.term !== term) this.runs.push({ index: this.last, term });
  }

  /** Removes the entries from `fromIndex` on (baseIndex < fromIndex <= lastIndex + 1). */
  truncate(fromIndex: number): void {
    while (this.runs.length > 0 && this.runs[this.runs.length - 1]!.index >= fromIndex) this.runs.pop();
    this.last = fromIndex - 1;
  }

  /**
   * Makes the log start after a snapshot at (index, term). Returns true when
   * the entries after it were kept (the log held that entry), false when the
   * log was discarded and now ends at the snapshot.
   */
  applySnapshot(index: number, term: number): boolean {
    const kept = this.termAt(index) === term;
    if (kept) {
      // Runs before index + 1 go; the one covering index + 1, if any, now starts there.
      const from = index + 1;
      this.runs = this.last < from ? [] : [{ index: from, term: this.termAt(from)! }, ...this.runs.filter((r) => r.index > from)];
    } else {
      this.runs = [];
      this.last = index;
    }
    this.base = { index, term };
    return kept;
  }
}
