// The Ready/Advance contract (etcd-io/raft's rawnode.go): what the driver
// must do after each input — persist, then send and apply — and the
// bookkeeping of what it has done.

import type { Ready, SoftState } from "./api.js";
import { sameConfiguration } from "./configuration.js";
import { applyTarget, maybeCommit } from "./commit.js";
import { configuration, type Core } from "./context.js";
import { announceCommit, broadcastHeartbeat, maybeSendAppend, wantsAppend } from "./replication.js";

/** True when ready() would return something to do. */
export function hasReady(c: Core): boolean {
  const st = c.st;
  return (
    st.messages.length > 0 ||
    st.reads.length > 0 ||
    (st.role === "leader" && st.progress.size > 0 && (st.readRoundWanted || st.commitToAnnounce)) ||
    st.snapshotToPersist !== null ||
    st.log.lastIndex() > st.stableIndex ||
    hardStateChanged(c) ||
    applyTarget(c) > st.lastApplied ||
    softStateChanged(c) ||
    configChanged(c) ||
    (st.role === "leader" && anyWantsAppend(c))
  );
}

function anyWantsAppend(c: Core): boolean {
  for (const p of c.st.progress.keys()) if (wantsAppend(c, p)) return true;
  return false;
}

export function ready(c: Core): Ready {
  const st = c.st;
  if (st.role === "leader") {
    if (st.readRoundWanted && st.progress.size > 0) broadcastHeartbeat(c);
    for (const p of st.progress.keys()) maybeSendAppend(c, p, false);
    if (st.commitToAnnounce) announceCommit(c);
  }
  st.commitToAnnounce = false;
  st.readRoundWanted = false;
  const hs = c.rules.hardStateToPersist(c);
  const hardState = hardStateChanged(c) ? hs : null;
  const applyTo = applyTarget(c);
  const softState = softStateChanged(c) ? currentSoftState(c) : null;
  if (softState !== null) st.reportedSoftState = softState;
  const config = configChanged(c) ? configuration(c) : null;
  if (config !== null) st.reportedConfig = config;
  const rd: Ready = {
    softState,
    hardState,
    snapshot: st.snapshotToPersist,
    entries: st.log.slice(st.stableIndex + 1, st.log.lastIndex() + 1),
    messages: st.messages,
    sendBeforePersist: st.role === "leader" && hardState === null && st.snapshotToPersist === null,
    committed: st.log.slice(st.lastApplied + 1, applyTo + 1),
    reads: st.reads,
    configuration: config,
  };
  st.readyInFlight = { stableIndex: st.log.lastIndex(), hardState: hs, applied: applyTo };
  st.messages = [];
  st.reads = [];
  st.snapshotToPersist = null;
  return rd;
}

/** The driver persisted, sent and applied everything of the last ready(). */
export function advance(c: Core): void {
  const st = c.st;
  const done = st.readyInFlight;
  if (!done) throw new Error("advance() without ready()");
  st.readyInFlight = null;
  st.stableIndex = done.stableIndex;
  if (done.hardState !== null) st.persistedHardState = done.hardState;
  st.lastApplied = Math.max(st.lastApplied, done.applied);
  // A leader counts its own log toward commitment only once it is durable (thesis §10.2.1).
  if (st.role === "leader") maybeCommit(c);
}

export function currentSoftState(c: Core): SoftState {
  return { role: c.st.role, leader: c.st.leaderId, term: c.st.currentTerm };
}

function softStateChanged(c: Core): boolean {
  const st = c.st;
  const r = st.reportedSoftState;
  return r === null || r.role !== st.role || r.leader !== st.leaderId || r.term !== st.currentTerm;
}

function configChanged(c: Core): boolean {
  const r = c.st.reportedConfig;
  if (r === null) return true;
  const now = configuration(c);
  return r !== now && !sameConfiguration(r, now);
}

function hardStateChanged(c: Core): boolean {
  const hs = c.rules.hardStateToPersist(c);
  const p = c.st.persistedHardState;
  if (hs === null) return false;
  return p === null || hs.currentTerm !== p.currentTerm || hs.votedFor !== p.votedFor || hs.lost?.through !== p.lost?.through || hs.lost?.term !== p.lost?.term;
}
