// One catalogue of invariants for the random mode, the exhaustive mode, the
// bug zoo and the docs (src/sim/invariant-catalogue.ts). The compiler holds
// the random mode's and the zoo's names to it (Violation.invariant and
// Bug.breaks are typed by it); this test holds the rest.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { INVARIANTS, TRANSITION_CHECKS } from "../../src/sim/exhaustive-invariants.js";
import { EXHAUSTIVE_INVARIANTS, INVARIANT_CATALOGUE, RANDOM_INVARIANTS } from "../../src/sim/invariant-catalogue.js";
import { BUGS } from "../../src/sim/zoo.js";

const DOC = readFileSync(fileURLToPath(new URL("../../../docs/SIMULATION.md", import.meta.url)), "utf8");

describe("the invariant catalogue", () => {
  test("one name each, a paper section and a description each, and every entry checked by some mode", () => {
    const names = INVARIANT_CATALOGUE.map((i) => i.name);
    assert.equal(new Set(names).size, names.length);
    for (const i of INVARIANT_CATALOGUE) {
      assert.ok(i.paper.length > 0 && i.description.length > 0, i.name);
      assert.ok(i.random !== null || i.exhaustive !== null, `${i.name} is checked by neither mode`);
    }
  });

  test("the exhaustive mode checks exactly the catalogue's exhaustive invariants, under their names", () => {
    const checked = new Set([...INVARIANTS, ...TRANSITION_CHECKS].map((c) => c.name));
    assert.deepEqual([...checked].sort(), [...EXHAUSTIVE_INVARIANTS].sort());
  });

  test("both modes share the names of the properties both check", () => {
    const both = RANDOM_INVARIANTS.filter((n) => (EXHAUSTIVE_INVARIANTS as readonly string[]).includes(n));
    assert.deepEqual(both, ["Election Safety", "Log Matching", "Leader Completeness", "State Machine Safety", "Committed is forever", "Monotonic indexes"]);
  });

  test("every zoo variant is pinned to invariants the random mode checks", () => {
    for (const b of BUGS) for (const i of [...b.breaks, ...Object.keys(b.sideEffects ?? {})]) assert.ok((RANDOM_INVARIANTS as readonly string[]).includes(i), `${b.name}: ${i}`);
  });

  test("docs/SIMULATION.md's table lists the catalogue, in its order", () => {
    const start = DOC.indexOf("## The invariants");
    const rows = [...DOC.slice(start, DOC.indexOf("\n## ", start + 1)).matchAll(/^\| ([A-Z][A-Za-z ]+?) \(/gm)].map((m) => m[1]);
    assert.deepEqual(rows, INVARIANT_CATALOGUE.map((i) => i.name));
  });
});
