// Log replication (§5.3): the follower's AppendEntries receiver rules, and
// the leader's side — what to send each follower (flow control: Progress),
// heartbeats, and what to do with the answers (fast backtracking on refusal).

import { maybeCommit } from "./commit.js";
import { incarnation, send, type Core } from "./context.js";
import { noteMatched } from "./recovery.js";
import { sendSnapshot } from "./snapshot.js";
import { noteActive } from "./tracker.js";
import { maybeSendTimeoutNow } from "./transfer.js";
import type { AppendEntries, AppendEntriesResponse, NodeId } from "./types.js";

/** Follower: Figure 2's AppendEntries receiver implementation (its leader is the sender: same term). */
export function handleAppendEntries(c: Core, m: AppendEntries): void {
  const st = c.st;
  st.leaderId = m.from;
  st.electionElapsed = 0;
  const result = c.rules.appendFromLeader(c, m);
  if (result.ok) {
    if (result.truncatedFrom !== null && result.truncatedFrom <= st.stableIndex) st.stableIndex = result.truncatedFrom - 1;
    const newCommit = c.rules.followerCommitTarget(c, m.leaderCommit, result.lastNewIndex);
    if (newCommit > st.commitIndex) st.commitIndex = newCommit;
    noteMatched(c, result.lastNewIndex);
    answerAppend(c, m.from, m.seq, true, result.lastNewIndex, 0, 0);
  } else {
    answerAppend(c, m.from, m.seq, false, 0, result.conflictIndex, result.conflictTerm);
  }
}

export function answerAppend(c: Core, to: NodeId, seq: number, success: boolean, matchIndex: number, conflictIndex: number, conflictTerm: number): void {
  send(c, { type: "AppendEntriesResponse", from: c.config.id, to, term: c.st.currentTerm, success, matchIndex, conflictIndex, conflictTerm, seq, incarnation: incarnation(c) });
}

/** Leader: a follower answered. */
export function handleAppendResponse(c: Core, m: AppendEntriesResponse): void {
  const st = c.st;
  const pr = st.progress.get(m.from);
  if (!pr || !c.rules.observeIncarnation(c, pr, m.incarnation)) return;
  noteActive(c, pr, m.seq);
  if (m.success) {
    const advanced = pr.acknowledge(m.matchIndex);
    // Any success tells us where the logs match: stream from there on.
    if (pr.state === "probe") pr.becomeReplicate();
    if (advanced) maybeCommit(c);
    if (m.from === st.leadTransferee) maybeSendTimeoutNow(c);
  } else {
    pr.refused(c.rules.backtrackHint(c, m));
  }
}

/** Leader: the follower is missing entries and flow control lets us send them. */
export function wantsAppend(c: Core, p: NodeId): boolean {
  const pr = c.st.progress.get(p);
  return pr !== undefined && pr.nextIndex <= c.st.log.lastIndex() && pr.canSend(maxInflight(c));
}

function maxInflight(c: Core): number {
  return c.config.maxInflight ?? 64;
}

/**
 * Leader: sends what the follower is missing, if flow control allows. With
 * `heartbeat`, sends even when there is nothing new (empty AppendEntries).
 */
export function maybeSendAppend(c: Core, p: NodeId, heartbeat: boolean): void {
  const st = c.st;
  const pr = st.progress.get(p)!;
  // Chunks go out one at a time, on each answer, and again from the heartbeat when an answer is overdue.
  if (pr.state === "snapshot") return;
  const prevLogIndex = pr.nextIndex - 1;
  const prevLogTerm = st.log.term(prevLogIndex);
  if (prevLogTerm === undefined) {
    // The entries it needs are compacted away.
    pr.becomeSnapshot(st.log.snapshotIndex);
    sendSnapshot(c, pr);
    return;
  }
  const hasNew = pr.nextIndex <= st.log.lastIndex();
  const canSendEntries = hasNew && pr.canSend(maxInflight(c));
  if (!canSendEntries && !heartbeat) return;
  const entries = canSendEntries ? st.log.slice(pr.nextIndex, st.log.lastIndex() + 1, c.config.maxBytesPerAppend ?? 1 << 20) : [];
  if (entries.length > 0) pr.sent(entries[entries.length - 1]!.index);
  else if (pr.state === "probe") pr.probeSent = true;
  send(c, {
    type: "AppendEntries",
    from: c.config.id,
    to: p,
    term: st.currentTerm,
    prevLogIndex,
    prevLogTerm,
    entries,
    leaderCommit: st.commitIndex,
    seq: ++st.seq,
  });
}

/** Leader: one AppendEntries (or snapshot chunk) to every follower, empty if it has nothing new. */
export function broadcastHeartbeat(c: Core): void {
  for (const [p, pr] of c.st.progress) {
    // A streaming follower that answered nothing since the last heartbeat
    // may have lost the whole window: fall back to probing from matchIndex.
    if (pr.state === "replicate" && pr.inflight.length > 0 && !pr.respondedSinceHeartbeat) pr.becomeProbe();
    if (pr.state === "probe") pr.probeSent = false;
    // A chunk or its answer may be lost: send the chunk again (which also keeps the follower's election timer quiet).
    if (pr.state === "snapshot" && !pr.respondedSinceHeartbeat) sendSnapshot(c, pr);
    pr.respondedSinceHeartbeat = false;
    maybeSendAppend(c, p, true);
  }
}

/** Leader: tells followers that got nothing in this batch about the new commit index (an empty AppendEntries). */
export function announceCommit(c: Core): void {
  const told = new Set(c.st.messages.filter((m) => m.type === "AppendEntries").map((m) => m.to));
  for (const p of c.st.progress.keys()) if (!told.has(p)) maybeSendAppend(c, p, true);
}
