// A seed's verdict is the same on any machine: the linearizability check of a
// simulated run has a budget in search steps, not in milliseconds, and a run
// whose check runs out of it is reported as undecided, never as a pass.

import assert from "node:assert/strict";
import test from "node:test";
import { DEFAULT_FAULTS } from "../../src/sim/plan.js";
import { LINEARIZABILITY_STEPS, runSeed } from "../../src/sim/run.js";

const options = { seed: 7, nodes: 3, steps: 400, faults: new Set(DEFAULT_FAULTS) };

test("a run whose linearizability check runs out of steps is undecided, not passed", () => {
  const r = runSeed(options, { linearizabilitySteps: 1 });
  assert.equal(r.violation, null);
  assert.ok(r.undecided !== null && /budget of 1 steps/.test(r.undecided), `undecided: ${r.undecided}`);
});

test("with the default step budget the same run is decided, and deciding it takes no clock", () => {
  const saved = performance.now;
  // A clock that runs an hour per call: a time budget would give up at once.
  let fake = 0;
  performance.now = () => (fake += 3_600_000);
  try {
    const r = runSeed(options);
    assert.equal(r.violation, null);
    assert.equal(r.undecided, null);
  } finally {
    performance.now = saved;
  }
  assert.ok(LINEARIZABILITY_STEPS >= 1_000_000);
});
