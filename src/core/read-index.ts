// Linearizable reads without a log entry: the read index (thesis §6.4,
// etcd-io/raft's read_only.go). A read waits for two things: the leader's
// commit index at its arrival, known only once an entry of the leader's own
// term is committed; and a round of heartbeats acknowledged by a majority
// after it arrived, which proves no newer leader existed when it was asked.
// One round, sent at the next ready(), serves every read that arrived before it.

import { voterSets, type Core } from "./context.js";
import { jointCommittedIndex } from "./quorum.js";
import type { PendingRead } from "./state.js";

/** A read request: the answer comes out of ready().reads (or at once, refused, on a non-leader). */
export function read(c: Core, id: number): void {
  const st = c.st;
  if (st.role !== "leader") {
    st.reads.push({ id, ok: false, leader: st.leaderId });
    return;
  }
  if (!c.rules.readNeedsQuorum(c)) {
    st.reads.push({ id, ok: true, index: st.commitIndex });
    return;
  }
  const r: PendingRead = { id, index: 0, requiredSeq: st.seq + 1 };
  st.pendingReads.push(r);
  if (committedInCurrentTerm(c)) r.index = st.commitIndex;
  st.readRoundWanted = true;
  releaseReads(c);
}

/** The leader knows the cluster's commit index once an entry of its own term is committed (thesis §6.4). */
export function committedInCurrentTerm(c: Core): boolean {
  return c.st.log.term(c.st.commitIndex) === c.st.currentTerm;
}

/** Answers every pending read whose confirmation round a majority has acknowledged. */
export function releaseReads(c: Core): void {
  const st = c.st;
  if (st.pendingReads.length === 0) return;
  const confirmedSeq = jointCommittedIndex(voterSets(c), (m) => (m === c.config.id ? Number.MAX_SAFE_INTEGER : (st.progress.get(m)?.ackedSeq ?? 0)));
  while (st.pendingReads.length > 0) {
    const r = st.pendingReads[0]!;
    if (r.index === 0 || r.requiredSeq > confirmedSeq) break;
    st.pendingReads.shift();
    st.reads.push({ id: r.id, ok: true, index: r.index });
  }
}

/** A leader stepping down refuses every read it had not answered: the client retries elsewhere. */
export function failPendingReads(c: Core): void {
  const st = c.st;
  for (const r of st.pendingReads) st.reads.push({ id: r.id, ok: false, leader: null });
  st.pendingReads = [];
}

/** The commit index moved to an entry of this term: reads that waited for it learn their index. */
export function commitReachedTerm(c: Core): void {
  for (const r of c.st.pendingReads) if (r.index === 0) r.index = c.st.commitIndex;
}

