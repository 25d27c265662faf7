// `raftkv move-leader [ID]` and POST /transfer-leadership on a real cluster:
// the leader hands its leadership over (thesis §3.10), the named node leads
// the next term, and mistakes are refused with the right exit code.

import assert from "node:assert/strict";
import { test } from "node:test";
import { TestCluster } from "../helpers/cluster.js";
import { runRaftkv } from "./support.js";

test("raftkv move-leader hands leadership to the node named (or the best follower), and refuses what makes no sense", async () => {
  // Long election timeouts: any change of leader within them comes from a transfer.
  const c = await TestCluster.start({ nodes: 3, electionTimeoutMs: [2000, 4000], heartbeatMs: 100 });
  try {
    const leader = await c.waitForLeader(20_000);
    const term = (await c.status(leader))!.term;
    const target = c.nodes.map((n) => n.id).find((id) => id !== leader)!;

    const moved = await runRaftkv(["move-leader", String(target), "--config", c.configPath]);
    assert.equal(moved.code, 0, moved.stderr);
    assert.equal(moved.stdout, `node ${target} now leads (term ${term + 1}), was node ${leader}\n`);
    assert.equal(await c.waitForLeader(10_000), target);

    const again = await runRaftkv(["move-leader", String(target), "--config", c.configPath]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, `node ${target} already leads (term ${term + 1})\n`);

    const any = await runRaftkv(["move-leader", "--config", c.configPath]);
    assert.equal(any.code, 0, any.stderr);
    assert.match(any.stdout, new RegExp(`^node \\d now leads \\(term ${term + 2}\\), was node ${target}\\n$`));
    const third = await c.waitForLeader(10_000);
    assert.notEqual(third, target);

    const unknown = await runRaftkv(["move-leader", "9", "--config", c.configPath]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /node 9 is not in the cluster file \(ids: 1, 2, 3\)/);

    // The admin endpoint itself: a follower refuses, naming the leader.
    const follower = c.node(c.nodes.map((n) => n.id).find((id) => id !== third)!);
    const res = await fetch(`http://${follower.host}:${follower.adminPort}/transfer-leadership`, { method: "POST" });
    assert.equal(res.status, 409);
    assert.deepEqual(await res.json(), { error: "this node is not the leader", leader: third });
    const get = await fetch(`http://${follower.host}:${follower.adminPort}/transfer-leadership`);
    assert.equal(get.status, 405);
  } finally {
    await c.stop();
  }
});
