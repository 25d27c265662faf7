// The traffic light's control logic as a pure state machine:
// (state, event) -> (state, actions). No sockets, timers or clocks: the
// runtime (controller.ts) feeds it one `tick` per second of (possibly sped-up)
// real time and one `press` per button datagram, and carries out the actions;
// `traffic check` feeds it every sequence of ticks and presses instead.

import { assertNever } from "../util/assert.js";

export type Color = "R" | "Y" | "G";
export type Direction = "ew" | "ns";

/** Which direction has the right of way, and whether it is ending. */
export type Phase = "ewGreen" | "ewYellow" | "nsGreen" | "nsYellow";

export interface ControllerState {
  readonly phase: Phase;
  /** Whole seconds (ticks) spent in the phase so far. */
  readonly elapsed: number;
  /** A press arrived during this North-South green before its minimum was up. */
  readonly pressed: boolean;
}

export type TrafficEvent = { readonly type: "tick" } | { readonly type: "press" };

export interface SetLight {
  readonly type: "setLight";
  readonly direction: Direction;
  readonly color: Color;
}

export type TrafficAction = SetLight;

export interface StepResult {
  readonly state: ControllerState;
  readonly actions: readonly TrafficAction[];
}

/** Durations in seconds (ticks). */
export interface Timing {
  readonly ewGreen: number;
  readonly nsGreen: number;
  readonly yellow: number;
  /** How long North-South stays green at least, even when the button is pressed. */
  readonly nsMinGreen: number;
}

/** The rules of SPEC §8. */
export const SPEC_TIMING: Timing = { ewGreen: 30, nsGreen: 60, yellow: 5, nsMinGreen: 30 };

export const TICK: TrafficEvent = { type: "tick" };
export const PRESS: TrafficEvent = { type: "press" };

const PHASE_COLORS: Record<Phase, Readonly<Record<Direction, Color>>> = {
  ewGreen: { ew: "G", ns: "R" },
  ewYellow: { ew: "Y", ns: "R" },
  nsGreen: { ew: "R", ns: "G" },
  nsYellow: { ew: "R", ns: "Y" },
};

const NO_ACTIONS: readonly TrafficAction[] = [];

/** The state at power-on, and the actions that set both lights for it. */
export function start(): StepResult {
  return {
    state: { phase: "ewGreen", elapsed: 0, pressed: false },
    actions: [setLight("ns", PHASE_COLORS.ewGreen.ns), setLight("ew", PHASE_COLORS.ewGreen.ew)],
  };
}

export function step(state: ControllerState, event: TrafficEvent, timing: Timing = SPEC_TIMING): StepResult {
  switch (event.type) {
    case "tick":
      return tick(state, timing);
    case "press":
      return press(state, timing);
    default:
      return assertNever(event);
  }
}

function tick(state: ControllerState, timing: Timing): StepResult {
  const elapsed = state.elapsed + 1;
  switch (state.phase) {
    case "ewGreen":
      return elapsed >= timing.ewGreen ? enter(state.phase, "ewYellow") : stay(state, elapsed);
    case "ewYellow":
      return elapsed >= timing.yellow ? enter(state.phase, "nsGreen") : stay(state, elapsed);
    case "nsGreen":
      return elapsed >= (state.pressed ? timing.nsMinGreen : timing.nsGreen)
        ? enter(state.phase, "nsYellow")
        : stay(state, elapsed);
    case "nsYellow":
      return elapsed >= timing.yellow ? enter(state.phase, "ewGreen") : stay(state, elapsed);
    default:
      return assertNever(state.phase);
  }
}

// The button asks for East-West's turn, so a press only acts while
// North-South is green. At any other time East-West has its green, has just
// had it, or gets it within one yellow; the press is ignored, not remembered,
// so a North-South green is never cut short by a press made before it began.
function press(state: ControllerState, timing: Timing): StepResult {
  if (state.phase !== "nsGreen" || state.pressed) return { state, actions: NO_ACTIONS };
  if (state.elapsed >= timing.nsMinGreen) return enter(state.phase, "nsYellow");
  return { state: { ...state, pressed: true }, actions: NO_ACTIONS };
}

function stay(state: ControllerState, elapsed: number): StepResult {
  return { state: { ...state, elapsed }, actions: NO_ACTIONS };
}

/** Moves to a new phase, turning lights red before any turns green. */
function enter(from: Phase, to: Phase): StepResult {
  const actions: SetLight[] = [];
  for (const direction of ["ew", "ns"] as const) {
    const color = PHASE_COLORS[to][direction];
    if (color === PHASE_COLORS[from][direction]) continue;
    if (color === "R") actions.unshift(setLight(direction, color));
    else actions.push(setLight(direction, color));
  }
  return { state: { phase: to, elapsed: 0, pressed: false }, actions };
}

function setLight(direction: Direction, color: Color): SetLight {
  return { type: "setLight", direction, color };
}
