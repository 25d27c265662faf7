// Shrinking a failing run to a short schedule that still fails, so that a
// person can read it: cut the run off at the violation, then delete plan
// events (faults and client operations) in ever smaller chunks, keeping
// every deletion after which the same invariant still breaks (delta
// debugging). Removing a "network" event restores a perfect network;
// removing a crash storm stops its random crashes.

import type { Plan } from "./plan.js";
import { runPlan, type RunResult } from "./run.js";
import type { Bug } from "./zoo.js";

export interface ShrinkOptions {
  readonly bug?: Bug | undefined;
  /** Give up improving after this many trial runs. */
  readonly maxTrials?: number;
}

export interface Shrunk {
  readonly result: RunResult;
  /** Stop the replay at this tick (the violation's tick + 1), or null for a whole run (liveness). */
  readonly until: number | null;
  readonly trials: number;
  readonly eventsBefore: number;
}

export function shrink(failing: RunResult, o: ShrinkOptions = {}): Shrunk {
  const target = failing.violation!;
  const maxTrials = o.maxTrials ?? 2000;
  let trials = 0;
  // Liveness needs the healing period, so it keeps the run's full length.
  const timed = target.invariant !== "Liveness";
  let best = failing;
  let until: number | null = timed ? target.at + 1 : null;
  let events: Plan["events"] = failing.plan.events.filter((e) => !timed || e.at <= target.at);

  const attempt = (candidate: Plan["events"]): boolean => {
    trials++;
    const plan: Plan = { ...failing.plan, events: candidate };
    const r = runPlan(plan, { bug: o.bug, ...(until !== null ? { until } : {}) });
    if (r.violation?.invariant !== target.invariant) return false;
    best = r;
    events = candidate;
    if (until !== null) until = r.violation.at + 1;
    return true;
  };

  // The first attempt only truncates; it must reproduce.
  if (!attempt(events)) return { result: failing, until: null, trials, eventsBefore: failing.plan.events.length };
  for (let chunk = Math.max(1, events.length >> 1); chunk >= 1 && trials < maxTrials; chunk >>= 1) {
    let i = 0;
    while (i < events.length && trials < maxTrials) {
      const candidate = [...events.slice(0, i), ...events.slice(i + chunk)];
      if (!attempt(candidate)) i += chunk;
    }
  }
  return { result: best, until, trials, eventsBefore: failing.plan.events.length };
}
