// Membership edge cases on real processes (SPEC §10): the one- and
// two-member changes that wedge clusters (etcd issues 1994, 7464, 6420), the
// admin port's refusals, and a leader removed and killed before its removal
// commits (openraft issue 2091).

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { test } from "node:test";
import { TestCluster } from "../helpers/cluster.js";
import { adminRequest, addMember, change, join, members, settled, waitForMembers } from "./membership-support.js";
import { runRaftkv, show, waitUntil } from "./support.js";

test("one and two members: an unreachable voter is never added, removing one of two needs both, the leader of two can leave", async () => {
  // Long election timeouts: a leader keeps leading for a while after its only follower dies (check-quorum).
  const c = await TestCluster.start({ nodes: 2, initial: 1, electionTimeoutMs: [4000, 8000], heartbeatMs: 100 });
  try {
    await c.waitForLeader(20_000);
    // Node 2 is added as a learner but never started: it cannot become a voter (that would need it for every commit).
    const added = await addMember(c, 2, true);
    assert.equal(added.status, 200, JSON.stringify(added.body));
    for (const force of ["", "?force=1"]) {
      const promote = await change(c, "POST", `/members/2/promote${force}`);
      assert.equal(promote.status, 409, JSON.stringify(promote.body));
      assert.match(String(promote.body.error), /^node 2 is not caught up: node 2 has not answered the leader within the last election timeout/);
    }
    // The one-node cluster still serves.
    assert.equal(show(await c.leaderCommand(10_000, "SET", "k", "v")), "+OK");

    // Started, it catches up and can be promoted: two voters.
    await join(c, 2);
    const promoted = await waitUntil("node 2 promoted", async () => {
      const r = await change(c, "POST", "/members/2/promote");
      return r.status === 200 ? r : null;
    }, 30_000);
    assert.equal(promoted.status, 200);
    await waitForMembers(c, 1, "two voters", settled([1, 2]));

    // Node 2 dies: removing it would need the joint configuration committed by both voters. Refused, saying so.
    await c.kill(2);
    await waitForMembers(c, 1, "node 2 unreachable", (m) => m.members.find((x) => x.id === 2)?.reachable === false, 10_000);
    const refused = await adminRequest(c, 1, "DELETE", "/members/2");
    assert.equal(refused?.status, 422, JSON.stringify(refused?.body));
    assert.match(String(refused!.body.error), /removing node 2 is refused: the change needs a majority of the current voters \{1, 2\} \(2\) to commit, but only 1 is reachable \(node 2 is not\)/);
    assert.match(String(refused!.body.error), /with two voters, removing one needs both/);
    assert.match(String(refused!.body.error), /add \?force=1/);

    // Back again, the leader of two may remove itself: node 2 goes on alone.
    c.startNode(2, [], c.allConfigPath);
    await c.waitForPort(2);
    await waitForMembers(c, 1, "node 2 back", (m) => m.members.find((x) => x.id === 2)?.reachable === true, 20_000);
    const leader = await c.waitForLeader(20_000);
    const other = leader === 1 ? 2 : 1;
    const left = await change(c, "DELETE", `/members/${leader}`);
    assert.equal(left.status, 200, JSON.stringify(left.body));
    await waitForMembers(c, other, "one voter left", settled([other]));
    assert.equal(await c.waitForLeader(20_000, [other]), other);
    assert.equal(show(await c.command(other, "GET", "k")), "$v");
  } finally {
    await c.stop();
  }
});

test("a learner to be promoted automatically that cannot be yet: /members and `raftkv member list` say why; once it can, it is", async () => {
  const c = await TestCluster.start({ nodes: 2, initial: 1 });
  try {
    await c.waitForLeader(20_000);
    // Node 2 is added (to be promoted once caught up) but not started yet.
    const added = await addMember(c, 2);
    assert.equal(added.status, 200, JSON.stringify(added.body));
    const waiting = await waitForMembers(c, 1, "node 2 joining", (m) => m.committed && m.members.some((x) => x.id === 2 && x.state === "joining" && x.waiting !== null));
    assert.match(waiting.members.find((x) => x.id === 2)!.waiting!, /^node 2 has not answered the leader within the last election timeout$/);
    assert.equal(waiting.members.find((x) => x.id === 1)!.waiting, null, "a voter waits for nothing");
    // Asking again says what it is: joining, not a plain learner.
    const again = await addMember(c, 2);
    assert.equal(again.status, 409);
    assert.match(String(again.body.error), /node 2 is already a member \(joining\)/);
    const list = await runRaftkv(["member", "list", "--config", c.configPath], 20_000);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^node 2 is joining: the leader promotes it once it can; not yet: node 2 has not answered the leader within the last election timeout$/m);
    // Started, it catches up and the leader promotes it by itself.
    await join(c, 2);
    const done = await waitForMembers(c, 1, "node 2 promoted", settled([1, 2]), 30_000);
    assert.ok(done.members.every((x) => x.waiting === null));
    const follower = await waitForMembers(c, 2, "node 2 knows it is a voter", settled([1, 2]), 30_000);
    assert.ok(follower.members.every((x) => x.waiting === null));
  } finally {
    await c.stop();
  }
});

test("the admin port's membership requests: bad input, followers, not members, the token", async () => {
  const c = await TestCluster.start({ nodes: 3, extra: (dir) => ({ adminTokenFile: tokenFile(dir) }) });
  try {
    const leader = await c.waitForLeader(20_000);
    const follower = [1, 2, 3].find((id) => id !== leader)!;
    const auth = { authorization: `Bearer ${TOKEN}` };
    const req = async (id: number, method: string, path: string, body?: string, headers: Record<string, string> = auth) => {
      const n = c.node(id);
      const res = await fetch(`http://${n.host}:${n.adminPort}${path}`, { method, headers, ...(body !== undefined && { body }) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    // Reading needs no token; any node answers.
    const list = await members(c, follower);
    assert.equal(list!.leader, leader);
    assert.deepEqual(list!.members.map((m) => [m.id, m.role, m.state, m.reachable]), [1, 2, 3].map((id) => [id, "voter", "voter", null]));
    const fromLeader = await members(c, leader);
    assert.ok(fromLeader!.members.every((m) => m.reachable === true && typeof m.matchIndex === "number"));

    const body = (o: object) => JSON.stringify({ id: 7, peer: "127.0.0.1:17001", client: "127.0.0.1:16381", admin: "127.0.0.1:18081", ...o });
    assert.equal((await req(leader, "POST", "/members", body({}), {})).status, 401, "no token");
    assert.equal((await req(leader, "DELETE", "/members/2", undefined, { authorization: "Bearer wrong" })).status, 401);
    const moved = await req(follower, "POST", "/members", body({}));
    assert.equal(moved.status, 421);
    assert.equal(moved.body.leader, leader);
    assert.equal(moved.body.admin, `${c.node(leader).host}:${c.node(leader).adminPort}`);
    assert.equal((await req(leader, "POST", "/members", "{not json")).status, 400);
    assert.match(String((await req(leader, "POST", "/members", body({ id: 0 }))).body.error), /"id" must be a positive integer/);
    assert.match(String((await req(leader, "POST", "/members", body({ peer: "nowhere" }))).body.error), /"peer" "nowhere" is not of the form host:port/);
    assert.match(String((await req(leader, "POST", "/members", body({ extra: 1 }))).body.error), /unknown field "extra"/);
    const taken = await req(leader, "POST", "/members", body({ peer: `${c.node(2).host}:${c.node(2).peerPort}` }));
    assert.equal(taken.status, 400);
    assert.match(String(taken.body.error), /is already node 2's peer address/);
    const existing = await req(leader, "POST", "/members", body({ id: 2 }));
    assert.equal(existing.status, 409);
    assert.match(String(existing.body.error), /node 2 is already a member/);
    assert.equal((await req(leader, "DELETE", "/members/9")).status, 404);
    assert.equal((await req(leader, "POST", "/members/9/promote")).status, 404);
    assert.match(String((await req(leader, "POST", `/members/${follower}/promote`)).body.error), /already a voter/);
    assert.equal((await req(leader, "GET", "/members/2")).status, 405);
    assert.equal((await req(leader, "POST", "/members", "x".repeat(20_000))).status, 413);
    // Nothing above changed the configuration.
    assert.equal((await members(c, leader))!.configIndex, 0);
  } finally {
    await c.stop();
  }
});

test("a leader removed and killed before its removal commits: the others finish the change (openraft issue 2091)", async () => {
  const c = await TestCluster.start({ nodes: 3 });
  try {
    // The followers are paused: the joint configuration reaches their sockets but nobody acknowledges it.
    // Under load leadership can move between finding the leader and pausing the others; the DELETE then
    // gets 421 (not the leader) and the scenario starts again with the new leader.
    let leader = 0;
    let rest: number[] = [];
    let r;
    for (let attempt = 1; ; attempt++) {
      leader = await c.waitForLeader(20_000);
      rest = [1, 2, 3].filter((id) => id !== leader);
      for (const id of rest) c.node(id).process!.kill("SIGSTOP");
      let again = false;
      try {
        r = await adminRequest(c, leader, "DELETE", `/members/${leader}`);
        if (r?.status === 421 && attempt < 5) {
          again = true;
        } else {
          assert.equal(r?.status, 200, JSON.stringify(r?.body));
          const m = await members(c, leader);
          assert.equal(m?.committed, false, "the removal is not committed yet");
          await c.kill(leader);
        }
      } finally {
        for (const id of rest) c.node(id).process?.kill("SIGCONT");
      }
      if (!again) break;
    }
    // The two left elect a leader under the joint configuration and finish the change.
    await waitForMembers(c, rest[0]!, "the removal finished", settled(rest), 30_000);
    const next = await c.waitForLeader(20_000, rest);
    assert.ok(rest.includes(next));
    assert.equal(show(await c.leaderCommand(10_000, "SET", "after", "1")), "+OK");
  } finally {
    await c.stop();
  }
});

const TOKEN = "membership-test-admin-token-0123456789";

function tokenFile(dir: string): string {
  const path = `${dir}/admin-token`;
  writeFileSync(path, TOKEN + "\n");
  return path;
}
