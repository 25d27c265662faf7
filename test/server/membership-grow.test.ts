// Growing a live cluster from 3 to 5 nodes under a write load (SPEC §10):
// each new node starts empty with --join, is added as a learner, catches up
// from a snapshot and the log, and is promoted automatically once caught up.
// Nothing acknowledged is lost; clients learn the new members from /status.

import assert from "node:assert/strict";
import { test } from "node:test";
import { TestCluster } from "../helpers/cluster.js";
import { addMember, change, join, members, settled, shape, waitForMembers, Writer } from "./membership-support.js";
import { missingKeys, waitForLog, waitUntil } from "./support.js";

test("grow 3 -> 5 under writes: learners first, promoted once caught up; every acknowledged write survives", async () => {
  // A small snapshotEvery: the new nodes must catch up from a snapshot, then the log.
  const c = await TestCluster.start({ nodes: 5, initial: 3, snapshotEvery: 200 });
  const writer = new Writer(c, "grow");
  try {
    const leader = await c.waitForLeader(20_000);
    const before = await members(c, leader);
    assert.equal(shape(before!), "voters 1,2,3 learners ");
    assert.equal(before!.configIndex, 0, "the bootstrap configuration (the cluster file)");
    await writer.progress(300);

    for (const id of [4, 5]) {
      await join(c, id);
      const s = await c.status(id);
      assert.equal(s!.membership.state, "joining", "a joiner waits, not a member yet");
      assert.equal(s!.role, "follower");
      // Its log does not present the cluster file's other nodes (node 5 among them for node 4) as its configuration: only as whom it asks.
      const written = JSON.parse((await waitForLog(c.logPath(id), /[^\n]*"event":"members_file_written"[^\n]*/)).match(/[^\n]*"event":"members_file_written"[^\n]*/)![0]) as Record<string, unknown>;
      assert.deepEqual([written.bootstrap, written.asks, written.join], [undefined, [1, 2, 3, 4, 5].filter((x) => x !== id), true]);
      const started = JSON.parse((await waitForLog(c.logPath(id), '"event":"started"')).match(/[^\n]*"event":"started"[^\n]*/)![0]) as Record<string, unknown>;
      assert.deepEqual([started.members, started.membership], [undefined, "joining"]);
      const added = await addMember(c, id);
      assert.equal(added.status, 200, JSON.stringify(added.body));
      // Promotion waits for the catch-up; meanwhile it is a learner to be promoted.
      const voters = id === 4 ? [1, 2, 3, 4] : [1, 2, 3, 4, 5];
      await waitForMembers(c, 1, `node ${id} promoted`, settled(voters), 60_000);
      await writer.progress(100);
    }

    // The new nodes caught up from a snapshot (the log before it was gone) and follow the leader.
    for (const id of [4, 5]) {
      const s = await waitUntil(`node ${id} applied`, async () => {
        const s = await c.status(id);
        return s !== null && s.snapshotIndex > 0 && s.membership.state === "voter" && s.leader !== null ? s : null;
      }, 30_000);
      assert.equal(s.membership.committed, true);
    }
    // /status names the new members with their addresses: clients find them without a new cluster file.
    const status = await c.status(1);
    assert.deepEqual(status!.nodes.map((n) => n.id), [1, 2, 3, 4, 5]);
    assert.equal(status!.nodes[4]!.client, `${c.node(5).host}:${c.node(5).clientPort}`);

    // A five-node cluster survives two nodes down: kill two of the original ones.
    const leaderNow = await c.waitForLeader(20_000);
    const victims = [1, 2, 3].filter((id) => id !== leaderNow).slice(0, 2);
    for (const id of victims) await c.kill(id);
    await writer.progress(50, 60_000);
    const acked = await writer.stop();
    const list = await change(c, "GET", "/members");
    assert.equal(list.status, 200);
    assert.deepEqual(await missingKeys(c, acked), []);
  } finally {
    await writer.stop();
    await c.stop();
  }
});
