// The properties the exhaustive mode checks in every state it reaches and on
// every transition it takes: Raft's safety properties (Figure 3 of the paper)
// and the course's "a committed entry is never lost".
//
// "Committed" means known committed anywhere: an entry at or below some
// server's commitIndex, recorded in the state's history when first seen.

import type { RaftNode } from "../core/node.js";
import type { Entry } from "../core/types.js";
import type { Invariant, TransitionCheck } from "../explore/explorer.js";
import type { ClusterEvent, ClusterState, Disk } from "./exhaustive-state.js";
import type { ExhaustiveInvariant } from "./invariant-catalogue.js";

// Named as in the catalogue both modes share (invariant-catalogue.ts).
export const INVARIANTS: readonly (Invariant<ClusterState> & { readonly name: ExhaustiveInvariant })[] = [
  { name: "Election Safety", check: electionSafety },
  { name: "Log Matching", check: logMatching },
  { name: "State Machine Safety", check: stateMachineSafety },
  { name: "Leader Completeness", check: leaderCompleteness },
  { name: "Committed is forever", check: committedIsForever },
  { name: "Commit within log", check: commitWithinLog },
];

export const TRANSITION_CHECKS: readonly (TransitionCheck<ClusterState, ClusterEvent> & { readonly name: ExhaustiveInvariant })[] = [
  { name: "Monotonic indexes", checkTransition: monotonicCommit },
  { name: "Monotonic terms", checkTransition: monotonicTerms },
];

/** At most one leader per term, ever. */
function electionSafety(s: ClusterState): string | null {
  for (let term = 1; term < s.leaders.length; term++) {
    const mask = s.leaders[term]!;
    if ((mask & (mask - 1)) === 0) continue;
    const ids = s.nodes.filter((n) => mask & (1 << (n.id - 1))).map((n) => `n${n.id}`);
    return `${ids.join(" and ")} were both leaders of term ${term}`;
  }
  return null;
}

/** Two logs with an entry of the same index and term are identical up to it. */
function logMatching(s: ClusterState): string | null {
  return eachPair(s, (a, b) => {
    for (let i = Math.min(a.log.lastIndex(), b.log.lastIndex()); i >= 1; i--) {
      if (a.log.term(i) !== b.log.term(i)) continue;
      const j = firstDifference(a, b, i);
      return j === 0 ? null : `n${a.id} and n${b.id} both hold ${i}@${a.log.term(i)} but differ at index ${j} (${at(a, j)} vs ${at(b, j)})`;
    }
    return null;
  });
}

/** No two servers have committed different entries at one index. */
function stateMachineSafety(s: ClusterState): string | null {
  return eachPair(s, (a, b) => {
    const j = firstDifference(a, b, Math.min(committedPart(a), committedPart(b)));
    return j === 0 ? null : `n${a.id} and n${b.id} committed different entries at index ${j} (${at(a, j)} vs ${at(b, j)})`;
  });
}

/** A leader of a term after an entry was committed holds that entry. */
function leaderCompleteness(s: ClusterState): string | null {
  for (const n of s.nodes) {
    if (n.role !== "leader") continue;
    for (let i = 1; i <= s.committed.length; i++) {
      const c = s.committed[i - 1]!;
      if (c.commitTerm < n.currentTerm && n.log.term(i) !== c.term) {
        return `n${n.id} is leader of term ${n.currentTerm} without ${i}@${c.term}, committed in term ${c.commitTerm} (it has ${at(n, i)})`;
      }
    }
  }
  return null;
}

/** Every committed entry stays in every server's committed part and on a majority of disks. */
function committedIsForever(s: ClusterState): string | null {
  for (const n of s.nodes) {
    const upTo = Math.min(committedPart(n), s.committed.length);
    for (let i = 1; i <= upTo; i++) {
      const c = s.committed[i - 1]!;
      if (n.log.term(i) !== c.term) return `n${n.id} has ${at(n, i)} committed at index ${i}, where ${i}@${c.term} was committed before`;
    }
  }
  const majority = Math.floor(s.nodes.length / 2) + 1;
  for (let i = 1; i <= s.committed.length; i++) {
    const term = s.committed[i - 1]!.term;
    const holders = s.disks.filter((d) => diskTerm(d, i) === term).length;
    if (holders < majority) return `committed entry ${i}@${term} is on ${holders} disk(s) only, fewer than a majority of ${majority}`;
  }
  return null;
}

/** Commit within log: commitIndex never points past the last entry. */
function commitWithinLog(s: ClusterState): string | null {
  for (const n of s.nodes) {
    if (n.commitIndex > n.log.lastIndex()) return `n${n.id} has commitIndex ${n.commitIndex} but its log ends at ${n.log.lastIndex()}`;
  }
  return null;
}

/** Monotonic indexes: commitIndex only goes back when the server restarts (it is volatile). */
function monotonicCommit(from: ClusterState, e: ClusterEvent, to: ClusterState): string | null {
  for (let i = 0; i < to.nodes.length; i++) {
    const before = from.nodes[i]!;
    const after = to.nodes[i]!;
    if (after === before || (e.kind === "restart" && e.node === after.id)) continue;
    if (after.commitIndex < before.commitIndex) return `n${after.id}'s commitIndex went back from ${before.commitIndex} to ${after.commitIndex}`;
  }
  return null;
}

/** Monotonic terms: currentTerm never goes back, across restarts too (it is persisted). */
function monotonicTerms(from: ClusterState, _e: ClusterEvent, to: ClusterState): string | null {
  for (let i = 0; i < to.nodes.length; i++) {
    const before = from.nodes[i]!;
    const after = to.nodes[i]!;
    if (after.currentTerm < before.currentTerm) return `n${after.id}'s term went back from ${before.currentTerm} to ${after.currentTerm}`;
  }
  return null;
}

function eachPair(s: ClusterState, check: (a: RaftNode, b: RaftNode) => string | null): string | null {
  for (let x = 0; x < s.nodes.length; x++) {
    for (let y = x + 1; y < s.nodes.length; y++) {
      const problem = check(s.nodes[x]!, s.nodes[y]!);
      if (problem !== null) return problem;
    }
  }
  return null;
}

/** The entries a server has committed and holds. */
function committedPart(n: RaftNode): number {
  return Math.min(n.commitIndex, n.log.lastIndex());
}

/** The first index in 1..upTo where the two logs' entries differ, or 0. */
function firstDifference(a: RaftNode, b: RaftNode, upTo: number): number {
  for (let i = 1; i <= upTo; i++) {
    const x = a.log.entry(i);
    const y = b.log.entry(i);
    if (x === y) continue;
    if (x === undefined || y === undefined || !sameEntry(x, y)) return i;
  }
  return 0;
}

function sameEntry(x: Entry, y: Entry): boolean {
  if (x.term !== y.term || x.type !== y.type || x.data.length !== y.data.length) return false;
  for (let i = 0; i < x.data.length; i++) if (x.data[i] !== y.data[i]) return false;
  return true;
}

function at(n: RaftNode, i: number): string {
  const term = n.log.term(i);
  return term === undefined ? "nothing" : `${i}@${term}`;
}

function diskTerm(d: Disk, index: number): number | undefined {
  return d.entries[index - 1]?.term;
}
