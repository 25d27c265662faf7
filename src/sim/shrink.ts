// Shrinking a failing run to a short schedule that still fails, so that a
// person can read it. In turn, each step keeping only changes after which
// the same invariant still breaks:
//   1. cut the run off at the violation (not for Liveness and Recovery,
//      which are judged after the healing period);
//   2. delete plan events — faults and client operations — by delta
//      debugging (halves, then quarters, ... then one at a time). Removing a
//      "network" event restores a perfect network; removing a crash storm
//      stops its random crashes;
//   3. spare the messages the network chose to drop, and the crashes a
//      storm chose, the same way (SimPlan.spare: the run makes the same random
//      draws, so everything else stays as it was as far as possible);
//   4. delete plan events once more: with fewer losses, fewer faults may do.
// A trial is one run of at most the violation's length; `maxTrials` bounds
// the work.

import type { SimPlan } from "./plan.js";
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
  /** Random losses and storm crashes that still happen in the shrunk run, and how many were spared. */
  readonly lossesLeft: number;
  readonly spared: number;
}

/** Invariants judged only after the healing period: their runs keep their full length. */
const UNTIMED = new Set(["Liveness", "Recovery"]);

export function shrink(failing: RunResult, o: ShrinkOptions = {}): Shrunk {
  const target = failing.violation!;
  const maxTrials = o.maxTrials ?? 2000;
  let trials = 0;
  const timed = !UNTIMED.has(target.invariant);
  let best = failing;
  let until: number | null = timed ? target.at + 1 : null;
  let plan: SimPlan = { ...failing.plan, events: failing.plan.events.filter((e) => !timed || e.at <= target.at) };

  const attempt = (candidate: SimPlan): boolean => {
    trials++;
    const r = runPlan(candidate, { bug: o.bug, ...(until !== null ? { until } : {}) });
    if (r.violation?.invariant !== target.invariant) return false;
    best = r;
    plan = candidate;
    if (until !== null) until = r.violation.at + 1;
    return true;
  };
  const done = () => trials >= maxTrials;

  /** Delta debugging over a list: remove chunks of it (halves first) while `test` says the rest still fails. */
  const reduce = <T>(items: readonly T[], test: (kept: readonly T[]) => boolean): void => {
    let list = [...items];
    for (let chunk = Math.max(1, list.length >> 1); chunk >= 1 && !done(); chunk >>= 1) {
      let i = 0;
      while (i < list.length && !done()) {
        const candidate = [...list.slice(0, i), ...list.slice(i + chunk)];
        if (test(candidate)) list = candidate;
        else i += chunk;
      }
    }
  };
  const shrinkEvents = () => reduce(plan.events, (events) => attempt({ ...plan, events }));
  const numbers = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
  /** `kept`: the losses (or crashes) still allowed to happen; the others are spared. */
  const spare = (kind: "drops" | "crashes", count: number) =>
    reduce(numbers(count), (kept) => {
      const spared = new Set(numbers(count).filter((k) => !kept.includes(k)));
      const prev = plan.spare ?? { drops: new Set<number>(), crashes: new Set<number>() };
      return attempt({ ...plan, spare: { ...prev, [kind]: new Set([...prev[kind], ...spared]) } });
    });

  // The first attempt only truncates; it must reproduce.
  if (!attempt(plan)) return { result: failing, until: null, trials, eventsBefore: failing.plan.events.length, lossesLeft: failing.stats.drops + failing.stats.stormCrashes, spared: 0 };
  shrinkEvents();
  // Spared numbers refer to the run as it is now: spare everything not needed, in one set.
  spare("drops", best.stats.drops);
  spare("crashes", best.stats.stormCrashes);
  shrinkEvents();
  return {
    result: best,
    until,
    trials,
    eventsBefore: failing.plan.events.length,
    lossesLeft: best.stats.drops + best.stats.stormCrashes - best.stats.spared,
    spared: best.stats.spared,
  };
}
