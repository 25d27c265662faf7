// Storage faults in the simulator (docs/STORAGE.md): disks that lose their
// tail, a damaged entry, their snapshot, their term and vote, or everything,
// on at most a minority of the servers at a time. Every invariant must hold,
// every damaged server must recover once the faults end (the "Recovery"
// check), and the histories must stay linearizable.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FAULTS, generatePlan, type Fault } from "../../src/sim/plan.js";
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
      for (const line of r.trace) {
        const m = / DISK FAULT: (.*)$/.exec(line);
        if (m && !m[1]!.startsWith("lost nothing")) seen.set(m[1]!, (seen.get(m[1]!) ?? 0) + 1);
      }
    }
    assert.deepEqual([...seen.keys()].sort(), [
      "a damaged entry (cut from there)",
      "lost its snapshot, and the log after it",
      "lost its term and vote",
      "lost its whole data directory",
      "lost the tail of its log",
    ]);
  });

  test("never more than a minority damaged at once: a fault that would make a majority is skipped", () => {
    // Every 3-node run with many storage faults: the trace never shows two damaged servers at once.
    for (let seed = 1; seed <= 30; seed++) {
      const r = runSeed({ seed, nodes: 3, steps: 1000, faults: new Set<Fault>(["disk"]) }, { trace: true });
      assert.equal(r.violation, null, `seed ${seed}: ${r.violation?.message}`);
      const damaged = new Set<string>();
      for (const line of r.trace) {
        const fault = /(n\d+) DISK FAULT: (.*)$/.exec(line);
        if (fault && !fault[2]!.startsWith("lost nothing")) damaged.add(fault[1]!);
        const back = /(n\d+) recovered from its storage fault/.exec(line);
        if (back) damaged.delete(back[1]!);
        assert.ok(damaged.size <= 1, `seed ${seed}: ${[...damaged].join(", ")} damaged at once (${line})`);
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
