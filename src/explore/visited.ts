// The visited-state index of the explorer: canonical state key -> dense id.
//
// Only the key is kept per state (never the state itself), so memory per
// visited state is the key string plus one Map entry. A V8 Map holds at most
// 2^24 entries, so keys are spread over several Maps once one fills up.

/** Entries per Map; half of V8's hard limit, to stay clear of it. */
const SHARD_SIZE = 1 << 23;

export class VisitedStates {
  private readonly shards: Map<string, number>[] = [new Map()];
  private count = 0;

  /** `shardSize` exists for tests; the default suits any real run. */
  constructor(private readonly shardSize: number = SHARD_SIZE) {}

  get size(): number {
    return this.count;
  }

  /** The id of a visited key, or undefined if it was never added. */
  id(key: string): number | undefined {
    for (const shard of this.shards) {
      const id = shard.get(key);
      if (id !== undefined) return id;
    }
    return undefined;
  }

  /** Adds a key that is not yet visited and returns its id (0, 1, 2, ...). */
  add(key: string): number {
    let shard = this.shards[this.shards.length - 1];
    if (shard.size >= this.shardSize) {
      shard = new Map();
      this.shards.push(shard);
    }
    const id = this.count++;
    shard.set(key, id);
    return id;
  }
}
