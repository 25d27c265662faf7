// Elections between real `raftkv server` processes (SPEC §2, §5).

import assert from "node:assert/strict";
import { test } from "node:test";
import { TestCluster } from "../helpers/cluster.js";

for (const size of [3, 5]) {
  test(`a ${size}-node cluster elects exactly one leader that every node follows, in one term`, async () => {
    const c = await TestCluster.start({ nodes: size });
    try {
      const leader = await c.waitForLeader(15_000);
      const statuses = await Promise.all(c.nodes.map((n) => c.status(n.id)));
      const live = statuses.filter((s) => s !== null);
      assert.equal(live.length, size, "every node answers /status");
      assert.deepEqual(
        live.filter((s) => s.role === "leader").map((s) => s.id),
        [leader],
        "exactly one node calls itself leader",
      );
      const term = live.find((s) => s.id === leader)!.term;
      assert.ok(term >= 1, `the leader's term is ${term}`);
      for (const s of live) {
        assert.equal(s.term, term, `node ${s.id} is in the leader's term`);
        assert.equal(s.leader, leader, `node ${s.id} follows node ${leader}`);
        if (s.id !== leader) assert.equal(s.role, "follower", `node ${s.id} is a follower`);
      }
      // The leader has a (reachable) progress entry for every other node.
      const ls = live.find((s) => s.id === leader)!;
      assert.deepEqual(
        ls.peers.map((p) => p.id).sort((a, b) => a - b),
        c.nodes.map((n) => n.id).filter((id) => id !== leader),
      );
      assert.ok(ls.peers.every((p) => p.reachable), `the leader reaches every peer: ${JSON.stringify(ls.peers)}`);
    } finally {
      await c.stop();
    }
  });
}
