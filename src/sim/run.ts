// One simulated run, start to finish: play the plan, check the invariants at
// every step, then check the clients' history for linearizability.

import { checkLinearizability, kvModel } from "../check/linearizability.js";
import { generatePlan, type Plan, type PlanOptions } from "./plan.js";
import { World, type RunStats, type Violation } from "./world.js";
import type { Bug } from "./zoo.js";

export interface RunResult {
  readonly plan: Plan;
  readonly violation: Violation | null;
  readonly stats: RunStats;
  readonly trace: readonly string[];
}

export interface RunOptions {
  readonly bug?: Bug | undefined;
  readonly trace?: boolean;
  /** Stop at this tick (no healing period, no liveness check); the shrinker uses it. */
  readonly until?: number;
  readonly onTick?: (w: World) => void;
}

export function runPlan(plan: Plan, o: RunOptions = {}): RunResult {
  const world = new World({ plan, ...(o.bug ? { bug: o.bug } : {}), trace: o.trace ?? false });
  if (o.onTick) world.onTick = o.onTick;
  world.run(o.until);
  let violation = world.violation;
  if (!violation) {
    const lin = checkLinearizability(kvModel, world.history, { timeoutMs: 10_000 });
    if (lin.ok === false) violation = { invariant: "Linearizability", message: lin.explanation, at: world.now };
  }
  return { plan, violation, stats: world.stats, trace: world.trace };
}

export function runSeed(options: PlanOptions, o: RunOptions = {}): RunResult {
  return runPlan(generatePlan(options), o);
}
