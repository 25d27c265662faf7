// The server's membership rules as pure functions (src/server/members.ts):
// the quorum check, the catch-up rule, member states, the context and the
// members file.

import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Configuration } from "../../src/core/types.js";
import { localClusterConfig } from "../../src/server/config.js";
import {
  AppendRate,
  contextFromCluster,
  decodeContext,
  encodeContext,
  memberState,
  notCaughtUp,
  quorumProblem,
  readMembersFile,
  writeMembersFile,
} from "../../src/server/members.js";
import { parseAddRequest } from "../../src/server/membership.js";

const cfg = (voters: number[], learners: number[] = [], outgoing: number[] = []): Configuration => ({ voters, outgoing, learners, context: "" });

test("quorumProblem: a change needs a reachable majority of the current voters and of the new ones", () => {
  // Removing a dead node of three: the other two are a majority of both.
  assert.equal(quorumProblem(cfg([1, 2, 3]), [1, 2], new Set([1, 2])), null);
  // Removing a live node while another is dead leaves one of two.
  assert.match(quorumProblem(cfg([1, 2, 3]), [1, 3], new Set([1, 2]))!, /majority of the new voters \{1, 3\} \(2\) to commit, but only 1 is reachable \(node 3 is not\)/);
  // Two voters, one dead: the joint configuration needs both.
  assert.match(quorumProblem(cfg([1, 2]), [1], new Set([1]))!, /majority of the current voters \{1, 2\} \(2\)/);
  // Two voters, both up: either may go.
  assert.equal(quorumProblem(cfg([1, 2]), [2], new Set([1, 2])), null);
  // One voter, adding an unreachable one: {1, 2} needs both.
  assert.match(quorumProblem(cfg([1]), [1, 2], new Set([1]))!, /new voters \{1, 2\} \(2\)/);
  // Growing 3 -> 4 with one old node dead: 3 of 4 reachable is enough.
  assert.equal(quorumProblem(cfg([1, 2, 3]), [1, 2, 3, 4], new Set([1, 2, 4])), null);
  assert.match(quorumProblem(cfg([1, 2, 3]), [1, 2, 3, 4], new Set([1, 4]))!, /current voters/);
  // A joint configuration in effect counts its old voters as well.
  assert.match(quorumProblem(cfg([1, 2, 4], [], [1, 2, 3]), [1, 2, 4], new Set([1, 4]))!, /outgoing voters \{1, 2, 3\}/);
  // Learners never count.
  assert.match(quorumProblem(cfg([1, 2, 3], [4, 5]), [1, 2, 3], new Set([1, 4, 5]))!, /only 1 is reachable/);
});

test("notCaughtUp: within the allowed lag and heard from recently", () => {
  assert.equal(notCaughtUp(4, 990, 1000, 16, true), null);
  assert.equal(notCaughtUp(4, 984, 1000, 16, true), null);
  assert.equal(notCaughtUp(4, 983, 1000, 16, true), "node 4 is 17 entries behind the leader (match index 983, leader's last index 1000); it can be promoted within 16 entries");
  assert.match(notCaughtUp(4, 1000, 1000, 16, false)!, /has not answered the leader within the last election timeout/);
  assert.match(notCaughtUp(4, null, 1000, 16, true)!, /not replicated to/);
});

test("AppendRate: the entries appended over the last window", () => {
  const r = new AppendRate(300);
  assert.equal(r.recent(0, 0), 0);
  r.note(0, 100);
  r.note(100, 150);
  r.note(200, 200);
  r.note(300, 260);
  assert.equal(r.recent(300, 260), 160, "since t=0");
  r.note(400, 300);
  r.note(500, 300);
  assert.equal(r.recent(500, 300), 100, "since t=200");
  r.note(900, 300);
  assert.equal(r.recent(900, 300), 0, "idle");
});

test("memberState: voter, learner, joining, leaving", () => {
  const joint = cfg([1, 2, 4], [5], [1, 2, 3]);
  assert.equal(memberState(joint, 1, []), "voter");
  assert.equal(memberState(joint, 4, []), "joining");
  assert.equal(memberState(joint, 3, []), "leaving");
  assert.equal(memberState(joint, 5, []), "learner");
  assert.equal(memberState(joint, 5, [5]), "joining");
  assert.equal(memberState(joint, 9, []), null);
  assert.equal(memberState(cfg([1, 2]), 2, []), "voter");
});

test("the context carries every member's addresses and the learners to promote; anything else decodes to null", () => {
  const cluster = localClusterConfig(3);
  const ctx = decodeContext(contextFromCluster(cluster))!;
  assert.deepEqual([...ctx.members.keys()], [1, 2, 3]);
  assert.deepEqual(ctx.members.get(2), cluster.nodes[1]);
  const again = decodeContext(encodeContext({ members: ctx.members, autoPromote: [3, 3, 2] }))!;
  assert.deepEqual(again.autoPromote, [2, 3]);
  assert.equal(decodeContext(""), null);
  assert.equal(decodeContext("{"), null);
  assert.equal(decodeContext('{"members":{"x":{}}}'), null);
  assert.equal(decodeContext('{"members":{"1":{"peer":"nowhere","client":"a:1","admin":"a:2"}}}'), null);
});

test("the members file is replaced atomically and read back; a damaged one is refused", () => {
  const dir = mkdtempSync(join(tmpdir(), "raftkv-members-"));
  try {
    assert.equal(readMembersFile(dir), null);
    const bootstrap = cfg([1, 2, 3]);
    writeMembersFile(dir, { bootstrap, latest: { index: 0, configuration: bootstrap }, wasMember: true });
    writeMembersFile(dir, { bootstrap, latest: { index: 7, configuration: cfg([1, 2, 3], [4]) }, wasMember: true });
    assert.deepEqual(readMembersFile(dir), { bootstrap, latest: { index: 7, configuration: cfg([1, 2, 3], [4]) }, wasMember: true });
    assert.deepEqual(readdirSync(dir), ["members.json"], "no temporary file left");
    writeFileSync(join(dir, "members.json"), '{"bootstrap":{}}');
    assert.throws(() => readMembersFile(dir), /is not a members file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("POST /members bodies: every field checked", () => {
  const ok = { id: 4, peer: "127.0.0.14:7000", client: "127.0.0.14:6379", admin: "127.0.0.14:8080" };
  assert.equal(parseAddRequest(ok).learner, false);
  assert.equal(parseAddRequest({ ...ok, learner: true }).learner, true);
  assert.deepEqual(parseAddRequest(ok).member.peer, { host: "127.0.0.14", port: 7000 });
  assert.throws(() => parseAddRequest([]), /must be a JSON object/);
  assert.throws(() => parseAddRequest({ ...ok, id: 1.5 }), /"id" must be a positive integer/);
  assert.throws(() => parseAddRequest({ ...ok, learner: "yes" }), /"learner" must be true or false/);
  assert.throws(() => parseAddRequest({ ...ok, admin: undefined }), /"admin" must be a "host:port" string/);
  assert.throws(() => parseAddRequest({ ...ok, client: ok.peer }), /must differ/);
  assert.throws(() => parseAddRequest({ ...ok, port: 1 }), /unknown field "port"/);
});
