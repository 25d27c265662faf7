// `traffic check`: explores every reachable state of the control logic (clock
// ticks and button presses in every order) and says, rule by rule, whether it
// holds.

import { DEAD_END, explore, type StopReason, type Violation } from "../explore/explorer.js";
import type { TrafficEvent } from "./logic.js";
import { type Controller, SPEC_CONTROLLER, trafficModel } from "./model.js";
import type { World } from "./world.js";

export interface RuleOutcome {
  readonly name: string;
  /** The shortest path that breaks the rule; absent when none was found. */
  readonly violation?: Violation<World, TrafficEvent>;
}

export interface TrafficCheckReport {
  readonly statesExplored: number;
  readonly transitions: number;
  readonly maxDepthReached: number;
  /** Every reachable state was explored, so a rule without a violation holds. */
  readonly complete: boolean;
  readonly stoppedBy?: StopReason;
  readonly rules: readonly RuleOutcome[];
  /** Complete, and no rule is violated. */
  readonly ok: boolean;
}

export interface TrafficCheckOptions {
  /** The logic to check; default the real one. */
  controller?: Controller;
  maxStates?: number;
}

/**
 * The real logic has a few hundred states; a logic whose counters never reset
 * has infinitely many and is stopped here.
 */
export const DEFAULT_MAX_STATES = 100_000;

export function checkTraffic(options: TrafficCheckOptions = {}): TrafficCheckReport {
  const model = trafficModel(options.controller ?? SPEC_CONTROLLER);
  const maxStates = options.maxStates ?? DEFAULT_MAX_STATES;
  // Every rule is reported on its own, so keep going past the first broken one.
  const result = explore(model, { deadEnds: true, allViolations: true, maxStates });
  const names = [
    ...(model.invariants ?? []).map((rule) => rule.name),
    DEAD_END,
    ...(model.transitionChecks ?? []).map((rule) => rule.name),
  ];
  const rules = names.map((name): RuleOutcome => {
    const violation = result.violations.find((found) => found.invariant === name);
    return violation === undefined ? { name } : { name, violation };
  });
  return {
    statesExplored: result.statesExplored,
    transitions: result.transitions,
    maxDepthReached: result.maxDepthReached,
    complete: result.complete,
    ...(result.stoppedBy !== undefined && { stoppedBy: result.stoppedBy }),
    rules,
    ok: result.complete && result.violations.length === 0,
  };
}
