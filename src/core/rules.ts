// The rules a bug could break, one function each. The real server uses
// FIGURE2_RULES; each variant of the simulator's bug zoo (src/sim/zoo.ts)
// replaces exactly one of them, so a search that finds the variant has found
// a violation of exactly that rule.

import type { AppendResult } from "./log.js";
import type { Core } from "./context.js";
import type { Progress } from "./progress.js";
import { surveySize } from "./recovery.js";
import { becomeFollower } from "./roles.js";
import type { AppendEntries, HardState, NodeId, RequestVote } from "./types.js";

export interface Rules {
  /** Figure 2, rules for all servers: a higher term makes us a follower of that term. */
  observeHigherTerm(c: Core, term: number, leader: NodeId | null): void;
  /** §5.4.2 / Figure 8: only an entry of the current term is committed by counting replicas. */
  mayCommitByCounting(c: Core, index: number): boolean;
  /** §5.4.1: vote only for a candidate whose log is at least as up-to-date as ours. */
  candidateIsUpToDate(c: Core, m: RequestVote): boolean;
  /** Figure 2, RequestVote receiver 2: one vote per term. */
  mayVoteFor(c: Core, candidate: NodeId): boolean;
  /** Figure 2: currentTerm and votedFor are persisted before any reply that depends on them. Null while they are unknown. */
  hardStateToPersist(c: Core): HardState | null;
  /** A server whose disk may have lost acknowledged entries does not campaign (docs/STORAGE.md). */
  recovering(c: Core): boolean;
  /** §5.4.1 for a damaged server: the candidate's log covers the log it lost (docs/STORAGE.md). */
  coversWhatWasLost(c: Core, m: RequestVote): boolean;
  /** How many intact servers a server that lost its term and vote must hear from (recovery.ts). */
  surveySize(c: Core): number;
  /** A leader reads a follower's incarnation first: false means ignore the answer (Progress.observeIncarnation). */
  observeIncarnation(c: Core, pr: Progress, incarnation: number): boolean;
  /** Figure 2, AppendEntries receiver 2–4. */
  appendFromLeader(c: Core, m: AppendEntries): AppendResult;
  /** Figure 2, AppendEntries receiver 5: commitIndex = min(leaderCommit, index of last new entry). */
  followerCommitTarget(c: Core, leaderCommit: number, lastNewIndex: number): number;
  /** §8 / thesis §6.4: a new leader appends a no-op entry of its term at once. */
  appendsNoopOnElection(c: Core): boolean;
  /** Thesis §6.4: a read must be confirmed by a quorum heartbeat round. */
  readNeedsQuorum(c: Core): boolean;
}

export const FIGURE2_RULES: Rules = {
  observeHigherTerm(c, term, leader) {
    becomeFollower(c, term, leader);
  },
  mayCommitByCounting(c, index) {
    return c.st.log.term(index) === c.st.currentTerm;
  },
  candidateIsUpToDate(c, m) {
    return c.st.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
  },
  mayVoteFor(c, candidate) {
    return c.st.votedFor === null || c.st.votedFor === candidate;
  },
  hardStateToPersist(c) {
    const st = c.st;
    if (st.survey !== null) return null;
    return st.lost === null ? { currentTerm: st.currentTerm, votedFor: st.votedFor } : { currentTerm: st.currentTerm, votedFor: st.votedFor, lost: st.lost };
  },
  recovering(c) {
    return c.st.lost !== null;
  },
  coversWhatWasLost(c, m) {
    // Its vote must be as careful as the one it would have given with the log
    // it lost: the candidate's log ends in a later term than any it held, or
    // in that term at or past its last index. Always true for an intact server.
    const lost = c.st.lost;
    return lost === null || m.lastLogTerm > lost.term || (m.lastLogTerm === lost.term && m.lastLogIndex >= lost.through);
  },
  surveySize(c) {
    return surveySize(c.members.length);
  },
  observeIncarnation(_c, pr, incarnation) {
    return pr.observeIncarnation(incarnation);
  },
  appendFromLeader(c, m) {
    return c.st.log.tryAppend(m.prevLogIndex, m.prevLogTerm, m.entries);
  },
  followerCommitTarget(_c, leaderCommit, lastNewIndex) {
    return Math.min(leaderCommit, lastNewIndex);
  },
  appendsNoopOnElection() {
    return true;
  },
  readNeedsQuorum() {
    return true;
  },
};
