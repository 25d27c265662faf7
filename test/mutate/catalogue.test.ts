// `npm run mutate` (bench/mutate.ts) refuses a mutation whose text is not
// found exactly once in the compiled core; this checks the whole catalogue
// in npm test, so a change to src/core that moves a mutated piece of code
// fails here at once instead of when someone next runs the mutation score.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MUTATIONS } from "../../bench/mutations.js";

const CORE = fileURLToPath(new URL("../../src/core/", import.meta.url));

test("every mutation of the catalogue applies to the compiled core exactly once", () => {
  const files = readdirSync(CORE).filter((f) => f.endsWith(".js"));
  const texts = files.map((f) => readFileSync(CORE + f, "utf8"));
  assert.ok(MUTATIONS.length >= 25, `${MUTATIONS.length} mutations`);
  assert.equal(new Set(MUTATIONS.map((m) => m.id)).size, MUTATIONS.length, "ids are unique");
  const wrong = MUTATIONS.flatMap((m) => {
    const n = texts.reduce((sum, t) => sum + t.split(m.find).length - 1, 0);
    return n === 1 ? [] : [`${m.id}: found ${n} times`];
  });
  assert.deepEqual(wrong, []);
});
