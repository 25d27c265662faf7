// The text `traffic check` prints: the size of the state space, one line per
// rule, and for each broken rule the shortest path that breaks it.

import type { Path } from "../explore/explorer.js";
import type { TrafficEvent } from "./logic.js";
import type { TrafficCheckReport } from "./check.js";
import { type World, describeLights, describeLogic } from "./world.js";

export function formatReport(report: TrafficCheckReport): string {
  const lines = [
    "traffic check: every reachable state of the control logic, clock ticks and presses in every order",
    `  ${report.statesExplored} states, ${report.transitions} transitions, ` +
      (report.complete
        ? `every state within ${report.maxDepthReached} events of power-on`
        : `reaching ${report.maxDepthReached} events from power-on`),
  ];
  if (!report.complete) {
    lines.push(
      `  NOT EXHAUSTIVE: stopped after ${report.statesExplored} states (the limit); ` +
        "the logic seems to have no end of states, e.g. a counter that never resets",
    );
  }
  for (const rule of report.rules) {
    if (rule.violation === undefined) {
      lines.push(`  ${report.complete ? "ok  " : "??  "}  ${rule.name}`);
      continue;
    }
    lines.push(`  FAIL  ${rule.name}`, `        ${rule.violation.message}`, "        shortest path:");
    lines.push(...formatPath(rule.violation.path).map((line) => `          ${line}`));
  }
  const broken = report.rules.filter((rule) => rule.violation !== undefined).length;
  if (report.ok) lines.push(`all ${report.rules.length} rules hold`);
  else if (broken > 0) lines.push(`${broken} of ${report.rules.length} rules broken`);
  else lines.push("no rule broken in the states explored, but not every state was explored");
  return lines.join("\n") + "\n";
}

/**
 * One line per press, per change of a light, and for the last step: a path of
 * ticks where nothing visible happens says no more than the clock column.
 */
function formatPath(path: Path<World, TrafficEvent>): string[] {
  const lines = [describe(0, "start", path.initial)];
  let seconds = 0;
  path.steps.forEach(({ event, state }, index) => {
    if (event.type === "tick") seconds++;
    const before = index === 0 ? path.initial : path.steps[index - 1].state;
    const changed =
      before.lights.ew.color !== state.lights.ew.color || before.lights.ns.color !== state.lights.ns.color;
    if (event.type === "press" || changed || index === path.steps.length - 1) {
      lines.push(describe(seconds, event.type, state));
    }
  });
  return lines;
}

function describe(seconds: number, what: string, world: World): string {
  const time = `${String(seconds).padStart(4)} s`;
  return `${time}  ${what.padEnd(5)}  ${describeLights(world.lights)}  (logic: ${describeLogic(world.controller)})`;
}
