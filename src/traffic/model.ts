// The traffic light as a model for the explorer: the control logic together
// with the two lights it drives and an observer that times what the lights
// show. The rules (rules.ts) are checked against the lights and the observer,
// never against the logic's own counters, so a logic that miscounts is caught
// by what it makes the lights do.

import type { Model } from "../explore/explorer.js";
import {
  type ControllerState,
  type Direction,
  type StepResult,
  type Timing,
  type TrafficEvent,
  PRESS,
  SPEC_TIMING,
  TICK,
  start,
  step,
} from "./logic.js";
import { safetyRule, transitionRules } from "./rules.js";
import { type Lights, type LightView, type World, worldKey } from "./world.js";

/** The control logic under check; a deliberately broken one in tests. */
export interface Controller {
  start(): StepResult;
  step(state: ControllerState, event: TrafficEvent): StepResult;
}

export const SPEC_CONTROLLER: Controller = { start, step: (state, event) => step(state, event) };

const EVENTS: readonly TrafficEvent[] = [TICK, PRESS];

/**
 * `expected` is the timing the rules demand. Ages stop counting at its longest
 * duration: no rule looks further, and it keeps the state space finite when
 * the logic under check leaves a light on forever.
 */
export function trafficModel(
  controller: Controller,
  expected: Timing = SPEC_TIMING,
): Model<World, TrafficEvent> {
  const ageCap = Math.max(expected.ewGreen, expected.nsGreen, expected.yellow, expected.nsMinGreen);
  // A light not yet told a color counts as red: it lets no one through.
  const unset: Lights = { ew: { color: "R", age: 0 }, ns: { color: "R", age: 0 } };
  const boot = controller.start();
  return {
    initial: [{ controller: boot.state, lights: show(unset, boot), nsPressed: false }],
    events: () => EVENTS,
    next(world, event) {
      const result = controller.step(world.controller, event);
      const lights = show(event.type === "tick" ? older(world.lights, ageCap) : world.lights, result);
      const stillNsGreen = world.lights.ns.color === "G" && lights.ns.color === "G";
      return {
        controller: result.state,
        lights,
        nsPressed: stillNsGreen && (world.nsPressed || event.type === "press"),
      };
    },
    key: worldKey,
    invariants: [safetyRule],
    transitionChecks: transitionRules(expected),
  };
}

function older(lights: Lights, cap: number): Record<Direction, LightView> {
  const age = (light: LightView): LightView => ({ color: light.color, age: Math.min(light.age + 1, cap) });
  return { ew: age(lights.ew), ns: age(lights.ns) };
}

/** The lights after carrying out a step's actions; a light set to the color it shows keeps its age. */
function show(lights: Lights, result: StepResult): Lights {
  if (result.actions.length === 0) return lights;
  const shown = { ...lights };
  for (const action of result.actions) {
    if (shown[action.direction].color !== action.color) shown[action.direction] = { color: action.color, age: 0 };
  }
  return shown;
}
