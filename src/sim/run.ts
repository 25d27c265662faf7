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

export function runPlan(plan: Plan, bug?: Bug, trace = false): RunResult {
  const world = new World({ plan, ...(bug ? { bug } : {}), trace });
  world.run();
  let violation = world.violation;
  if (!violation) {
    const lin = checkLinearizability(kvModel, world.history, { timeoutMs: 10_000 });
    if (lin.ok === false) violation = { invariant: "Linearizability", message: lin.explanation, at: world.now };
  }
  return { plan, violation, stats: world.stats, trace: world.trace };
}

export function runSeed(options: PlanOptions, bug?: Bug, trace = false): RunResult {
  return runPlan(generatePlan(options), bug, trace);
}
