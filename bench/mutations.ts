// The catalogue of `npm run mutate` (bench/mutate.ts): each mutation breaks
// one rule of the Raft core, given as text to find in the compiled core
// (dist/src/core/*.js: the TypeScript without its types, comments kept) and
// its replacement. The text must occur exactly once in src/core; the runner
// refuses a mutation that does not apply, so a refactoring that moves the
// code makes `npm run mutate` fail instead of silently testing nothing.

export interface Mutation {
  readonly id: string;
  /** The rule it breaks, as the paper (§, Figure 2) or the thesis names it. */
  readonly rule: string;
  readonly find: string;
  readonly replace: string;
}

export const MUTATIONS: readonly Mutation[] = [
  // Figure 2, rules for all servers
  { id: "higher-term-no-step-down", rule: "Figure 2, all servers: a higher term makes a leader a follower", find: "        becomeFollower(c, term, leader);", replace: "        c.st.currentTerm = term; c.st.votedFor = null;" },
  { id: "stale-term-accepted", rule: "Figure 2: a message of an older term is refused", find: "else if (m.term < st.currentTerm) {", replace: "else if (false) {" },
  // RequestVote receiver, §5.2, §5.4.1
  { id: "vote-twice", rule: "Figure 2, RequestVote 2: one vote per term", find: "return c.st.votedFor === null || c.st.votedFor === candidate;", replace: "return true;" },
  { id: "vote-no-up-to-date", rule: "§5.4.1: vote only for a log at least as up-to-date", find: "return c.st.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);", replace: "return true;" },
  { id: "up-to-date-by-length", rule: "§5.4.1: compare last terms first, then lengths", find: "return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());", replace: "return lastIndex >= this.lastIndex();" },
  { id: "candidate-counts-self-twice", rule: "§5.2: a candidate wins with votes from a majority", find: "let granted = 0;", replace: "let granted = 1;" },
  { id: "refused-candidate-stays", rule: "a candidate refused by a majority stops campaigning in that term", find: 'case "lost":', replace: 'case "lost": return;' },
  // Persistence (Figure 2: persistent state on all servers, updated before responding)
  { id: "vote-not-persisted", rule: "Figure 2: votedFor is persisted before the vote is answered", find: "return st.lost === null ? { currentTerm: st.currentTerm, votedFor: st.votedFor }", replace: "return st.lost === null ? { currentTerm: st.currentTerm, votedFor: null }" },
  { id: "term-change-not-persisted", rule: "Figure 2: currentTerm is persisted before responding", find: "hs.currentTerm !== p.currentTerm || ", replace: "" },
  { id: "follower-acks-before-persist", rule: "Figure 2: log entries are persisted before they are acknowledged", find: 'sendBeforePersist: st.role === "leader" && hardState === null && st.snapshotToPersist === null', replace: "sendBeforePersist: true" },
  { id: "rewritten-entries-not-persisted", rule: "Figure 2: a truncated and rewritten log suffix is persisted again", find: "if (result.truncatedFrom !== null && result.truncatedFrom <= st.stableIndex)", replace: "if (false)" },
  // AppendEntries receiver
  { id: "append-no-prev-check", rule: "Figure 2, AppendEntries 2: refuse when prevLogIndex/prevLogTerm do not match", find: "if (myPrevTerm !== prevTerm)", replace: "if (false)" },
  { id: "append-no-truncate-on-conflict", rule: "Figure 2, AppendEntries 3: delete a conflicting entry and all that follow", find: "this.truncateFrom(e.index); // rule 3: conflict", replace: "// rule 3 skipped" },
  { id: "append-truncates-matching", rule: "Figure 2, AppendEntries 3-4: keep entries that match (a stale AppendEntries must not cut them)", find: "continue; // rule 4: already there", replace: "if (e.index > this.lastIndex()) continue;" },
  { id: "follower-commit-leaderCommit", rule: "Figure 2, AppendEntries 5: commitIndex = min(leaderCommit, index of last new entry)", find: "return Math.min(leaderCommit, lastNewIndex);", replace: "return leaderCommit;" },
  // Leader: commitment
  { id: "commit-any-term", rule: "§5.4.2: commit by counting replicas only entries of the current term", find: "return c.st.log.term(index) === c.st.currentTerm;", replace: "return c.st.log.term(index) !== undefined;" },
  { id: "commit-without-majority", rule: "§5.3: an entry is committed once stored on a majority", find: "return sorted[Math.floor(matchIndexes.length / 2)];", replace: "return sorted[Math.max(0, Math.floor(matchIndexes.length / 2) - 1)];" },
  // Not in the catalogue: counting the leader's own log up to lastIndex instead of stableIndex (thesis
  // §10.2.1). It is an equivalent mutant under the core's contract: no input may arrive between ready()
  // and advance(), and advance() makes every entry of the Ready stable, so when an answer is counted the
  // leader's entries that any follower can hold are already stable (npm run mutate found no test, and
  // none can fail on it).
  { id: "no-noop-on-election", rule: "§8 / thesis §6.4: a new leader appends a no-op of its term", find: "appendsNoopOnElection() {\n        return true;", replace: "appendsNoopOnElection() {\n        return false;" },
  // Leader: replication and flow control
  { id: "backtrack-ignores-hint", rule: "§5.3: the leader backs up nextIndex using the follower's conflict hint", find: "pr.refused(c.rules.backtrackHint(c, m));", replace: "pr.refused(pr.nextIndex - 1);" },
  { id: "backtrack-hint-off-by-one", rule: "§5.3: retry right after the leader's last entry of the conflicting term", find: "return last > 0 ? last + 1 : m.conflictIndex;", replace: "return last > 0 ? last : m.conflictIndex;" },
  { id: "flow-control-unbounded", rule: "flow control: at most maxInflight unanswered AppendEntries per follower", find: "return this.inflight.length < maxInflight;", replace: "return true;" },
  { id: "probe-unbounded", rule: "flow control: a probing follower gets one AppendEntries per heartbeat or answer", find: "return !this.probeSent;", replace: "return true;" },
  // Pre-vote, check-quorum, §4.2.3
  { id: "prevote-ignores-live-leader", rule: "thesis §9.6: no pre-vote while a leader was heard from recently", find: "granted = m.term > st.currentTerm && !heardFromLeaderRecently(c) && c.rules.candidateIsUpToDate(c, m);", replace: "granted = m.term > st.currentTerm && c.rules.candidateIsUpToDate(c, m);" },
  { id: "prevote-no-up-to-date", rule: "thesis §9.6: a pre-vote is granted only if the real vote would be", find: "granted = m.term > st.currentTerm && !heardFromLeaderRecently(c) && c.rules.candidateIsUpToDate(c, m);", replace: "granted = m.term > st.currentTerm && !heardFromLeaderRecently(c);" },
  { id: "check-quorum-off", rule: "thesis §6.2: a leader that has not heard from a majority steps down", find: "if (checkQuorumEnabled(c) && !quorumActive(c)) {", replace: "if (false) {" },
  { id: "disruptive-vote-rule-off", rule: "thesis §4.2.3: ignore a RequestVote while a current leader is heard from", find: "return !m.transfer && checkQuorumEnabled(c) && heardFromLeaderRecently(c);", replace: "return false;" },
  // Read index (thesis §6.4)
  { id: "read-without-quorum", rule: "thesis §6.4: a read is confirmed by a quorum heartbeat round", find: "readNeedsQuorum() {\n        return true;", replace: "readNeedsQuorum() {\n        return false;" },
  { id: "read-before-term-commit", rule: "thesis §6.4: a new leader serves reads only once an entry of its term is committed", find: "if (committedInCurrentTerm(c))\n        r.index = st.commitIndex;", replace: "r.index = st.commitIndex;" },
  { id: "read-round-not-awaited", rule: "thesis §6.4: a read waits for the heartbeat round sent after it arrived", find: "if (r.index === 0 || r.requiredSeq > confirmedSeq)", replace: "if (r.index === 0)" },
  // Snapshots (§7, Figure 13)
  { id: "snapshot-not-persisted", rule: "Figure 13: an installed snapshot is saved before it is acknowledged", find: "st.snapshotToPersist = snap;", replace: "" },
  { id: "snapshot-chunk-offset-ignored", rule: "Figure 13, 2-4: a chunk is kept only at the offset where the last one ended", find: "else if (inc !== null && inc.bytes === m.offset) {", replace: "else if (inc !== null) {" },
  { id: "snapshot-term-not-checked", rule: "Figure 13, 6: keep the log only if it holds the snapshot's last entry with the same term", find: "else if (st.log.term(m.lastIncludedIndex) === m.lastIncludedTerm) {", replace: "else if (st.log.term(m.lastIncludedIndex) !== undefined) {" },
  // Leadership transfer (thesis §3.10)
  { id: "transfer-before-caught-up", rule: "thesis §3.10: TimeoutNow only once the target's log matches the leader's", find: "if (to === null || st.progress.get(to).matchIndex !== st.log.lastIndex())", replace: "if (to === null)" },
  { id: "transfer-takes-proposals", rule: "thesis §3.10: a leader handing over stops taking proposals", find: "if (st.leadTransferee !== null)\n            return { ok: false, leader: null };", replace: "" },
  // Storage faults (docs/STORAGE.md)
  { id: "damaged-server-campaigns", rule: "docs/STORAGE.md: a server that lost acknowledged entries does not campaign", find: "recovering(c) {\n        return c.st.lost !== null;", replace: "recovering(c) {\n        return false;" },
  { id: "incarnation-ignored", rule: "docs/STORAGE.md: a newer incarnation resets what the leader knew of a follower", find: "if (incarnation > this.incarnation) {\n            if (this.incarnation !== 0) {", replace: "if (incarnation > this.incarnation) {\n            if (false) {" },
];
