// One simulated run, start to finish: play the plan, check the invariants at
// every step, then check the clients' history for linearizability.

import { checkLinearizability, kvModel } from "../check/linearizability.js";
import { generatePlan, type SimPlan, type PlanOptions } from "./plan.js";
import { World, type RunStats, type Violation } from "./world.js";
import type { SimEvent } from "./trace.js";
import type { Bug } from "./zoo.js";

export interface RunResult {
  readonly plan: SimPlan;
  readonly violation: Violation | null;
  readonly stats: RunStats;
  /** The run's events (empty unless traced). */
  readonly trace: readonly SimEvent[];
  /** The linearizability check ran out of its step budget: neither a pass nor a violation (never counted as a pass). */
  readonly undecided: string | null;
}

/**
 * The linearizability check's budget, in search steps — not milliseconds, so
 * one seed gives one verdict on any machine. The longest check of 300 runs
 * at the default plan size took 93,759 steps (about 40 ms).
 */
export const LINEARIZABILITY_STEPS = 20_000_000;

export interface RunOptions {
  readonly bug?: Bug | undefined;
  readonly trace?: boolean;
  /** Stop at this tick (no healing period, no liveness check); the shrinker uses it. */
  readonly until?: number;
  readonly onTick?: (w: World) => void;
  /** The linearizability check's budget in steps; default LINEARIZABILITY_STEPS. */
  readonly linearizabilitySteps?: number;
}

export function runPlan(plan: SimPlan, o: RunOptions = {}): RunResult {
  const world = new World({ plan, ...(o.bug ? { bug: o.bug } : {}), trace: o.trace ?? false });
  if (o.onTick) world.onTick = o.onTick;
  world.run(o.until);
  let violation = world.violation;
  let undecided: string | null = null;
  if (!violation) {
    const lin = checkLinearizability(kvModel, world.history, { timeoutMs: Infinity, maxSteps: o.linearizabilitySteps ?? LINEARIZABILITY_STEPS });
    if (lin.ok === false) violation = { invariant: "Linearizability", message: lin.explanation, at: world.now };
    if (lin.ok === "unknown") undecided = lin.message;
  }
  return { plan, violation, stats: world.stats, trace: world.trace, undecided };
}

export function runSeed(options: PlanOptions, o: RunOptions = {}): RunResult {
  return runPlan(generatePlan(options), o);
}
