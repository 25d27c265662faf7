// Faults aimed at a role, not a name (plan.ts "crash-leader" and
// "isolate-leader"): whichever node leads when the event comes is the one
// that crashes, or is cut off from all the others — including the messages
// it has already sent. The search's Figure 8 sweep rests on them
// (docs/SIMULATION.md, "The seed sweep").

import { test } from "node:test";
import assert from "node:assert/strict";
import { generatePlan, type PlanEvent } from "../../src/sim/plan.js";
import { runPlan } from "../../src/sim/run.js";

/** The node that last became leader at or before trace line `upTo` (traces carry "nX candidate -> leader"). */
function lastLeader(trace: readonly string[], upTo: number): number | null {
  for (let i = upTo; i >= 0; i--) {
    const m = /\bn(\d+) \w+ -> leader\b/.exec(trace[i]!);
    if (m) return Number(m[1]);
  }
  return null;
}

function runWith(events: PlanEvent[]) {
  const base = generatePlan({ seed: 11, nodes: 3, steps: 400, faults: new Set() });
  const plan = { ...base, events: [...base.events, ...events].sort((a, b) => a.at - b.at) };
  return runPlan(plan, { trace: true });
}

test("crash-leader crashes whichever node leads then, and restarts it `down` ticks later", () => {
  const r = runWith([{ at: 150, kind: "crash-leader", down: 20 }]);
  assert.equal(r.violation, null);
  const aimed = r.trace.findIndex((l) => /is the leader: crash it/.test(l));
  assert.ok(aimed > 0, "the event found a leader");
  const leader = lastLeader(r.trace, aimed);
  assert.ok(leader !== null);
  assert.match(r.trace[aimed]!, new RegExp(`\\bn${leader} is the leader`));
  assert.ok(r.trace.slice(aimed).some((l) => new RegExp(`\\bn${leader} CRASHED`).test(l)));
  assert.ok(r.trace.slice(aimed).some((l) => new RegExp(`\\bn${leader} RESTARTED`).test(l)), "it comes back");
  // Another node takes over while it is down.
  assert.notEqual(lastLeader(r.trace, r.trace.length - 1), null);
});

test("isolate-leader cuts the leader off from every other node until the heal", () => {
  const r = runWith([
    { at: 150, kind: "isolate-leader" },
    { at: 250, kind: "heal" },
  ]);
  assert.equal(r.violation, null);
  const cut = r.trace.findIndex((l) => /PARTITION/.test(l));
  assert.ok(cut > 0);
  const leader = lastLeader(r.trace, cut)!;
  assert.match(r.trace[cut]!, new RegExp(`PARTITION \\{${leader}\\} \\{`));
  // The others elect a new leader while it is cut off.
  const healed = r.trace.findIndex((l, i) => i > cut && /HEAL/.test(l));
  const next = lastLeader(r.trace, healed);
  assert.ok(next !== null && next !== leader, "a new leader among the others");
});

test("an aimed fault with no leader does nothing", () => {
  // At tick 1 no node leads yet.
  const r = runWith([{ at: 1, kind: "crash-leader", down: 5 }, { at: 1, kind: "isolate-leader" }]);
  assert.ok(!r.trace.slice(0, 50).some((l) => /CRASHED|PARTITION/.test(l)));
});
