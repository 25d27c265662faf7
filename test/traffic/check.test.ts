import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ControllerState, SPEC_TIMING, type StepResult, type TrafficEvent, start, step } from "../../src/traffic/logic.js";
import { checkTraffic } from "../../src/traffic/check.js";
import type { Controller } from "../../src/traffic/model.js";
import { formatReport } from "../../src/traffic/report.js";

const SAFETY = "the two directions are never both non-red";
const DEAD_END = "no state is a dead end";
const EW_GREEN = "East-West green lasts 30 s";
const NS_GREEN = "North-South green lasts 60 s when nobody presses";
const BUTTON = "a press turns North-South yellow at once after 30 s of green, else at the 30 s mark";
const YELLOW = "yellow lasts 5 s";
const IGNORED = "a press while North-South is not green changes nothing";
const CYCLE = "each light goes G, Y, R, G, turning green just as the other turns red";

/** The real logic with one thing changed. */
function variant(change: (state: ControllerState, event: TrafficEvent) => StepResult | undefined): Controller {
  return { start, step: (state, event) => change(state, event) ?? step(state, event) };
}

/** The names of the rules the check finds broken. */
function broken(controller: Controller): string[] {
  const report = checkTraffic({ controller });
  assert.equal(report.ok, false);
  return report.rules.filter((rule) => rule.violation !== undefined).map((rule) => rule.name);
}

describe("traffic check", () => {
  test("the real logic: every reachable state explored, every rule holds", () => {
    const report = checkTraffic();
    assert.equal(report.complete, true);
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.rules.map((rule) => [rule.name, rule.violation]),
      [SAFETY, DEAD_END, EW_GREEN, NS_GREEN, BUTTON, YELLOW, IGNORED, CYCLE].map((name) => [name, undefined]),
    );
    // At least one state per (phase, second) of a cycle with and without a press.
    assert.ok(report.statesExplored >= 30 + 5 + 60 + 30 + 5, `${report.statesExplored} states`);
    assert.equal(report.transitions, 2 * report.statesExplored);
    const text = formatReport(report);
    assert.match(text, new RegExp(`^  ${report.statesExplored} states, ${report.transitions} transitions`, "m"));
    assert.match(text, /^all 8 rules hold$/m);
    assert.doesNotMatch(text, /FAIL|NOT EXHAUSTIVE/);
  });

  describe("catches a deliberately wrong logic", () => {
    test("North-South green of 50 s", () => {
      const controller: Controller = { start, step: (s, e) => step(s, e, { ...SPEC_TIMING, nsGreen: 50 }) };
      assert.deepEqual(broken(controller), [NS_GREEN]);
      const text = formatReport(checkTraffic({ controller }));
      assert.match(text, /^  FAIL  North-South green lasts 60 s when nobody presses$/m);
      assert.match(text, /North-South turned Y after 50 s of G \(rule: 60 s\)/);
      // The shortest path: power-on, then nothing but the clock until 85 s.
      assert.match(text, /\n\s+85 s {2}tick {3}EW R {2}NS Y/);
      assert.match(text, /^1 of 8 rules broken$/m);
    });

    test("a press that ignores the 30 s minimum", () => {
      const controller: Controller = { start, step: (s, e) => step(s, e, { ...SPEC_TIMING, nsMinGreen: 0 }) };
      assert.deepEqual(broken(controller), [BUTTON]);
    });

    test("a press that waits for the full 60 s", () => {
      assert.deepEqual(broken(variant((s, e) => (e.type === "press" && s.phase === "nsGreen" ? { state: s, actions: [] } : undefined))), [
        BUTTON,
      ]);
    });

    test("East-West turned green together with North-South yellow", () => {
      const overlap = variant((s, e) => {
        const result = step(s, e);
        if (s.phase !== "nsGreen" || result.state.phase !== "nsYellow") return undefined;
        return { state: result.state, actions: [...result.actions, { type: "setLight", direction: "ew", color: "G" }] };
      });
      assert.deepEqual(broken(overlap), [SAFETY, EW_GREEN, CYCLE]);
      const safety = checkTraffic({ controller: overlap }).rules[0].violation;
      assert.equal(safety?.message, "East-West shows G while North-South shows Y");
      const last = safety?.path.steps.at(-1);
      assert.deepEqual(last?.event, { type: "press" }, "the shortest way there is a press at the 30 s mark");
    });

    test("a North-South yellow that forgets the clock is a dead end", () => {
      const stuck = variant((s, e) => (s.phase === "nsYellow" && e.type === "tick" ? { state: s, actions: [] } : undefined));
      assert.deepEqual(broken(stuck), [DEAD_END, YELLOW]);
    });

    test("a press remembered while East-West is green", () => {
      const latch = variant((s, e) => (e.type === "press" && s.phase === "ewGreen" ? { state: { ...s, pressed: true }, actions: [] } : undefined));
      assert.deepEqual(broken(latch), [IGNORED]);
    });

    test("a counter that never resets: not exhaustive, so not ok", () => {
      const forever = variant((s, e) =>
        s.phase === "ewGreen" && e.type === "tick" ? { state: { ...s, elapsed: s.elapsed + 1 }, actions: [] } : undefined,
      );
      const report = checkTraffic({ controller: forever, maxStates: 2000 });
      assert.equal(report.complete, false);
      assert.equal(report.stoppedBy, "maxStates");
      assert.equal(report.ok, false);
      assert.match(formatReport(report), /NOT EXHAUSTIVE: stopped after 2000 states/);
    });
  });
});
