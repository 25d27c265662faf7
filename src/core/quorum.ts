// Majority math, in one place (after etcd-io/raft's quorum/majority.go).
// Pure functions of what each member said; no state.

/** Members a decision needs: a majority. */
export function majority(members: number): number {
  return Math.floor(members / 2) + 1;
}

/**
 * The commit rule: given the index each member is known to hold, the highest
 * index held by a majority is the value at the majority position of the list
 * sorted from high to low. Used for commitIndex (matchIndex values) and for
 * read-index confirmation (acknowledged heartbeat sequence numbers).
 */
export function committedIndex(matchIndexes: readonly number[]): number {
  if (matchIndexes.length === 0) throw new Error("committedIndex: no members");
  const sorted = sortedHighToLow(matchIndexes);
  return sorted[Math.floor(matchIndexes.length / 2)]!;
}

/** A sorted copy; insertion sort, as a cluster has a handful of members (called for every Ready of a leader). */
function sortedHighToLow(values: readonly number[]): number[] {
  const out = values.slice();
  for (let i = 1; i < out.length; i++) {
    const v = out[i]!;
    let j = i - 1;
    while (j >= 0 && out[j]! < v) {
      out[j + 1] = out[j]!;
      j--;
    }
    out[j + 1] = v;
  }
  return out;
}

export type VoteResult = "won" | "lost" | "pending";

/** An election's tally (votes or pre-votes, the candidate's own included): won and lost each need a majority. */
export function voteResult(votes: ReadonlyMap<unknown, boolean>, members: number): VoteResult {
  let granted = 0;
  let refused = 0;
  for (const g of votes.values()) {
    if (g) granted++;
    else refused++;
  }
  const q = majority(members);
  if (granted >= q) return "won";
  if (refused >= q) return "lost";
  return "pending";
}

// ---------------------------------------------------------------------
// Several voter sets at once: a joint configuration (thesis §4.3) decides
// only with a majority of each. `sets` comes from Rules.voterSets.
// ---------------------------------------------------------------------

/** The highest index held by a majority of every set: the smallest of the sets' committed indexes. */
export function jointCommittedIndex(sets: readonly (readonly number[])[], valueOf: (id: number) => number): number {
  let n: number | null = null;
  for (const set of sets) if (set.length > 0) n = Math.min(n ?? Infinity, committedIndex(set.map(valueOf)));
  return n ?? 0;
}

/** An election in every set: won when won in all, lost when lost in any. Votes from outside a set do not count in it. */
export function jointVoteResult(sets: readonly (readonly number[])[], votes: ReadonlyMap<number, boolean>): VoteResult {
  let all: VoteResult = "won";
  for (const set of sets) {
    if (set.length === 0) continue;
    const mine = new Map([...votes].filter(([id]) => set.includes(id)));
    const r = voteResult(mine, set.length);
    if (r === "lost") return "lost";
    if (r === "pending") all = "pending";
  }
  return all;
}

/** A majority of every set satisfies `ok`. */
export function jointMajority(sets: readonly (readonly number[])[], ok: (id: number) => boolean): boolean {
  return sets.every((set) => set.length === 0 || set.filter(ok).length >= majority(set.length));
}
