// Recovery from storage faults (src/core/recovery.ts, docs/STORAGE.md): a
// server whose disk lost what it had promised takes part again only step by
// step, and a leader forgets what it knew of a follower that restarted.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { surveySize } from "../../src/core/recovery.js";
import type { RestoredState } from "../../src/core/node.js";
import type { Entry, Message, NodeId } from "../../src/core/types.js";
import { Harness, bytes } from "./harness.js";

/** Node `id`'s durable state as its disk would give it back intact. */
function intact(h: Harness, id: NodeId): { hardState: { currentTerm: number; votedFor: NodeId | null }; entries: Entry[]; snapshot: null } {
  const n = h.node(id);
  return { hardState: { currentTerm: n.currentTerm, votedFor: n.votedFor }, entries: n.log.slice(n.log.firstIndex(), n.log.lastIndex() + 1), snapshot: null };
}

/** The same, with the log cut to `keep` entries and the loss recorded as the storage layer records it. */
function tailLost(h: Harness, id: NodeId, keep: number): RestoredState {
  const s = intact(h, id);
  return { hardState: { ...s.hardState, lost: { through: s.entries.length, term: s.hardState.currentTerm } }, entries: s.entries.slice(0, keep), snapshot: null };
}

const of = (type: Message["type"]) => (m: Message) => m.type === type;

describe("surveySize: whom a server that lost its vote must hear from", () => {
  test("a set of the others that meets every set of q - 1 of them", () => {
    assert.deepEqual([2, 3, 4, 5, 6, 7].map(surveySize), [1, 2, 2, 3, 3, 4]);
  });
});

describe("a server that lost its term and vote (survey)", () => {
  test("asks every other server, takes part in nothing meanwhile, then adopts the highest term and counts its vote as given", () => {
    const h = new Harness([1, 2, 3]);
    const leader = h.elect(1);
    leader.propose(bytes("a"));
    h.settle();
    const term = leader.currentTerm;
    // Node 3 comes back with no hard state at all, its log intact.
    const n3 = h.restartWith(3, { ...intact(h, 3), hardState: null });
    h.flush();
    const queries = h.inflight.filter(of("RecoveryQuery"));
    assert.deepEqual(queries.map((m) => m.to).sort(), [1, 2]);
    assert.equal(n3.recovery?.surveying, true);
    // A heartbeat from the leader is not acted on: the node cannot tell a stale leader from a current one yet.
    leader.tick();
    for (let i = 0; i < 3; i++) leader.tick();
    h.deliver((m) => m.type === "AppendEntries" && m.to === 3);
    assert.equal(h.inflight.filter((m) => m.from === 3 && m.type === "AppendEntriesResponse").length, 0);
    // One answer is not enough in a 3-node cluster...
    h.deliver((m) => m.type === "RecoveryQuery" && m.to === 1);
    h.deliver((m) => m.type === "RecoveryReply" && m.from === 1);
    assert.equal(n3.recovery?.surveying, true);
    // ...two are.
    h.deliver((m) => m.type === "RecoveryQuery" && m.to === 2);
    h.deliver((m) => m.type === "RecoveryReply" && m.from === 2);
    assert.equal(n3.recovery?.surveying, false);
    assert.equal(n3.currentTerm, term);
    assert.equal(n3.votedFor, 3, "the vote in the adopted term is counted as given");
    assert.deepEqual(n3.recovery, { surveying: false, lostThrough: leader.log.lastIndex() });
  });

  test("the hard state it then persists carries the lost mark, so a second restart does not forget it", () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    h.restartWith(3, { hardState: null, entries: [], snapshot: null });
    h.flush();
    let persisted: unknown = undefined;
    const n3 = h.node(3);
    h.deliver(of("RecoveryQuery"));
    // Deliver the replies by hand to catch the Ready that persists the outcome.
    for (const m of h.inflight.filter(of("RecoveryReply"))) n3.step(m);
    h.inflight = h.inflight.filter((m) => m.type !== "RecoveryReply");
    const rd = n3.ready();
    persisted = rd.hardState;
    n3.advance();
    assert.deepEqual(persisted, { currentTerm: 1, votedFor: 3, lost: { through: 1, term: 1 } });
  });

  test("answers from servers that are recovering themselves do not count", () => {
    const h = new Harness([1, 2, 3, 4, 5]);
    h.elect(1);
    h.settle();
    h.restartWith(4, { ...intact(h, 4), hardState: null });
    const n5 = h.restartWith(5, { ...intact(h, 5), hardState: null });
    h.flush();
    // Node 5 hears from 4 (recovering) and 2 and 3: only two intact answers of the three it needs.
    h.deliver((m) => m.type === "RecoveryQuery" && m.to !== 1);
    h.deliver((m) => m.type === "RecoveryReply" && m.to === 5);
    assert.equal(n5.recovery?.surveying, true);
    h.deliver((m) => m.type === "RecoveryQuery" && m.to === 1 && m.from === 5);
    h.deliver((m) => m.type === "RecoveryReply" && m.to === 5);
    assert.equal(n5.recovery?.surveying, false);
  });

  test("a brand-new cluster: every server starts without a hard state, learns that nobody ever did anything, and elects a leader", () => {
    const h = new Harness([1, 2, 3]);
    for (const id of [1, 2, 3]) h.restartWith(id, { hardState: null, entries: [], snapshot: null });
    h.settle();
    for (const id of [1, 2, 3]) {
      assert.equal(h.node(id).recovery, null, `node ${id} knows it is new`);
      assert.equal(h.node(id).votedFor, null);
    }
    const leader = h.elect(1);
    assert.equal(leader.currentTerm, 1);
  });

  test("it never votes twice in a term: a vote given before the fault is not given again to another candidate", () => {
    // Node 3 votes for node 1 in term 1, then loses its hard state. Node 2 campaigns in term 1 too (no pre-vote).
    const h = new Harness([1, 2, 3], { preVote: false, checkQuorum: false });
    h.tick(1, 12);
    h.deliver((m) => m.type === "RequestVote" && m.to === 3);
    assert.equal(h.node(3).votedFor, 1);
    h.inflight = [];
    const n3 = h.restartWith(3, { hardState: null, entries: [], snapshot: null });
    h.settle();
    assert.equal(n3.currentTerm, 1, "learned from node 1");
    assert.equal(n3.votedFor, 3);
    // Node 2 asks for node 3's vote in term 1 (it did not hear node 1's campaign).
    const n2 = h.node(2);
    n2.step({ type: "RequestVote", from: 1, to: 2, term: 1, preVote: false, transfer: false, lastLogIndex: 0, lastLogTerm: 0 });
    h.flush();
    h.inflight = [];
    n3.step({ type: "RequestVote", from: 2, to: 3, term: 1, preVote: false, transfer: false, lastLogIndex: 0, lastLogTerm: 0 });
    h.flush();
    const answer = h.inflight.find((m) => m.type === "RequestVoteResponse" && m.from === 3);
    assert.ok(answer && answer.type === "RequestVoteResponse" && !answer.voteGranted);
  });
});

describe("a server whose log lost entries it had acknowledged (catch-up)", () => {
  test("does not campaign, votes only for a log at least as up-to-date as the one it lost, until a leader brought it past it", () => {
    const h = new Harness([1, 2, 3], { incarnations: true });
    const leader = h.elect(1);
    for (const v of ["a", "b", "c"]) leader.propose(bytes(v));
    h.settle();
    const term = leader.currentTerm;
    const n3 = h.restartWith(3, tailLost(h, 3, 1));
    assert.deepEqual(n3.recovery, { surveying: false, lostThrough: 4 });
    // Its election timeout passes: it asks around instead of campaigning.
    h.inflight = [];
    for (let i = 0; i < 20; i++) n3.tick();
    h.flush();
    assert.equal(h.inflight.filter((m) => m.type === "RequestVote").length, 0);
    assert.ok(h.inflight.some(of("RecoveryQuery")));
    h.inflight = [];
    const ask = (lastLogIndex: number, lastLogTerm: number) => {
      n3.step({ type: "RequestVote", from: 2, to: 3, term: term + 1, preVote: true, transfer: false, lastLogIndex, lastLogTerm });
      h.flush();
      const answer = h.inflight.find(of("RequestVoteResponse"));
      h.inflight = [];
      return answer?.type === "RequestVoteResponse" && answer.voteGranted;
    };
    // Its own log now ends at 1: a candidate at 2 looks up-to-date to it, but not to the log it lost (4 entries of this term).
    assert.equal(ask(2, term), false, "a log behind the lost one is refused");
    assert.equal(ask(3, term), false);
    assert.equal(ask(4, term), true, "a log as long as the lost one, in the same term, is granted");
    assert.equal(ask(1, term + 1), true, "a log ending in a later term is granted");
    h.inflight = [];
    // The leader's heartbeats repair its log; then it is whole again.
    for (let i = 0; i < 3; i++) leader.tick();
    h.settle();
    assert.equal(n3.log.lastIndex(), leader.log.lastIndex());
    assert.equal(n3.recovery, null);
    // The leader goes away: nodes 2 and 3 now elect one of them (either needs node 3's part).
    h.nodes.delete(1);
    h.inflight = [];
    for (let i = 0; i < 100 && h.leaders().length === 0; i++) {
      h.tick(2);
      h.tick(3);
      h.settle((m) => m.to === 1);
    }
    assert.equal(h.leaders().length, 1);
  });

  test("an entry committed with the damaged server's lost copy is not lost: its vote cannot elect a leader without it", () => {
    // Leader 1 commits "x" with node 3's acknowledgement while node 2 hears nothing.
    const h = new Harness([1, 2, 3], { checkQuorum: false });
    const leader = h.elect(1);
    leader.propose(bytes("x"));
    h.settle((m) => m.to === 2 || m.from === 2);
    assert.equal(leader.commitIndex, leader.log.lastIndex());
    const x = leader.log.lastIndex();
    // Node 3's disk loses "x"; node 1 crashes.
    h.restartWith(3, tailLost(h, 3, x - 1));
    h.nodes.delete(1);
    h.inflight = [];
    // Node 2 campaigns: node 3 refuses, so no leader without "x".
    for (let i = 0; i < 100; i++) {
      h.tick(2);
      h.tick(3);
      h.settle((m) => m.to === 1);
    }
    assert.notEqual(h.node(2).role, "leader");
    assert.notEqual(h.node(3).role, "leader");
  });
});

describe("the leader and a follower that restarted", () => {
  test("a follower whose log shrank is repaired at once, and its old acknowledgement no longer counts", () => {
    const h = new Harness([1, 2, 3], { incarnations: true });
    const leader = h.elect(1);
    for (const v of ["a", "b", "c", "d"]) leader.propose(bytes(v));
    h.settle();
    const last = leader.log.lastIndex();
    // Node 3 loses its tail; node 2 is gone for good.
    h.restartWith(3, tailLost(h, 3, 2));
    h.nodes.delete(2);
    h.inflight = [];
    for (let i = 0; i < 3; i++) leader.tick();
    h.settle((m) => m.to === 2);
    assert.equal(h.node(3).log.lastIndex(), last, "repaired without a leader change");
    assert.equal(h.node(3).recovery, null);
    // A new write commits on the two live nodes.
    leader.propose(bytes("e"));
    h.settle((m) => m.to === 2);
    assert.equal(leader.commitIndex, last + 1);
  });

  test("an answer from the follower's previous life is ignored: matchIndex never goes back up through it", () => {
    const h = new Harness([1, 2, 3], { incarnations: true });
    const leader = h.elect(1);
    for (const v of ["a", "b"]) leader.propose(bytes(v));
    h.flush();
    // Node 3's acknowledgement of everything, held back in the network.
    h.deliver((m) => m.type === "AppendEntries" && m.to === 3);
    const late = h.inflight.filter((m) => m.type === "AppendEntriesResponse" && m.from === 3);
    h.inflight = h.inflight.filter((m) => !late.includes(m));
    // Node 3 restarts with nothing; its new life answers first.
    h.restartWith(3, { hardState: { currentTerm: leader.currentTerm, votedFor: 1, lost: { through: 3, term: leader.currentTerm } }, entries: [], snapshot: null });
    for (let i = 0; i < 3; i++) leader.tick();
    h.flush();
    h.deliver((m) => m.type === "AppendEntries" && m.to === 3);
    h.deliver((m) => m.type === "AppendEntriesResponse" && m.from === 3);
    const pr = () => leader.status().peers.find((p) => p.id === 3)!;
    assert.equal(pr().matchIndex, 0, "forgot what node 3 had acknowledged");
    // The old life's acknowledgement arrives late: ignored.
    for (const m of late) leader.step(m);
    h.flush();
    assert.equal(pr().matchIndex, 0);
  });
});

/** Three servers; node 1 (the leader) gone for good, nodes 2 and 3 restarted having lost the tail they acknowledged. */
function twoOfThreeDamaged() {
  const h = new Harness([1, 2, 3]);
  const leader = h.elect(1);
  leader.propose(bytes("a"));
  h.settle();
  const n2 = h.restartWith(2, tailLost(h, 2, 0));
  h.restartWith(3, tailLost(h, 3, 0));
  h.nodes.delete(1);
  h.inflight = [];
  return { h, n2 };
}

describe("a damaged server that cannot recover", () => {
  test("says so when a majority, itself included, is recovering and no leader exists", () => {
    const { h, n2 } = twoOfThreeDamaged();
    assert.equal(n2.stuck, false, "not before it knows");
    for (let i = 0; i < 30; i++) {
      h.tick(2);
      h.tick(3);
      h.settle((m) => m.to === 1);
    }
    assert.equal(n2.stuck, true);
  });

  test("stays stuck when the other damaged server goes silent (it stopped, having seen the same)", () => {
    const { h, n2 } = twoOfThreeDamaged();
    for (let i = 0; i < 30; i++) {
      h.tick(2);
      h.tick(3);
      h.settle((m) => m.to === 1);
    }
    assert.equal(n2.stuck, true);
    // Node 3 stops: node 2 hears nothing more from anybody, round after round.
    h.nodes.delete(3);
    for (let i = 0; i < 30; i++) {
      h.tick(2);
      h.settle((m) => m.to === 1 || m.to === 3);
    }
    assert.equal(n2.stuck, true, "node 3 was damaged when it last answered, and silence does not repair a disk");
  });

  test("alone in its cluster, it has nobody to recover from", () => {
    const h = new Harness([1]);
    const n = h.elect(1);
    n.propose(bytes("a"));
    h.flush();
    const n1 = h.restartWith(1, tailLost(h, 1, 0));
    assert.equal(n1.stuck, true);
  });
});
