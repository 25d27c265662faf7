// Runs the two search strategies of one partition side by side, a slice of
// steps each in turn, within the budget of the whole check. Both are
// complete, so the first answer is the answer: the greedy search usually
// finds a linearization first, the thorough one a violation (search.ts).
// The price is at most twice the steps of the better one.

import type { Model, Operation } from "./model.js";
import { searchPartition, type SearchOutcome } from "./search.js";

/** Shared by all partitions of one check; `used` counts the steps taken so far. */
export interface Budget {
  readonly maxSteps: number;
  /** In the units of `now`. */
  readonly deadline: number;
  readonly now: () => number;
  used: number;
}

export type PartitionVerdict<S> = SearchOutcome<S> | { readonly kind: "out of budget"; readonly reason: "timeout" | "steps" };

/** Steps per turn: the clock is read once a turn, so a turn should take about a millisecond. */
const SLICE = 1024;

export function checkPartition<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  budget: Budget,
): PartitionVerdict<S> {
  const searches = [searchPartition(model, ops, "greedy"), searchPartition(model, ops, "thorough")];
  const taken = [0, 0];
  for (const search of searches) {
    const started = search.next();
    if (started.done === true) return started.value;
  }
  for (let turn = 0; ; turn = 1 - turn) {
    const left = budget.maxSteps - budget.used;
    if (left <= 0) return { kind: "out of budget", reason: "steps" };
    if (budget.now() >= budget.deadline) return { kind: "out of budget", reason: "timeout" };
    const ran = searches[turn]!.next(Math.min(SLICE, left));
    const steps = ran.done === true ? ran.value.steps : ran.value;
    budget.used += steps - taken[turn]!;
    taken[turn] = steps;
    if (ran.done === true) return ran.value;
  }
}
