import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Harness, bytes } from "./harness.js";
import { RaftNode } from "../../src/core/node.js";
import type { Message, RequestVote } from "../../src/core/types.js";

describe("elections (§5.2, §5.4.1)", () => {
  test("the course's scenario: a timeout, a candidate, a leader; then heartbeats keep the others quiet", () => {
    const h = new Harness([1, 2, 3], { preVote: false, timeouts: { 1: 10, 2: 20, 3: 20 } });
    for (const n of h.nodes.values()) assert.equal(n.role, "follower");
    h.tick(1, 10);
    assert.equal(h.node(1).role, "candidate");
    assert.equal(h.node(1).currentTerm, 1);
    h.settle();
    assert.equal(h.node(1).role, "leader");
    assert.equal(h.node(2).role, "follower");
    assert.equal(h.node(3).role, "follower");
    assert.equal(h.node(2).leaderId, 1);
    // Heartbeats every 3 ticks: the followers' 20-tick timeouts never fire.
    for (let i = 0; i < 100; i++) {
      h.tickAll();
      h.settle();
    }
    assert.deepEqual([...h.nodes.values()].map((n) => n.role), ["leader", "follower", "follower"]);
    assert.equal(h.node(2).currentTerm, 1);
  });

  test("with pre-vote, a timeout first makes a precandidate that keeps its term", () => {
    const h = new Harness([1, 2, 3]);
    h.tick(1, 12);
    assert.equal(h.node(1).role, "precandidate");
    assert.equal(h.node(1).currentTerm, 0);
    h.settle();
    assert.equal(h.node(1).role, "leader");
    assert.equal(h.node(1).currentTerm, 1);
  });

  test("a leader is elected in 1-, 5- and 7-node clusters", () => {
    for (const size of [1, 5, 7]) {
      const ids = Array.from({ length: size }, (_, i) => i + 1);
      const h = new Harness(ids);
      h.elect(1);
      assert.equal(h.leaders().length, 1, `size ${size}`);
      for (const n of h.nodes.values()) assert.equal(n.leaderId, 1);
    }
  });

  test("one vote per term: a second candidate of the same term is refused", () => {
    const h = new Harness([1, 2, 3], { preVote: false, timeouts: { 1: 10, 2: 12, 3: 30 } });
    h.tick(1, 10); // node 1: candidate, term 1
    h.tick(2, 12); // node 2: candidate, term 1
    // Node 3 hears node 1 first.
    h.deliver((m) => m.type === "RequestVote" && m.from === 1 && m.to === 3);
    h.deliver((m) => m.type === "RequestVote" && m.from === 2 && m.to === 3);
    const answers = h.inflight.filter((m) => m.type === "RequestVoteResponse" && m.from === 3);
    assert.deepEqual(
      answers.map((m) => [m.to, m.type === "RequestVoteResponse" && m.voteGranted]),
      [
        [1, true],
        [2, false],
      ],
    );
    assert.equal(h.node(3).votedFor, 1);
  });

  test("a vote is refused to a candidate with a less up-to-date log", () => {
    const h = new Harness([1, 2, 3], { preVote: false });
    h.elect(1);
    h.node(1).propose(new TextEncoder().encode("x"));
    // Only node 2 gets the entry.
    h.settle((m) => m.to === 3);
    const n3 = h.node(3);
    assert.ok(h.node(2).log.lastIndex() > n3.log.lastIndex());
    const rv: RequestVote = { type: "RequestVote", from: 3, to: 2, term: 5, preVote: false, transfer: false, lastLogIndex: n3.log.lastIndex(), lastLogTerm: n3.log.lastTerm() };
    const n2 = new RaftNode(h.config(2), { hardState: { currentTerm: 1, votedFor: 1 }, entries: h.node(2).log.slice(1, 100), snapshot: null });
    n2.step(rv);
    const out = n2.ready().messages;
    assert.deepEqual(
      out.map((m) => m.type === "RequestVoteResponse" && m.voteGranted),
      [false],
    );
    assert.equal(n2.currentTerm, 5, "the higher term is still adopted");
    assert.equal(n2.votedFor, null);
  });

  test("a split vote resolves: two candidates in one term, the one whose timeout fires first next wins", () => {
    // Nodes 1 and 2 time out together; each votes for itself and node 3 gets
    // its votes at once so nobody wins term 1. The timeouts are fixed here;
    // that seeded random timeouts spread the candidates apart is shown by
    // testdata/split_vote.txt.
    const h = new Harness([1, 2, 3], { preVote: false, timeouts: { 1: 10, 2: 10, 3: 30 } });
    h.tickAll(10);
    assert.equal(h.node(1).role, "candidate");
    assert.equal(h.node(2).role, "candidate");
    h.settle((m) => m.to === 3); // node 3 hears nothing this term: split vote
    assert.equal(h.leaders().length, 0);
    // Node 1 times out again before node 2 (its random draw differs in real runs).
    h.tick(1, 10);
    h.settle();
    assert.equal(h.leaders().length, 1);
    assert.equal(h.node(1).role, "leader");
    assert.equal(h.node(1).currentTerm, 2);
  });

  test("a candidate receiving AppendEntries of its own term becomes a follower", () => {
    const h = new Harness([1, 2, 3], { preVote: false, checkQuorum: false });
    h.elect(1);
    const n2 = h.node(2);
    // Make node 2 a candidate for term 2 by hand, then hear from a leader of term 2.
    n2.step({ type: "RequestVote", from: 3, to: 2, term: 2, preVote: false, transfer: false, lastLogIndex: 0, lastLogTerm: 0 });
    h.flush();
    h.inflight = [];
    assert.equal(n2.currentTerm, 2);
    h.tick(2, 20);
    assert.equal(n2.role, "candidate");
    const term = n2.currentTerm;
    n2.step({ type: "AppendEntries", from: 3, to: 2, term, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, seq: 1 });
    assert.equal(n2.role, "follower");
    assert.equal(n2.leaderId, 3);
    assert.equal(n2.currentTerm, term);
  });

  test("a stale leader steps down on any message with a higher term", () => {
    const kinds: Message["type"][] = ["AppendEntries", "RequestVoteResponse", "AppendEntriesResponse", "RequestVote"];
    for (const type of kinds) {
      const h = new Harness([1, 2, 3], { preVote: false, checkQuorum: false });
      const leader = h.elect(1);
      const common = { from: 2, to: 1, term: 7 } as const;
      const msg: Message =
        type === "AppendEntries"
          ? { ...common, type, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, seq: 1 }
          : type === "RequestVoteResponse"
            ? { ...common, type, preVote: false, voteGranted: false }
            : type === "AppendEntriesResponse"
              ? { ...common, type, success: false, matchIndex: 0, conflictIndex: 0, conflictTerm: 0, seq: 0, incarnation: 0 }
              : { ...common, type: "RequestVote", preVote: false, transfer: false, lastLogIndex: 0, lastLogTerm: 0 };
      leader.step(msg);
      assert.equal(leader.role, "follower", type);
      assert.equal(leader.currentTerm, 7, type);
    }
  });

  test("a lower-term request is refused with our term, and changes nothing", () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    const n2 = h.node(2);
    const before = n2.status();
    n2.step({ type: "AppendEntries", from: 3, to: 2, term: 0, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 5, seq: 1 });
    const out = n2.ready().messages;
    n2.advance();
    assert.equal(out.length, 1);
    assert.equal(out[0]!.type, "AppendEntriesResponse");
    assert.equal(out[0]!.term, 1);
    assert.deepEqual(n2.status(), before);
  });

  test("a vote reply goes out in the same Ready as the hard state that records it", () => {
    const n = new RaftNode(new Harness([1, 2, 3]).config(2));
    n.step({ type: "RequestVote", from: 1, to: 2, term: 1, preVote: false, transfer: false, lastLogIndex: 0, lastLogTerm: 0 });
    const rd = n.ready();
    assert.deepEqual(rd.hardState, { currentTerm: 1, votedFor: 1 });
    assert.equal(rd.messages.length, 1);
  });
});

describe("pre-vote and check-quorum (thesis §9.6, §6.2)", () => {
  test("a partitioned node rejoining does not disrupt a healthy leader", () => {
    const h = new Harness([1, 2, 3]);
    const leader = h.elect(1);
    const term = leader.currentTerm;
    // Cut node 3 off for a long time: it keeps timing out, pre-voting, failing.
    for (let i = 0; i < 200; i++) {
      h.tickAll();
      h.settle((m) => m.to === 3 || m.from === 3);
    }
    assert.equal(h.node(3).currentTerm, term, "pre-vote kept node 3 from inflating its term");
    // Heal: node 3 rejoins, the leader is untouched.
    for (let i = 0; i < 50; i++) {
      h.tickAll();
      h.settle();
    }
    assert.equal(leader.role, "leader");
    assert.equal(leader.currentTerm, term);
    assert.equal(h.node(3).leaderId, 1);
  });

  test("without pre-vote the same rejoin forces a new election (the problem pre-vote solves)", () => {
    const h = new Harness([1, 2, 3], { preVote: false, checkQuorum: false });
    const leader = h.elect(1);
    for (let i = 0; i < 200; i++) {
      h.tickAll();
      h.settle((m) => m.to === 3 || m.from === 3);
    }
    assert.ok(h.node(3).currentTerm > leader.currentTerm);
    for (let i = 0; i < 50; i++) {
      h.tickAll();
      h.settle();
    }
    assert.ok(leader.currentTerm > 1, "the old leader was disrupted");
  });

  test("a leader cut off from the majority steps down after an election timeout", () => {
    const h = new Harness([1, 2, 3], { timeouts: { 1: 10, 2: 30, 3: 30 } });
    const leader = h.elect(1);
    for (let i = 0; i < 25 && leader.role === "leader"; i++) {
      leader.tick();
      h.flush();
      h.inflight = []; // nothing gets through
    }
    assert.equal(leader.role, "follower");
  });

  test("a follower that hears from the leader does not call an election", () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    for (let i = 0; i < 300; i++) {
      h.tickAll();
      h.settle();
    }
    assert.equal(h.node(1).currentTerm, 1);
    assert.equal(h.node(1).role, "leader");
  });
});

describe("leadership transfer (thesis §3.10)", () => {
  test("the leader brings a lagging target up to date, sends TimeoutNow, and the target wins at once; the others do not ignore its votes", () => {
    const h = new Harness([1, 2, 3]);
    const leader = h.elect(1);
    const term = leader.currentTerm;
    leader.propose(bytes("a"));
    h.settle((m) => m.to === 3); // node 3 misses "a"
    leader.propose(bytes("b"));
    h.settle((m) => m.to === 3);
    assert.ok(h.node(3).log.lastIndex() < leader.log.lastIndex());

    assert.equal(leader.transferLeadership(3), true);
    assert.equal(leader.transferringTo, 3);
    const refused = leader.propose(bytes("during"));
    assert.equal(refused.ok, false, "no new proposals while handing over");
    h.flush();
    assert.ok(!h.inflight.some((m) => m.type === "TimeoutNow"), "no TimeoutNow before the target is up to date");

    // Only the leader's clock runs (its heartbeats repair node 3's log): the
    // followers' election timers never fire, so node 3 campaigns on TimeoutNow.
    for (let beat = 0; beat < 5 && h.node(3).role !== "leader"; beat++) {
      for (let t = 0; t < 3; t++) leader.tick();
      h.settle();
    }
    assert.equal(h.node(3).role, "leader");
    assert.equal(h.node(3).currentTerm, term + 1);
    assert.equal(leader.role, "follower");
    assert.equal(leader.leaderId, 3);
    assert.equal(leader.transferringTo, null);
    assert.equal(h.node(2).leaderId, 3);
    assert.deepEqual(h.appliedData(3), ["a", "b"], "the new leader has everything the old one committed");
  });

  test("a transfer that cannot finish is abandoned after an election timeout, and proposals are taken again", () => {
    const h = new Harness([1, 2, 3]);
    const leader = h.elect(1);
    leader.propose(bytes("a"));
    h.settle((m) => m.to === 3);
    assert.equal(leader.transferLeadership(3), true);
    for (let t = 0; t < 40 && leader.transferringTo !== null; t++) {
      h.tick(1);
      h.settle((m) => m.to === 3 || m.from === 3); // node 3 is cut off
    }
    assert.equal(leader.transferringTo, null);
    assert.equal(leader.role, "leader", "node 2 keeps it in its majority");
    assert.equal(leader.propose(bytes("after")).ok, true);
  });

  test("only a leader transfers, and only to another member", () => {
    const h = new Harness([1, 2, 3]);
    const leader = h.elect(1);
    assert.equal(leader.transferLeadership(1), false);
    assert.equal(leader.transferLeadership(9), false);
    assert.equal(h.node(2).transferLeadership(3), false);
  });
});
