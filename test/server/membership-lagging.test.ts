// A node whose log is behind the configuration that brought in the current
// leader (SPEC §10): its own configuration does not name that leader, whose
// connections it would refuse, so it could never catch up. Found by
// test/e2e/membership-fault.test.ts: a new node catching up from a snapshot
// taken before the leader was added; and a voter that was down while the
// leader was added. Such a node asks the members it knows (GET /members) who
// the members are now and accepts them until its log has caught up.

import assert from "node:assert/strict";
import { test } from "node:test";
import { TestCluster } from "../helpers/cluster.js";
import { addMember, change, join, settled, waitForMembers, Writer } from "./membership-support.js";
import { missingKeys, waitUntil } from "./support.js";

/** Adds node `id` (started with --join), promoted once caught up, and waits until the configuration is `voters`. */
async function grow(c: TestCluster, id: number, voters: number[], via: number[]): Promise<void> {
  await join(c, id);
  const added = await addMember(c, id, false, via);
  assert.equal(added.status, 200, JSON.stringify(added.body));
  await waitForMembers(c, via[0]!, `node ${id} promoted`, settled(voters), 60_000);
}

/** Asks the leader to hand its leadership to node `to`; waits until it leads. */
async function transferTo(c: TestCluster, to: number, among: number[]): Promise<void> {
  const leader = await c.waitForLeader(20_000, among);
  if (leader === to) return;
  const n = c.node(leader);
  const res = await fetch(`http://${n.host}:${n.adminPort}/transfer-leadership?to=${to}`, { method: "POST" });
  assert.equal(res.status, 200, await res.text());
  assert.equal(await c.waitForLeader(20_000, among), to);
}

test("a new node catching up from a snapshot taken before the leader was added accepts that leader", async () => {
  // The leader's snapshot (every 100 entries) predates node 4's addition: its configuration names 1, 2, 3 only.
  const c = await TestCluster.start({ nodes: 5, initial: 3, snapshotEvery: 100 });
  const writer = new Writer(c, "lag");
  try {
    await c.waitForLeader(20_000);
    await writer.progress(150);
    // No more writes: node 4 must not take a newer snapshot of its own.
    const acked = await writer.stop();
    // Node 4 joins from that snapshot (and the log after it), and takes over: it keeps the snapshot, which does not name it.
    await grow(c, 4, [1, 2, 3, 4], [1, 2, 3]);
    await transferTo(c, 4, [1, 2, 3, 4]);
    const s4 = await c.status(4);
    assert.ok(s4!.snapshotIndex > 0 && s4!.snapshotIndex < s4!.membership.configIndex, `node 4's snapshot (${s4!.snapshotIndex}) is older than its configuration (${s4!.membership.configIndex})`);
    // Node 5 needs that snapshot: once installed, its configuration is {1, 2, 3}, and the leader is node 4.
    await grow(c, 5, [1, 2, 3, 4, 5], [4, 1, 2, 3]);
    assert.deepEqual(await missingKeys(c, acked), []);
  } finally {
    await writer.stop();
    await c.stop();
  }
});

test("a voter that was down while the leader was added catches up from that leader", async () => {
  const c = await TestCluster.start({ nodes: 4, initial: 3 });
  const writer = new Writer(c, "down");
  try {
    await c.waitForLeader(20_000);
    await writer.progress(20);
    await c.kill(3);
    await grow(c, 4, [1, 2, 3, 4], [1, 2]);
    await transferTo(c, 4, [1, 2, 4]);
    await writer.progress(20);
    // Node 3 comes back: its log names 1, 2, 3 and none of them leads.
    await c.restart(3);
    const leader = await c.status(4);
    await waitUntil("node 3 to follow node 4 and apply what it missed", async () => {
      const s = await c.status(3);
      return s !== null && s.leader === 4 && s.lastApplied >= leader!.commitIndex;
    }, 30_000);
    // And it counts again: once node 1 is removed, nodes 3 and 4 are a majority of {2, 3, 4} without node 2.
    const removed = await change(c, "DELETE", "/members/1", undefined, [4]);
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    await waitForMembers(c, 4, "node 1 removed", settled([2, 3, 4]));
    await c.kill(1);
    await c.kill(2);
    await writer.progress(20, 30_000);
    const acked = await writer.stop();
    assert.deepEqual(await missingKeys(c, acked), []);
  } finally {
    await writer.stop();
    await c.stop();
  }
});

test("a voter that was down while the others changed, needed for a quorum with no leader left: given a cluster file naming a current member, it and the new voter elect one", async () => {
  const c = await TestCluster.start({ nodes: 4, initial: 3 });
  const writer = new Writer(c, "noleader");
  try {
    await c.waitForLeader(20_000);
    await writer.progress(20);
    // Node 1 misses node 4's addition and node 3's removal: its log names 1, 2, 3.
    await c.kill(1);
    writer.among = () => [2, 3, 4];
    await grow(c, 4, [1, 2, 3, 4], [2, 3]);
    const removed = await change(c, "DELETE", "/members/3", undefined, [2, 3, 4]);
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    await waitForMembers(c, 4, "node 3 removed", settled([1, 2, 4]));
    await writer.progress(20);
    // Node 2 dies for good and node 3 is stopped: of the voters {1, 2, 4} only node 4 runs, so there is no leader.
    await c.kill(2);
    await c.kill(3);
    // Node 1 comes back. Nothing its data names can tell it of node 4, and no leader will contact it; node 4's
    // connections are refused (a stranger). Its cluster file, naming node 4, is where it asks (GET /members).
    c.startNode(1, [], c.allConfigPath);
    await c.waitForPort(1);
    writer.among = () => [1, 4];
    const leader = await c.waitForLeader(30_000, [1, 4]);
    assert.ok([1, 4].includes(leader));
    await writer.progress(20, 30_000);
    const acked = await writer.stop();
    assert.deepEqual(await missingKeys(c, acked), []);
  } finally {
    await writer.stop();
    await c.stop();
  }
});
