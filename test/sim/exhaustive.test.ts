import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { exhaustive, type ExhaustiveOptions } from "../../src/sim/exhaustive.js";
import { findBug, type Bug } from "../../src/sim/zoo.js";

function bug(name: string): Bug {
  const b = findBug(name);
  assert.ok(b, `no bug named ${name} in the zoo`);
  return b;
}

/** The smallest bounds that still hold an election, a commit, crashes and restarts. */
const SMALL: ExhaustiveOptions = { nodes: 3, maxTerm: 1, maxEntries: 0, maxStates: 1_000_000 };

describe("exhaustive mode on the real core", () => {
  test("explores every state of a small configuration and finds no violation", () => {
    const r = exhaustive(SMALL);
    assert.equal(r.violation, false, r.report);
    assert.equal(r.complete, true, r.report);
    assert.ok(r.statesExplored > 50_000, `only ${r.statesExplored} states`);
    assert.ok(r.transitions > r.statesExplored);
    assert.match(r.report, /complete: every state within these bounds was explored/);
    assert.match(r.report, /no violation of: Election Safety, .*Monotonic terms/);
  });

  test("stops at maxStates and says the exploration is incomplete", () => {
    const r = exhaustive({ ...SMALL, maxStates: 2_000 });
    assert.equal(r.complete, false);
    assert.equal(r.statesExplored, 2_000);
    assert.match(r.report, /INCOMPLETE: stopped at 2000 states/);
  });

  test("is deterministic: two runs explore the same states and transitions", () => {
    const a = exhaustive({ ...SMALL, maxStates: 20_000 });
    const b = exhaustive({ ...SMALL, maxStates: 20_000 });
    assert.equal(a.statesExplored, b.statesExplored);
    assert.equal(a.transitions, b.transitions);
    assert.equal(a.depth, b.depth);
  });

  test("symmetry reduction merges renamings of a state without changing the outcome", () => {
    const bounds: ExhaustiveOptions = { ...SMALL, restarts: false };
    const reduced = exhaustive(bounds);
    const full = exhaustive({ ...bounds, symmetry: false });
    assert.equal(reduced.complete && full.complete, true);
    assert.equal(reduced.violation || full.violation, false);
    // Three interchangeable servers: almost every class has 3! = 6 members.
    assert.ok(full.statesExplored > 5 * reduced.statesExplored, `${full.statesExplored} vs ${reduced.statesExplored}`);
    assert.equal(full.depth, reduced.depth);
  });
});

describe("exhaustive mode finds the bug-zoo variants", () => {
  const cases: { name: string; bounds: Partial<ExhaustiveOptions>; invariant: string }[] = [
    { name: "double-vote", bounds: { maxTerm: 1 }, invariant: "Election Safety" },
    { name: "vote-not-persisted", bounds: { maxTerm: 1 }, invariant: "Election Safety" },
    { name: "truncate-matching", bounds: { maxTerm: 1, maxEntries: 1 }, invariant: "commitIndex <= lastIndex" },
    { name: "keep-leadership", bounds: { maxTerm: 2, maxEntries: 0 }, invariant: "Election Safety" },
    { name: "commit-past-last-new", bounds: { maxTerm: 2, maxEntries: 0 }, invariant: "commitIndex <= lastIndex" },
    { name: "no-up-to-date-check", bounds: { maxTerm: 2, maxEntries: 0 }, invariant: "Leader Completeness" },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.invariant}`, () => {
      const r = exhaustive({ ...SMALL, ...c.bounds, bug: bug(c.name) });
      assert.equal(r.violation, true, r.report);
      assert.equal(r.invariant, c.invariant, r.report);
      assert.match(r.report, new RegExp(`bug ${c.name}`));
      assert.match(r.report, new RegExp(`VIOLATION of ${c.invariant}: `));
      // One line per event, numbered, after the initial state's line.
      const steps = r.report.split("\n").filter((line) => /^ *\d+\. /.test(line));
      assert.equal(steps.length, r.pathLength! + 1, r.report);
    });
  }

  test("a path reads as events, each followed by the servers it changed", () => {
    const r = exhaustive({ ...SMALL, bug: bug("double-vote") });
    const lines = r.report.split("\n");
    const path = lines.slice(lines.findIndex((l) => l.startsWith("path (")) + 1);
    assert.match(path[0]!, /^ +0\. every server is a follower of term 0 with an empty log$/);
    assert.ok(path.some((l) => /^ +\d+\. n\d times out$/.test(l)), r.report);
    assert.ok(path.some((l) => /^ +\d+\. deliver n\d -> n\d RequestVote\(term 1, last 0@0\)$/.test(l)), r.report);
    assert.ok(path.some((l) => /^ {8}n\d: leader, term 1, log 1@1, commit 0$/.test(l)), r.report);
  });

  test("shortest paths: with and without symmetry reduction the violation is as many events away", () => {
    const reduced = exhaustive({ ...SMALL, bug: bug("double-vote") });
    const full = exhaustive({ ...SMALL, bug: bug("double-vote"), symmetry: false });
    assert.equal(reduced.invariant, full.invariant);
    assert.equal(reduced.pathLength, full.pathLength);
  });
});
