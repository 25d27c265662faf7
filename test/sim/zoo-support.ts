// Each bug-zoo variant must be found by the search alone — no scenario is
// written for any of them. The search is deterministic for a given seed, so
// these tests bound it in RUNS, not seconds: no flakiness on a slow machine.

import { test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_FAULTS, FAULTS } from "../../src/sim/plan.js";
import { search } from "../../src/sim/search.js";
import { shrink } from "../../src/sim/shrink.js";
import { findBug } from "../../src/sim/zoo.js";

/** `breaks`: the invariants the bug may be found breaking; any other is a failure (a bug in the variant or the simulator). */
export function zooTest(name: string, maxRuns: number, breaks?: readonly string[]): void {
  test(`the search finds bug '${name}' and shrinks it`, () => {
    const bug = findBug(name);
    assert.ok(bug, `bug ${name} exists`);
    const t0 = performance.now();
    const res = search({ seed: 1, nodes: [3, 5], steps: 1000, faults: new Set(bug.storage ? FAULTS : DEFAULT_FAULTS), bug, budgetMs: Infinity, maxRuns, now: () => performance.now() });
    assert.ok(res.found?.violation, `${name} not found in ${res.runs} runs`);
    if (breaks) assert.ok(breaks.includes(res.found.violation.invariant), `${name} was expected to break ${breaks.join(" or ")}, it broke ${res.found.violation.invariant}: ${res.found.violation.message}`);
    const s = shrink(res.found, { bug, maxTrials: 300 });
    assert.equal(s.result.violation?.invariant, res.found.violation.invariant);
    console.log(`${name}: ${res.found.violation.invariant} after ${res.runs} runs, ${((performance.now() - t0) / 1000).toFixed(1)} s; shrunk to ${s.result.plan.events.length} of ${s.eventsBefore} events`);
  });
}
