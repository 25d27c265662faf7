// The rules a bug could break, one function each. The real server uses
// FIGURE2_RULES; each variant of the simulator's bug zoo (src/sim/zoo.ts)
// replaces exactly one of them, so a search that finds the variant has found
// a violation of exactly that rule.

import { isJoint } from "./configuration.js";
import { checkQuorumEnabled, configuration, type Core, type Rules } from "./context.js";
import { becomeFollower } from "./roles.js";
import { surveySize } from "./survey.js";

export type { Rules } from "./context.js";


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
    return surveySize(configuration(c).voters.length);
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
  ignoreDisruptiveVote(c, m) {
    // A leader counts as having heard from itself: it keeps its lease too.
    // A transfer's election was asked for by the leader itself (thesis §3.10).
    return !m.transfer && checkQuorumEnabled(c) && heardFromLeaderRecently(c);
  },
  stepsDownWhenRefused() {
    return true;
  },
  backtrackHint(c, m) {
    // Retry after our last entry of the conflicting term if we have one, else
    // at the first index the follower holds of it.
    if (m.conflictTerm === 0) return m.conflictIndex;
    const last = c.st.log.lastIndexOfTerm(m.conflictTerm);
    return last > 0 ? last + 1 : m.conflictIndex;
  },
  voterSets(_c, cfg) {
    return isJoint(cfg) ? [cfg.voters, cfg.outgoing] : [cfg.voters];
  },
  mayChangeConfiguration(c) {
    // Also: not before this leader has committed an entry of its term (its
    // no-op). Without that, a change proposed by a new leader can overlap a
    // change an earlier leader left uncommitted (Ongaro, raft-dev, 2015).
    const st = c.st;
    const latest = st.log.latestConfig();
    const settled = latest === null || (latest.index <= st.commitIndex && !isJoint(latest.config));
    return settled && st.log.term(st.commitIndex) === st.currentTerm;
  },
  changesThroughJoint() {
    return true;
  },
};

/** Thesis §9.6/§4.2.3: a server that heard from a leader within the minimum election timeout believes it is alive. */
export function heardFromLeaderRecently(c: Core): boolean {
  return c.st.leaderId !== null && c.st.electionElapsed < c.config.electionTimeoutTicks[0];
}
