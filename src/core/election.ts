// Elections (§5.2, §5.4.1), with pre-vote (thesis §9.6), the §4.2.3 rule
// against disruptive servers, and the transfer election (thesis §3.10).

import { preVoteEnabled, send, voterPeers, voterSets, type Core } from "./context.js";
import { advanceConfiguration, mayCampaign } from "./membership.js";
import { heardFromLeaderRecently } from "./rules.js";
import { jointVoteResult } from "./quorum.js";
import { broadcastHeartbeat } from "./replication.js";
import { becomeCandidate, becomeFollower, becomeLeader, becomePreCandidate } from "./roles.js";
import type { RequestVote, RequestVoteResponse, TimeoutNow } from "./types.js";

/** The election timeout passed without a leader: campaign (after a pre-vote round, if enabled). */
export function campaign(c: Core): void {
  // The only voter: its own vote is a majority (of every set).
  if (jointVoteResult(voterSets(c), new Map([[c.config.id, true]])) === "won") {
    becomeCandidate(c);
    takeOffice(c);
    return;
  }
  if (preVoteEnabled(c)) {
    becomePreCandidate(c);
    requestVotes(c, true);
  } else {
    becomeCandidate(c);
    requestVotes(c, false);
  }
}

function requestVotes(c: Core, preVote: boolean, transfer = false): void {
  const st = c.st;
  const term = preVote ? st.currentTerm + 1 : st.currentTerm;
  for (const p of voterPeers(c)) {
    send(c, { type: "RequestVote", from: c.config.id, to: p, term, preVote, transfer, lastLogIndex: st.log.lastIndex(), lastLogTerm: st.log.lastTerm() });
  }
}

/** Figure 2's RequestVote receiver implementation (the term is already ours: node.ts). */
export function handleRequestVote(c: Core, m: RequestVote): void {
  const st = c.st;
  let granted: boolean;
  if (!c.rules.coversWhatWasLost(c, m)) {
    granted = false;
  } else if (m.preVote) {
    // Grant a pre-vote only if we would grant the real vote, and we have
    // not heard from a leader recently (else the cluster is healthy).
    granted = m.term > st.currentTerm && !heardFromLeaderRecently(c) && c.rules.candidateIsUpToDate(c, m);
  } else {
    granted = c.rules.mayVoteFor(c, m.from) && c.rules.candidateIsUpToDate(c, m);
    if (granted) {
      st.votedFor = m.from;
      st.electionElapsed = 0; // granting a vote resets the election timer (Figure 2, Followers)
    }
  }
  send(c, { type: "RequestVoteResponse", from: c.config.id, to: m.from, term: m.preVote && granted ? m.term : st.currentTerm, preVote: m.preVote, voteGranted: granted });
}

/** A (pre-)candidate counts an answer: a majority of grants wins the round, a majority of refusals ends it. */
export function handleVoteResponse(c: Core, m: RequestVoteResponse): void {
  const st = c.st;
  const campaigning = m.preVote ? st.role === "precandidate" : st.role === "candidate";
  if (!campaigning) return;
  // A granted pre-vote names the term we would campaign in; refusals carry the voter's term (ours, else we stepped down).
  if (m.preVote && m.voteGranted && m.term !== st.currentTerm + 1) return;
  st.votes.set(m.from, m.voteGranted);
  switch (jointVoteResult(voterSets(c), st.votes)) {
    case "won":
      if (m.preVote) {
        becomeCandidate(c);
        requestVotes(c, false);
      } else {
        takeOffice(c);
      }
      return;
    case "lost":
      if (c.rules.stepsDownWhenRefused(c)) becomeFollower(c, st.currentTerm, null);
      return;
    case "pending":
      return;
  }
}

/** Won: lead, announce it, and finish a change an earlier leader left joint but committed. */
function takeOffice(c: Core): void {
  becomeLeader(c);
  advanceConfiguration(c);
  broadcastHeartbeat(c);
}

/**
 * Thesis §4.2.3: with check-quorum, a RequestVote arriving within the
 * minimum election timeout of hearing from a current leader is ignored:
 * neither the term is updated nor the vote granted (rules.ts).
 */
export function ignoreDisruptiveVote(c: Core, m: RequestVote): boolean {
  return c.rules.ignoreDisruptiveVote(c, m);
}

/** Follower: TimeoutNow from our leader: campaign now, skipping pre-vote (the leader asked for it). */
export function handleTimeoutNow(c: Core, m: TimeoutNow): void {
  if (m.from !== c.st.leaderId || c.rules.recovering(c) || !mayCampaign(c)) return;
  becomeCandidate(c);
  requestVotes(c, false, true);
}
