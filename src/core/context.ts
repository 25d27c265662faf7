// What every rule file works on: one server's state, its configuration, and
// the rules a bug-zoo variant may replace (their real versions: rules.ts). node.ts builds one per
// server and passes it to the functions of election.ts, replication.ts, …

import type { RaftConfig } from "./api.js";
import { allMembers, isVoter } from "./configuration.js";
import type { ServerState } from "./state.js";
import type { AppendResult } from "./log.js";
import type { Progress } from "./progress.js";
import type { AppendEntries, AppendEntriesResponse, Configuration, HardState, Message, NodeId, RequestVote } from "./types.js";

export interface Core {
  readonly st: ServerState;
  readonly config: RaftConfig;
  /** The configuration until the log or a snapshot names one (RaftConfig.members: every listed server votes). */
  readonly bootstrap: Configuration;
  readonly rules: Rules;
}

/** Queues a message for the next ready(). */
export function send(c: Core, m: Message): void {
  c.st.messages.push(m);
}

/** The configuration in effect (thesis §4.1: the latest in the log, committed or not). */
export function configuration(c: Core): Configuration {
  return c.st.log.latestConfig()?.config ?? c.bootstrap;
}

/** Everybody else the leader replicates to: voters (of both sets, when joint) and learners. */
export function peers(c: Core): NodeId[] {
  return allMembers(configuration(c)).filter((m) => m !== c.config.id);
}

/** Everybody else whose vote counts: the servers a candidate asks. */
export function voterPeers(c: Core): NodeId[] {
  const cfg = configuration(c);
  return allMembers(cfg).filter((m) => m !== c.config.id && isVoter(cfg, m));
}

/** The voter sets whose majorities every decision needs (one set, or two while joint: Rules.voterSets). */
export function voterSets(c: Core): readonly (readonly NodeId[])[] {
  return c.rules.voterSets(c, configuration(c));
}

/** This server's vote counts: it may campaign and it counts itself (a learner or a removed server does neither). */
export function selfVotes(c: Core): boolean {
  return voterSets(c).some((set) => set.includes(c.config.id));
}

export function preVoteEnabled(c: Core): boolean {
  return c.config.preVote ?? true;
}

export function checkQuorumEnabled(c: Core): boolean {
  return c.config.checkQuorum ?? true;
}

/** This server's storage incarnation, sent with every answer to a leader (docs/STORAGE.md). */
export function incarnation(c: Core): number {
  return c.config.incarnation ?? 0;
}

export function resetElectionTimeout(c: Core): void {
  const [lo, hi] = c.config.electionTimeoutTicks;
  c.st.randomizedElectionTimeout = lo + c.config.random(hi - lo);
}

/** The rules a bug could break, one function each: FIGURE2_RULES in rules.ts; the bug zoo replaces one. */
export interface Rules {
  /** Figure 2, rules for all servers: a higher term makes us a follower of that term. */
  observeHigherTerm(c: Core, term: number, leader: NodeId | null): void;
  /** §5.4.2 / Figure 8: only an entry of the current term is committed by counting replicas. */
  mayCommitByCounting(c: Core, index: number): boolean;
  /** §5.4.1: vote only for a candidate whose log is at least as up-to-date as ours. */
  candidateIsUpToDate(c: Core, m: RequestVote): boolean;
  /** Figure 2, RequestVote receiver 2: one vote per term. */
  mayVoteFor(c: Core, candidate: NodeId): boolean;
  /** Figure 2: currentTerm and votedFor are persisted before any reply that depends on them. Null while they are unknown. */
  hardStateToPersist(c: Core): HardState | null;
  /** A server whose disk may have lost acknowledged entries does not campaign (docs/STORAGE.md). */
  recovering(c: Core): boolean;
  /** §5.4.1 for a damaged server: the candidate's log covers the log it lost (docs/STORAGE.md). */
  coversWhatWasLost(c: Core, m: RequestVote): boolean;
  /** How many intact servers a server that lost its term and vote must hear from (recovery.ts). */
  surveySize(c: Core): number;
  /** A leader reads a follower's incarnation first: false means ignore the answer (Progress.observeIncarnation). */
  observeIncarnation(c: Core, pr: Progress, incarnation: number): boolean;
  /** Figure 2, AppendEntries receiver 2–4. */
  appendFromLeader(c: Core, m: AppendEntries): AppendResult;
  /** Figure 2, AppendEntries receiver 5: commitIndex = min(leaderCommit, index of last new entry). */
  followerCommitTarget(c: Core, leaderCommit: number, lastNewIndex: number): number;
  /** §8 / thesis §6.4: a new leader appends a no-op entry of its term at once. */
  appendsNoopOnElection(c: Core): boolean;
  /** Thesis §6.4: a read must be confirmed by a quorum heartbeat round. */
  readNeedsQuorum(c: Core): boolean;
  /** Thesis §4.2.3: a RequestVote within the minimum election timeout of hearing from a leader is ignored (with check-quorum). */
  ignoreDisruptiveVote(c: Core, m: RequestVote): boolean;
  /** §5.2: a candidate refused by a majority gives up its campaign (and waits for a leader or its next timeout). */
  stepsDownWhenRefused(c: Core): boolean;
  /** §5.3 fast backtracking: where the leader retries after a refusal, from the follower's conflict hint. */
  backtrackHint(c: Core, m: AppendEntriesResponse): number;
  /** Thesis §4.3: the sets of servers whose majorities decide — the voters, and the old voters too while joint; never learners. */
  voterSets(c: Core, cfg: Configuration): readonly (readonly NodeId[])[];
  /** Thesis §4.1 / etcd: one change at a time — a leader proposes a new configuration only once the last one is committed and not joint. */
  mayChangeConfiguration(c: Core): boolean;
  /** Thesis §4.3: a change of voters passes through the joint configuration (old and new must both agree); false switches at once. */
  changesThroughJoint(c: Core): boolean;
}
