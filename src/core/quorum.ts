// The commit rule as one small pure function (after etcd-io/raft's
// quorum/majority.go): given the index each member is known to hold, the
// highest index held by a majority is the value at the majority position of
// the list sorted from high to low. Used for commitIndex (matchIndex values)
// and for read-index confirmation (acknowledged heartbeat sequence numbers).

export function committedIndex(matchIndexes: readonly number[]): number {
  if (matchIndexes.length === 0) throw new Error("committedIndex: no members");
  const sorted = [...matchIndexes].sort((a, b) => b - a);
  return sorted[Math.floor(matchIndexes.length / 2)]!;
}
