// The CI-sized part of the Figure 8 seed sweep (`npm run sim:sweep`, whose
// numbers are in docs/SIMULATION.md): a few seeds of the sweep, each with a
// budget in runs (twice what it took when measured), so the test does not
// depend on the machine's speed. The seeds are those the sweep found
// soonest, to keep npm test short; the sweep itself is the measure. Each
// find is shrunk and must be told, like a zoo find, in at most MAX_STORY items.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_FAULTS } from "../../src/sim/plan.js";
import { runPlan } from "../../src/sim/run.js";
import { search } from "../../src/sim/search.js";
import { shrink } from "../../src/sim/shrink.js";
import { renderStory, story } from "../../src/sim/story.js";
import { findBug } from "../../src/sim/zoo.js";
import { MAX_STORY } from "./zoo-support.js";

const CASES: { bug: string; seed: number; measured: number }[] = [
  { bug: "figure8-paper", seed: 3, measured: 30 },
  { bug: "figure8-paper", seed: 1, measured: 133 },
  { bug: "figure8", seed: 6, measured: 435 },
];

describe("the Figure 8 sweep, CI-sized", () => {
  for (const c of CASES) {
    test(`${c.bug}, seed ${c.seed}: found breaking Leader Completeness within ${2 * c.measured} runs, told in <= ${MAX_STORY} items`, () => {
      const bug = findBug(c.bug)!;
      const res = search({ seed: c.seed, nodes: [3, 5], steps: 1000, faults: new Set(DEFAULT_FAULTS), bug, budgetMs: Infinity, maxRuns: 2 * c.measured, now: () => performance.now() });
      assert.equal(res.found?.violation?.invariant, "Leader Completeness", `not found in ${res.runs} runs`);
      const s = shrink(res.found!, { bug, maxTrials: 1000 });
      const again = runPlan(s.result.plan, { bug, trace: true, ...(s.until !== null ? { until: s.until } : {}) });
      assert.equal(again.violation?.invariant, "Leader Completeness", "the shrunk plan replays to the same violation");
      const told = story(again.trace, again.violation!);
      assert.ok(told.length <= MAX_STORY, `a story of ${told.length} items:\n${renderStory(told).join("\n")}`);
      console.log(`${c.bug} seed ${c.seed}: ${res.runs} runs (measured ${c.measured}), a story of ${told.length} items`);
    });
  }
});
