// The rules of SPEC §8 as properties the explorer checks on every reachable
// state and every transition of the traffic model. They look at what the
// lights show, how long they have shown it, and the events; only the rule for
// ignored presses also looks at the logic's state, because an ignored press
// must not be remembered either.

import type { Invariant, TransitionCheck } from "../explore/explorer.js";
import type { Color, Direction, Timing, TrafficEvent } from "./logic.js";
import { type World, describeLights, describeLogic } from "./world.js";

const NAMES: Record<Direction, string> = { ew: "East-West", ns: "North-South" };
const OTHER: Record<Direction, Direction> = { ew: "ns", ns: "ew" };
const NEXT_COLOR: Record<Color, Color> = { G: "Y", Y: "R", R: "G" };
const DIRECTIONS: readonly Direction[] = ["ew", "ns"];

export const safetyRule: Invariant<World> = {
  name: "the two directions are never both non-red",
  check: ({ lights }) =>
    lights.ew.color !== "R" && lights.ns.color !== "R"
      ? `East-West shows ${lights.ew.color} while North-South shows ${lights.ns.color}`
      : null,
};

export function transitionRules(t: Timing): readonly TransitionCheck<World, TrafficEvent>[] {
  return [
    {
      name: `East-West green lasts ${t.ewGreen} s`,
      checkTransition: (from, event, to) => holdError("ew", "G", t.ewGreen, from, event, to),
    },
    {
      name: `North-South green lasts ${t.nsGreen} s when nobody presses`,
      checkTransition: (from, event, to) =>
        event.type === "tick" && !from.nsPressed ? holdError("ns", "G", t.nsGreen, from, event, to) : null,
    },
    {
      name:
        `a press turns North-South yellow at once after ${t.nsMinGreen} s of green, ` +
        `else at the ${t.nsMinGreen} s mark`,
      checkTransition(from, event, to) {
        const before = from.lights.ns;
        if (before.color !== "G") return null;
        if (event.type === "tick") return from.nsPressed ? holdError("ns", "G", t.nsMinGreen, from, event, to) : null;
        const expected: Color = before.age >= t.nsMinGreen ? "Y" : "G";
        return to.lights.ns.color === expected
          ? null
          : `a press after ${before.age} s of North-South green left it ${to.lights.ns.color} (rule: ${expected})`;
      },
    },
    {
      name: `yellow lasts ${t.yellow} s`,
      checkTransition: (from, event, to) =>
        holdError("ew", "Y", t.yellow, from, event, to) ?? holdError("ns", "Y", t.yellow, from, event, to),
    },
    {
      name: "a press while North-South is not green changes nothing",
      checkTransition(from, event, to) {
        if (event.type !== "press" || from.lights.ns.color === "G") return null;
        const changes: string[] = [];
        const logic = [describeLogic(from.controller), describeLogic(to.controller)];
        if (logic[0] !== logic[1]) changes.push(`the logic from ${logic[0]} to ${logic[1]}`);
        const lights = [describeLights(from.lights), describeLights(to.lights)];
        if (lights[0] !== lights[1]) changes.push(`the lights from ${lights[0]} to ${lights[1]}`);
        if (changes.length === 0) return null;
        return `a press while North-South showed ${from.lights.ns.color} changed ${changes.join(" and ")}`;
      },
    },
    {
      name: "each light goes G, Y, R, G, turning green just as the other turns red",
      checkTransition(from, _event, to) {
        for (const direction of DIRECTIONS) {
          const before = from.lights[direction].color;
          const after = to.lights[direction].color;
          if (before === after) continue;
          if (after !== NEXT_COLOR[before]) return `${NAMES[direction]} went from ${before} to ${after}`;
          const other = OTHER[direction];
          const otherTurnsRed = from.lights[other].color === "Y" && to.lights[other].color === "R";
          if (after === "G" && !otherTurnsRed) return `${NAMES[direction]} turned green but ${NAMES[other]} did not turn red`;
          const otherTurnsGreen = from.lights[other].color === "R" && to.lights[other].color === "G";
          if (after === "R" && !otherTurnsGreen) return `${NAMES[direction]} turned red but ${NAMES[other]} did not turn green`;
        }
        return null;
      },
    },
  ];
}

/**
 * Checks that `direction` shows `color` for exactly `seconds`: it must not
 * end before, nor still show it after, and only the clock may end it.
 */
function holdError(
  direction: Direction,
  color: Color,
  seconds: number,
  from: World,
  event: TrafficEvent,
  to: World,
): string | null {
  const before = from.lights[direction];
  if (before.color !== color) return null;
  const after = to.lights[direction].color;
  const held = event.type === "tick" ? before.age + 1 : before.age;
  const name = NAMES[direction];
  if (after === color) {
    return event.type === "tick" && held >= seconds
      ? `${name} still ${color} after ${held} s (rule: ${seconds} s)`
      : null;
  }
  if (event.type !== "tick") return `${name} turned ${after} on a ${event.type} after ${held} s of ${color} (rule: ${seconds} s)`;
  return held === seconds ? null : `${name} turned ${after} after ${held} s of ${color} (rule: ${seconds} s)`;
}
