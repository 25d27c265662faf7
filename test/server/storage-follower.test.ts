// Storage faults on a follower (docs/STORAGE.md): each one found, recovered
// through the protocol, nothing acknowledged lost, no operator needed.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TestCluster } from "../helpers/cluster.js";
import { FAULTS, assertAllReadable, damage, waitInSync, writeAcknowledged } from "./storage-support.js";
import { storageScenario } from "./storage-scenario.js";

describe("a follower's disk loses or damages what it had written", () => {
  for (const fault of FAULTS) test(fault, { timeout: 120_000 }, () => storageScenario(fault, "follower"));
});

test("the other follower is down too: the leader repairs the damaged follower at once, and writes go on with two of three nodes", { timeout: 120_000 }, async () => {
  const c = await TestCluster.start({ nodes: 3, walSegmentBytes: 4096, snapshotEvery: 1_000_000 });
  try {
    const leader = await c.waitForLeader(15_000);
    const [damaged, other] = c.nodes.filter((n) => n.id !== leader).map((n) => n.id) as [number, number];
    const written = await writeAcknowledged(c, "before", 150);
    await waitInSync(c, damaged);
    await c.kill(other, "SIGKILL");
    await c.kill(damaged, "SIGKILL");
    damage(c.dataDir(damaged), "tail truncated");
    await c.restart(damaged);
    // No leader change, no operator: the same leader repairs it, and a majority (leader + repaired follower) commits.
    for (const [k, v] of await writeAcknowledged(c, "after", 20)) written.set(k, v);
    assert.equal(await c.waitForLeader(15_000), leader, "the leader stayed");
    await assertAllReadable(c, written);
  } finally {
    await c.stop();
  }
});
