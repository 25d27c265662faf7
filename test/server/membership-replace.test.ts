// Replacing a dead node while writes go on (SPEC §10, docs/MEMBERSHIP.md):
// add a new node on a new address (it joins empty and is promoted once caught
// up), then remove the dead one. Nothing acknowledged is lost, and clients
// that knew only the old nodes find the new one through /status and MOVED.

import assert from "node:assert/strict";
import { test } from "node:test";
import { TestCluster } from "../helpers/cluster.js";
import { addMember, change, join, settled, waitForMembers, Writer } from "./membership-support.js";
import { missingKeys, show } from "./support.js";

test("replace a dead node: add the new one, then remove the dead one, while writes continue", async () => {
  const c = await TestCluster.start({ nodes: 4, initial: 3 });
  const writer = new Writer(c, "replace");
  try {
    await c.waitForLeader(20_000);
    await writer.progress(100);
    // Node 3's machine dies for good.
    await c.kill(3);
    await writer.progress(50);

    await join(c, 4);
    const added = await addMember(c, 4);
    assert.equal(added.status, 200, JSON.stringify(added.body));
    await waitForMembers(c, 1, "node 4 promoted", settled([1, 2, 3, 4]), 60_000);
    await writer.progress(50);
    const removed = await change(c, "DELETE", "/members/3");
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    await waitForMembers(c, 1, "node 3 removed", settled([1, 2, 4]));
    await writer.progress(50);

    // The new node is a full voter: with node 1 gone too, nodes 2 and 4 still make a majority.
    await c.kill(1);
    await writer.progress(50, 60_000);
    const leader = await c.waitForLeader(20_000, [2, 4]);
    const follower = leader === 2 ? 4 : 2;
    // A follower's MOVED names the leader's client address, whichever of them it is.
    const moved = show(await c.command(follower, "SET", "x", "1"));
    assert.equal(moved, `-MOVED 0 ${c.node(leader).host}:${c.node(leader).clientPort}`);

    const acked = await writer.stop();
    assert.deepEqual(await missingKeys(c, acked), []);
  } finally {
    await writer.stop();
    await c.stop();
  }
});
