// Commitment (§5.3, §5.4.2): the leader advances commitIndex to the highest
// index stored on a majority — counting its own log only as far as it is
// durable — if that entry is of its current term (Figure 8).

import { voterSets, type Core } from "./context.js";
import { advanceConfiguration } from "./membership.js";
import { jointCommittedIndex } from "./quorum.js";
import { commitReachedTerm, committedInCurrentTerm, releaseReads } from "./read-index.js";

export function maybeCommit(c: Core): void {
  const st = c.st;
  // Joint consensus (thesis §4.3): held by a majority of the old voters and of the new.
  const n = jointCommittedIndex(voterSets(c), (m) => (m === c.config.id ? st.stableIndex : (st.progress.get(m)?.matchIndex ?? 0)));
  if (n > st.commitIndex && c.rules.mayCommitByCounting(c, n)) {
    const hadCommittedInTerm = committedInCurrentTerm(c);
    st.commitIndex = n;
    st.commitToAnnounce = true;
    if (!hadCommittedInTerm && committedInCurrentTerm(c)) commitReachedTerm(c);
    releaseReads(c);
    advanceConfiguration(c);
  }
}

/** Entries we may hand to the state machine: committed, and held in our log. */
export function applyTarget(c: Core): number {
  return Math.min(c.st.commitIndex, c.st.log.lastIndex());
}
