import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Harness, bytes } from "./harness.js";
import type { AppendEntries, InstallSnapshot, Message, NodeId } from "../../src/core/types.js";

const isAppend = (m: Message): m is AppendEntries => m.type === "AppendEntries";

describe("log replication and commitment (§5.3, §5.4.2)", () => {
  test("the course's scenario: an entry reaches all logs; the value is visible only after commit", () => {
    const h = new Harness([1, 2, 3]);
    const leader = h.elect(1);
    const r = leader.propose(bytes("set x 1"));
    assert.ok(r.ok);
    h.flush();
    assert.deepEqual(h.appliedData(1), [], "not applied before a majority has it");
    h.settle();
    for (const id of [1, 2, 3]) {
      assert.equal(h.node(id).log.lastIndex(), 2);
      assert.deepEqual(h.appliedData(id), ["set x 1"], `node ${id}`);
    }
  });

  test("followers learn the commit index from the leader; applied never passes commit", () => {
    const h = new Harness([1, 2, 3]);
    const leader = h.elect(1);
    leader.propose(bytes("a"));
    h.deliver(isAppend); // followers store it
    assert.equal(h.node(2).log.lastIndex(), 2);
    assert.equal(h.node(2).commitIndex, 1);
    h.deliver(); // responses: the leader commits
    assert.equal(leader.commitIndex, 2);
    assert.equal(h.node(2).commitIndex, 1, "followers learn it with the next AppendEntries");
    h.tick(1, 3); // heartbeat
    h.settle();
    assert.equal(h.node(2).commitIndex, 2);
    for (const n of h.nodes.values()) assert.ok(n.lastApplied <= n.commitIndex);
  });

  test("a 1-node cluster commits by itself", () => {
    const h = new Harness([1]);
    const leader = h.elect(1);
    leader.propose(bytes("solo"));
    h.flush();
    assert.equal(leader.commitIndex, 2);
    assert.deepEqual(h.appliedData(1), ["solo"]);
  });

  test("a leader may replicate before its own write is durable, but counts its log only once it is (thesis §10.2.1)", () => {
    const solo = new Harness([1]).elect(1);
    solo.propose(bytes("x"));
    const first = solo.ready();
    assert.equal(first.sendBeforePersist, true);
    assert.deepEqual(first.entries.map((e) => e.index), [2]);
    assert.deepEqual(first.committed, [], "not committed while the leader's only copy is unwritten");
    assert.equal(solo.commitIndex, 1);
    solo.advance();
    assert.equal(solo.commitIndex, 2, "committed once the driver says it is durable");
    assert.deepEqual(solo.ready().committed.map((e) => e.index), [2]);
    solo.advance();

    const h = new Harness([1, 2, 3]);
    const leader = h.elect(1);
    leader.propose(bytes("y"));
    const rd = leader.ready();
    assert.equal(rd.sendBeforePersist, true, "a leader's AppendEntries need not wait for its fsync");
    assert.ok(rd.messages.length > 0 && rd.messages.every(isAppend));
    leader.advance();
    for (const m of rd.messages) if (m.to === 2) h.node(2).step(m);
    const ack = h.node(2).ready();
    h.node(2).advance();
    assert.equal(ack.sendBeforePersist, false, "a follower's acknowledgement promises its write is durable");
    assert.ok(ack.entries.length > 0 && ack.messages.length > 0);

    // A higher term reaches the leader: the Ready that steps it down carries a new term to persist first.
    leader.step({ ...ack.messages[0]!, type: "AppendEntriesResponse", from: 3, to: 1, term: leader.currentTerm + 1 } as Message);
    const down = leader.ready();
    assert.equal(leader.role, "follower");
    assert.ok(down.hardState !== null);
    assert.equal(down.sendBeforePersist, false);
    leader.advance();

    // A candidate's vote requests wait for its new term and self-vote to be durable.
    const c = h.node(3);
    for (let i = 0; i < 100 && c.role === "follower"; i++) c.tick();
    const campaign = c.ready();
    assert.notEqual(c.role, "follower");
    assert.equal(campaign.sendBeforePersist, false);
    c.advance();
  });

  test("proposals made between two sends go out together in one AppendEntries", () => {
    const h = new Harness([1, 2, 3]);
    const leader = h.elect(1);
    for (const s of ["a", "b", "c"]) leader.propose(bytes(s));
    h.flush();
    const appends = h.inflight.filter(isAppend);
    assert.equal(appends.length, 2, "one per follower");
    for (const m of appends) assert.deepEqual(m.entries.map((e) => new TextDecoder().decode(e.data)), ["a", "b", "c"]);
  });

  test("several AppendEntries in flight to one follower, bounded by the window", () => {
    const h = new Harness([1, 2, 3], { maxInflight: 3, maxBytesPerAppend: 1 });
    const leader = h.elect(1);
    for (let i = 0; i < 10; i++) leader.propose(bytes(`e${i}`));
    h.flush();
    const to2 = h.inflight.filter((m) => isAppend(m) && m.to === 2 && m.entries.length > 0);
    assert.equal(to2.length, 3, "three unanswered messages, no more");
    h.settle();
    assert.equal(h.node(2).log.lastIndex(), 11);
    assert.equal(leader.commitIndex, 11);
  });

  test("a stale AppendEntries delivered late never truncates matching entries", () => {
    const h = new Harness([1, 2, 3], { maxBytesPerAppend: 1 });
    const leader = h.elect(1);
    leader.propose(bytes("a"));
    h.flush();
    const early = h.inflight.filter((m) => isAppend(m) && m.to === 2);
    h.settle();
    leader.propose(bytes("b"));
    h.settle();
    assert.equal(h.node(2).log.lastIndex(), 3);
    for (const m of early) h.node(2).step(m); // the old message again
    assert.equal(h.node(2).log.lastIndex(), 3);
  });

  test("fast backtracking: a follower with a long stale suffix is repaired in a few round trips", () => {
    const h = new Harness([1, 2, 3], { preVote: false, checkQuorum: false, timeouts: { 1: 10, 2: 12, 3: 40 } });
    h.elect(1);
    // Node 1 leads term 1 and appends 50 entries that only it gets.
    for (let i = 0; i < 50; i++) h.node(1).propose(bytes(`stale${i}`));
    h.flush();
    h.inflight = [];
    // Node 2 becomes leader in term 2 with node 3; node 1 is away.
    h.tick(2, 12);
    h.settle((m) => m.to === 1 || m.from === 1);
    assert.equal(h.node(2).role, "leader");
    h.node(2).propose(bytes("new"));
    h.settle((m) => m.to === 1 || m.from === 1);
    // Node 1 comes back: count the refusals it sends while being repaired.
    let refusals = 0;
    for (let i = 0; i < 20; i++) {
      h.tick(2);
      const delivered = h.deliver();
      refusals += delivered.filter((m) => m.type === "AppendEntriesResponse" && m.from === 1 && !m.success).length;
      h.settle();
    }
    assert.deepEqual(h.appliedData(1).slice(-1), ["new"]);
    assert.equal(h.node(1).log.lastIndex(), h.node(2).log.lastIndex());
    assert.ok(refusals <= 2, `the whole stale term is skipped at once (${refusals} refusals)`);
  });
});

describe("Figure 8: a leader never commits an entry of an earlier term by counting replicas", () => {
  const S = [1, 2, 3, 4, 5];
  const isolate = (id: NodeId) => (m: Message) => m.from === id || m.to === id;

  test("(a)–(d): the old-term entry on a majority is not committed, and can be overwritten", () => {
    const h = new Harness(S, { preVote: false, checkQuorum: false, maxBytesPerAppend: 1, timeouts: { 1: 10, 2: 50, 3: 50, 4: 50, 5: 12 } });
    h.elect(1);
    h.node(1).propose(bytes("X"));
    h.settle((m) => !((m.from === 1 && m.to === 2) || (m.from === 2 && m.to === 1)));
    assert.equal(h.node(2).log.term(2), 1);
    assert.equal(h.node(3).log.lastIndex(), 1);
    // (b) S1 crashes; S5 wins term 2 with S3 and S4 and appends its no-op at 2, which nobody gets.
    h.restart(1);
    h.tick(5, 12);
    h.settle((m) => isolate(1)(m) || isolate(2)(m) || (m.from === 5 && m.type === "AppendEntries"));
    assert.equal(h.node(5).role, "leader");
    assert.equal(h.node(5).log.term(2), 2);
    // S5 crashes. (c) S1 restarts and wins term 3 with S2, S3, S4.
    h.restart(5);
    h.node(1).tick();
    for (let i = 0; i < 30 && h.node(1).role !== "leader"; i++) {
      h.tick(1);
      h.settle((m) => isolate(5)(m) || m.type === "AppendEntries");
    }
    assert.equal(h.node(1).role, "leader");
    assert.equal(h.node(1).currentTerm, 3);
    // S1 replicates index 2 (term 1) to S3 — one entry per message — but not
    // its term-3 no-op; S2 gets everything (S1 must learn S2 holds index 2).
    for (let i = 0; i < 4; i++) {
      h.tick(1);
      h.settle((m) => isolate(5)(m) || m.to === 4 || (isAppend(m) && m.to === 3 && h.node(3).log.lastIndex() >= 2 && m.entries.some((e) => e.index >= 3)));
    }
    const holders = S.filter((id) => h.node(id).log.term(2) === 1);
    assert.deepEqual(holders, [1, 2, 3], "index 2 of term 1 is on a majority");
    assert.equal(h.node(1).progress.get(2)!.matchIndex, 3);
    assert.equal(h.node(1).progress.get(3)!.matchIndex, 2, "and the leader knows it");
    assert.ok(h.node(1).commitIndex < 2, "...and still not committed: it is not of the leader's term");
    // (d) S1 crashes; S5 (last term 2) wins term 4 with S3 and S4 and overwrites index 2.
    h.restart(1);
    for (let i = 0; i < 30 && h.node(5).role !== "leader"; i++) {
      h.tick(5);
      h.settle(isolate(1));
    }
    assert.equal(h.node(5).role, "leader");
    h.settle(isolate(1));
    for (const id of [3, 4]) assert.equal(h.node(id).log.term(2), 2, `index 2 replaced on S${id}`);
  });

  test("(e): once an entry of the leader's own term is on a majority, both commit", () => {
    const g = new Harness(S, { preVote: false, checkQuorum: false });
    const leader = g.elect(1);
    leader.propose(bytes("X"));
    g.settle((m) => m.to === 4 || m.to === 5);
    assert.equal(leader.commitIndex, 2);
  });
});

describe("read index (thesis §6.4)", () => {
  test("a read completes only after a majority acknowledges the leader after the read arrived", () => {
    const h = new Harness([1, 2, 3]);
    const leader = h.elect(1);
    leader.propose(bytes("a"));
    h.settle();
    leader.read(7);
    h.flush();
    assert.deepEqual(h.reads.get(1), [], "not before the confirmation round");
    const round = h.inflight.filter(isAppend);
    assert.equal(round.length, 2, "the read triggers one heartbeat round");
    h.deliver((m) => m.to === 2); // node 2 acknowledges; with the leader that is a majority
    h.deliver((m) => m.from === 2);
    assert.deepEqual(h.reads.get(1), [{ id: 7, ok: true, index: 2 }]);
  });

  test("reads wait until the new leader has committed an entry of its term", () => {
    const h = new Harness([1, 2, 3]);
    const n1 = h.node(1);
    h.tick(1, 12);
    h.settle((m) => m.type === "AppendEntries" || m.type === "AppendEntriesResponse");
    assert.equal(n1.role, "leader");
    n1.read(1);
    h.flush();
    h.inflight = h.inflight.filter((m) => !isAppend(m) || m.entries.length === 0); // the no-op is lost
    h.settle((m) => isAppend(m) && m.entries.length > 0);
    assert.deepEqual(h.reads.get(1), [], "heartbeats answered, but the no-op is not committed");
    h.tick(1, 3);
    h.settle();
    assert.deepEqual(h.reads.get(1), [{ id: 1, ok: true, index: 1 }]);
  });

  test("a follower refuses a read and names the leader", () => {
    const h = new Harness([1, 2, 3]);
    h.elect(1);
    h.node(2).read(5);
    h.flush();
    assert.deepEqual(h.reads.get(2), [{ id: 5, ok: false, leader: 1 }]);
  });

  test("a deposed leader's pending reads fail", () => {
    const h = new Harness([1, 2, 3]);
    const leader = h.elect(1);
    leader.read(9);
    h.flush();
    h.inflight = [];
    leader.step({ type: "AppendEntries", from: 2, to: 1, term: 5, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, seq: 1 });
    h.flush();
    assert.deepEqual(h.reads.get(1), [{ id: 9, ok: false, leader: null }]);
  });

  test("a leader partitioned from the majority never answers a read", () => {
    const h = new Harness([1, 2, 3]);
    const leader = h.elect(1);
    leader.read(1);
    for (let i = 0; i < 40; i++) {
      h.tickAll();
      h.settle((m) => m.from === 1 || m.to === 1);
    }
    assert.deepEqual(h.reads.get(1), [{ id: 1, ok: false, leader: null }]);
  });
});

describe("snapshots (§7)", () => {
  test("a follower behind the compacted log catches up from an InstallSnapshot", () => {
    const h = new Harness([1, 2, 3]);
    const leader = h.elect(1);
    for (let i = 0; i < 5; i++) leader.propose(bytes(`v${i}`));
    h.settle((m) => m.to === 3);
    leader.compact(leader.lastApplied, bytes("state@6"));
    assert.equal(leader.log.snapshotIndex, 6);
    for (let i = 0; i < 3; i++) {
      h.tick(1, 3);
      h.settle();
    }
    const n3 = h.node(3);
    assert.equal(n3.log.snapshotIndex, 6);
    assert.equal(n3.commitIndex, 6);
    leader.propose(bytes("after"));
    h.settle();
    assert.equal(n3.log.lastIndex(), 7);
    assert.deepEqual(h.appliedData(3), ["after"], "entries after the snapshot are applied normally");
  });

  test("a snapshot larger than a chunk travels in pieces (Figure 13), past a lost chunk, a follower restart and a duplicate", () => {
    const h = new Harness([1, 2, 3], { snapshotChunkBytes: 4 });
    const leader = h.elect(1);
    for (let i = 0; i < 5; i++) leader.propose(bytes(`v${i}`));
    h.settle((m) => m.to === 3);
    const state = bytes("0123456789abcdefXYZ"); // 19 bytes: 5 chunks
    leader.compact(leader.lastApplied, state);
    const chunks: InstallSnapshot[] = [];
    let lost = false;
    let restarted = false;
    let duplicated = false;
    let second: InstallSnapshot | null = null;
    const n3 = () => h.node(3);
    for (let round = 0; round < 20 && n3().log.snapshotIndex < 6; round++) {
      h.tick(1, 3);
      h.settle((m) => {
        if (m.type !== "InstallSnapshot") return false;
        chunks.push(m);
        if (!lost && m.offset === 4) return (lost = true); // the second chunk is lost once
        if (m.offset === 4) second = m;
        if (restarted && !duplicated && m.offset === 8 && second) {
          // A late duplicate of the second chunk arrives after it was taken: it must not be appended twice.
          n3().step(second);
          duplicated = true;
        }
        if (!restarted && m.offset === 12) {
          // The follower crashes with 12 bytes received: it starts over from nothing.
          h.restart(3);
          restarted = true;
          return true;
        }
        return false;
      });
    }
    assert.ok(lost && restarted && duplicated);
    assert.equal(n3().log.snapshotIndex, 6);
    assert.equal(n3().commitIndex, 6);
    const got = h.installed.get(3) ?? [];
    assert.equal(got.length, 1, "installed once");
    assert.deepEqual(got[0]!.data, state, "the chunks joined are the snapshot");
    assert.ok(chunks.every((m) => m.data.length <= 4), "no chunk over the limit");
    const restartAt = chunks.findIndex((m) => m.offset === 12);
    assert.ok(chunks.slice(restartAt + 1).some((m) => m.offset === 0), "after the restart the transfer began again at offset 0");
    assert.ok(chunks.some((m) => m.done && m.offset === 16));
    leader.propose(bytes("after"));
    h.settle();
    assert.equal(n3().log.lastIndex(), 7);
  });
});
