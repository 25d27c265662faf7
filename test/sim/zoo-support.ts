// Each bug-zoo variant must be found by the search alone — no scenario is
// written for any of them. The search is deterministic for a given seed, so
// these tests bound it in RUNS, not seconds: no flakiness on a slow machine.
//
// A find counts only when it breaks an invariant the variant is pinned to
// (Bug.breaks); any other violation met on the way must be one of the
// variant's declared side effects, or the test fails: it would be a bug in
// the variant or in the simulator.

import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_FAULTS, FAULTS } from "../../src/sim/plan.js";
import { search } from "../../src/sim/search.js";
import { runPlan } from "../../src/sim/run.js";
import { shrink } from "../../src/sim/shrink.js";
import { renderStory, story } from "../../src/sim/story.js";
import { findBug, verdict } from "../../src/sim/zoo.js";

/** The longest story a zoo find may be told in (docs/SIMULATION.md, "Shrinking and the story"). */
export const MAX_STORY = 30;

export function zooTest(name: string, maxRuns: number, seed = 1): void {
  test(`the search finds bug '${name}' (seed ${seed}) breaking what it is pinned to, and tells it in <= ${MAX_STORY} items`, () => {
    const bug = findBug(name);
    assert.ok(bug, `bug ${name} exists`);
    const t0 = performance.now();
    const res = search({ seed, nodes: [3, 5], steps: 1000, faults: new Set(bug.storage ? FAULTS : DEFAULT_FAULTS), membership: bug.membership ?? false, bug, budgetMs: Infinity, maxRuns, now: () => performance.now() });
    for (const [invariant, o] of res.others)
      assert.equal(verdict(bug, invariant), "side effect", `${name} broke ${invariant}, neither pinned nor a declared side effect: ${o.first.violation!.message}`);
    assert.ok(res.found?.violation, `${name} not found in ${res.runs} runs (other violations: ${[...res.others.keys()].join(", ") || "none"})`);
    assert.equal(verdict(bug, res.found.violation.invariant), "pinned", `${name} is pinned to ${bug.breaks.join(" or ")}, it broke ${res.found.violation.invariant}`);
    const s = shrink(res.found, { bug, maxTrials: 1000 });
    assert.equal(s.result.violation?.invariant, res.found.violation.invariant);
    const again = runPlan(s.result.plan, { bug, trace: true, ...(s.until !== null ? { until: s.until } : {}) });
    assert.equal(again.violation?.invariant, res.found.violation.invariant, "the shrunk plan replays to the same violation");
    const told = story(again.trace, again.violation!);
    assert.ok(told.length <= MAX_STORY, `${name}: a story of ${told.length} items:\n${renderStory(told).join("\n")}`);
    if (again.violation!.invariant !== "Linearizability") {
      const last = told.at(-1);
      assert.ok(last?.kind === "event" && last.event.kind === "violation" && last.event.invariant === again.violation!.invariant, "the story ends with the violation");
    }
    console.log(
      `${name}: ${res.found.violation.invariant} after ${res.runs} runs, ${((performance.now() - t0) / 1000).toFixed(1)} s; shrunk to ${s.result.plan.events.length} of ${s.eventsBefore} events, ` +
        `${s.spared} random losses spared, a story of ${told.length} items` +
        [...res.others].map(([i, o]) => `; ${o.count} side-effect run(s) of ${i}`).join(""),
    );
  });
}
