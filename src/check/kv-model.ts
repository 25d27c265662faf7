// The sequential specification of raftkv's string commands, one register per
// key, with Redis's replies (SPEC §4; Redis src/t_string.c).

import { assertNever } from "../util/assert.js";
import { isUnknown, UNKNOWN, type Model, type Operation, type Partition, type StepResult, type Unknown } from "./model.js";

/**
 * A command on one key. INCRBY's `by` may be negative, which also covers
 * DECR and DECRBY.
 */
export type KvInput =
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

/**
 * The reply, as a Redis client library returns it:
 * - get, set with GET: the (old) value, or null for nil;
 * - set: "OK", or null when NX/XX prevented it;
 * - del: 0 or 1; append: the new length in bytes;
 * - incr, incrby: the new value (a bigint is exact; a number is compared
 *   after the same rounding to a double), or the error text, one of KV_ERRORS.
 */
export type KvOutput = string | number | bigint | null;

/** A key's value; null when the key does not exist. */
export type KvState = string | null;

/** Redis's error texts (without the leading "-"), deterministic outcomes like any other reply. */
export const KV_ERRORS = {
  notInteger: "ERR value is not an integer or out of range",
  overflow: "ERR increment or decrement would overflow",
} as const;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => null,

  step(state, input, output) {
    switch (input.op) {
      case "get":
        return result(output === UNKNOWN || output === state, state);
      case "set": {
        const exists = state !== null;
        const applies = input.condition === undefined || (input.condition === "NX" ? !exists : exists);
        const reply = input.get === true ? state : applies ? "OK" : null;
        return result(output === UNKNOWN || output === reply, applies ? input.value : state);
      }
      case "del":
        return result(output === UNKNOWN || sameInteger(output, state === null ? 0n : 1n), null);
      case "incr":
        return increment(state, 1n, output);
      case "incrby":
        return increment(state, BigInt(input.by), output);
      case "append": {
        const value = (state ?? "") + input.value;
        return result(output === UNKNOWN || sameInteger(output, BigInt(Buffer.byteLength(value))), value);
      }
      default:
        return assertNever(input);
    }
  },

  equal: (a, b) => a === b,

  hash(state) {
    if (state === null) return 0x6e756c6c;
    // The length and the last characters: enough to tell apart the values of
    // one key (appends differ at the end), and cheap on long values.
    let h = Math.imul(state.length, 0x9e3779b1);
    for (let i = Math.max(0, state.length - 32); i < state.length; i++) {
      h = Math.imul(h ^ state.charCodeAt(i), 0x01000193);
    }
    return h;
  },

  partition(history) {
    const byKey = new Map<string, Operation<KvInput, KvOutput>[]>();
    for (const op of history) {
      // A read whose reply was lost changed nothing and showed nothing.
      if (op.input.op === "get" && isUnknown(op)) continue;
      let ops = byKey.get(op.input.key);
      if (ops === undefined) byKey.set(op.input.key, (ops = []));
      ops.push(op);
    }
    return [...byKey].map(([key, operations]): Partition<KvInput, KvOutput> => ({ key, operations }));
  },

  describe(input, output) {
    const key = quoteKey(input.key);
    const reply = output === UNKNOWN ? "?" : describeOutput(input, output);
    switch (input.op) {
      case "get":
      case "del":
      case "incr":
        return `${input.op} ${key} -> ${reply}`;
      case "incrby":
        return `incrby ${key} ${input.by} -> ${reply}`;
      case "append":
        return `append ${key} ${quoteValue(input.value)} -> ${reply}`;
      case "set": {
        const options = `${input.condition === undefined ? "" : ` ${input.condition}`}${input.get === true ? " GET" : ""}`;
        return `set ${key} ${quoteValue(input.value)}${options} -> ${reply}`;
      }
      default:
        return assertNever(input);
    }
  },

  describeState: (state) => (state === null ? "nil" : quoteValue(state)),
};

function result(ok: boolean, state: KvState): StepResult<KvState> {
  return { ok, state };
}

/** INCR/INCRBY: the value must be a canonical 64-bit integer, as Redis's string2ll demands. */
function increment(state: KvState, by: bigint, output: KvOutput | Unknown): StepResult<KvState> {
  if (state !== null && !/^(0|-?[1-9][0-9]{0,18})$/.test(state)) {
    return result(output === UNKNOWN || output === KV_ERRORS.notInteger, state);
  }
  const current = state === null ? 0n : BigInt(state);
  if (current < INT64_MIN || current > INT64_MAX) {
    return result(output === UNKNOWN || output === KV_ERRORS.notInteger, state);
  }
  const sum = current + by;
  if (sum < INT64_MIN || sum > INT64_MAX) {
    return result(output === UNKNOWN || output === KV_ERRORS.overflow, state);
  }
  return result(output === UNKNOWN || sameInteger(output, sum), sum.toString());
}

function sameInteger(output: KvOutput, expected: bigint): boolean {
  if (typeof output === "bigint") return output === expected;
  return typeof output === "number" && output === Number(expected);
}

function describeOutput(input: KvInput, output: KvOutput): string {
  if (output === null) return "nil";
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
