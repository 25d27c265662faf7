// Rules that `npm run mutate` (bench/mutations.ts) found guarded by no
// scripted test: each test here fails on the mutation named in its title.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { RaftNode, type RaftConfig } from "../../src/core/node.js";
import { EntryType, type Entry, type Message, type RequestVoteResponse } from "../../src/core/types.js";

const config = (id: number): RaftConfig => ({ id, members: [1, 2, 3], electionTimeoutTicks: [10, 11], heartbeatTicks: 3, random: () => 0, preVote: true, checkQuorum: true });
const entry = (index: number, term: number): Entry => ({ index, term, type: EntryType.Normal, data: new Uint8Array([index]) });

/** A follower of term `term` whose log holds `entries` (none committed), as restored from its disk. */
function follower(term: number, entries: Entry[]): RaftNode {
  return new RaftNode(config(1), { hardState: { currentTerm: term, votedFor: null }, snapshot: null, entries });
}

function drain(n: RaftNode): Message[] {
  const out: Message[] = [];
  while (n.hasReady()) {
    const rd = n.ready();
    out.push(...rd.messages);
    n.advance();
  }
  return out;
}

describe("guards found by the mutation score", () => {
  test("a pre-vote is refused to a candidate whose log is less up to date (mutation prevote-no-up-to-date)", () => {
    for (const [last, granted] of [[[1, 1], false], [[2, 1], true], [[1, 2], true]] as const) {
      const n = follower(1, [entry(1, 1), entry(2, 1)]);
      drain(n);
      n.step({ type: "RequestVote", from: 2, to: 1, term: 2, preVote: true, transfer: false, lastLogIndex: last[0], lastLogTerm: last[1] });
      const answer = drain(n).find((m): m is RequestVoteResponse => m.type === "RequestVoteResponse");
      assert.ok(answer, "the pre-vote is answered");
      assert.equal(answer.preVote, true);
      assert.equal(answer.voteGranted, granted, `candidate's log ends ${last[0]}@${last[1]}, ours 2@1`);
      assert.equal(n.currentTerm, 1, "a pre-vote changes no term");
    }
  });

  test("a snapshot whose last entry has another term than ours replaces our log (mutation snapshot-term-not-checked)", () => {
    const n = follower(2, [entry(1, 1), entry(2, 1), entry(3, 1)]);
    drain(n);
    n.step({ type: "InstallSnapshot", from: 2, to: 1, term: 2, lastIncludedIndex: 3, lastIncludedTerm: 2, offset: 0, data: new Uint8Array([7]), done: true, seq: 1, config: { voters: [1, 2, 3], outgoing: [], learners: [], context: "" } });
    const rd = n.ready();
    assert.ok(rd.snapshot, "the snapshot is installed (and handed to the driver to persist)");
    assert.equal(rd.snapshot.lastIncludedTerm, 2);
    assert.equal(n.log.term(3), 2, "our 3@1 is gone: the leader's 3@2 is what was committed");
    assert.equal(rd.committed.length, 0, "none of our own uncommitted entries is applied");
    n.advance();
    assert.equal(n.commitIndex, 3);
  });

  test("a snapshot whose last entry we hold with the same term only tells us it is committed", () => {
    const n = follower(2, [entry(1, 1), entry(2, 2), entry(3, 2)]);
    drain(n);
    n.step({ type: "InstallSnapshot", from: 2, to: 1, term: 2, lastIncludedIndex: 2, lastIncludedTerm: 2, offset: 0, data: new Uint8Array([7]), done: true, seq: 1, config: { voters: [1, 2, 3], outgoing: [], learners: [], context: "" } });
    const rd = n.ready();
    assert.equal(rd.snapshot, null, "nothing to install");
    assert.deepEqual(rd.committed.map((e) => `${e.index}@${e.term}`), ["1@1", "2@2"]);
    n.advance();
    assert.equal(n.log.lastIndex(), 3, "the entry after it is kept");
  });
});
