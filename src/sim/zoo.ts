// The bug zoo: deliberately broken variants of the Raft core, each breaking
// exactly one rule by replacing the one function of src/core/rules.ts that holds it.
// Only the simulator builds these; the server never does. A search that
// finds every one of them, with no scenario written for it, is evidence
// that the simulator would find such a bug in the real core too.

import { RaftNode, type RaftConfig, type RestoredState } from "../core/node.js";
import { FIGURE2_RULES, type Rules } from "../core/rules.js";
import { RANDOM_INVARIANTS, type RandomInvariant } from "./invariant-catalogue.js";

export interface Bug {
  readonly name: string;
  readonly description: string;
  readonly make: (config: RaftConfig, restored?: RestoredState) => RaftNode;
  /** It breaks a rule about storage faults: runs need them ("disk") to show it. */
  readonly storage?: true;
  /** It breaks a rule about membership changes: runs need them (PlanOptions.membership) to show it. */
  readonly membership?: true;
  /**
   * The invariants this bug is expected to break (names as in
   * invariant-catalogue.ts): a search counts a violation as finding the bug only when
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

/** What the random mode checks (src/sim/invariants.ts, world.ts, run.ts), named as in invariant-catalogue.ts. */
export const SIM_INVARIANTS = RANDOM_INVARIANTS;
export type SimInvariant = RandomInvariant;

/** How a violation relates to a bug: what it is pinned to break, a known side effect, or neither. */
export function verdict(bug: Bug, invariant: string): "pinned" | "side effect" | "unexpected" {
  if ((bug.breaks as readonly string[]).includes(invariant)) return "pinned";
  if (bug.sideEffects && invariant in bug.sideEffects) return "side effect";
  return "unexpected";
}

/** A server whose rules are Figure 2's except `broken`. */
function variant(broken: Partial<Rules>): Bug["make"] {
  return (config, restored) => new RaftNode(config, restored, broken);
}

/** §5.4.2 broken: any entry held by a majority is committed, whatever its term. */
const figure8: Partial<Rules> = {
  mayCommitByCounting: (c, index) => c.st.log.term(index) !== undefined,
};

/** Figure 8 in the paper's own setting: Figure 2 has no no-op, so the old-term entry travels alone. */
const figure8NoNoop: Partial<Rules> = { ...figure8, appendsNoopOnElection: () => false };

const noUpToDateCheck: Partial<Rules> = { candidateIsUpToDate: () => true };

const doubleVote: Partial<Rules> = { mayVoteFor: () => true };

const voteNotPersisted: Partial<Rules> = {
  hardStateToPersist: (c) => ({ currentTerm: c.st.currentTerm, votedFor: null }),
};

const truncateMatching: Partial<Rules> = {
  appendFromLeader(c, m) {
    const log = c.st.log;
    const r = log.tryAppend(m.prevLogIndex, m.prevLogTerm, []);
    if (!r.ok) return r;
    // Wrong: drops everything after prevLogIndex, even entries that match.
    const hadMore = log.lastIndex() > m.prevLogIndex && m.prevLogIndex >= log.snapshotIndex;
    if (hadMore) log.truncateFrom(m.prevLogIndex + 1);
    for (const e of m.entries) if (e.index > log.lastIndex()) log.appendNew(e);
    return { ok: true, lastNewIndex: m.prevLogIndex + m.entries.length, truncatedFrom: hadMore ? m.prevLogIndex + 1 : null };
  },
};

const keepLeadershipOnHigherTerm: Partial<Rules> = {
  observeHigherTerm(c, term, leader) {
    if (c.st.role === "leader") {
      c.st.currentTerm = term; // wrong: adopts the term but stays leader
      c.st.votedFor = null;
      return;
    }
    FIGURE2_RULES.observeHigherTerm(c, term, leader);
  },
};

const commitPastLastNew: Partial<Rules> = { followerCommitTarget: (_c, leaderCommit) => leaderCommit };

const readWithoutQuorum: Partial<Rules> = { readNeedsQuorum: () => false };

const damagedVotes: Partial<Rules> = { recovering: () => false, coversWhatWasLost: () => true };

const smallSurvey: Partial<Rules> = { surveySize: () => 1 };

const staleAcks: Partial<Rules> = { observeIncarnation: () => true };

const NO_NOOP_READS =
  "without the no-op a new leader commits nothing of its own term until a client writes, so it serves no read (thesis §6.4); clients queued behind reads can stall past the healing period";
const LOST_COMMITTED = "it throws away a committed entry: whichever check sees the loss first reports it";

// Membership changes (thesis ch. 4, src/core/membership.ts).

/** Thesis §4.3 broken: the voters change in one step, without the joint configuration; old and new majorities may not overlap. */
const noJoint: Partial<Rules> = { changesThroughJoint: () => false };
/** One change at a time broken: a leader proposes a change while the last one is not yet committed. */
const concurrentChanges: Partial<Rules> = { mayChangeConfiguration: () => true };
/** Learners counted: a learner's acknowledgement and vote count as a voter's. */
const learnersCounted: Partial<Rules> = {
  voterSets: (_c, cfg) => (cfg.outgoing.length > 0 ? [[...cfg.voters, ...cfg.learners], cfg.outgoing] : [[...cfg.voters, ...cfg.learners]]),
};

export const BUGS: readonly Bug[] = [
  {
    name: "figure8",
    description: "a leader commits an entry of an earlier term by counting replicas (Figure 8)",
    make: variant(figure8),
    breaks: ["Leader Completeness"],
  },
  {
    name: "figure8-paper",
    description: "Figure 8 as in the paper: counting replicas of an earlier term's entry, and no no-op at the start of a term",
    make: variant(figure8NoNoop),
    breaks: ["Leader Completeness"],
    sideEffects: { Liveness: NO_NOOP_READS },
  },
  {
    name: "no-up-to-date-check",
    description: "votes are granted without the §5.4.1 up-to-date check of the candidate's log",
    make: variant(noUpToDateCheck),
    breaks: ["Leader Completeness"],
  },
  {
    name: "double-vote",
    description: "a server votes for more than one candidate in a term",
    make: variant(doubleVote),
    breaks: ["Election Safety"],
  },
  {
    name: "vote-not-persisted",
    description: "a vote is answered without being persisted first, so a restart forgets it",
    make: variant(voteNotPersisted),
    breaks: ["Election Safety"],
  },
  {
    name: "truncate-matching",
    description: "a follower drops the entries after prevLogIndex even when they match (stale AppendEntries)",
    make: variant(truncateMatching),
    breaks: ["Committed is forever"],
    sideEffects: { "Leader Completeness": LOST_COMMITTED },
  },
  {
    name: "keep-leadership",
    description: "a leader that sees a higher term adopts it but does not step down",
    make: variant(keepLeadershipOnHigherTerm),
    breaks: ["Election Safety"],
  },
  {
    name: "commit-past-last-new",
    description: "a follower sets commitIndex to leaderCommit, past the last entry it knows matches",
    make: variant(commitPastLastNew),
    breaks: ["State Machine Safety"],
  },
  {
    name: "read-without-quorum",
    description: "a leader answers reads at once, without confirming its leadership with a quorum",
    make: variant(readWithoutQuorum),
    breaks: ["Linearizability"],
  },
  {
    name: "damaged-votes",
    description: "a server whose disk lost entries it had acknowledged votes and campaigns as if nothing happened",
    make: variant(damagedVotes),
    storage: true,
    breaks: ["Leader Completeness", "Election Safety"],
    sideEffects: { Recovery: "a server that ignores its loss never runs the recovery the check waits for" },
  },
  {
    name: "small-survey",
    description: "a server that lost its term and vote trusts the first other server that answers it",
    make: variant(smallSurvey),
    storage: true,
    breaks: ["Leader Completeness", "Election Safety"],
  },
  {
    name: "stale-acks",
    description: "a leader does not notice that a follower restarted: it keeps counting what the follower's previous life acknowledged",
    make: variant(staleAcks),
    storage: true,
    breaks: ["Recovery"],
  },
  {
    name: "no-joint",
    description: "the voters change in one step instead of through the joint configuration, so the old and the new majority need not overlap",
    make: variant(noJoint),
    membership: true,
    breaks: ["Election Safety", "Leader Completeness", "Committed is forever"],
    sideEffects: { Liveness: "configurations whose majorities need not overlap can leave voters that no candidate can gather" },
  },
  {
    name: "concurrent-changes",
    description: "a leader starts a membership change while the previous one is not committed yet",
    make: variant(concurrentChanges),
    membership: true,
    breaks: ["Election Safety", "Leader Completeness", "Committed is forever"],
    sideEffects: { Liveness: "configurations whose majorities need not overlap can leave voters that no candidate can gather" },
  },
  {
    name: "learners-counted",
    description: "a learner's acknowledgement and vote are counted as a voter's",
    make: variant(learnersCounted),
    membership: true,
    breaks: ["Election Safety", "Leader Completeness", "Committed is forever"],
  },
];

export function findBug(name: string): Bug | undefined {
  return BUGS.find((b) => b.name === name);
}
