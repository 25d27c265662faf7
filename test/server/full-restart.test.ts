// A whole cluster stopped with SIGTERM and started again (SPEC §4: an
// acknowledged write survives "a restart of the whole cluster"; §6: a clean
// stop exits 0 within 2 s).

import assert from "node:assert/strict";
import { test } from "node:test";
import { TestCluster } from "../helpers/cluster.js";
import { missingKeys, stopNode, waitForAllApplied, writeKeys } from "./support.js";

test("after SIGTERM of every node and a fresh start, the keys and the log are back", async (t) => {
  const c = await TestCluster.start({ nodes: 3 });
  try {
    await c.waitForLeader(15_000);
    const written = await writeKeys(c, "durable", 30);
    const commitIndex = await waitForAllApplied(c);
    const before = new Map<number, number>();
    for (const n of c.nodes) before.set(n.id, (await c.status(n.id))!.lastLogIndex);

    const exits = await Promise.all(c.nodes.map((n) => stopNode(c, t, n.id, "SIGTERM")));
    for (const exit of exits) assert.deepEqual(exit, { code: 0, signal: null });

    for (const n of c.nodes) c.startNode(n.id);
    await Promise.all(c.nodes.map((n) => c.waitForPort(n.id)));
    for (const n of c.nodes) {
      const s = (await c.status(n.id))!;
      assert.ok(s.lastLogIndex >= before.get(n.id)!, `node ${n.id} came back with lastLogIndex ${s.lastLogIndex}, had ${before.get(n.id)}`);
    }
    await c.waitForLeader(15_000);
    assert.deepEqual(await missingKeys(c, written), []);
    const newCommit = await waitForAllApplied(c);
    assert.ok(newCommit > commitIndex, `commitIndex ${newCommit} passes the old ${commitIndex} (the new leader's no-op and the reads)`);
  } finally {
    await c.stop();
  }
});
