// The catalogue of `npm run mutate` (bench/mutate.ts): each mutation breaks
// one rule of the Raft core, as text to find in the compiled core
// (dist/src/core/*.js, which is the TypeScript without its types) and its
// replacement. The text must occur exactly once in src/core.

export interface Mutation {
  readonly id: string;
  /** The rule it breaks, as the paper or thesis names it. */
  readonly rule: string;
  readonly find: string;
  readonly replace: string;
}

export const MUTATIONS: readonly Mutation[] = [
  { id: "commit-any-term", rule: "§5.4.2: commit by counting only entries of the current term", find: "return this.log.term(index) === this.currentTerm;", replace: "return this.log.term(index) !== undefined;" },
  { id: "vote-no-up-to-date", rule: "§5.4.1: vote only for an up-to-date log", find: "return this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);", replace: "return true;" },
  { id: "follower-commit-leaderCommit", rule: "Figure 2, AppendEntries 5: commitIndex = min(leaderCommit, last new)", find: "return Math.min(leaderCommit, lastNewIndex);", replace: "return leaderCommit;" },
];
