// When a majority of the nodes lost data they had acknowledged, nothing can
// be recovered through the protocol (docs/STORAGE.md): the damaged nodes stop,
// each with one line that says what was lost and what to do, instead of
// waiting forever; --accept-data-loss is the operator's way back.

import assert from "node:assert/strict";
import { test } from "node:test";
import { exitOf, TestCluster } from "../helpers/cluster.js";
import { deadline, readLog, waitForLog } from "./support.js";
import { damage, writeAcknowledged } from "./storage-support.js";

test("a majority damaged: the damaged nodes stop, saying so; restarted with --accept-data-loss, the cluster serves again", { timeout: 300_000 }, async () => {
  const c = await TestCluster.start({ nodes: 3, walSegmentBytes: 4096, snapshotEvery: 1_000_000 });
  try {
    await c.waitForLeader(15_000);
    await writeAcknowledged(c, "k", 150);
    for (const n of c.nodes) await c.kill(n.id, "SIGKILL");
    damage(c.dataDir(1), "tail truncated");
    damage(c.dataDir(2), "tail truncated");
    // Node 3, the one intact node, stays down: no leader can ever be elected.
    // Bounded, so that a node that never stops fails the test here and is killed in `finally` (an unbounded wait kept the whole suite waiting once).
    const exits = [1, 2].map((id) => Promise.race([exitOf(c.startNode(id)), deadline(150_000, "still running after 150 s" as const)]));
    for (const [i, exit] of (await Promise.all(exits)).entries()) {
      assert.deepEqual(exit, { code: 1, signal: null }, `node ${i + 1} stopped`);
      const line = readLog(c.logPath(i + 1))
        .split("\n")
        .find((l) => l.includes('"event":"cannot_recover"'));
      assert.ok(line, `node ${i + 1} said why`);
      assert.match(line, /a majority of the cluster's nodes \(this one included\) lost data/);
      assert.match(line, /--accept-data-loss/);
    }
    for (const id of [1, 2]) c.startNode(id, ["--accept-data-loss"]);
    await waitForLog(c.logPath(1), /data_loss_accepted/, 60_000);
    await c.waitForLeader(20_000, [1, 2]);
    const after = await writeAcknowledged(c, "after", 5);
    assert.equal(after.size, 5);
  } finally {
    await c.stop();
  }
});
