// Replacing a dead node while writes go on (SPEC §10, docs/MEMBERSHIP.md):
// add a new node on a new address (it joins empty and is promoted once caught
// up), then remove the dead one. Nothing acknowledged is lost, and clients
// that knew only the old nodes find the new one through /status and MOVED.

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join as joinPath } from "node:path";
import { test } from "node:test";
import { TestCluster } from "../helpers/cluster.js";
import { addMember, change, join, settled, waitForMembers, Writer } from "./membership-support.js";
import { missingKeys, show } from "./support.js";

test("replace a dead node: add the new one, then remove the dead one, while writes continue", async () => {
  const c = await TestCluster.start({ nodes: 5, initial: 3 });
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

    // Another new node whose cluster file names only itself and a follower (an old membership, say):
    // it learns the live members from that follower's /members and accepts the leader, which it was not told of.
    const oldFile = joinPath(c.dir, "old-membership.json");
    const entry = (id: number) => ({ id, peer: `${c.node(id).host}:${c.node(id).peerPort}`, client: `${c.node(id).host}:${c.node(id).clientPort}`, admin: `${c.node(id).host}:${c.node(id).adminPort}` });
    writeFileSync(oldFile, JSON.stringify({ nodes: [entry(follower), entry(5)] }));
    c.startNode(5, ["--join"], oldFile);
    await c.waitForPort(5);
    const added5 = await addMember(c, 5, false, [2, 4]);
    assert.equal(added5.status, 200, JSON.stringify(added5.body));
    await waitForMembers(c, 5, "node 5 promoted, as node 5 sees it", settled([1, 2, 4, 5]), 60_000);

    const acked = await writer.stop();
    assert.deepEqual(await missingKeys(c, acked), []);
  } finally {
    await writer.stop();
    await c.stop();
  }
});
