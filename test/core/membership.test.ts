// Membership changes in the core (thesis ch. 4, src/core/membership.ts):
// learners, joint consensus, one change at a time, the removed leader, a
// configuration in effect from the moment it is appended and taken back
// with its entry, and configurations in snapshots.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { describeConfiguration } from "../../src/core/configuration.js";
import { EntryType, type Message, type NodeId } from "../../src/core/types.js";
import type { RaftNode } from "../../src/core/node.js";
import { Harness, bytes } from "./harness.js";

const cfgText = (n: RaftNode): string => describeConfiguration(n.configuration);

/** A 3-node cluster with node 1 leading and its no-op committed everywhere. */
function cluster(ids: NodeId[] = [1, 2, 3]): { h: Harness; leader: RaftNode } {
  const h = new Harness(ids);
  const leader = h.elect(1);
  h.settle();
  return { h, leader };
}

/** The configurations the log of `n` holds, in order, as text. */
function configEntries(n: RaftNode): string[] {
  return n.log
    .slice(n.log.firstIndex(), n.log.lastIndex() + 1)
    .filter((e) => e.type === EntryType.Config)
    .map((e) => `${e.index}:${describeConfiguration(JSON.parse(new TextDecoder().decode(e.data)))}`);
}

describe("membership: learners", () => {
  test("a learner receives and applies the log but its acknowledgement never commits anything", () => {
    const { h, leader } = cluster();
    h.join(4);
    h.join(5);
    const r = leader.proposeConfChange({ voters: [1, 2, 3], learners: [4, 5], context: "" });
    assert.ok(r.ok);
    assert.equal(cfgText(leader), "1,2,3+4,5", "in effect on append, without joint consensus (voters unchanged)");
    h.settle();
    assert.equal(cfgText(h.node(4)), "1,2,3+4,5");
    assert.equal(h.node(4).commitIndex, leader.commitIndex, "the learner caught up");

    // Only the learners answer: 1 voter and 2 learners are 3 of 5 servers, but no majority of the voters.
    leader.propose(bytes("x"));
    h.settle((m) => m.to === 2 || m.to === 3 || m.from === 2 || m.from === 3);
    const x = leader.log.lastIndex();
    assert.equal(h.node(4).log.lastIndex(), x, "the learners have the entry");
    assert.equal(h.node(5).log.lastIndex(), x);
    assert.ok(leader.commitIndex < x, "yet it is not committed: learners are never counted");
  });

  test("a learner never campaigns, however long it hears nothing", () => {
    const { h, leader } = cluster();
    h.join(4);
    leader.proposeConfChange({ voters: [1, 2, 3], learners: [4], context: "" });
    h.settle();
    h.tick(4, 200);
    assert.ok(!h.inflight.some((m) => m.from === 4 && m.type === "RequestVote"), "no (pre-)vote request from the learner");
    assert.equal(h.node(4).role, "follower");
  });

  test("a joining server that no configuration names yet never campaigns", () => {
    const { h } = cluster();
    const joiner = h.join(4);
    h.tick(4, 200);
    assert.equal(joiner.role, "follower");
    assert.ok(!h.inflight.some((m) => m.from === 4));
  });
});

describe("membership: joint consensus", () => {
  test("promoting a learner passes through the joint configuration, then the leader leaves it by itself", () => {
    const { h, leader } = cluster();
    h.join(4);
    leader.proposeConfChange({ voters: [1, 2, 3], learners: [4], context: "" });
    h.settle();
    const r = leader.proposeConfChange({ voters: [1, 2, 3, 4], learners: [], context: "" });
    assert.ok(r.ok);
    assert.equal(cfgText(leader), "1,2,3>1,2,3,4", "joint: old>new");
    h.settle();
    assert.deepEqual(configEntries(leader).map((t) => t.split(":")[1]), ["1,2,3+4", "1,2,3>1,2,3,4", "1,2,3,4"]);
    for (const id of [1, 2, 3, 4]) assert.equal(cfgText(h.node(id)), "1,2,3,4", `node ${id} left the joint configuration`);
    assert.equal(leader.commitIndex, leader.log.lastIndex(), "the final configuration is committed");
  });

  test("while joint, an entry needs a majority of the new voters too: the old ones alone do not commit it", () => {
    const { h, leader } = cluster();
    h.join(4);
    h.join(5);
    leader.proposeConfChange({ voters: [1, 2, 3], learners: [4, 5], context: "" });
    h.settle();
    // Replace 2 and 3 by 4 and 5; 4 and 5 hear nothing from now on.
    const cut = (m: Message): boolean => m.to === 4 || m.to === 5 || m.from === 4 || m.from === 5;
    const r = leader.proposeConfChange({ voters: [1, 4, 5], learners: [], context: "" });
    assert.ok(r.ok);
    h.settle(cut);
    assert.equal(cfgText(leader), "1,2,3>1,4,5");
    assert.ok(leader.commitIndex < r.index, "1, 2 and 3 are a majority of the old voters but 1 alone is not one of the new");
    for (let i = 0; i < 10 && cfgText(leader) !== "1,4,5"; i++) h.tick(1); // heartbeats reach 4 and 5 again
    h.settle();
    assert.equal(cfgText(leader), "1,4,5", "with 4 and 5 back it commits, and the leader leaves the joint configuration");
  });

  test("while joint, the old voters must agree too: the new ones alone do not commit it", () => {
    const { h, leader } = cluster();
    h.join(4);
    h.join(5);
    leader.proposeConfChange({ voters: [1, 2, 3], learners: [4, 5], context: "" });
    h.settle();
    const r = leader.proposeConfChange({ voters: [1, 4, 5], learners: [], context: "" });
    assert.ok(r.ok);
    h.settle((m) => m.to === 2 || m.to === 3 || m.from === 2 || m.from === 3);
    assert.ok(leader.commitIndex < r.index, "1, 4 and 5 are all the new voters but 1 alone is no majority of 1,2,3");
    assert.equal(cfgText(leader), "1,2,3>1,4,5");
  });

  test("a candidate needs a majority of both voter sets while joint", () => {
    const { h, leader } = cluster();
    h.join(4);
    h.join(5);
    leader.proposeConfChange({ voters: [1, 2, 3], learners: [4, 5], context: "" });
    h.settle();
    leader.proposeConfChange({ voters: [1, 4, 5], learners: [], context: "" });
    // Only the joint entry reaches everybody; the leader dies before committing it.
    h.deliver((m) => m.type === "AppendEntries");
    for (const id of [2, 3, 4, 5]) assert.equal(cfgText(h.node(id)), "1,2,3>1,4,5", `node ${id} holds the joint configuration`);
    h.nodes.delete(1);
    h.inflight = [];
    // Node 2 campaigns; 4 and 5 do not answer: 2 and 3 are an old majority but no new one.
    const two = h.node(2);
    for (let i = 0; i < 100 && two.role !== "leader"; i++) {
      h.tickAll();
      h.settle((m) => m.to === 4 || m.to === 5 || m.to === 1 || m.from === 4 || m.from === 5);
    }
    assert.notEqual(two.role, "leader", "no leader without a majority of 1,4,5");
    // With 4 and 5 answering too it wins: 2 and 3 of the old voters, 4 and 5 of the new.
    for (let i = 0; i < 100 && h.leaders().length === 0; i++) {
      h.tickAll();
      h.settle((m) => m.to === 1);
    }
    assert.equal(h.leaders().length, 1);
    const next = h.leaders()[0]!;
    h.settle((m) => m.to === 1);
    assert.equal(cfgText(next), "1,4,5", "the new leader finished the change the old one started (openraft issue 2091)");
  });
});

describe("membership: one change at a time", () => {
  test("a change is refused while the last one is not committed, and by a non-leader", () => {
    const { h, leader } = cluster();
    h.join(4);
    assert.ok(leader.proposeConfChange({ voters: [1, 2, 3], learners: [4], context: "" }).ok);
    const second = leader.proposeConfChange({ voters: [1, 2, 3], learners: [], context: "" });
    assert.equal(second.ok, false);
    assert.equal(!second.ok && second.reason, "busy");
    h.settle();
    assert.ok(leader.proposeConfChange({ voters: [1, 2, 3], learners: [], context: "" }).ok, "accepted once the first is committed");
    const follower = h.node(2).proposeConfChange({ voters: [1, 2], learners: [], context: "" });
    assert.equal(!follower.ok && follower.reason, "not-leader");
    assert.equal(!follower.ok && follower.leader, 1);
  });

  test("a change that is not a configuration is refused", () => {
    const { leader } = cluster();
    const cases = [
      { voters: [], learners: [], context: "" },
      { voters: [1, 2], learners: [2], context: "" },
      { voters: [1, 1, 2], learners: [], context: "" },
      { voters: [1, 0], learners: [], context: "" },
    ];
    for (const c of cases) {
      const r = leader.proposeConfChange(c);
      assert.equal(!r.ok && r.reason, "invalid", JSON.stringify(c));
    }
  });

  test("a new leader proposes no change before it has committed an entry of its term", () => {
    const h = new Harness([1, 2, 3]);
    const leader = h.node(1);
    for (let i = 0; i < 100 && leader.role !== "leader"; i++) {
      leader.tick();
      h.settle((m) => m.type === "AppendEntriesResponse");
    }
    const r = leader.proposeConfChange({ voters: [1, 2], learners: [], context: "" });
    assert.equal(!r.ok && r.reason, "busy", "its no-op is not committed yet");
    h.tick(1, 3); // a heartbeat: the followers' answers arrive this time
    h.settle();
    assert.ok(leader.proposeConfChange({ voters: [1, 2], learners: [], context: "" }).ok);
  });
});

describe("membership: removing servers", () => {
  test("a leader that removes itself leads until the change commits, hands over, steps down and stays out", () => {
    const { h, leader } = cluster();
    leader.propose(bytes("before"));
    h.settle();
    const r = leader.proposeConfChange({ voters: [2, 3], learners: [], context: "" });
    assert.ok(r.ok);
    h.settle();
    assert.equal(cfgText(leader), "2,3");
    assert.equal(leader.role, "leader", "it still leads until its next tick: the final configuration is committed first");
    assert.equal(leader.commitIndex, leader.log.lastIndex());
    h.tick(1);
    assert.equal(leader.role, "follower");
    const timeoutNow = h.inflight.find((m) => m.type === "TimeoutNow");
    assert.ok(timeoutNow && (timeoutNow.to === 2 || timeoutNow.to === 3), "it asked an up-to-date voter to campaign at once");
    h.settle();
    const next = h.leaders();
    assert.equal(next.length, 1);
    assert.notEqual(next[0]!.id, 1);
    next[0]!.propose(bytes("after"));
    h.settle();
    assert.deepEqual(h.appliedData(next[0]!.id), ["before", "after"]);
    // The removed server never campaigns again.
    const term = next[0]!.currentTerm;
    h.tick(1, 300);
    assert.ok(!h.inflight.some((m) => m.from === 1 && m.type === "RequestVote"));
    h.settle();
    assert.equal(next[0]!.currentTerm, term, "it disturbed nobody");
  });

  test("a removed follower restarted with its log stays out", () => {
    const { h, leader } = cluster();
    leader.proposeConfChange({ voters: [1, 2], learners: [], context: "" });
    h.settle();
    const three = h.restart(3);
    assert.equal(cfgText(three), "1,2", "its log says it was removed");
    // After a restart it does not know which configuration is committed, so
    // it may still run pre-votes (membership.ts, mayCampaign); they are
    // refused and disturb nobody: no real election, no new term.
    const term = leader.currentTerm;
    for (let i = 0; i < 300; i++) {
      h.tickAll();
      h.settle();
      assert.notEqual(three.role, "candidate", `tick ${i}: it never starts a real election`);
    }
    assert.equal(leader.role, "leader");
    assert.equal(leader.currentTerm, term, "the cluster's term never moved");
    assert.ok(!h.inflight.some((m) => m.type === "RequestVote" && !m.preVote));
  });
});

describe("membership: the log decides", () => {
  test("a follower's uncommitted configuration is removed with the conflicting entries and the previous one returns", () => {
    const h = new Harness([1, 2, 3]);
    const one = h.elect(1);
    h.settle();
    h.join(4);
    one.proposeConfChange({ voters: [1, 2, 3], learners: [4], context: "" });
    h.deliver((m) => m.type === "AppendEntries" && m.to === 2);
    h.inflight = [];
    assert.equal(cfgText(h.node(2)), "1,2,3+4");
    // Node 1 restarts from a disk that kept everything but that entry (a leader's append may be lost with its
    // fsync: it was never acknowledged), and node 3 leads with node 1's vote while node 2 is cut off.
    h.restartWith(1, { hardState: { currentTerm: one.currentTerm, votedFor: one.votedFor }, entries: one.log.slice(1, one.log.lastIndex()), snapshot: null });
    assert.equal(cfgText(h.node(1)), "1,2,3", "node 1 restarted without the entry");
    const three = h.node(3);
    for (let i = 0; i < 100 && three.role !== "leader"; i++) {
      three.tick();
      h.settle((m) => m.to === 2 || m.from === 2);
    }
    assert.equal(three.role, "leader", "3 wins with 1's vote");
    three.propose(bytes("x"));
    h.settle();
    assert.equal(cfgText(h.node(2)), "1,2,3", "node 2's entry was overwritten: the configuration before it is back");
    assert.deepEqual(configEntries(h.node(2)), []);
  });
});

describe("membership: snapshots", () => {
  test("a snapshot carries the configuration to a server that joins after the log was compacted", () => {
    const { h, leader } = cluster();
    h.join(4);
    leader.proposeConfChange({ voters: [1, 2, 3], learners: [4], context: "ctx" });
    h.settle((m) => m.to === 4);
    for (let i = 0; i < 5; i++) leader.propose(bytes(`v${i}`));
    h.settle((m) => m.to === 4);
    leader.compact(leader.lastApplied, bytes("state"));
    assert.equal(leader.state().snapshot?.config?.context, "ctx", "the leader's snapshot holds the configuration");
    h.tickAll(5);
    h.settle();
    const four = h.node(4);
    assert.equal(h.installed.get(4)?.length, 1, "node 4 installed the snapshot");
    assert.equal(cfgText(four), "1,2,3+4");
    assert.equal(four.configuration.context, "ctx");
    assert.equal(four.configurationIndex, leader.log.snapshotIndex, "known as of the snapshot's index");
  });
});
