// The model checker trusts two things derived from the one state record
// (src/core/state.ts): that fingerprint() names everything that decides a
// server's future, and that clone() copies everything deeply. Both are
// checked here field by field; the table below is as complete as state.ts's
// own (the compiler refuses a new field until it is listed here too).

import assert from "node:assert/strict";
import test from "node:test";
import { RaftNode } from "../../src/core/node.js";
import { Progress } from "../../src/core/progress.js";
import { Survey } from "../../src/core/recovery.js";
import { FINGERPRINT, type ServerState } from "../../src/core/state.js";
import { EntryType } from "../../src/core/types.js";

/** A change to one field, of the kind the core makes. */
const PERTURB: { readonly [K in keyof ServerState]: (st: ServerState) => void } = {
  currentTerm: (st) => st.currentTerm++,
  votedFor: (st) => (st.votedFor = 3),
  log: (st) => st.log.appendNew({ index: st.log.lastIndex() + 1, term: 1, type: EntryType.Normal, data: new Uint8Array([7]) }),
  lost: (st) => (st.lost = { through: 4, term: 1 }),
  survey: (st) => (st.survey = new Survey(3, 2, 0, true)),
  peersRecovering: (st) => st.peersRecovering.set(2, { recovering: true, round: st.recoveryRound }),
  recoveryRound: (st) => st.recoveryRound++,
  commitIndex: (st) => st.commitIndex++,
  lastApplied: (st) => st.lastApplied++,
  role: (st) => (st.role = "candidate"),
  leaderId: (st) => (st.leaderId = 2),
  progress: (st) => st.progress.set(2, new Progress(2, 0)),
  electionElapsed: (st) => st.electionElapsed++,
  heartbeatElapsed: (st) => st.heartbeatElapsed++,
  randomizedElectionTimeout: (st) => st.randomizedElectionTimeout++,
  votes: (st) => st.votes.set(2, true),
  seq: (st) => st.seq++,
  pendingReads: (st) => st.pendingReads.push({ id: 1, index: 0, requiredSeq: st.seq + 1 }),
  readRoundWanted: (st) => (st.readRoundWanted = true),
  commitToAnnounce: (st) => (st.commitToAnnounce = true),
  leadTransferee: (st) => (st.leadTransferee = 2),
  transferElapsed: (st) => st.transferElapsed++,
  snapshot: (st) => (st.snapshot = { lastIncludedIndex: 0, lastIncludedTerm: 0, data: new Uint8Array([1]), config: null }),
  incoming: (st) => (st.incoming = { leaderTerm: 1, index: 5, term: 1, chunks: [], bytes: 0 }),
  stableIndex: (st) => st.stableIndex++,
  persistedHardState: (st) => (st.persistedHardState = { currentTerm: 9, votedFor: null }),
  snapshotToPersist: (st) => (st.snapshotToPersist = { lastIncludedIndex: 0, lastIncludedTerm: 0, data: new Uint8Array(), config: null }),
  reportedSoftState: (st) => (st.reportedSoftState = { role: "leader", leader: 1, term: 9 }),
  reportedConfig: (st) => (st.reportedConfig = { voters: [9], outgoing: [], learners: [], context: "" }),
  messages: (st) => st.messages.push({ type: "TimeoutNow", from: 1, to: 2, term: 1 }),
  reads: (st) => st.reads.push({ id: 1, ok: false, leader: null }),
  readyInFlight: (st) => (st.readyInFlight = { stableIndex: 0, hardState: null, applied: 0 }),
};

function server(): RaftNode {
  return new RaftNode({ id: 1, members: [1, 2, 3], electionTimeoutTicks: [10, 20], heartbeatTicks: 1, random: () => 0 });
}

const writable = (n: RaftNode): ServerState => n.state() as ServerState;

/** A field's value as text, deep enough to see a shared Map, array or log change. */
function show(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (x instanceof Map) return [...x];
    if (x instanceof Uint8Array) return [...x];
    if (x && typeof x === "object" && "lastIndex" in x && typeof (x as { lastIndex: unknown }).lastIndex === "function") {
      const log = x as RaftNode["log"];
      return { base: `${log.snapshotIndex}@${log.snapshotTerm}`, entries: log.slice(log.firstIndex(), log.lastIndex() + 1) };
    }
    return x;
  });
}

test("every field of the state is either in the fingerprint or left out on purpose, and the fingerprint says which", () => {
  const keys = Object.keys(writable(server())).sort();
  assert.deepEqual(Object.keys(FINGERPRINT).sort(), keys, "FINGERPRINT lists every field of a real server's state");
  assert.deepEqual(Object.keys(PERTURB).sort(), keys, "this test perturbs every field");
  for (const key of keys as (keyof ServerState)[]) {
    const n = server();
    const before = n.fingerprint();
    PERTURB[key](writable(n));
    const leftOut = typeof FINGERPRINT[key] !== "function";
    if (leftOut) assert.equal(n.fingerprint(), before, `${key} is left out of the fingerprint, yet changing it changed the fingerprint`);
    else assert.notEqual(n.fingerprint(), before, `${key} is in the fingerprint table, yet changing it did not change the fingerprint`);
  }
});

test("a clone shares no mutable state with its original, field by field", () => {
  for (const key of Object.keys(PERTURB) as (keyof ServerState)[]) {
    const original = server();
    // Give the original something in every container, so a shallow copy would show.
    const st = writable(original);
    st.votes.set(3, false);
    st.progress.set(3, new Progress(3, 0));
    st.pendingReads.push({ id: 9, index: 0, requiredSeq: 1 });
    const before = show(st[key]);
    const copy = original.clone();
    PERTURB[key](writable(copy));
    if (key === "progress") writable(copy).progress.get(3)!.matchIndex = 5;
    if (key === "pendingReads") writable(copy).pendingReads[0]!.index = 5;
    assert.equal(show(st[key]), before, `changing ${key} on a clone changed the original`);
  }
});

test("a clone acts exactly as its original from then on", () => {
  const a = server();
  for (let i = 0; i < 15; i++) a.tick();
  const b = a.clone();
  assert.equal(b.fingerprint(), a.fingerprint());
  for (const n of [a, b]) {
    n.tick();
    if (n.hasReady()) {
      n.ready();
      n.advance();
    }
  }
  assert.equal(b.fingerprint(), a.fingerprint());
  assert.equal(a.role, b.role);
});
