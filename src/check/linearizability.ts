// Linearizability checking for histories of client operations: the
// simulator's (virtual clock) and the black-box fault tests' (real clients,
// real processes, hrtime).
//
// Example (a fault test):
//
//   const recorder = new HistoryRecorder<KvInput, KvOutput>();
//   const op = recorder.invoke(clientId, { op: "incr", key: "n" });
//   try { op.returned(await client.incr("n")); }
//   catch (err) {
//     if (isNotIntegerReply(err)) op.returned(KV_ERRORS.notInteger); // a reply like any other
//     else if (isMovedOrClusterDown(err)) op.discard();              // certainly not executed
//     else op.unknown();                                             // -TIMEOUT, lost connection
//   }
//   ...
//   const result = checkLinearizability(kvModel, recorder.history(), { timeoutMs: 30_000 });
//   if (result.ok !== true) assert.fail(result.ok === false ? result.explanation : result.message);
//
// API (everything is exported from this file)
//
//   checkLinearizability(model, history, options?) -> CheckResult
//     history: Operation[] = { clientId, input, output?, call, return, unknown? }
//       `call`/`return` are times on any monotonic clock (performance.now,
//       hrtime, virtual ticks). Operations whose intervals overlap, or merely
//       touch, are concurrent: give operations distinct times if one must
//       count as after another (e.g. tick * 1000 + sequence).
//       An operation with `return: Infinity` or `unknown: true` (timeout,
//       lost connection, crashed client) may or may not have taken effect,
//       once, at any time after its call; its output is ignored. An
//       operation that certainly did not execute (refused with MOVED or
//       CLUSTERDOWN) belongs in no history.
//     options: { timeoutMs = 60_000, maxSteps = Infinity, now = performance.now }
//       The budget of the whole check, all partitions together.
//     CheckResult, by `ok`:
//       true       every partition is linearizable.
//       false      partition `partition` is not: `prefix` is the longest
//                  linearizable prefix the search found, `blocked` an
//                  operation that returned but cannot take effect after it,
//                  `candidates` why each possible next operation fails, and
//                  `explanation` all of that as readable text.
//       "unknown"  the budget ran out first. This is NOT a pass. Partitions
//                  are checked smallest first; `checked` of `partitions`
//                  were linearizable; `message` says so in words.
//     Throws HistoryError on a malformed history (a return before its call,
//     a time that is not a number, a completed operation without an output).
//
//   Model<S, I, O> = { init, step, equal, hash?, partition?, describe, describeState? }
//     (model.ts). `step(state, input, output)` returns { ok, state }; for an
//     unknown outcome `output` is UNKNOWN, and step applies the effect
//     without checking it.
//
//   kvModel: Model<KvState, KvInput, KvOutput>, a keyspace of strings,
//     Redis semantics (kv-model.ts). Partitioned by key; an operation on
//     several keys joins their partitions (union-find):
//       { op: "get", key }                          -> value | null
//       { op: "set", key, value, condition?: "NX" | "XX", get?: true }
//                                                   -> "OK" | null, or the old value with get
//       { op: "del", key }                          -> 0 | 1
//       { op: "incr", key }, { op: "incrby", key, by }
//                                                   -> the new value (number | bigint),
//                                                      or KV_ERRORS.notInteger / .overflow
//       { op: "append", key, value }                -> the new length in bytes
//       { op: "mget", keys }                        -> [value | null, ...]
//       { op: "mset", pairs: [[key, value], ...] }  -> "OK"
//       { op: "rename", key, to }                   -> "OK" | KV_ERRORS.noSuchKey
//       { op: "watch", tx, keys }                   -> "OK" (record it only if it returned)
//       { op: "exec", tx?, watch?: keys, ops: [any of the above but watch/exec] }
//                                                   -> [reply, ...], or null: a key
//                                                      watched by WATCH `tx` was
//                                                      written after that WATCH
//   registerModel<V>(initial = null): one register, { op: "write", value } and
//     { op: "read" } -> value, for the simulator (register-model.ts).
//   HistoryRecorder<I, O>(now = performance.now): invoke(clientId, input)
//     -> { returned(output), unknown(), discard() }; history() (history.ts).
//   describeOperation(model, op): one line, as in explanations.
//
// The search is Wing & Gong's with Lowe's memoization, as in Porcupine, plus
// pruning for operations with unknown outcomes (search.ts); a greedy and a
// thorough search run side by side (portfolio.ts). Linearizable histories
// of thousands of operations check in milliseconds; proving a violation can
// take exponential time when many operations have unknown outcomes, hence
// the budget.

import { assertNever } from "../util/assert.js";
import { explainViolation, type Candidate } from "./explain.js";
import { isUnknown, type Model, type Operation } from "./model.js";
import { checkPartition, type Budget } from "./portfolio.js";

export { describeOperation, type Candidate } from "./explain.js";
export { HistoryRecorder, type PendingOperation } from "./history.js";
export {
  keysOf,
  KV_ERRORS,
  kvModel,
  kvState,
  type KvCommand,
  type KvInput,
  type KvMultiKeyCommand,
  type KvOutput,
  type KvQueued,
  type KvState,
  type KvValue,
} from "./kv-model.js";
export { isUnknown, UNKNOWN, type Model, type Operation, type Partition, type StepResult, type Unknown } from "./model.js";
export { registerModel, type RegisterInput, type RegisterOutput } from "./register-model.js";

export interface CheckOptions {
  /** Wall-clock budget in milliseconds, measured with `now`; default 60 000. */
  readonly timeoutMs?: number;
  /** Budget in search steps (one step tries one operation at one point); default unlimited. */
  readonly maxSteps?: number;
  /** Clock for the time budget, in milliseconds; default performance.now. */
  readonly now?: () => number;
}

export interface Linearizable {
  readonly ok: true;
  readonly partitions: number;
  readonly steps: number;
}

export interface NotLinearizable<I, O> {
  readonly ok: false;
  readonly partition: string;
  readonly prefix: readonly Operation<I, O>[];
  readonly blocked: Operation<I, O>;
  readonly candidates: readonly Candidate<I, O>[];
  readonly explanation: string;
  readonly steps: number;
}

/** The budget ran out before an answer: the history is neither passed nor failed. */
export interface Undecided {
  readonly ok: "unknown";
  readonly reason: "timeout" | "steps";
  /** The partition being searched when the budget ran out. */
  readonly partition: string;
  /** Partitions found linearizable before that. */
  readonly checked: number;
  readonly partitions: number;
  readonly steps: number;
  readonly message: string;
}

export type CheckResult<I, O> = Linearizable | NotLinearizable<I, O> | Undecided;

/** The history itself is malformed; `index` is the offending operation's position in it. */
export class HistoryError extends Error {
  constructor(
    readonly index: number,
    problem: string,
  ) {
    super(`history[${index}]: ${problem}`);
    this.name = "HistoryError";
  }
}

const DEFAULT_TIMEOUT_MS = 60_000;

export function checkLinearizability<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckResult<I, O> {
  history.forEach(validate);
  const now = options.now ?? (() => performance.now());
  const budget: Budget = {
    maxSteps: options.maxSteps ?? Infinity,
    deadline: now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    now,
    used: 0,
  };
  const partitions = model.partition === undefined ? [{ key: "all", operations: history }] : model.partition(history);
  // Small partitions first: the most gets decided before a budget runs out.
  const order = [...partitions].sort((a, b) => a.operations.length - b.operations.length);

  for (const [checked, { key, operations }] of order.entries()) {
    const outcome = checkPartition(model, operations, budget);
    switch (outcome.kind) {
      case "linearizable":
        continue;
      case "violation": {
        const why = explainViolation(model, key, operations, outcome.prefix, outcome.blocked, outcome.state);
        return {
          ok: false,
          partition: key,
          prefix: why.prefix,
          blocked: why.blocked,
          candidates: why.candidates,
          explanation: why.text,
          steps: budget.used,
        };
      }
      case "out of budget": {
        const limit = outcome.reason === "timeout" ? `${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms` : `${budget.maxSteps} steps`;
        return {
          ok: "unknown",
          reason: outcome.reason,
          partition: key,
          checked,
          partitions: partitions.length,
          steps: budget.used,
          message:
            `undecided: the budget of ${limit} ran out while searching partition ${JSON.stringify(key)} ` +
            `(${operations.length} operations); ${checked} of ${partitions.length} partitions were linearizable ` +
            `before that. This is not a pass: raise the budget or check a shorter history.`,
        };
      }
      default:
        assertNever(outcome);
    }
  }
  return { ok: true, partitions: partitions.length, steps: budget.used };
}

function validate(op: Operation<unknown, unknown>, index: number): void {
  if (typeof op.call !== "number" || !Number.isFinite(op.call)) {
    throw new HistoryError(index, `call time ${String(op.call)} is not a finite number`);
  }
  if (typeof op.return !== "number" || Number.isNaN(op.return)) {
    throw new HistoryError(index, `return time ${String(op.return)} is not a number (use Infinity for "never returned")`);
  }
  if (op.return < op.call) {
    throw new HistoryError(index, `returned at ${op.return}, before its call at ${op.call}`);
  }
  if (!isUnknown(op) && !("output" in op)) {
    throw new HistoryError(index, "has no output but its outcome is not marked unknown (set `unknown: true` or `return: Infinity`)");
  }
}
