// The vocabulary shared by the checker and its models: operations, histories
// and the model interface. See linearizability.ts for the whole API.

/**
 * The output passed to `Model.step` for an operation whose outcome nobody
 * saw (the client timed out or crashed). The model must not check it; it
 * only applies the operation's effect.
 */
export const UNKNOWN: unique symbol = Symbol("unknown output");
export type Unknown = typeof UNKNOWN;

/** One client operation as the client saw it: what it sent, what came back, and when. */
export interface Operation<I, O> {
  readonly clientId: number | string;
  readonly input: I;
  /** What the client received. Not read when the outcome is unknown. */
  readonly output?: O;
  /** When the client sent the request, on any monotonic clock. */
  readonly call: number;
  /** When the client received the reply; `Infinity` when it never did. */
  readonly return: number;
  /** The outcome is unknown (timeout, lost connection, crash) even if `return` is finite. */
  readonly unknown?: boolean;
}

/**
 * True when the operation may or may not have taken effect, at any time
 * after its call: a timed-out client's command can still commit later, so a
 * finite `return` on such an operation bounds nothing.
 */
export function isUnknown(op: Operation<unknown, unknown>): boolean {
  return op.unknown === true || op.return === Infinity;
}

export interface StepResult<S> {
  /** Whether the operation, applied to the state, could have returned the output. */
  readonly ok: boolean;
  /** The state after the operation; read only when `ok`. */
  readonly state: S;
}

/** A sub-history that can be checked on its own (P-compositionality, e.g. one key). */
export interface Partition<I, O> {
  readonly key: string;
  readonly operations: readonly Operation<I, O>[];
}

/** A sequential specification of the object under test. */
export interface Model<S, I, O> {
  init(): S;
  /**
   * Applies `input` to `state`. With a real `output`, `ok` says whether a
   * sequential object could have produced it; with `UNKNOWN`, the output is
   * not checked. Must not mutate `state`: the checker keeps old states to
   * backtrack to.
   */
  step(state: S, input: I, output: O | Unknown): StepResult<S>;
  equal(a: S, b: S): boolean;
  /** A 32-bit hash consistent with `equal`; without it, states are told apart by `equal` alone. */
  hash?(state: S): number;
  /** Splits a history into independent sub-histories; without it, the whole history is one. */
  partition?(history: readonly Operation<I, O>[]): Partition<I, O>[];
  /** One line for messages, e.g. `set k "v" -> OK`. */
  describe(input: I, output: O | Unknown): string;
  /** One line for messages, e.g. `"v"`; without it, states are not shown. */
  describeState?(state: S): string;
}
