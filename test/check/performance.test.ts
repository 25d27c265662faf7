// Sanity, not a benchmark: long histories must check quickly. The time is
// printed, never asserted (the machine is shared).

import assert from "node:assert/strict";
import { test } from "node:test";
import { checkLinearizability, kvModel } from "../../src/check/linearizability.js";
import { generateLinearizable, Rng } from "./support.js";

const shape = {
  clients: 5,
  opsPerClient: 400,
  keys: ["a", "b", "c", "d"],
  values: ["1", "2", "3", "x", "y"],
  maxGap: 10,
};

test("2000 operations on 4 keys, 5 clients at once", (t) => {
  const history = generateLinearizable(new Rng(42), { ...shape, unknownRate: 0 });
  const start = performance.now();
  const result = checkLinearizability(kvModel, history);
  t.diagnostic(`${history.length} operations checked in ${(performance.now() - start).toFixed(1)} ms, ${result.steps} steps`);
  assert.equal(result.ok, true);
});

test("the same with 2% of outcomes unknown", (t) => {
  const history = generateLinearizable(new Rng(43), { ...shape, unknownRate: 0.02 });
  const start = performance.now();
  const result = checkLinearizability(kvModel, history);
  t.diagnostic(`${history.length} operations checked in ${(performance.now() - start).toFixed(1)} ms, ${result.steps} steps`);
  assert.equal(result.ok, true);
});
