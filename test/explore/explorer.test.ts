import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DEAD_END, type Model, NondeterministicModelError, explore } from "../../src/explore/explorer.js";

// A counter on a ring of `size` positions, stepping +1 or -1; the states are
// frozen objects so any mutation by the explorer would throw.
type Ring = { readonly at: number };
type Move = "inc" | "dec";

function ring(size: number, extra: Partial<Model<Ring, Move>> = {}): Model<Ring, Move> {
  const moves: readonly Move[] = ["inc", "dec"];
  return {
    initial: [Object.freeze({ at: 0 })],
    events: () => moves,
    next: ({ at }, move) => Object.freeze({ at: (at + (move === "inc" ? 1 : size - 1)) % size }),
    key: ({ at }) => String(at),
    ...extra,
  };
}

const events = (path: { steps: readonly { event: Move }[] }) => path.steps.map((step) => step.event);

describe("explore", () => {
  test("visits every reachable state once and counts every transition", () => {
    const result = explore(ring(10));
    assert.equal(result.statesExplored, 10);
    assert.equal(result.transitions, 20);
    assert.equal(result.maxDepthReached, 5);
    assert.equal(result.complete, true);
    assert.equal(result.stoppedBy, undefined);
    assert.equal(result.violation, undefined);
    assert.deepEqual(result.violations, []);
  });

  test("counts each distinct initial state once", () => {
    const model = ring(10);
    const result = explore({ ...model, initial: [{ at: 0 }, { at: 5 }, { at: 0 }] });
    assert.equal(result.statesExplored, 10);
    assert.equal(result.maxDepthReached, 2);
  });

  test("reports the shortest path to an invariant violation, with its states", () => {
    const result = explore(ring(10, { invariants: [{ name: "never 7", check: ({ at }) => (at === 7 ? "at 7" : null) }] }));
    assert.equal(result.complete, false);
    assert.equal(result.stoppedBy, "violation");
    const violation = result.violation;
    assert.ok(violation);
    assert.equal(violation.invariant, "never 7");
    assert.equal(violation.message, "at 7");
    assert.deepEqual(violation.path.initial, { at: 0 });
    assert.deepEqual(events(violation.path), ["dec", "dec", "dec"]);
    assert.deepEqual(
      violation.path.steps.map((step) => step.state.at),
      [9, 8, 7],
    );
  });

  test("a violation in an initial state has an empty path", () => {
    const result = explore(ring(4, { invariants: [{ name: "never 0", check: ({ at }) => (at === 0 ? "at 0" : null) }] }));
    assert.equal(result.statesExplored, 1);
    assert.deepEqual(result.violation?.path, { initial: { at: 0 }, steps: [] });
  });

  test("checks every transition, including those back to visited states, and ends the path with it", () => {
    const seen: string[] = [];
    const result = explore(
      ring(3, {
        transitionChecks: [
          {
            name: "never wraps from 2 to 0",
            checkTransition(from, event, to) {
              seen.push(`${from.at}${event}${to.at}`);
              return from.at === 2 && to.at === 0 ? `wrapped on ${event}` : null;
            },
          },
        ],
      }),
    );
    assert.equal(result.violation?.invariant, "never wraps from 2 to 0");
    assert.equal(result.violation?.message, "wrapped on inc");
    assert.deepEqual(events(result.violation!.path), ["dec", "inc"]);
    assert.deepEqual(result.violation!.path.steps.at(-1)?.state, { at: 0 });
    assert.ok(seen.includes("1dec0"), "a transition to an already visited state was checked");
  });

  test("with allViolations, reports the first violation of each property and explores everything", () => {
    const result = explore(
      ring(10, {
        invariants: [
          { name: "never 3", check: ({ at }) => (at === 3 ? "at 3" : null) },
          { name: "below 6", check: ({ at }) => (at >= 6 ? `at ${at}` : null) },
          { name: "holds", check: () => null },
        ],
      }),
      { allViolations: true },
    );
    assert.equal(result.complete, true);
    assert.equal(result.statesExplored, 10);
    assert.deepEqual(
      result.violations.map((v) => [v.invariant, v.message, v.path.steps.length]),
      [
        ["below 6", "at 9", 1],
        ["never 3", "at 3", 3],
      ],
    );
    assert.equal(result.violation, result.violations[0]);
  });

  test("stops at maxStates and says so", () => {
    const result = explore(ring(1000), { maxStates: 50 });
    assert.equal(result.statesExplored, 50);
    assert.equal(result.complete, false);
    assert.equal(result.stoppedBy, "maxStates");
  });

  test("a maxStates bound that is not reached leaves the result complete", () => {
    const result = explore(ring(10), { maxStates: 10 });
    assert.equal(result.complete, true);
  });

  test("maxDepth cuts deeper states and makes the result incomplete only if some exist", () => {
    const cut = explore(ring(10), { maxDepth: 3 });
    assert.equal(cut.statesExplored, 7);
    assert.equal(cut.maxDepthReached, 3);
    assert.equal(cut.complete, false);
    assert.equal(cut.stoppedBy, "maxDepth");
    const whole = explore(ring(10), { maxDepth: 5 });
    assert.equal(whole.statesExplored, 10);
    assert.equal(whole.complete, true);
  });

  test("stops at the deadline", () => {
    const result = explore(ring(1000), { deadline: Date.now() - 1 });
    assert.equal(result.complete, false);
    assert.equal(result.stoppedBy, "deadline");
    assert.equal(result.transitions, 0);
  });

  test("reports progress after each level", () => {
    const depths: number[] = [];
    const result = explore(ring(10), { onProgress: (progress) => depths.push(progress.depth) });
    assert.deepEqual(depths, [0, 1, 2, 3, 4, 5]);
    assert.equal(result.complete, true);
  });

  describe("dead ends", () => {
    // A line 0..4 where only "inc" is enabled below 4: 4 has no way out.
    const line: Model<number, "inc"> = {
      initial: [0],
      events: (n) => (n < 4 ? ["inc"] : []),
      next: (n) => n + 1,
      key: String,
    };

    test("are found only when asked for", () => {
      assert.equal(explore(line).violation, undefined);
      const result = explore(line, { deadEnds: true });
      assert.equal(result.violation?.invariant, DEAD_END);
      assert.match(result.violation?.message ?? "", /no event is enabled/);
      assert.equal(result.violation?.path.steps.length, 4);
    });

    test("include states whose every event loops back to them", () => {
      const stuck: Model<number, "inc"> = { ...line, events: () => ["inc"], next: (n) => Math.min(n + 1, 4) };
      const result = explore(stuck, { deadEnds: true });
      assert.equal(result.violation?.invariant, DEAD_END);
      assert.match(result.violation?.message ?? "", /leads back to it/);
      assert.equal(result.violation?.path.steps.at(-1)?.state, 4);
    });

    test("exclude terminal states", () => {
      const result = explore({ ...line, isTerminal: (n) => n === 4 }, { deadEnds: true });
      assert.equal(result.violation, undefined);
      assert.equal(result.complete, true);
    });

    test("do not include states with a way out", () => {
      assert.equal(explore(ring(5), { deadEnds: true }).violation, undefined);
    });
  });

  test("refuses to report a path it cannot replay", () => {
    let calls = 0;
    const fickle: Model<number, "step"> = {
      initial: [0],
      events: () => ["step"],
      // Goes +1 the first few times, then +2: replaying the path gives other states.
      next: (n) => n + (calls++ < 5 ? 1 : 2),
      key: String,
      invariants: [{ name: "small", check: (n) => (n > 6 ? "big" : null) }],
    };
    assert.throws(() => explore(fickle), NondeterministicModelError);
  });

  test("explores a million states", () => {
    // A 1000 x 1000 grid, moving right or down: 1e6 states, ~2e6 transitions.
    const size = 1000;
    const grid: Model<number, 0 | 1> = {
      initial: [0],
      events: (cell) => (cell % size < size - 1 ? (cell < size * (size - 1) ? [0, 1] : [0]) : cell < size * (size - 1) ? [1] : []),
      next: (cell, move) => cell + (move === 0 ? 1 : size),
      key: String,
      isTerminal: (cell) => cell === size * size - 1,
    };
    const result = explore(grid, { deadEnds: true });
    assert.equal(result.statesExplored, size * size);
    assert.equal(result.transitions, 2 * size * (size - 1));
    assert.equal(result.maxDepthReached, 2 * (size - 1));
    assert.equal(result.complete, true);
  });
});
