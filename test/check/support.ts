// Helpers for the checker's tests: a seeded PRNG, a generator of KV
// histories that are linearizable by construction, and a brute-force
// checker to compare the real one against.

import { isUnknown, type KvCommand, type KvOutput, type KvValue, type Operation } from "../../src/check/linearizability.js";

import { Rng } from "../helpers/prng.js";

export { Rng };
export type KvOp = Operation<KvCommand, KvOutput>;

export interface GenerateOptions {
  readonly clients: number;
  readonly opsPerClient: number;
  readonly keys: readonly string[];
  /** Values SET and APPEND use; include digits so INCR sometimes succeeds. */
  readonly values: readonly string[];
  /** Chance that an operation's outcome is lost (its effect then happens or not, at random). */
  readonly unknownRate: number;
  /** Times are integers below about this per operation: small spans make ties and overlaps common. */
  readonly maxGap: number;
}

/**
 * How late, in operation lengths, a lost operation may still take effect: a
 * command whose client timed out commits within an election or so, or never.
 */
const LOST_EFFECT_DELAY = 8;

/**
 * A history produced by a real linearizable execution: every operation gets
 * a linearization point inside its interval (or, for a lost outcome, any
 * time after its call, or never), and outputs come from applying the
 * operations in that order.
 */
export function generateLinearizable(rng: Rng, options: GenerateOptions): KvOp[] {
  interface Planned {
    readonly clientId: number;
    readonly input: KvCommand;
    readonly call: number;
    readonly return: number;
    readonly unknown: boolean;
    /** Infinity: never takes effect. */
    readonly point: number;
  }
  const planned: Planned[] = [];
  for (let clientId = 1; clientId <= options.clients; clientId++) {
    let t = rng.int(options.maxGap);
    for (let i = 0; i < options.opsPerClient; i++) {
      const call = t + rng.int(options.maxGap);
      const point = call + 1 + rng.int(options.maxGap);
      const ret = point + 1 + rng.int(options.maxGap);
      const unknown = rng.chance(options.unknownRate);
      const lostPoint = rng.chance(0.5) ? Infinity : call + 1 + rng.int(options.maxGap * LOST_EFFECT_DELAY);
      planned.push({
        clientId,
        input: randomInput(rng, options),
        call,
        return: ret,
        unknown,
        point: unknown ? lostPoint : point,
      });
      t = ret;
    }
  }

  const outputs = new Map<Planned, KvOutput>();
  const values = new Map<string, KvValue>();
  const byPoint = planned.filter((p) => p.point !== Infinity).sort((a, b) => a.point - b.point);
  for (const p of byPoint) {
    const [output, state] = execute(values.get(p.input.key) ?? null, p.input);
    values.set(p.input.key, state);
    outputs.set(p, output);
  }

  return planned
    .sort((a, b) => a.call - b.call)
    .map((p): KvOp => {
      const base = { clientId: p.clientId, input: p.input, call: p.call };
      if (!p.unknown) return { ...base, output: outputs.get(p)!, return: p.return };
      // Both ways of saying "unknown" must work.
      return rng.chance(0.5) ? { ...base, return: Infinity } : { ...base, return: p.return, unknown: true };
    });
}

function randomInput(rng: Rng, options: GenerateOptions): KvCommand {
  const key = rng.pick(options.keys);
  const value = rng.pick(options.values);
  switch (rng.int(9)) {
    case 0:
    case 1:
    case 2:
      return { op: "get", key };
    case 3:
      return { op: "set", key, value };
    case 4: {
      const condition = rng.pick([undefined, "NX", "XX"] as const);
      const get = rng.chance(0.5);
      return { op: "set", key, value, ...(condition === undefined ? {} : { condition }), ...(get ? { get } : {}) };
    }
    case 5:
      return { op: "del", key };
    case 6:
      return { op: "incr", key };
    case 7:
      return { op: "incrby", key, by: rng.int(7) - 3 };
    default:
      return { op: "append", key, value };
  }
}

/**
 * Runs a command on a value, independently of kvModel, so that a bug in the
 * model's step shows up as a disagreement instead of hiding in both.
 */
export function execute(value: KvValue, input: KvCommand): [KvOutput, KvValue] {
  switch (input.op) {
    case "get":
      return [value, value];
    case "set": {
      const set = input.condition === "NX" ? value === null : input.condition === "XX" ? value !== null : true;
      return [input.get === true ? value : set ? "OK" : null, set ? input.value : value];
    }
    case "del":
      return [value === null ? 0 : 1, null];
    case "incr":
    case "incrby": {
      const current = value ?? "0";
      if (!Number.isSafeInteger(Number(current)) || String(Number(current)) !== current) {
        return ["ERR value is not an integer or out of range", value];
      }
      const next = Number(current) + Number(input.op === "incr" ? 1 : input.by);
      return [next, String(next)];
    }
    case "append": {
      const next = (value ?? "") + input.value;
      return [Buffer.byteLength(next), next];
    }
  }
}

/**
 * The definition of linearizability, tried literally: every order of the
 * operations that respects real time (a before b when a returned strictly
 * before b was called), where operations with an unknown outcome may also
 * be left out, run against the whole multi-key store at once (no
 * partitioning). Exponential; for histories of a handful of operations.
 */
export function bruteForceLinearizable(history: readonly KvOp[]): boolean {
  const n = history.length;
  const mustPrecede = history.map((b) =>
    history.flatMap((a, i) => (!isUnknown(a) && a.return < b.call ? [i] : [])),
  );
  const knownCount = history.filter((op) => !isUnknown(op)).length;
  const placed = new Array<boolean>(n).fill(false);

  const search = (values: ReadonlyMap<string, KvValue>, knownPlaced: number): boolean => {
    if (knownPlaced === knownCount) return true;
    for (let i = 0; i < n; i++) {
      const op = history[i]!;
      if (placed[i] || mustPrecede[i]!.some((j) => !placed[j])) continue;
      const [expected, state] = execute(values.get(op.input.key) ?? null, op.input);
      if (!isUnknown(op) && expected !== op.output) continue;
      placed[i] = true;
      const found = search(new Map(values).set(op.input.key, state), knownPlaced + (isUnknown(op) ? 0 : 1));
      placed[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search(new Map(), 0);
}

/** Changes one operation's output into another plausible one. */
export function mutateOutput(rng: Rng, history: readonly KvOp[], values: readonly string[]): KvOp[] {
  const known = history.flatMap((op, i) => (isUnknown(op) ? [] : [i]));
  if (known.length === 0) return [...history];
  const index = rng.pick(known);
  const op = history[index]!;
  const output = op.output;
  let changed: KvOutput;
  if (typeof output === "number") changed = output + rng.pick([-2, -1, 1, 2]);
  else if (output === "OK") changed = null;
  else if (output === null && op.input.op === "set" && op.input.get !== true) changed = "OK";
  else changed = rng.pick([null, ...values.filter((v) => v !== output)]);
  const mutated = [...history];
  mutated[index] = { ...op, output: changed };
  return mutated;
}
