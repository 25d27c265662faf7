// Recovery from storage faults (docs/STORAGE.md; Alagappan et al.,
// "Protocol-Aware Recovery for Consensus-Based Storage", FAST 2018).
//
// Raft's proofs assume that what a server fsynced stays on its disk. When a
// disk breaks that promise, the server must not act as if it had not: a
// server that lost entries it had acknowledged could help elect a leader
// without them, and one that lost its vote could vote twice in a term. So a
// damaged server takes part again only step by step:
//
//   survey    it lost its term and vote (or its whole data directory): it
//             asks the others for their terms (RecoveryQuery) and does
//             nothing else until enough of them answered;
//   catch-up  it knows its term but its log may lack acknowledged entries
//             up to `through`: it follows a leader as usual, does not
//             campaign, and votes only for candidates whose logs are at
//             least as up-to-date as the one it lost, until that leader has
//             brought its log past `through` again.
//
// How many must answer the survey. Suppose the damaged server X voted, in
// some term T, for a candidate that won T. That winner got a majority q of
// votes: X and q - 1 others, and each of those others (the winner included)
// has kept a term >= T on an intact disk. If the servers X hears from meet
// every set of q - 1 others, one of them reports a term >= T, and X never
// votes again in T or earlier. Among the n - 1 others, a set meets every set
// of q - 1 of them exactly when it leaves out fewer than q - 1, so X needs
// answers from n - q + 1 others: 1 of 1 (n = 2), 2 of 2 (n = 3), 3 of 4
// (n = 5), 4 of 6 (n = 7). The same count makes the highest lastLogIndex
// reported at least the index of every entry that was committed with X's
// acknowledgement (committed on X and q - 1 others), which is how far X must
// be brought before it votes again.
//
// Answers from servers that are recovering themselves are no evidence and do
// not count, with one exception: when every other server has answered, and
// each says term 0 and an empty log, no election was ever won and nothing
// was ever committed (with at most a minority damaged, a winner's intact
// voters would say otherwise): X is a server of a brand-new cluster, and
// starts as one. That is how a new cluster starts, every server without a
// hard state: it elects its first leader once every server is up.

import type { RecoveryStatus } from "./api.js";
import { configuration, peers, resetElectionTimeout, send, type Core } from "./context.js";
import { majority } from "./quorum.js";
import { Survey } from "./survey.js";
import type { NodeId, RecoveryReply } from "./types.js";

export { Survey, surveySize } from "./survey.js";

// ---------------------------------------------------------------------
// The server's side: asking, answering, and deciding.
// ---------------------------------------------------------------------

/** The term and vote are unknown: ask everybody, and take part in nothing until enough answered. */
export function startSurvey(c: Core): void {
  const st = c.st;
  st.survey = new Survey(peers(c).length + 1, c.rules.surveySize(c), st.log.lastTerm(), st.log.lastIndex() === 0);
  sendRecoveryQueries(c);
}

/** Asks every other server for its term, its last index and whether it is recovering too. */
export function sendRecoveryQueries(c: Core): void {
  const st = c.st;
  st.recoveryRound++;
  for (const p of peers(c)) send(c, { type: "RecoveryQuery", from: c.config.id, to: p, term: st.currentTerm });
}

export function answerRecoveryQuery(c: Core, to: NodeId): void {
  const st = c.st;
  const recovering = st.survey !== null || st.lost !== null;
  send(c, { type: "RecoveryReply", from: c.config.id, to, term: st.currentTerm, lastLogIndex: st.log.lastIndex(), recovering });
}

export function handleRecoveryReply(c: Core, m: RecoveryReply): void {
  const st = c.st;
  st.peersRecovering.set(m.from, { recovering: m.recovering, round: st.recoveryRound });
  if (st.survey === null) return;
  st.survey.answer(m.from, { term: m.term, lastLogIndex: m.lastLogIndex, recovering: m.recovering });
  const outcome = st.survey.outcome();
  if (outcome === null) return;
  st.survey = null;
  if (outcome.fresh) {
    st.currentTerm = 0;
    st.votedFor = null;
  } else {
    st.currentTerm = outcome.term;
    // We may have voted in this term before the fault: we vote in it for nobody else.
    st.votedFor = c.config.id;
    st.lost = outcome.lost;
  }
  st.electionElapsed = 0;
  resetElectionTimeout(c);
}

/** Our log is known to match the current leader's up to `index`: a damaged server brought that far has recovered. */
export function noteMatched(c: Core, index: number): void {
  if (c.st.lost !== null && index >= c.st.lost.through) c.st.lost = null;
}

/**
 * A damaged server that cannot recover by itself: no leader, and a majority
 * (itself included) damaged, so no leader can ever be elected (damaged
 * servers do not vote). Alone in its cluster, it has nobody to recover from.
 */
export function stuck(c: Core): boolean {
  const st = c.st;
  if (st.survey === null && st.lost === null) return false;
  const voters = configuration(c).voters;
  if (voters.length === 1 && voters[0] === c.config.id) return true;
  if (st.leaderId !== null) return false;
  // Each other server's latest answer counts, however old: a damaged server
  // stops being damaged only by catching up from a leader (and then it says
  // so, or we hear from that leader), never by going silent. Counting only
  // recent answers left the second of two damaged servers waiting forever
  // once the first, having seen the same, stopped (found by the process test).
  let recovering = 1;
  for (const r of st.peersRecovering.values()) if (r.recovering) recovering++;
  return recovering >= majority(voters.length);
}

export function recoveryStatus(c: Core): RecoveryStatus | null {
  const st = c.st;
  if (st.survey === null && st.lost === null) return null;
  return { surveying: st.survey !== null, lostThrough: st.lost?.through ?? null };
}
