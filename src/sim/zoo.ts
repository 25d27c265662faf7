// The bug zoo: deliberately broken variants of the Raft core, each breaking
// exactly one rule by overriding the one method of RaftNode that holds it.
// Only the simulator builds these; the server never does. A search that
// finds every one of them, with no scenario written for it, is evidence
// that the simulator would find such a bug in the real core too.

import type { AppendResult } from "../core/log.js";
import { RaftNode, type RaftConfig, type RestoredState } from "../core/node.js";
import type { Progress } from "../core/progress.js";
import type { AppendEntries, HardState, NodeId, RequestVote } from "../core/types.js";

export interface Bug {
  readonly name: string;
  readonly description: string;
  readonly make: (config: RaftConfig, restored?: RestoredState) => RaftNode;
  /** It breaks a rule about storage faults: runs need them ("disk") to show it. */
  readonly storage?: true;
  /**
   * The invariants this bug is expected to break (names as in invariants.ts
   * and world.ts): a search counts a violation as finding the bug only when
   * it names one of these. Pinning the verdict keeps a bug from being
   * "found" by an unrelated failure.
   */
  readonly breaks: readonly SimInvariant[];
  /**
   * Other violations the broken rule can cause on its own, each with the
   * reason. They are reported, never counted as finding the bug; a violation
   * in neither list is a bug in the variant or in the simulator.
   */
  readonly sideEffects?: Readonly<Partial<Record<SimInvariant, string>>>;
}

/** What the simulator checks (src/sim/invariants.ts, world.ts, run.ts). */
export const SIM_INVARIANTS = [
  "Election Safety",
  "Log Matching",
  "Leader Completeness",
  "State Machine Safety",
  "Committed is forever",
  "Monotonic indexes",
  "Linearizability",
  "Liveness",
  "Recovery",
] as const;
export type SimInvariant = (typeof SIM_INVARIANTS)[number];

/** How a violation relates to a bug: what it is pinned to break, a known side effect, or neither. */
export function verdict(bug: Bug, invariant: string): "pinned" | "side effect" | "unexpected" {
  if ((bug.breaks as readonly string[]).includes(invariant)) return "pinned";
  if (bug.sideEffects && invariant in bug.sideEffects) return "side effect";
  return "unexpected";
}

class Figure8 extends RaftNode {
  protected override mayCommitByCounting(index: number): boolean {
    return this.log.term(index) !== undefined;
  }
}

/** Figure 8 in the paper's own setting: Figure 2 has no no-op, so the old-term entry travels alone. */
class Figure8NoNoop extends Figure8 {
  protected override appendsNoopOnElection(): boolean {
    return false;
  }
}

class NoUpToDateCheck extends RaftNode {
  protected override candidateIsUpToDate(_m: RequestVote): boolean {
    return true;
  }
}

class DoubleVote extends RaftNode {
  protected override mayVoteFor(_candidate: NodeId): boolean {
    return true;
  }
}

class VoteNotPersisted extends RaftNode {
  protected override hardStateToPersist(): HardState {
    return { currentTerm: this.currentTerm, votedFor: null };
  }
}

class TruncateMatching extends RaftNode {
  protected override appendFromLeader(m: AppendEntries): AppendResult {
    const r = this.log.tryAppend(m.prevLogIndex, m.prevLogTerm, []);
    if (!r.ok) return r;
    // Wrong: drops everything after prevLogIndex, even entries that match.
    const hadMore = this.log.lastIndex() > m.prevLogIndex && m.prevLogIndex >= this.log.snapshotIndex;
    if (hadMore) this.log.truncateFrom(m.prevLogIndex + 1);
    for (const e of m.entries) if (e.index > this.log.lastIndex()) this.log.appendNew(e);
    return { ok: true, lastNewIndex: m.prevLogIndex + m.entries.length, truncatedFrom: hadMore ? m.prevLogIndex + 1 : null };
  }
}

class KeepLeadershipOnHigherTerm extends RaftNode {
  protected override observeHigherTerm(term: number, leader: NodeId | null): void {
    if (this.role === "leader") {
      this.currentTerm = term; // wrong: adopts the term but stays leader
      this.votedFor = null;
      return;
    }
    super.observeHigherTerm(term, leader);
  }
}

class CommitPastLastNew extends RaftNode {
  protected override followerCommitTarget(leaderCommit: number, _lastNewIndex: number): number {
    return leaderCommit;
  }
}

class ReadWithoutQuorum extends RaftNode {
  protected override readNeedsQuorum(): boolean {
    return false;
  }
}

class DamagedVotes extends RaftNode {
  protected override recovering(): boolean {
    return false;
  }
  protected override coversWhatWasLost(_m: RequestVote): boolean {
    return true;
  }
}

class SmallSurvey extends RaftNode {
  protected override surveySize(): number {
    return 1;
  }
}

class StaleAcks extends RaftNode {
  protected override observeIncarnation(_pr: Progress, _incarnation: number): boolean {
    return true;
  }
}

const NO_NOOP_READS =
  "without the no-op a new leader commits nothing of its own term until a client writes, so it serves no read (thesis §6.4); clients queued behind reads can stall past the healing period";
const LOST_COMMITTED = "it throws away a committed entry: whichever check sees the loss first reports it";

export const BUGS: readonly Bug[] = [
  {
    name: "figure8",
    description: "a leader commits an entry of an earlier term by counting replicas (Figure 8)",
    make: (c, r) => new Figure8(c, r),
    breaks: ["Leader Completeness"],
  },
  {
    name: "figure8-paper",
    description: "Figure 8 as in the paper: counting replicas of an earlier term's entry, and no no-op at the start of a term",
    make: (c, r) => new Figure8NoNoop(c, r),
    breaks: ["Leader Completeness"],
    sideEffects: { Liveness: NO_NOOP_READS },
  },
  {
    name: "no-up-to-date-check",
    description: "votes are granted without the §5.4.1 up-to-date check of the candidate's log",
    make: (c, r) => new NoUpToDateCheck(c, r),
    breaks: ["Leader Completeness"],
  },
  {
    name: "double-vote",
    description: "a server votes for more than one candidate in a term",
    make: (c, r) => new DoubleVote(c, r),
    breaks: ["Election Safety"],
  },
  {
    name: "vote-not-persisted",
    description: "a vote is answered without being persisted first, so a restart forgets it",
    make: (c, r) => new VoteNotPersisted(c, r),
    breaks: ["Election Safety"],
  },
  {
    name: "truncate-matching",
    description: "a follower drops the entries after prevLogIndex even when they match (stale AppendEntries)",
    make: (c, r) => new TruncateMatching(c, r),
    breaks: ["Committed is forever"],
    sideEffects: { "Leader Completeness": LOST_COMMITTED },
  },
  {
    name: "keep-leadership",
    description: "a leader that sees a higher term adopts it but does not step down",
    make: (c, r) => new KeepLeadershipOnHigherTerm(c, r),
    breaks: ["Election Safety"],
  },
  {
    name: "commit-past-last-new",
    description: "a follower sets commitIndex to leaderCommit, past the last entry it knows matches",
    make: (c, r) => new CommitPastLastNew(c, r),
    breaks: ["State Machine Safety"],
  },
  {
    name: "read-without-quorum",
    description: "a leader answers reads at once, without confirming its leadership with a quorum",
    make: (c, r) => new ReadWithoutQuorum(c, r),
    breaks: ["Linearizability"],
  },
  {
    name: "damaged-votes",
    description: "a server whose disk lost entries it had acknowledged votes and campaigns as if nothing happened",
    make: (c, r) => new DamagedVotes(c, r),
    storage: true,
    breaks: ["Leader Completeness", "Election Safety"],
    sideEffects: { Recovery: "a server that ignores its loss never runs the recovery the check waits for" },
  },
  {
    name: "small-survey",
    description: "a server that lost its term and vote trusts the first other server that answers it",
    make: (c, r) => new SmallSurvey(c, r),
    storage: true,
    breaks: ["Leader Completeness", "Election Safety"],
  },
  {
    name: "stale-acks",
    description: "a leader does not notice that a follower restarted: it keeps counting what the follower's previous life acknowledged",
    make: (c, r) => new StaleAcks(c, r),
    storage: true,
    breaks: ["Recovery"],
  },
];

export function findBug(name: string): Bug | undefined {
  return BUGS.find((b) => b.name === name);
}
