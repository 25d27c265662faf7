import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type ControllerState,
  PRESS,
  SPEC_TIMING,
  TICK,
  type TrafficEvent,
  start,
  step,
} from "../../src/traffic/logic.js";

/**
 * Runs the logic from power-on through `script` ("t" = a tick, "p" = a press,
 * a number n = n ticks) and lists the light changes as "SECONDS direction
 * color", the way someone watching with a stopwatch would write them down.
 */
function watch(...script: (number | "t" | "p")[]): { changes: string[]; state: ControllerState } {
  const boot = start();
  let state = boot.state;
  let seconds = 0;
  const changes = boot.actions.map((a) => `0 ${a.direction} ${a.color}`);
  const feed = (event: TrafficEvent) => {
    if (event.type === "tick") seconds++;
    const result = step(state, event);
    state = result.state;
    changes.push(...result.actions.map((a) => `${seconds} ${a.direction} ${a.color}`));
  };
  for (const part of script) {
    if (part === "p") feed(PRESS);
    else for (let i = 0; i < (part === "t" ? 1 : part); i++) feed(TICK);
  }
  return { changes, state };
}

describe("traffic logic", () => {
  test("powers on with North-South red, then East-West green", () => {
    assert.deepEqual(start().actions, [
      { type: "setLight", direction: "ns", color: "R" },
      { type: "setLight", direction: "ew", color: "G" },
    ]);
    assert.deepEqual(start().state, { phase: "ewGreen", elapsed: 0, pressed: false });
  });

  test("without presses: EW green 30 s, yellow 5 s, NS green 60 s, yellow 5 s, and round again", () => {
    assert.deepEqual(watch(200).changes, [
      "0 ns R",
      "0 ew G",
      "30 ew Y",
      "35 ew R",
      "35 ns G",
      "95 ns Y",
      "100 ns R",
      "100 ew G",
      "130 ew Y",
      "135 ew R",
      "135 ns G",
      "195 ns Y",
      "200 ns R",
      "200 ew G",
    ]);
  });

  test("turns a light red before turning the other green", () => {
    const { changes } = watch(100);
    assert.ok(changes.indexOf("35 ew R") < changes.indexOf("35 ns G"));
    assert.ok(changes.indexOf("100 ns R") < changes.indexOf("100 ew G"));
  });

  test("a press early in North-South green turns it yellow at the 30 s mark", () => {
    // NS turns green at 35 s; pressed at 45 s (10 s of green) -> yellow at 65 s.
    const { changes } = watch(45, "p", 30);
    assert.deepEqual(changes.slice(-3), ["65 ns Y", "70 ns R", "70 ew G"]);
  });

  test("a press just before the mark waits for it; one at the mark acts at once", () => {
    assert.deepEqual(watch(35 + 29, "p", "t").changes.at(-1), "65 ns Y");
    assert.deepEqual(watch(35 + 29, "p").changes.at(-1), "35 ns G");
    assert.deepEqual(watch(35 + 30, "p").changes.at(-1), "65 ns Y");
  });

  test("a press after 30 s of North-South green turns it yellow at once", () => {
    const { changes } = watch(35 + 47, "p");
    assert.deepEqual(changes.at(-1), "82 ns Y");
    assert.deepEqual(watch(35 + 47, "p", 5).changes.slice(-2), ["87 ns R", "87 ew G"]);
  });

  test("more presses in the same North-South green change nothing more", () => {
    assert.deepEqual(watch(40, "p", 5, "p", "p", 30).changes, watch(40, "p", 35).changes);
  });

  test("a press while North-South is not green is ignored, not remembered", () => {
    // In East-West green, East-West yellow and North-South yellow.
    for (const at of [0, 10, 29, 30, 34, 95, 99]) {
      const before = watch(at).state;
      const after = step(before, PRESS);
      assert.equal(after.state, before, `press at ${at} s`);
      assert.deepEqual(after.actions, []);
    }
    // Pressed at 10 s (East-West green), 31 s (its yellow) and 96 s (North-South
    // yellow): the North-South green in between still lasts the full 60 s.
    assert.deepEqual(watch(10, "p", 21, "p", 65, "p", 45).changes, watch(141).changes);
  });

  test("the pressed mark is cleared once North-South goes yellow", () => {
    const { state } = watch(40, "p", 25);
    assert.deepEqual(state, { phase: "nsYellow", elapsed: 0, pressed: false });
  });

  test("never changes the state it is given", () => {
    const frozen = (state: ControllerState) => Object.freeze({ ...state });
    for (const state of [watch(0).state, watch(40).state, watch(40, "p").state, watch(96).state]) {
      step(frozen(state), TICK);
      step(frozen(state), PRESS);
    }
  });

  test("takes its durations from the timing it is given", () => {
    const fast = { ...SPEC_TIMING, ewGreen: 2 };
    let state = start().state;
    state = step(state, TICK, fast).state;
    assert.deepEqual(step(state, TICK, fast).actions, [{ type: "setLight", direction: "ew", color: "Y" }]);
  });
});
