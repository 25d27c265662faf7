// Storage faults in the simulator (docs/STORAGE.md): disks that lose their
// tail, a damaged entry, their snapshot, their term and vote, or everything,
// on at most a minority of the servers at a time. Every invariant must hold,
// every damaged server must recover once the faults end (the "Recovery"
// check), and the histories must stay linearizable.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DAMAGE, FAULTS, generatePlan, type Fault } from "../../src/sim/plan.js";
import { renderLine } from "../../src/sim/trace.js";
import { runPlan, runSeed } from "../../src/sim/run.js";

const ALL = new Set<Fault>(FAULTS);

describe("storage faults in the simulator", () => {
  test("300 runs with every fault, storage faults included (3, 5 and 7 servers): no invariant broken, every damaged server recovers", () => {
    let faults = 0;
    let recoveries = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const nodes = seed % 10 === 0 ? 7 : seed % 2 === 0 ? 5 : 3;
      const r = runSeed({ seed: seed * 2654435761 + nodes, nodes, steps: 1000, faults: ALL });
      assert.equal(r.violation, null, `seed ${seed * 2654435761 + nodes} (${nodes} nodes): ${r.violation?.invariant}: ${r.violation?.message}`);
      faults += r.stats.storageFaults;
      recoveries += r.stats.recoveries;
    }
    // The runs must really have damaged disks, and the servers really recovered (not just idled).
    assert.ok(faults > 500, `${faults} storage faults`);
    assert.ok(recoveries >= faults * 0.9, `${recoveries} recoveries for ${faults} faults`);
  });

  test("each kind of damage happens and is recovered from", () => {
    const seen = new Map<string, number>();
    for (let seed = 1; seed <= 40; seed++) {
      const r = runSeed({ seed, nodes: 3, steps: 1000, faults: ALL }, { trace: true });
      assert.equal(r.violation, null, `seed ${seed}: ${r.violation?.message}`);
      for (const e of r.trace) if (e.kind === "damage" && !e.harmless) seen.set(e.damage, (seen.get(e.damage) ?? 0) + 1);
    }
    assert.deepEqual([...seen.keys()].sort(), [...DAMAGE].sort());
  });

  test("never more than a minority damaged at once: a fault that would make a majority is skipped", () => {
    // Every 3-node run with many storage faults: the trace never shows two damaged servers at once.
    for (let seed = 1; seed <= 30; seed++) {
      const r = runSeed({ seed, nodes: 3, steps: 1000, faults: new Set<Fault>(["disk"]) }, { trace: true });
      assert.equal(r.violation, null, `seed ${seed}: ${r.violation?.message}`);
      const damaged = new Set<number>();
      for (const e of r.trace) {
        if (e.kind === "damage" && !e.harmless) damaged.add(e.node);
        if (e.kind === "recovered") damaged.delete(e.node);
        assert.ok(damaged.size <= 1, `seed ${seed}: ${[...damaged].map((n) => `n${n}`).join(", ")} damaged at once (${renderLine(e)})`);
      }
    }
  });

  test("a run without storage faults is the run it was: disk faults are drawn from a stream of their own", () => {
    const without = generatePlan({ seed: 99, nodes: 3, steps: 1000, faults: new Set(FAULTS.filter((f) => f !== "disk")) });
    const withDisk = generatePlan({ seed: 99, nodes: 3, steps: 1000, faults: ALL });
    assert.deepEqual(
      withDisk.events.filter((e) => e.kind !== "damage"),
      without.events,
    );
    assert.ok(withDisk.events.some((e) => e.kind === "damage"));
    assert.equal(runPlan(without).violation, null);
  });
});
