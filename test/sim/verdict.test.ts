// Pinned verdicts: a bug-zoo variant is "found" only by a violation of the
// invariant it is pinned to. The audit that asked for this found
// figure8-paper "found" through a Liveness failure (then seed 1575; now
// seed 3519 with the faults duplicate, partition, crash, torn: a plain run,
// 3 nodes).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DEFAULT_FAULTS, generatePlan, type Fault } from "../../src/sim/plan.js";
import { runPlan } from "../../src/sim/run.js";
import { search } from "../../src/sim/search.js";
import { BUGS, SIM_INVARIANTS, findBug, verdict, type Bug } from "../../src/sim/zoo.js";

const LIVENESS_FAULTS: Fault[] = ["duplicate", "partition", "crash", "torn"];
const BIN = fileURLToPath(new URL("../../../bin/raftkv.js", import.meta.url));
const SRC = (f: string) => readFileSync(fileURLToPath(new URL(`../../../src/sim/${f}`, import.meta.url)), "utf8");

describe("pinned verdicts", () => {
  test("SIM_INVARIANTS names exactly what the simulator can report", () => {
    const reported = new Set<string>();
    for (const f of ["invariants.ts", "world.ts", "run.ts"]) for (const m of SRC(f).matchAll(/(?:fail\(|invariant: )"([A-Z][A-Za-z ]+)"/g)) reported.add(m[1]!);
    assert.deepEqual([...reported].sort(), [...SIM_INVARIANTS].sort());
  });

  test("every variant is pinned to at least one invariant, and a side effect is never also pinned", () => {
    for (const b of BUGS) {
      assert.ok(b.breaks.length > 0, b.name);
      for (const i of b.breaks) assert.ok((SIM_INVARIANTS as readonly string[]).includes(i), `${b.name}: ${i}`);
      for (const i of Object.keys(b.sideEffects ?? {})) assert.ok(!(b.breaks as readonly string[]).includes(i), `${b.name}: ${i} is both`);
    }
  });

  test("figure8-paper's Liveness failure on seed 3519 is a side effect, not a find", () => {
    const bug = findBug("figure8-paper")!;
    const r = runPlan(generatePlan({ seed: 3519, nodes: 3, steps: 1000, faults: new Set(LIVENESS_FAULTS) }), { bug });
    assert.equal(r.violation?.invariant, "Liveness");
    assert.equal(verdict(bug, "Liveness"), "side effect");
    assert.equal(verdict(bug, "Leader Completeness"), "pinned");
    assert.equal(verdict(bug, "Election Safety"), "unexpected");
  });

  test("a variant whose violations are all of another invariant is not found; they are reported as others", () => {
    const real = findBug("double-vote")!;
    const mispinned: Bug = { ...real, name: "double-vote-mispinned", breaks: ["Linearizability"] };
    const res = search({ seed: 1, nodes: [3], steps: 1000, faults: new Set(DEFAULT_FAULTS), bug: mispinned, budgetMs: Infinity, maxRuns: 40, now: () => 0 });
    assert.equal(res.found, null, "an Election Safety violation does not find a bug pinned to Linearizability");
    assert.equal(res.runs, 40, "the search goes on past violations of other invariants");
    const es = res.others.get("Election Safety");
    assert.ok(es && es.count > 0 && es.first.violation?.invariant === "Election Safety");
    // The same search with the true pin stops at the first of those runs.
    const right = search({ seed: 1, nodes: [3], steps: 1000, faults: new Set(DEFAULT_FAULTS), bug: real, budgetMs: Infinity, maxRuns: 40, now: () => 0 });
    assert.equal(right.found?.violation?.invariant, "Election Safety");
    assert.equal(right.others.size, 0);
  });

  test("raftkv sim --seeds with a bug says when a violation is not the pinned one", () => {
    const r = spawnSync(process.execPath, [BIN, "sim", "--seeds", "1", "--seed", "3519", "--nodes", "3", "--faults", LIVENESS_FAULTS.join(","), "--bug", "figure8-paper"], { encoding: "utf8" });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /VIOLATION of Liveness/);
    assert.match(r.stdout, /NOT the invariant figure8-paper is pinned to break \(Leader Completeness\): a known side effect/);
  });

  test("raftkv sim --list-bugs shows each variant's pinned invariant", () => {
    const r = spawnSync(process.execPath, [BIN, "sim", "--list-bugs"], { encoding: "utf8" });
    for (const b of BUGS) assert.ok(r.stdout.includes(`[breaks ${b.breaks.join(" or ")}]`), b.name);
  });
});
