import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { exhaustive, type ExhaustiveOptions } from "../../src/sim/exhaustive.js";
import { clusterModel, type ClusterEvent, type ClusterState } from "../../src/sim/exhaustive-model.js";
import { findBug, type Bug } from "../../src/sim/zoo.js";
import type { ExhaustiveInvariant } from "../../src/sim/invariant-catalogue.js";

function bug(name: string): Bug {
  const b = findBug(name);
  assert.ok(b, `no bug named ${name} in the zoo`);
  return b;
}

/** One term: elections with pre-vote and check-quorum, the no-op committed, every interleaving of it. */
const ONE_TERM: ExhaustiveOptions = { nodes: 3, maxTerm: 1, maxEntries: 0, maxStates: 1_000_000, restarts: false };
/** Two servers, two terms, a client entry and restarts. */
const TWO_SERVERS: ExhaustiveOptions = { nodes: 2, maxTerm: 2, maxEntries: 1, maxStates: 1_000_000 };
/** Elections in one round trip, no leader stepping down on its own: the shortest paths to most bugs. */
const PLAIN: Partial<ExhaustiveOptions> = { preVote: false, checkQuorum: false };

/** The numbered event lines of a report's path, after the initial state's line 0. */
function pathLines(report: string): string[] {
  return report.split("\n").filter((line) => /^ *\d+\. /.test(line));
}

describe("exhaustive mode on the real core", () => {
  test("explores every state of three servers in one term and finds no violation", () => {
    const r = exhaustive(ONE_TERM);
    assert.equal(r.violation, false, r.report);
    assert.equal(r.complete, true, r.report);
    assert.ok(r.statesExplored > 50_000, `only ${r.statesExplored} states`);
    assert.ok(r.transitions > r.statesExplored);
    assert.match(r.report, /complete: every state within these bounds was explored/);
    assert.match(r.report, /no violation of: Election Safety, .*Monotonic terms/);
  });

  test("explores every state of two servers over two terms with an entry and restarts", () => {
    const r = exhaustive(TWO_SERVERS);
    assert.equal(r.violation, false, r.report);
    assert.equal(r.complete, true, r.report);
    assert.ok(r.statesExplored > 10_000, `only ${r.statesExplored} states`);
  });

  test("stops at maxStates and says the exploration is incomplete", () => {
    const r = exhaustive({ ...ONE_TERM, maxStates: 2_000 });
    assert.equal(r.complete, false);
    assert.equal(r.violation, false);
    assert.equal(r.statesExplored, 2_000);
    assert.match(r.report, /INCOMPLETE: stopped at 2000 states/);
  });

  test("is deterministic: two runs explore the same states and transitions", () => {
    const a = exhaustive({ ...ONE_TERM, maxStates: 5_000 });
    const b = exhaustive({ ...ONE_TERM, maxStates: 5_000 });
    assert.equal(a.statesExplored, b.statesExplored);
    assert.equal(a.transitions, b.transitions);
    assert.equal(a.depth, b.depth);
  });

  test("symmetry reduction counts renamings of a state once, and the outcome is the same", () => {
    const bounds = { ...TWO_SERVERS, maxEntries: 0 };
    const reduced = exhaustive(bounds);
    const full = exhaustive({ ...bounds, symmetry: false });
    assert.equal(reduced.complete && full.complete, true);
    assert.equal(reduced.violation || full.violation, false);
    assert.equal(full.depth, reduced.depth);
    // Two interchangeable servers: every state but the symmetric ones has a twin.
    assert.ok(full.statesExplored > 1.9 * reduced.statesExplored, `${full.statesExplored} vs ${reduced.statesExplored}`);
    assert.ok(full.statesExplored < 2 * reduced.statesExplored, `${full.statesExplored} vs ${reduced.statesExplored}`);
  });
});

describe("exhaustive mode finds the bug-zoo variants", () => {
  const cases: { name: string; bounds: Partial<ExhaustiveOptions>; invariant: ExhaustiveInvariant }[] = [
    { name: "double-vote", bounds: { maxTerm: 1 }, invariant: "Election Safety" },
    { name: "vote-not-persisted", bounds: { maxTerm: 1, restarts: true }, invariant: "Election Safety" },
    { name: "commit-past-last-new", bounds: { maxTerm: 2 }, invariant: "Commit within log" },
    { name: "truncate-matching", bounds: { maxTerm: 1, maxEntries: 1, ...PLAIN }, invariant: "Commit within log" },
    { name: "keep-leadership", bounds: { maxTerm: 2, ...PLAIN }, invariant: "Election Safety" },
    { name: "no-up-to-date-check", bounds: { maxTerm: 2, ...PLAIN }, invariant: "Leader Completeness" },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.invariant}`, () => {
      const r = exhaustive({ ...ONE_TERM, ...c.bounds, bug: bug(c.name) });
      assert.equal(r.violation, true, r.report);
      assert.equal(r.invariant, c.invariant, r.report);
      assert.match(r.report, new RegExp(`bug ${c.name}`));
      assert.match(r.report, new RegExp(`VIOLATION of ${c.invariant}: `));
      assert.equal(pathLines(r.report).length, r.pathLength! + 1, r.report);
    });
  }

  test("the path reads as events, each followed by the servers it changed", () => {
    const r = exhaustive({ ...ONE_TERM, bug: bug("double-vote") });
    const path = pathLines(r.report);
    assert.match(path[0]!, /^ +0\. every server is a follower of term 0 with an empty log$/);
    assert.ok(path.some((l) => /^ +\d+\. n\d times out$/.test(l)), r.report);
    assert.ok(path.some((l) => /^ +\d+\. deliver n\d -> n\d RequestVote\(term 1, last 0@0\)$/.test(l)), r.report);
    assert.ok(r.report.split("\n").some((l) => /^ {8}n(\d): leader, term 1, voted for n\1, log 1@1, commit 0$/.test(l)), r.report);
  });

  test("a restart in a path names what the server recovered", () => {
    const r = exhaustive({ ...ONE_TERM, restarts: true, bug: bug("vote-not-persisted") });
    assert.ok(pathLines(r.report).some((l) => /^ +\d+\. n\d crashes and restarts \(term 1, log 0@0\)$/.test(l)), r.report);
  });

  test("with and without symmetry reduction the violation is as many events away", () => {
    const reduced = exhaustive({ ...ONE_TERM, bug: bug("double-vote") });
    const full = exhaustive({ ...ONE_TERM, bug: bug("double-vote"), symmetry: false });
    assert.equal(reduced.invariant, full.invariant);
    assert.equal(reduced.pathLength, full.pathLength);
    assert.ok(full.statesExplored > reduced.statesExplored);
  });
});

describe("Figure 8 is within reach of the model, if not of breadth-first search", () => {
  // The paper's Figure 8 on three servers, without the no-op (figure8-paper):
  // n1 leads term 1 with entry 1@1 that nobody gets; n2 leads term 2 with
  // 1@2 that nobody gets; n1 leads term 3 with n3's vote, hands it 1@1 and
  // commits it by counting; n2 wins term 4 with n3's vote and would
  // overwrite it. 26 events and 4 terms: breadth-first search would have to
  // visit every state up to that depth, far more than fits in memory, so
  // this test replays the path instead. Steps: "tick:N", "propose:N",
  // "deliver:FROM:TO", "drop:FROM:TO".
  const FIGURE_8 =
    "tick:1 deliver:1:2 deliver:2:1 propose:1 drop:1:3 tick:2 drop:1:2 deliver:2:3 deliver:3:2 propose:2 drop:2:3 deliver:2:1 tick:1 " +
    "deliver:1:3 deliver:3:1 deliver:1:3 deliver:3:1 deliver:1:3 deliver:3:1 deliver:1:2 tick:1 deliver:1:2 drop:1:3 tick:2 deliver:2:3 deliver:3:2";

  function replay(name: string): { steps: number; violations: string[] } {
    const model = clusterModel({
      nodes: 3,
      maxTerm: 4,
      maxEntries: 2,
      bug: bug(name),
      preVote: false,
      checkQuorum: false,
      linkCapacity: 1,
      inboxCapacity: 1,
      restarts: false,
      symmetry: true,
    });
    let state: ClusterState = model.initial[0]!;
    let steps = 0;
    for (const step of FIGURE_8.split(" ")) {
      const [kind, a, b] = step.split(":");
      const matches = (e: ClusterEvent): boolean =>
        e.kind === "deliver" || e.kind === "drop"
          ? e.kind === kind && e.flight.message.from === Number(a) && e.flight.message.to === Number(b)
          : e.kind === kind && e.node === Number(a);
      const event = model.events(state).find(matches);
      if (event === undefined) break;
      state = model.next(state, event);
      steps++;
    }
    const violations = (model.invariants ?? []).map((i) => i.check(state)).filter((v): v is string => v !== null);
    return { steps, violations };
  }

  test("figure8-paper: the scenario ends with a leader of term 4 that lacks an entry committed in term 3", () => {
    const r = replay("figure8-paper");
    assert.equal(r.steps, 26);
    assert.deepEqual(r.violations, ["n2 is leader of term 4 without 1@1, committed in term 3 (it has 1@2)"]);
  });
});
