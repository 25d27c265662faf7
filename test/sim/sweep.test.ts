// The CI-sized part of the Figure 8 seed sweep (`npm run sim:sweep`, whose
// numbers are in docs/SIMULATION.md): a few seeds of the sweep, each with a
// budget in runs (twice what it took when measured), so the test does not
// depend on the machine's speed. The seeds are those the sweep found
// soonest, to keep npm test short; the sweep itself is the measure.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_FAULTS } from "../../src/sim/plan.js";
import { search } from "../../src/sim/search.js";
import { findBug } from "../../src/sim/zoo.js";

const CASES: { bug: string; seed: number; measured: number }[] = [
  { bug: "figure8-paper", seed: 7, measured: 134 },
  { bug: "figure8-paper", seed: 6, measured: 171 },
  { bug: "figure8", seed: 2, measured: 435 },
];

describe("the Figure 8 sweep, CI-sized", () => {
  for (const c of CASES) {
    test(`${c.bug}, seed ${c.seed}: found breaking Leader Completeness within ${2 * c.measured} runs`, () => {
      const bug = findBug(c.bug)!;
      const res = search({ seed: c.seed, nodes: [3, 5], steps: 1000, faults: new Set(DEFAULT_FAULTS), bug, budgetMs: Infinity, maxRuns: 2 * c.measured, now: () => performance.now() });
      assert.equal(res.found?.violation?.invariant, "Leader Completeness", `not found in ${res.runs} runs`);
      console.log(`${c.bug} seed ${c.seed}: ${res.runs} runs (measured ${c.measured})`);
    });
  }
});
