// What the traffic model checker looks at: the control logic's state, the two
// lights it drives, and an observer's record of presses.

import type { Color, ControllerState, Direction } from "./logic.js";

export interface LightView {
  readonly color: Color;
  /** Seconds since the color last changed, counted up to the longest rule only. */
  readonly age: number;
}

export type Lights = Readonly<Record<Direction, LightView>>;

export interface World {
  readonly controller: ControllerState;
  readonly lights: Lights;
  /** The observer saw a press during the current North-South green. */
  readonly nsPressed: boolean;
}

export function worldKey(world: World): string {
  const { phase, elapsed, pressed } = world.controller;
  const { ew, ns } = world.lights;
  return `${phase} ${elapsed} ${pressed ? 1 : 0} ${ew.color}${ew.age} ${ns.color}${ns.age} ${world.nsPressed ? 1 : 0}`;
}

/** E.g. "nsGreen 12 s, pressed". */
export function describeLogic(state: ControllerState): string {
  return `${state.phase} ${state.elapsed} s${state.pressed ? ", pressed" : ""}`;
}

/** E.g. "EW R  NS G". */
export function describeLights(lights: Lights): string {
  return `EW ${lights.ew.color}  NS ${lights.ns.color}`;
}
