// Turns a failed search into something a person can act on: how far the
// search got, which operation could not take effect, and why each candidate
// at that point failed.

import { isUnknown, UNKNOWN, type Model, type Operation } from "./model.js";

export interface Candidate<I, O> {
  readonly operation: Operation<I, O>;
  /**
   * "rejected": the model refuses it in the state after the prefix (e.g. a
   * read of the wrong value). "dead end": it fits there, but no order of the
   * remaining operations works after it.
   */
  readonly verdict: "rejected" | "dead end";
}

export interface Explanation<I, O> {
  /** The longest prefix of a linearization the search found, in order. */
  readonly prefix: Operation<I, O>[];
  /** An operation that returned but cannot take effect after `prefix`. */
  readonly blocked: Operation<I, O>;
  /** Every operation that could have come next after `prefix` (`blocked` among them). */
  readonly candidates: Candidate<I, O>[];
  readonly text: string;
}

/** Prefixes longer than this show only their end: the trouble is near where the search stopped. */
const PREFIX_LINES = 12;

export function explainViolation<S, I, O>(
  model: Model<S, I, O>,
  partition: string,
  ops: readonly Operation<I, O>[],
  prefixIds: readonly number[],
  blockedId: number,
  state: S,
): Explanation<I, O> {
  const prefix = prefixIds.map((id) => ops[id]!);
  const blocked = ops[blockedId]!;
  const taken = new Set(prefixIds);
  const candidates: Candidate<I, O>[] = [];
  for (let id = 0; id < ops.length; id++) {
    const op = ops[id]!;
    // Same rule as the search: an operation called no later than `blocked` returned could go next.
    if (taken.has(id) || op.call > blocked.return) continue;
    const ok = model.step(state, op.input, isUnknown(op) ? UNKNOWN : (op.output as O)).ok;
    candidates.push({ operation: op, verdict: ok ? "dead end" : "rejected" });
  }

  const describeState = (s: S): string => (model.describeState === undefined ? "" : model.describeState(s));
  const lines = [`partition ${JSON.stringify(partition)} is not linearizable (${ops.length} operations).`];
  if (prefix.length > 0) {
    lines.push(`Longest linearizable prefix found: ${prefix.length} operations, in order (=> the state after each):`);
    const shown = prefix.length > PREFIX_LINES ? PREFIX_LINES - 2 : prefix.length;
    if (shown < prefix.length) lines.push(`  ... ${prefix.length - shown} earlier operations`);
    const numberWidth = String(prefix.length).length;
    let s = model.init();
    const rows: [string, string][] = [];
    prefix.forEach((op, i) => {
      s = model.step(s, op.input, isUnknown(op) ? UNKNOWN : (op.output as O)).state;
      if (i >= prefix.length - shown) {
        rows.push([`${String(i + 1).padStart(numberWidth)}. ${describeOperation(model, op)}`, describeState(s)]);
      }
    });
    lines.push(...table(rows, "=> "));
  }
  const stateNote = model.describeState === undefined ? "" : ` (state ${model.describeState(state)})`;
  lines.push(
    prefix.length > 0
      ? `Then this operation must take effect, since it returned, but cannot${stateNote}:`
      : `This operation must take effect first, since it returned first, but cannot${stateNote}:`,
  );
  lines.push(`  ${describeOperation(model, blocked)}`);
  lines.push("since every operation that could come next fails:");
  lines.push(
    ...table(
      candidates.map((c) => [
        describeOperation(model, c.operation),
        c.verdict === "rejected" ? "rejected by the model here" : "fits here, but no order of the rest works after it",
      ]),
      "",
    ),
  );
  return { prefix, blocked, candidates, text: lines.join("\n") };
}

/** `client 2 [10, 15] get x -> "a"`; an unknown outcome shows as `[10, ?]`. */
export function describeOperation<S, I, O>(model: Model<S, I, O>, op: Operation<I, O>): string {
  const unknown = isUnknown(op);
  const span = `[${formatTime(op.call)}, ${unknown ? "?" : formatTime(op.return)}]`;
  return `client ${op.clientId} ${span} ${model.describe(op.input, unknown ? UNKNOWN : (op.output as O))}`;
}

function formatTime(t: number): string {
  return Number.isInteger(t) ? String(t) : t.toFixed(3);
}

function table(rows: readonly (readonly [string, string])[], marker: string): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => (right === "" ? `  ${left}` : `  ${left.padEnd(width)}  ${marker}${right}`));
}
