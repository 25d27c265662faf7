// Two indexes over the keyspace that the state machine keeps beside its map.
//
// ExpiryHeap: the keys with a time to live, smallest (time, key) first, so
// expired keys are found without scanning. Entries are not removed when a
// key's time changes or the key goes; a popped entry counts only if it still
// matches the key's current time. The order is total (time, then key
// bytes), so which keys come out first never depends on how the heap was
// built: replicas, and a replica restored from a snapshot, agree.
//
// ScanOrder: every key gets a sequence number when it is created (the same
// on every replica: creation happens in apply). SCAN's cursor is the last
// number it returned, so a key present for a whole scan is returned exactly
// once, whatever is added or removed meanwhile, and the cursor stays valid
// on a new leader.

export class ExpiryHeap {
  private readonly times: number[] = [];
  private readonly keys: string[] = [];

  get size(): number {
    return this.times.length;
  }

  clear(): void {
    this.times.length = 0;
    this.keys.length = 0;
  }

  push(at: number, key: string): void {
    this.times.push(at);
    this.keys.push(key);
    let i = this.times.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** The smallest entry, or undefined. */
  peek(): { at: number; key: string } | undefined {
    return this.times.length === 0 ? undefined : { at: this.times[0]!, key: this.keys[0]! };
  }

  pop(): void {
    const last = this.times.length - 1;
    this.swap(0, last);
    this.times.pop();
    this.keys.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.times.length && this.less(l, m)) m = l;
      if (r < this.times.length && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private less(a: number, b: number): boolean {
    const ta = this.times[a]!;
    const tb = this.times[b]!;
    return ta !== tb ? ta < tb : this.keys[a]! < this.keys[b]!;
  }

  private swap(a: number, b: number): void {
    [this.times[a], this.times[b]] = [this.times[b]!, this.times[a]!];
    [this.keys[a], this.keys[b]] = [this.keys[b]!, this.keys[a]!];
  }
}

export class ScanOrder {
  /** Sequence numbers, increasing, of keys created (some since removed). */
  private seqs: number[] = [];
  private keys: string[] = [];
  private dead = 0;

  clear(): void {
    this.seqs = [];
    this.keys = [];
    this.dead = 0;
  }

  /** `seq` must be larger than every one added before. */
  add(seq: number, key: string): void {
    this.seqs.push(seq);
    this.keys.push(key);
  }

  /** A key created earlier is gone; `live` tells which entries still hold (compaction keeps those). */
  removed(live: (seq: number, key: string) => boolean): void {
    this.dead++;
    if (this.dead < 1024 || this.dead < this.seqs.length / 2) return;
    const seqs: number[] = [];
    const keys: string[] = [];
    for (let i = 0; i < this.seqs.length; i++) {
      if (live(this.seqs[i]!, this.keys[i]!)) {
        seqs.push(this.seqs[i]!);
        keys.push(this.keys[i]!);
      }
    }
    this.seqs = seqs;
    this.keys = keys;
    this.dead = 0;
  }

  /**
   * Up to `count` entries with a sequence number above `cursor`, in order;
   * `next` is the cursor to continue from, 0 when the end was reached.
   * Entries that no longer hold are skipped by the caller's `live`.
   */
  from(cursor: number, count: number, live: (seq: number, key: string) => boolean): { keys: string[]; next: number } {
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.seqs[mid]! <= cursor) lo = mid + 1;
      else hi = mid;
    }
    const keys: string[] = [];
    let visited = 0;
    let i = lo;
    for (; i < this.seqs.length && visited < count; i++) {
      visited++;
      if (live(this.seqs[i]!, this.keys[i]!)) keys.push(this.keys[i]!);
    }
    return { keys, next: i < this.seqs.length ? this.seqs[i - 1]! : 0 };
  }
}
