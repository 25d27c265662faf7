// Replication between real `raftkv server` processes: acknowledged writes are
// committed and applied everywhere, reads go through the leader (SPEC §4, §5).

import assert from "node:assert/strict";
import { test } from "node:test";
import { TestCluster } from "../helpers/cluster.js";
import { missingKeys, show, waitForApplied, writeKeys } from "./support.js";

test("writes through the leader commit, are applied on every node, and read back", async () => {
  // Wide election timeouts: the checks below assume the leader does not change on a loaded machine.
  const c = await TestCluster.start({ nodes: 3, electionTimeoutMs: [500, 1000] });
  try {
    const leader = await c.waitForLeader(15_000);
    const written = await writeKeys(c, "rep", 40);

    const ls = await c.status(leader);
    assert.ok(ls, "the leader answers /status");
    // 40 writes (and the leader's no-op) are committed.
    assert.ok(ls.commitIndex >= 40, `commitIndex ${ls.commitIndex} covers the 40 writes`);
    for (const n of c.nodes) {
      const s = await waitForApplied(c, n.id, ls.commitIndex);
      assert.ok(s.lastLogIndex >= ls.commitIndex, `node ${n.id} holds the committed log (lastLogIndex ${s.lastLogIndex})`);
    }
    assert.deepEqual(await missingKeys(c, written), []);

    // A follower never answers a read itself: it points at the leader.
    const leaderAddress = `${c.node(leader).host}:${c.node(leader).clientPort}`;
    for (const n of c.nodes.filter((x) => x.id !== leader)) {
      assert.equal(show(await c.command(n.id, "GET", "rep-0")), `-MOVED 0 ${leaderAddress}`);
      assert.equal(show(await c.command(n.id, "SET", "rep-0", "other")), `-MOVED 0 ${leaderAddress}`);
    }
    assert.equal(show(await c.command(leader, "GET", "rep-0")), "$value-rep-0", "the refused SET on a follower changed nothing");
  } finally {
    await c.stop();
  }
});
