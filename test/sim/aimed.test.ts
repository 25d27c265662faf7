// Faults aimed at a role, not a name (plan.ts "crash-leader" and
// "isolate-leader"): whichever node leads when the event comes is the one
// that crashes, or is cut off from all the others — including the messages
// it has already sent. The search's Figure 8 sweep rests on them
// (docs/SIMULATION.md, "The seed sweep").

import { test } from "node:test";
import assert from "node:assert/strict";
import { generatePlan, type PlanEvent } from "../../src/sim/plan.js";
import { runPlan } from "../../src/sim/run.js";
import type { SimEvent } from "../../src/sim/trace.js";

/** The node that last became leader at or before trace event `upTo`. */
function lastLeader(trace: readonly SimEvent[], upTo: number): number | null {
  for (let i = upTo; i >= 0; i--) {
    const e = trace[i]!;
    if (e.kind === "role" && e.to === "leader") return e.node;
  }
  return null;
}

function runWith(events: PlanEvent[]) {
  const base = generatePlan({ seed: 11, nodes: 3, steps: 400, faults: new Set() });
  const plan = { ...base, events: [...base.events, ...events].sort((a, b) => a.at - b.at) };
  return runPlan(plan, { trace: true });
}

test("crash-leader crashes whichever node leads then, and restarts it `down` ticks later", () => {
  const r = runWith([{ at: 150, kind: "crash-leader", down: 80 }]);
  assert.equal(r.violation, null);
  const aimed = r.trace.findIndex((e) => e.kind === "aimed");
  assert.ok(aimed > 0, "the event found a leader");
  const e = r.trace[aimed]!;
  assert.ok(e.kind === "aimed" && e.fault === "crash-leader");
  const leader = lastLeader(r.trace, aimed);
  assert.ok(leader !== null);
  assert.equal(e.node, leader);
  const crashed = r.trace.findIndex((x, i) => i > aimed && x.kind === "crash" && x.node === leader);
  assert.ok(crashed > aimed, "it crashes");
  const back = r.trace.findIndex((x, i) => i > crashed && x.kind === "restart" && x.node === leader);
  assert.ok(back > crashed, "it comes back");
  assert.equal(r.trace[back]!.at - r.trace[crashed]!.at, 80);
  // Another node takes over while it is down.
  const next = lastLeader(r.trace, back);
  assert.ok(next !== null && next !== leader, "a new leader among the others");
});

test("isolate-leader cuts the leader off from every other node until the heal", () => {
  const r = runWith([
    { at: 150, kind: "isolate-leader" },
    { at: 250, kind: "heal" },
  ]);
  assert.equal(r.violation, null);
  const cut = r.trace.findIndex((e) => e.kind === "partition");
  assert.ok(cut > 0);
  const leader = lastLeader(r.trace, cut)!;
  const e = r.trace[cut]!;
  assert.ok(e.kind === "partition");
  assert.deepEqual(e.groups[0], [leader]);
  assert.ok(!e.groups[1]!.includes(leader) && e.groups[1]!.length === 2);
  // The others elect a new leader while it is cut off.
  const healed = r.trace.findIndex((x, i) => i > cut && x.kind === "heal");
  const next = lastLeader(r.trace, healed);
  assert.ok(next !== null && next !== leader, "a new leader among the others");
});

test("an aimed fault with no leader does nothing", () => {
  // At tick 1 no node leads yet.
  const r = runWith([{ at: 1, kind: "crash-leader", down: 5 }, { at: 1, kind: "isolate-leader" }]);
  assert.ok(!r.trace.slice(0, 50).some((e) => e.kind === "aimed" || e.kind === "crash" || e.kind === "partition"));
});
