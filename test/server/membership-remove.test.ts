// Removing members from a live cluster (SPEC §10): a follower and the
// leader, with writes going on; one change at a time; a removed node that
// keeps running does not disturb the cluster, and cannot start again from
// its data directory.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { test } from "node:test";
import { exitOf, TestCluster } from "../helpers/cluster.js";
import { adminRequest, assertUndisturbed, change, settled, waitForMembers, Writer } from "./membership-support.js";
import { deadline, missingKeys, show, waitForLog, waitUntil } from "./support.js";

test("remove a follower, then the leader, under writes; a change while one is pending is refused; removed nodes stay out", async () => {
  // Election timeouts long enough that a leader whose followers are paused still leads for the two requests of step 1.
  const c = await TestCluster.start({ nodes: 4, electionTimeoutMs: [1500, 3000], heartbeatMs: 100 });
  const writer = new Writer(c, "remove");
  try {
    const leader = await c.waitForLeader(20_000);
    await writer.progress(50);
    const [x, y] = [1, 2, 3, 4].filter((id) => id !== leader);

    // 1. Pause two of the four voters: the change cannot commit, so it stays pending; a second one is refused.
    c.node(x!).process!.kill("SIGSTOP");
    c.node(y!).process!.kill("SIGSTOP");
    let first;
    try {
      first = await adminRequest(c, leader, "DELETE", `/members/${x}`);
      const second = await adminRequest(c, leader, "DELETE", `/members/${y}`);
      assert.equal(second?.status, 409, JSON.stringify(second?.body));
      assert.match(String(second!.body.error), /another membership change is pending/);
      const add = await adminRequest(c, leader, "POST", "/members", { id: 9, peer: "127.0.0.1:1", client: "127.0.0.1:2", admin: "127.0.0.1:3" });
      assert.equal(add?.status, 409, JSON.stringify(add?.body));
    } finally {
      c.node(x!).process!.kill("SIGCONT");
      c.node(y!).process!.kill("SIGCONT");
    }
    assert.equal(first?.status, 200, JSON.stringify(first?.body));
    const rest = [1, 2, 3, 4].filter((id) => id !== x);
    await waitForMembers(c, rest[0]!, `node ${x} removed`, settled(rest));
    writer.among = () => rest;
    await writer.progress(50);

    // 2. The removed node heard of it, keeps running, talks to nobody; /status says so.
    await waitUntil(`node ${x} knows it was removed`, async () => (await c.status(x!))?.membership.state === "removed", 20_000);
    await waitForLog(c.logPath(x!), '"event":"removed_from_cluster"');

    // 3. Remove the leader: it commits the change, then steps down; the others go on.
    const leader2 = await c.waitForLeader(20_000, rest);
    const removed = await change(c, "DELETE", `/members/${leader2}`, undefined, rest);
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    const rest2 = rest.filter((id) => id !== leader2);
    writer.among = () => rest2;
    await waitForMembers(c, rest2[0]!, `leader ${leader2} removed`, settled(rest2));
    const leader3 = await c.waitForLeader(20_000, rest2);
    assert.notEqual(leader3, leader2);
    await waitUntil(`node ${leader2} knows it was removed`, async () => {
      const s = await c.status(leader2);
      return s?.membership.state === "removed" && s.role !== "leader";
    }, 20_000);

    // 4. Both removed nodes keep running; the cluster's leader and term do not change while writes go on
    // (on a busy machine a member may hold an election of its own: the term moves only through those).
    const term = (await c.status(leader3))!.term;
    await writer.progress(200, 60_000);
    await assertUndisturbed(c, rest2, term, leader3);
    assert.ok(c.node(x!).process !== null && c.node(leader2).process !== null, "the removed nodes are still running");

    // 5. A removed node restarted from its data directory refuses to start (exit 2), saying why.
    await c.kill(x!);
    const again = c.startNode(x!);
    const exit = await Promise.race([exitOf(again), deadline(30_000, "still running after 30 s" as const)]);
    assert.equal(typeof exit === "string" ? exit : exit.code, 2);
    await waitForLog(c.logPath(x!), `raftkv server: cannot start node ${x}: node ${x} was removed from the cluster`);

    // (The read-back goes to the members: a removed node answers CLUSTERDOWN for good.)
    await c.kill(leader2);
    const acked = await writer.stop();
    assert.deepEqual(await missingKeys(c, acked), []);
  } finally {
    await writer.stop();
    await c.stop();
  }
});

test("a removed node that was down meanwhile learns of its removal when it comes back (the leader's /members), and the cluster's leader and term do not move; restarted again, it refuses to start", async () => {
  const c = await TestCluster.start({ nodes: 4 });
  const writer = new Writer(c, "unaware");
  try {
    const leader = await c.waitForLeader(20_000);
    const x = [1, 2, 3, 4].find((id) => id !== leader)!;
    await writer.progress(20);
    // Down, it misses its removal entirely.
    await c.kill(x);
    const rest = [1, 2, 3, 4].filter((id) => id !== x);
    writer.among = () => rest;
    const r = await change(c, "DELETE", `/members/${x}`, undefined, rest);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await waitForMembers(c, leader, `node ${x} removed`, settled(rest));
    // Restarted from its data directory, which does not show the removal, it starts believing it is a voter.
    // It hears from no leader (nobody sends to a non-member, the members refuse its connections), so it asks
    // the nodes it knows who the members are: the leader's committed configuration is newer and leaves it out.
    await c.restart(x);
    const term = (await c.status(leader))!.term;
    await waitUntil(`node ${x} learns it was removed`, async () => (await c.status(x))?.membership.state === "removed", 30_000);
    assert.match(await waitForLog(c.logPath(x), '"event":"removed_from_cluster"'), /nodes \d+, \d+, \d+ know a committed configuration without it/);
    assert.match(show(await c.command(x, "GET", "k")), /CLUSTERDOWN this node was removed from the cluster/);
    await writer.progress(200);
    await assertUndisturbed(c, rest, term, leader);
    // What it learnt is on its disk: restarted again, it refuses to start (exit 2), saying why, as one whose log shows its removal does.
    await c.kill(x);
    const exit = await Promise.race([exitOf(c.startNode(x)), deadline(30_000, "still running after 30 s" as const)]);
    assert.equal(typeof exit === "string" ? exit : exit.code, 2);
    assert.match(await waitForLog(c.logPath(x), `raftkv server: cannot start node ${x}: node ${x} was removed from the cluster while it was down`), /nodes \d+, \d+, \d+ reported a committed configuration without it \(index \d+\)/);
    const acked = await writer.stop();
    assert.deepEqual(await missingKeys(c, acked), []);
  } finally {
    await writer.stop();
    await c.stop();
  }
});

test("one forged /members answer does not make a member believe it was removed: it takes a majority of its voters", async () => {
  const c = await TestCluster.start({ nodes: 3 });
  const [x, y, z] = [1, 2, 3];
  let asked = 0;
  const squatter = createServer((req, res) => {
    asked++;
    // A committed configuration, far ahead, that leaves the member out: what the removal rule looks for.
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ leader: y, configIndex: 1_000_000, committed: true, joint: false, pending: null, members: [y, z].map((id) => ({ id, peer: null, client: null, admin: null, role: "voter", state: "voter", reachable: null, matchIndex: null })) }));
  });
  try {
    await c.waitForLeader(20_000);
    // x alone hears from no leader, so it asks the nodes it knows; y's admin port is held by another process, z is down.
    await c.kill(y);
    await c.kill(z);
    await new Promise<void>((resolve) => squatter.listen(c.node(y).adminPort, c.node(y).host, resolve));
    await waitUntil("two rounds of discovery at x, or a verdict", async () => asked >= 2 || (await c.status(x))?.membership.state === "removed", 30_000);
    assert.equal((await c.status(x))?.membership.state, "voter");
    assert.doesNotMatch(readFileSync(c.logPath(x), "utf8"), /removed_from_cluster/);
  } finally {
    squatter.close();
    await c.stop();
  }
});
