// The sequential specification of raftkv's string commands and transactions,
// with Redis's replies (SPEC §4; Redis src/t_string.c, src/multi.c).
//
// The state is the whole keyspace a partition touches. Single-key commands
// make one partition per key; a command on several keys (MGET, MSET,
// RENAME, a transaction) joins the partitions of all its keys into one
// (union-find in `partition`), since it must see and change them at one
// point in time.
//
// WATCH and EXEC are two operations of one client, tied by a transaction id
// (`tx`): WATCH takes effect at one point, EXEC at a later one, and EXEC
// aborts (replies nil) exactly when a watched key was written in between.
// The state tracks, for each WATCH that took effect and whose EXEC has not,
// whether one of its keys was written since; that is all an EXEC can
// observe (Redis's "modified": a SET, even of the same value, a DEL that
// removed, an INCR that succeeded, an APPEND; not a SET NX that did not
// set, nor a failed INCR).

import { assertNever } from "../util/assert.js";
import { isUnknown, UNKNOWN, type Model, type Operation, type Partition, type StepResult } from "./model.js";

/**
 * A command on one key. INCRBY's `by` may be negative, which also covers
 * DECR and DECRBY.
 */
export type KvCommand =
  | { readonly op: "get"; readonly key: string }
  | {
      readonly op: "set";
      readonly key: string;
      readonly value: string;
      readonly condition?: "NX" | "XX";
      /** SET ... GET: the reply is the old value, whether or not the value was set. */
      readonly get?: boolean;
    }
  | { readonly op: "del"; readonly key: string }
  | { readonly op: "incr"; readonly key: string }
  | { readonly op: "incrby"; readonly key: string; readonly by: number | bigint }
  | { readonly op: "append"; readonly key: string; readonly value: string };

/** A command on several keys at once. */
export type KvMultiKeyCommand =
  | { readonly op: "mget"; readonly keys: readonly string[] }
  | { readonly op: "mset"; readonly pairs: readonly (readonly [key: string, value: string])[] }
  /** RENAME key to: "OK", or KV_ERRORS.noSuchKey. */
  | { readonly op: "rename"; readonly key: string; readonly to: string };

/** What a transaction may queue. */
export type KvQueued = KvCommand | KvMultiKeyCommand;

export type KvInput =
  | KvCommand
  | KvMultiKeyCommand
  /** WATCH keys, for the EXEC with the same `tx` (unique in the history): "OK". */
  | { readonly op: "watch"; readonly tx: string; readonly keys: readonly string[] }
  /**
   * MULTI, the queued commands, EXEC, as one operation. With `tx`, its
   * WATCH (same `tx`, same keys) must be in the history and is the
   * operation that WATCHed; its reply is then nil when a watched key was
   * written between the two. Record the WATCH only if it returned OK.
   */
  | { readonly op: "exec"; readonly tx?: string; readonly watch?: readonly string[]; readonly ops: readonly KvQueued[] };

/**
 * The reply, as a Redis client library returns it:
 * - get, set with GET: the (old) value, or null for nil;
 * - set: "OK", or null when NX/XX prevented it;
 * - del: 0 or 1; append: the new length in bytes;
 * - incr, incrby: the new value (a bigint is exact; a number is compared
 *   after the same rounding to a double), or the error text, one of KV_ERRORS;
 * - mget: an array of values or nulls; mset, watch: "OK"; rename: "OK" or
 *   KV_ERRORS.noSuchKey;
 * - exec: the array of the queued commands' replies, or null when a watched
 *   key changed (the transaction then did nothing).
 */
export type KvOutput = string | number | bigint | null | readonly KvOutput[];

/** A key's value; null when the key does not exist. */
export type KvValue = string | null;

interface Watch {
  readonly keys: readonly string[];
  /** A watched key was written since the WATCH took effect: the EXEC will abort. */
  readonly dirty: boolean;
}

/** The model state: the values of the keys that exist, and the WATCHes whose EXEC has not taken effect. */
export interface KvState {
  readonly values: ReadonlyMap<string, string>;
  readonly watches: ReadonlyMap<string, Watch>;
  /** The sum of the entries' hashes, kept up to date as entries change (kvModel.hash). */
  readonly hash: number;
}

/** Redis's error texts (without the leading "-"), deterministic outcomes like any other reply. */
export const KV_ERRORS = {
  notInteger: "ERR value is not an integer or out of range",
  overflow: "ERR increment or decrement would overflow",
  noSuchKey: "ERR no such key",
} as const;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

const EMPTY: KvState = { values: new Map(), watches: new Map(), hash: 0 };

/** A state holding these values and no WATCHes (for tests and callers that build states). */
export function kvState(values: Readonly<Record<string, string>> | ReadonlyMap<string, string> = {}): KvState {
  const map = values instanceof Map ? new Map(values) : new Map(Object.entries(values));
  let hash = 0;
  for (const [k, v] of map) hash = (hash + entryHash(k, v)) | 0;
  return { values: map, watches: new Map(), hash };
}

// A state's hash is a sum over its entries, so that it does not depend on
// the order they were made in, and one write updates it in constant time.
function entryHash(key: string, value: string): number {
  return Math.imul(hashString(key) ^ 0x5bd1e995, hashValue(value) | 1);
}
function watchHash(tx: string, dirty: boolean): number {
  return Math.imul(hashString(tx), dirty ? 3 : 5);
}

/**
 * The expected reply of one command: a bigint stands for an integer reply
 * (compared with sameInteger), anything else is compared with ===, an
 * array element by element.
 */
type Expected = string | bigint | null | readonly Expected[];

/** A keyspace being changed by one operation: copies the maps on the first write only. */
class Writer {
  private values: Map<string, string> | null = null;
  private watches: Map<string, Watch> | null = null;
  private hash: number;

  constructor(private readonly base: KvState) {
    this.hash = base.hash;
  }

  get(key: string): KvValue {
    return (this.values ?? this.base.values).get(key) ?? null;
  }

  /** Writes the key (null removes it) and marks the WATCHes of it as dirty. */
  write(key: string, value: KvValue): void {
    this.values ??= new Map(this.base.values);
    const old = this.values.get(key);
    if (old !== undefined) this.hash = (this.hash - entryHash(key, old)) | 0;
    if (value === null) this.values.delete(key);
    else {
      this.values.set(key, value);
      this.hash = (this.hash + entryHash(key, value)) | 0;
    }
    const watches = this.watches ?? this.base.watches;
    for (const [tx, w] of watches) {
      if (!w.dirty && w.keys.includes(key)) {
        this.watches ??= new Map(this.base.watches);
        this.watches.set(tx, { keys: w.keys, dirty: true });
        this.hash = (this.hash - watchHash(tx, false) + watchHash(tx, true)) | 0;
      }
    }
  }

  watch(tx: string, keys: readonly string[]): void {
    this.unwatch(tx);
    this.watches ??= new Map(this.base.watches);
    this.watches.set(tx, { keys, dirty: false });
    this.hash = (this.hash + watchHash(tx, false)) | 0;
  }

  /** Ends a WATCH; returns it, or undefined if it never took effect. */
  unwatch(tx: string): Watch | undefined {
    const w = (this.watches ?? this.base.watches).get(tx);
    if (w !== undefined) {
      this.watches ??= new Map(this.base.watches);
      this.watches.delete(tx);
      this.hash = (this.hash - watchHash(tx, w.dirty)) | 0;
    }
    return w;
  }

  state(): KvState {
    if (this.values === null && this.watches === null) return this.base;
    return { values: this.values ?? this.base.values, watches: this.watches ?? this.base.watches, hash: this.hash };
  }
}

/** Runs one command (not WATCH or EXEC) and returns its reply. */
function run(w: Writer, input: KvQueued): Expected {
  switch (input.op) {
    case "get":
      return w.get(input.key);
    case "set": {
      const old = w.get(input.key);
      const exists = old !== null;
      const applies = input.condition === undefined || (input.condition === "NX" ? !exists : exists);
      if (applies) w.write(input.key, input.value);
      return input.get === true ? old : applies ? "OK" : null;
    }
    case "del": {
      const exists = w.get(input.key) !== null;
      if (exists) w.write(input.key, null);
      return exists ? 1n : 0n;
    }
    case "incr":
      return increment(w, input.key, 1n);
    case "incrby":
      return increment(w, input.key, BigInt(input.by));
    case "append": {
      const value = (w.get(input.key) ?? "") + input.value;
      w.write(input.key, value);
      return BigInt(Buffer.byteLength(value));
    }
    case "mget":
      return input.keys.map((k) => w.get(k));
    case "mset":
      for (const [k, v] of input.pairs) w.write(k, v);
      return "OK";
    case "rename": {
      const value = w.get(input.key);
      if (value === null) return KV_ERRORS.noSuchKey;
      // Redis answers OK and changes nothing when both names are the same.
      if (input.to !== input.key) {
        w.write(input.key, null);
        w.write(input.to, value);
      }
      return "OK";
    }
    default:
      return assertNever(input);
  }
}

/** INCR/INCRBY: the value must be a canonical 64-bit integer, as Redis's string2ll demands. */
function increment(w: Writer, key: string, by: bigint): Expected {
  const state = w.get(key);
  if (state !== null && !/^(0|-?[1-9][0-9]{0,18})$/.test(state)) return KV_ERRORS.notInteger;
  const current = state === null ? 0n : BigInt(state);
  if (current < INT64_MIN || current > INT64_MAX) return KV_ERRORS.notInteger;
  const sum = current + by;
  if (sum < INT64_MIN || sum > INT64_MAX) return KV_ERRORS.overflow;
  w.write(key, sum.toString());
  return sum;
}

function matches(output: KvOutput, expected: Expected): boolean {
  if (typeof expected === "bigint") return sameInteger(output, expected);
  if (Array.isArray(expected)) {
    return Array.isArray(output) && output.length === expected.length && expected.every((e: Expected, i) => matches(output[i] as KvOutput, e));
  }
  return output === expected;
}

function sameInteger(output: KvOutput, expected: bigint): boolean {
  if (typeof output === "bigint") return output === expected;
  return typeof output === "number" && output === Number(expected);
}

/** The keys an operation reads or writes (a transaction: its WATCHed keys too). */
export function keysOf(input: KvInput): string[] {
  switch (input.op) {
    case "mget":
    case "watch":
      return [...input.keys];
    case "mset":
      return input.pairs.map(([k]) => k);
    case "rename":
      return [input.key, input.to];
    case "exec":
      return [...(input.watch ?? []), ...input.ops.flatMap(keysOf)];
    default:
      return [input.key];
  }
}

/** Reads that change nothing: if nobody saw the reply, they can be left out. */
function isPureRead(input: KvInput): boolean {
  switch (input.op) {
    case "get":
    case "mget":
      return true;
    case "exec":
      // A transaction of reads only; with a WATCH it also ends the WATCH, which changes nothing either.
      return input.ops.every(isPureRead);
    default:
      return false;
  }
}

export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => EMPTY,

  step(state, input, output): StepResult<KvState> {
    const w = new Writer(state);
    switch (input.op) {
      case "watch":
        w.watch(input.tx, input.keys);
        return { ok: output === UNKNOWN || output === "OK", state: w.state() };
      case "exec": {
        if (input.tx !== undefined && input.watch !== undefined && input.watch.length > 0) {
          const watch = w.unwatch(input.tx);
          // The WATCH must have taken effect first (it is in the same partition: its keys are ours).
          if (watch === undefined) return { ok: false, state };
          if (watch.dirty) return { ok: output === UNKNOWN || output === null, state: w.state() };
        }
        const replies = input.ops.map((op) => run(w, op));
        return { ok: output === UNKNOWN || matches(output, replies), state: w.state() };
      }
      default: {
        const expected = run(w, input);
        return { ok: output === UNKNOWN || matches(output, expected), state: w.state() };
      }
    }
  },

  equal(a, b) {
    if (a === b) return true;
    if (a.hash !== b.hash || a.values.size !== b.values.size || a.watches.size !== b.watches.size) return false;
    for (const [k, v] of a.values) if (b.values.get(k) !== v) return false;
    for (const [tx, w] of a.watches) {
      const other = b.watches.get(tx);
      // A WATCH's keys come from its input, the same in both: only the flag differs.
      if (other === undefined || other.dirty !== w.dirty) return false;
    }
    return true;
  },

  hash: (state) => state.hash,

  partition(history) {
    // Union-find over keys: an operation on several keys joins their partitions.
    const parent = new Map<string, string>();
    const find = (k: string): string => {
      let root = k;
      for (let p = parent.get(root); p !== undefined && p !== root; p = parent.get(root)) root = p;
      for (let x = k; x !== root; ) {
        const next = parent.get(x)!;
        parent.set(x, root);
        x = next;
      }
      return root;
    };
    const kept: [Operation<KvInput, KvOutput>, string[]][] = [];
    for (const op of history) {
      // A read whose reply was lost changed nothing and showed nothing.
      if (isPureRead(op.input) && isUnknown(op)) continue;
      const keys = keysOf(op.input);
      for (const k of keys) if (!parent.has(k)) parent.set(k, k);
      for (const k of keys.slice(1)) {
        const a = find(keys[0]!);
        const b = find(k);
        if (a !== b) parent.set(b, a);
      }
      kept.push([op, keys]);
    }
    const byRoot = new Map<string, { keys: Set<string>; operations: Operation<KvInput, KvOutput>[] }>();
    for (const [op, keys] of kept) {
      if (keys.length === 0) continue; // an empty transaction: nothing to see
      const root = find(keys[0]!);
      let group = byRoot.get(root);
      if (group === undefined) byRoot.set(root, (group = { keys: new Set(), operations: [] }));
      for (const k of keys) group.keys.add(k);
      group.operations.push(op);
    }
    return [...byRoot.values()].map(
      ({ keys, operations }): Partition<KvInput, KvOutput> => ({ key: [...keys].sort().join(" "), operations }),
    );
  },

  describe(input, output) {
    return `${describeInput(input)} -> ${output === UNKNOWN ? "?" : describeOutput(input, output)}`;
  },

  describeState(state) {
    const values = [...state.values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const shown = values.map(([k, v]) => `${quoteKey(k)}=${quoteValue(v)}`);
    const watches = [...state.watches].filter(([, w]) => w.dirty).map(([tx]) => `watch ${tx} changed`);
    return `{${[...shown, ...watches].join(", ")}}`;
  },
};

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** The length and the last characters: enough to tell apart the values of one key (appends differ at the end), and cheap on long values. */
function hashValue(value: string): number {
  let h = Math.imul(value.length, 0x9e3779b1);
  for (let i = Math.max(0, value.length - 32); i < value.length; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
  return h;
}

function describeInput(input: KvInput): string {
  switch (input.op) {
    case "get":
    case "del":
    case "incr":
      return `${input.op} ${quoteKey(input.key)}`;
    case "incrby":
      return `incrby ${quoteKey(input.key)} ${input.by}`;
    case "append":
      return `append ${quoteKey(input.key)} ${quoteValue(input.value)}`;
    case "set": {
      const options = `${input.condition === undefined ? "" : ` ${input.condition}`}${input.get === true ? " GET" : ""}`;
      return `set ${quoteKey(input.key)} ${quoteValue(input.value)}${options}`;
    }
    case "mget":
      return `mget ${input.keys.map(quoteKey).join(" ")}`;
    case "mset":
      return `mset ${input.pairs.map(([k, v]) => `${quoteKey(k)} ${quoteValue(v)}`).join(" ")}`;
    case "rename":
      return `rename ${quoteKey(input.key)} ${quoteKey(input.to)}`;
    case "watch":
      return `watch ${input.keys.map(quoteKey).join(" ")} (tx ${input.tx})`;
    case "exec": {
      const watch = input.watch === undefined || input.watch.length === 0 ? "" : `watch ${input.watch.map(quoteKey).join(" ")}; `;
      return `${watch}multi; ${input.ops.map(describeInput).join("; ")}; exec${input.tx === undefined ? "" : ` (tx ${input.tx})`}`;
    }
    default:
      return assertNever(input);
  }
}

function describeOutput(input: KvInput, output: KvOutput): string {
  if (output === null) return "nil";
  if (Array.isArray(output)) {
    const items = output as readonly KvOutput[];
    const parts = input.op === "exec" ? input.ops : input.op === "mget" ? input.keys.map((key): KvInput => ({ op: "get", key })) : [];
    return `[${items.map((o, i) => (parts[i] === undefined ? String(o) : describeOutput(parts[i]!, o))).join(", ")}]`;
  }
  if (typeof output !== "string") return String(output);
  // Only GET-like replies are values; any other string reply is a status or an error.
  const isValue = input.op === "get" || (input.op === "set" && input.get === true);
  return isValue ? quoteValue(output) : output;
}

function quoteKey(key: string): string {
  return /^[\x21-\x7e]+$/.test(key) && !key.includes('"') ? key : JSON.stringify(key);
}

/** Long values are cut in the middle: their length and both ends are what tell them apart. */
function quoteValue(value: string): string {
  if (value.length <= 40) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, 16))}...${JSON.stringify(value.slice(-16))} (${value.length} chars)`;
}
