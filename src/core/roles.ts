// The only doors between roles. Each resets what belongs to the role it
// leaves; none sends anything (the caller does: election.ts, ticks.ts).

import { peers, resetElectionTimeout, type Core } from "./context.js";
import { Progress } from "./progress.js";
import { failPendingReads } from "./read-index.js";
import { EntryType, type NodeId } from "./types.js";

export function becomeFollower(c: Core, term: number, leader: NodeId | null): void {
  const st = c.st;
  if (term > st.currentTerm) {
    st.currentTerm = term;
    st.votedFor = null;
  }
  if (st.role === "leader") failPendingReads(c);
  st.leadTransferee = null;
  st.role = "follower";
  st.leaderId = leader;
  st.electionElapsed = 0;
  resetElectionTimeout(c);
  st.progress.clear();
}

export function becomePreCandidate(c: Core): void {
  const st = c.st;
  st.role = "precandidate";
  st.leaderId = null;
  st.votes = new Map([[c.config.id, true]]);
  resetElectionTimeout(c);
}

export function becomeCandidate(c: Core): void {
  const st = c.st;
  st.currentTerm++;
  st.votedFor = c.config.id;
  st.role = "candidate";
  st.leaderId = null;
  st.votes = new Map([[c.config.id, true]]);
  resetElectionTimeout(c);
}

/** Takes office; the caller then sends the first heartbeat round. */
export function becomeLeader(c: Core): void {
  const st = c.st;
  st.role = "leader";
  st.leaderId = c.config.id;
  st.heartbeatElapsed = 0;
  st.electionElapsed = 0;
  st.progress.clear();
  for (const p of peers(c)) st.progress.set(p, new Progress(p, st.log.lastIndex()));
  // The no-op lets the leader commit entries of earlier terms (§5.4.2) and
  // learn the commit index it needs for reads (thesis §6.4).
  if (c.rules.appendsNoopOnElection(c)) st.log.appendNew({ index: st.log.lastIndex() + 1, term: st.currentTerm, type: EntryType.Noop, data: new Uint8Array(0) });
}
