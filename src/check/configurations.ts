// What the search remembers: a configuration is the set of operations taken
// so far plus the model state, and the cache holds every configuration
// reached. A cached configuration also rules out every configuration it
// dominates: the same known operations taken, the same state, and a SUBSET
// of the unknown-outcome ones. Whatever completes the larger completes the
// smaller (unknown operations never constrain the order of others), so if
// the smaller fails, so does the larger.

import type { Model } from "./model.js";

/** The operations taken so far, with the hashes the cache needs, kept up to date one flip at a time. */
export class TakenSet {
  readonly bits: Uint32Array;
  readonly knownMask: Uint32Array;
  /**
   * Zobrist hash of the known operations taken. Unknown ones stay out, so
   * that a configuration and those it dominates land in the same bucket.
   */
  knownHash = 0;
  /**
   * 32-bit summary of the unknown operations taken, one bit each, shared by
   * several operations (hence the counts). A cached configuration whose
   * signature is not a subset of the current one cannot dominate it: this
   * rejects most of a bucket without comparing bitsets.
   */
  unknownSignature = 0;
  private readonly zobrist: Int32Array;
  private readonly signatureBit: Int32Array;
  private readonly signatureCounts = new Int32Array(32);

  constructor(private readonly known: Uint8Array) {
    const n = known.length;
    this.bits = new Uint32Array((n + 31) >>> 5);
    this.knownMask = new Uint32Array(this.bits.length);
    this.zobrist = new Int32Array(n);
    this.signatureBit = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (known[i] === 1) {
        this.knownMask[i >>> 5]! |= 1 << (i & 31);
        this.zobrist[i] = mix32(i + 1);
      } else {
        this.signatureBit[i] = mix32(i + 1) >>> 27;
      }
    }
  }

  has(id: number): boolean {
    return (this.bits[id >>> 5]! & (1 << (id & 31))) !== 0;
  }

  /** Takes `id` if it was not taken, puts it back if it was. */
  flip(id: number): void {
    const word = id >>> 5;
    const bit = 1 << (id & 31);
    this.bits[word]! ^= bit;
    if (this.known[id] === 1) {
      this.knownHash ^= this.zobrist[id]!;
      return;
    }
    const b = this.signatureBit[id]!;
    if ((this.bits[word]! & bit) !== 0) {
      if (this.signatureCounts[b]!++ === 0) this.unknownSignature |= 1 << b;
    } else if (--this.signatureCounts[b]! === 0) {
      this.unknownSignature &= ~(1 << b);
    }
  }
}

/**
 * The cached configurations with one hash of known operations and state.
 * Column-wise, so that scanning the signatures touches one small array.
 */
interface Bucket<S> {
  readonly unknownSignatures: number[];
  readonly taken: Uint32Array[];
  readonly states: S[];
}

export class ConfigurationCache<S> {
  private readonly buckets = new Map<number, Bucket<S>>();

  constructor(
    private readonly model: Pick<Model<S, unknown, unknown>, "equal" | "hash">,
    private readonly taken: TakenSet,
  ) {}

  /** True if the configuration (current taken set, `state`), or one that dominates it, is cached; else caches it. */
  seen(state: S): boolean {
    const taken = this.taken;
    const key = (taken.knownHash ^ (this.model.hash === undefined ? 0 : this.model.hash(state))) | 0;
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { unknownSignatures: [], taken: [], states: [] };
      this.buckets.set(key, bucket);
    }
    const signatures = bucket.unknownSignatures;
    for (let i = 0; i < signatures.length; i++) {
      if (
        (signatures[i]! & ~taken.unknownSignature) === 0 &&
        dominates(bucket.taken[i]!, taken.bits, taken.knownMask) &&
        this.model.equal(bucket.states[i]!, state)
      ) {
        return true;
      }
    }
    signatures.push(taken.unknownSignature);
    bucket.taken.push(taken.bits.slice());
    bucket.states.push(state);
    return false;
  }
}

/** Same known operations taken, and `cached`'s unknown ones a subset of `current`'s. */
function dominates(cached: Uint32Array, current: Uint32Array, knownMask: Uint32Array): boolean {
  for (let w = 0; w < cached.length; w++) {
    const s = cached[w]!;
    const c = current[w]!;
    if ((s & ~c) !== 0 || (c & ~s & knownMask[w]!) !== 0) return false;
  }
  return true;
}

/** murmur3's finalizer: spreads consecutive ids over 32 bits. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return x ^ (x >>> 16);
}
