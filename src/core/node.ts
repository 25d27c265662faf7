// One Raft server as a pure, deterministic state machine.
//
// It never touches a socket, a disk or a clock. The outside world drives it:
//
//   tick()            one unit of logical time has passed
//   step(message)     a message arrived from another server
//   propose(data)     a client wants a command in the log
//   read(id)          a client wants a linearizable read (ReadIndex, thesis §6.4)
//
// and then asks `ready()` what must happen as a consequence: state to persist,
// messages to send, committed entries to apply, reads that are now safe. When
// the driver has done all of it (persist first, then send and apply — a
// leader's messages may go out while it persists), it calls `advance()`.
// No other call may come between `ready()` and `advance()`.
// This is etcd-io/raft's Ready/Advance contract (ready.ts).
//
// This file is the front door: the inputs, `step`'s handling of terms
// (Figure 2, rules for all servers) and its dispatch to one step function
// per role. The rules themselves live in one file per concern:
//
//   election.ts     §5.2, §5.4.1, pre-vote (thesis §9.6), §4.2.3
//   replication.ts  §5.3: AppendEntries both ways, flow control, heartbeats
//   commit.ts       §5.3/§5.4.2: the leader's commit rule
//   read-index.ts   thesis §6.4
//   tracker.ts      check-quorum (thesis §6.2) and read acknowledgements
//   snapshot.ts     §7 / Figure 13, chunked
//   transfer.ts     leadership transfer (thesis §3.10)
//   recovery.ts     storage faults (docs/STORAGE.md)
//   membership.ts   configuration changes: joint consensus, learners (thesis ch. 4)
//   roles.ts        the doors between roles; ticks.ts: logical time
//   rules.ts        the rules a bug could break, one function each (the bug zoo replaces them)
//   state.ts        everything a server remembers, as one record
//   quorum.ts       majority math (joint: a majority of each voter set)

import type { NodeStatus, ProposeResult, RaftConfig, Ready, RecoveryStatus, RestoredState, SoftState } from "./api.js";
import { bootstrapConfiguration } from "./configuration.js";
import { configuration, resetElectionTimeout, type Core } from "./context.js";
import { handleRequestVote, handleTimeoutNow, handleVoteResponse, ignoreDisruptiveVote } from "./election.js";
import { RaftLog, type ReadonlyLog } from "./log.js";
import type { Progress } from "./progress.js";
import { read } from "./read-index.js";
import { advance, currentSoftState, hasReady, ready } from "./ready.js";
import { answerRecoveryQuery, handleRecoveryReply, recoveryStatus, startSurvey, stuck } from "./recovery.js";
import { answerAppend, handleAppendEntries, handleAppendResponse } from "./replication.js";
import { becomeFollower } from "./roles.js";
import { FIGURE2_RULES, type Rules } from "./rules.js";
import { compact, handleInstallSnapshot, handleSnapshotResponse } from "./snapshot.js";
import { copyState, fingerprint, initialState, type ServerState } from "./state.js";
import { tick } from "./ticks.js";
import { transferLeadership } from "./transfer.js";
import { proposeConfChange, type ConfChange, type ConfChangeResult } from "./membership.js";
import { EntryType, assertNever, type AppendEntries, type Configuration, type Entry, type InstallSnapshot, type Message, type NodeId, type Role } from "./types.js";

export type { ConfChange, ConfChangeResult } from "./membership.js";
export type { NodeStatus, ProposeResult, RaftConfig, Ready, ReadResult, RecoveryStatus, RestoredState, Snapshot, SoftState } from "./api.js";

export class RaftNode {
  readonly id: NodeId;
  /** The state and the rules, handed to every rule file. Private: drivers read through the getters below. */
  private c: Core;

  /**
   * `rules` replaces rules of Figure 2 and the thesis by broken ones: for the
   * simulator's bug zoo (src/sim/zoo.ts) only; the server never passes it.
   */
  constructor(config: RaftConfig, restored?: RestoredState, rules: Partial<Rules> = {}) {
    if (config.members.length === 0) throw new Error("members: the bootstrap configuration needs at least one voter");
    const [lo, hi] = config.electionTimeoutTicks;
    if (!(lo > config.heartbeatTicks && hi > lo)) throw new Error("need heartbeatTicks < electionTimeout min < max");
    this.id = config.id;
    const snapshot = restored?.snapshot ?? null;
    const base = snapshot ? { index: snapshot.lastIncludedIndex, term: snapshot.lastIncludedTerm, config: snapshot.config } : undefined;
    const st = initialState(new RaftLog(restored?.entries ?? [], base), snapshot);
    this.c = { st, config, bootstrap: bootstrapConfiguration(config.members), rules: Object.keys(rules).length === 0 ? FIGURE2_RULES : { ...FIGURE2_RULES, ...rules } };
    const hs = restored === undefined ? { currentTerm: 0, votedFor: null } : restored.hardState;
    st.persistedHardState = hs;
    if (hs === null) {
      // The term is at least the last entry's; the vote is anybody's guess.
      st.currentTerm = st.log.lastTerm();
      // Alone, there is nobody to ask and nobody to have voted for but ourselves.
      if (this.configuration.voters.some((id) => id !== this.id)) startSurvey(this.c);
    } else {
      st.currentTerm = hs.currentTerm;
      st.votedFor = hs.votedFor;
      st.lost = hs.lost ?? null;
    }
    resetElectionTimeout(this.c);
    // The driver reads the starting soft state from the getters; Ready reports changes from here.
    st.reportedSoftState = currentSoftState(this.c);
    st.reportedConfig = configuration(this.c);
  }

  // ---------------------------------------------------------------------
  // Inputs
  // ---------------------------------------------------------------------

  tick(): void {
    this.assertNoReadyInFlight();
    tick(this.c);
  }

  /** Proposes a command. Only a leader accepts; the entry commits (or not) later. */
  propose(data: Uint8Array): ProposeResult {
    this.assertNoReadyInFlight();
    const st = this.c.st;
    if (st.role !== "leader") return { ok: false, leader: st.leaderId };
    // While handing leadership over, take nothing new: the target must catch up with a log that stands still.
    if (st.leadTransferee !== null) return { ok: false, leader: null };
    const entry: Entry = { index: st.log.lastIndex() + 1, term: st.currentTerm, type: EntryType.Normal, data };
    st.log.appendNew(entry);
    // Sent at the next ready(): proposals made between two sends share one AppendEntries.
    return { ok: true, index: entry.index, term: entry.term };
  }

  /**
   * Asks for a linearizable read. The answer comes through ready().reads:
   * an index to wait for, once a majority has confirmed this leader after
   * the request arrived; or a refusal if this server is not the leader.
   */
  read(id: number): void {
    this.assertNoReadyInFlight();
    read(this.c, id);
  }

  /**
   * Leadership transfer (thesis §3.10, transfer.ts). Returns false if this
   * server is not the leader or `to` is not another member.
   */
  transferLeadership(to: NodeId): boolean {
    this.assertNoReadyInFlight();
    return transferLeadership(this.c, to);
  }

  /**
   * Membership change (membership.ts): a leader starts moving the cluster to
   * `target` — through the joint configuration when the voters change, then
   * by itself to `target` once that is committed. Refused while another
   * change is pending.
   */
  proposeConfChange(target: ConfChange): ConfChangeResult {
    this.assertNoReadyInFlight();
    return proposeConfChange(this.c, target);
  }

  /**
   * The application took a snapshot of its state at `index` (<= lastApplied):
   * the log up to there can be discarded, and followers too far behind get
   * this snapshot instead of entries.
   */
  compact(index: number, data: Uint8Array): void {
    this.assertNoReadyInFlight();
    compact(this.c, index, data);
  }

  /** A message arrived. Terms are handled here, once; then the role's step function takes it. */
  step(m: Message): void {
    this.assertNoReadyInFlight();
    const c = this.c;
    const st = c.st;
    // Any sender: a new member's leader, a removed server; the configuration decides whose answers count.
    if (m.to !== this.id || m.from === this.id || !(m.from > 0)) return;
    // Storage-fault recovery (docs/STORAGE.md) is outside the paper's RPCs: it changes no term.
    if (m.type === "RecoveryQuery") return answerRecoveryQuery(c, m.from);
    if (m.type === "RecoveryReply") return handleRecoveryReply(c, m);
    // A server that does not know its term takes part in nothing until it does.
    if (st.survey !== null) return;

    // Figure 2, rules for all servers: a higher term makes us a follower of that term.
    if (m.term > st.currentTerm) {
      if (m.type === "RequestVote" && ignoreDisruptiveVote(c, m)) return;
      if (m.type === "RequestVote" && m.preVote) {
        // A pre-vote changes nobody's term (thesis §9.6).
      } else if (m.type === "RequestVoteResponse" && m.preVote && m.voteGranted) {
        // A granted pre-vote carries the proposed term, not the voter's.
      } else {
        const leader = m.type === "AppendEntries" || m.type === "InstallSnapshot" ? m.from : null;
        c.rules.observeHigherTerm(c, m.term, leader);
      }
    } else if (m.term < st.currentTerm) {
      this.refuseStale(m);
      return;
    }

    switch (st.role) {
      case "follower":
        return this.stepFollower(m);
      case "precandidate":
      case "candidate":
        return this.stepCandidate(m);
      case "leader":
        return this.stepLeader(m);
      default:
        assertNever(st.role);
    }
  }

  private stepFollower(m: Exclude<Message, { type: "RecoveryQuery" | "RecoveryReply" }>): void {
    const c = this.c;
    switch (m.type) {
      case "RequestVote":
        return handleRequestVote(c, m);
      case "AppendEntries":
        return handleAppendEntries(c, m);
      case "InstallSnapshot":
        return handleInstallSnapshot(c, m);
      case "TimeoutNow":
        return handleTimeoutNow(c, m);
      case "RequestVoteResponse":
      case "AppendEntriesResponse":
      case "InstallSnapshotResponse":
        return; // answers to requests of a role we no longer hold
      default:
        assertNever(m);
    }
  }

  private stepCandidate(m: Exclude<Message, { type: "RecoveryQuery" | "RecoveryReply" }>): void {
    const c = this.c;
    switch (m.type) {
      case "RequestVote":
        return handleRequestVote(c, m);
      case "RequestVoteResponse":
        return handleVoteResponse(c, m);
      case "AppendEntries":
      case "InstallSnapshot":
        return this.followLeaderOfOurTerm(m);
      case "AppendEntriesResponse":
      case "InstallSnapshotResponse":
      case "TimeoutNow":
        return;
      default:
        assertNever(m);
    }
  }

  private stepLeader(m: Exclude<Message, { type: "RecoveryQuery" | "RecoveryReply" }>): void {
    const c = this.c;
    switch (m.type) {
      case "RequestVote":
        return handleRequestVote(c, m);
      case "AppendEntriesResponse":
        return handleAppendResponse(c, m);
      case "InstallSnapshotResponse":
        return handleSnapshotResponse(c, m);
      case "AppendEntries":
      case "InstallSnapshot":
        // Another leader in our term cannot exist (Election Safety); were it so, defer to it.
        return this.followLeaderOfOurTerm(m);
      case "RequestVoteResponse":
      case "TimeoutNow":
        return;
      default:
        assertNever(m);
    }
  }

  /** §5.2: a candidate that hears from a leader of its own term becomes its follower. */
  private followLeaderOfOurTerm(m: AppendEntries | InstallSnapshot): void {
    becomeFollower(this.c, m.term, m.from);
    if (m.type === "AppendEntries") handleAppendEntries(this.c, m);
    else handleInstallSnapshot(this.c, m);
  }

  /** A message from an older term: tell the sender our term so it steps down (requests only). */
  private refuseStale(m: Message): void {
    const c = this.c;
    switch (m.type) {
      case "AppendEntries":
      case "InstallSnapshot":
        answerAppend(c, m.from, 0, false, 0, 0, 0);
        return;
      case "RequestVote":
        c.st.messages.push({ type: "RequestVoteResponse", from: this.id, to: m.from, term: c.st.currentTerm, preVote: m.preVote, voteGranted: false });
        return;
      case "RequestVoteResponse":
      case "AppendEntriesResponse":
      case "InstallSnapshotResponse":
      case "TimeoutNow":
      case "RecoveryQuery":
      case "RecoveryReply":
        return; // answers to our old requests, or an old leader's request: nothing to do
      default:
        assertNever(m);
    }
  }

  // ---------------------------------------------------------------------
  // Output (ready.ts)
  // ---------------------------------------------------------------------

  /** True when ready() would return something to do. */
  hasReady(): boolean {
    return hasReady(this.c);
  }

  ready(): Ready {
    this.assertNoReadyInFlight();
    return ready(this.c);
  }

  /** The driver persisted, sent and applied everything of the last ready(). */
  advance(): void {
    advance(this.c);
  }

  private assertNoReadyInFlight(): void {
    if (this.c.st.readyInFlight) throw new Error("input between ready() and advance()");
  }

  // ---------------------------------------------------------------------
  // Reading the state (writable only through the inputs above)
  // ---------------------------------------------------------------------

  get currentTerm(): number {
    return this.c.st.currentTerm;
  }
  get votedFor(): NodeId | null {
    return this.c.st.votedFor;
  }
  get role(): Role {
    return this.c.st.role;
  }
  get leaderId(): NodeId | null {
    return this.c.st.leaderId;
  }
  get commitIndex(): number {
    return this.c.st.commitIndex;
  }
  get lastApplied(): number {
    return this.c.st.lastApplied;
  }
  get log(): ReadonlyLog {
    return this.c.st.log;
  }
  /** A leader's view of each follower (empty on other roles). */
  get progress(): ReadonlyMap<NodeId, Readonly<Progress>> {
    return this.c.st.progress;
  }
  /** Where leadership is being handed, or null. */
  get transferringTo(): NodeId | null {
    return this.c.st.leadTransferee;
  }
  /** The configuration in effect: the latest in the log, committed or not (thesis §4.1). */
  get configuration(): Configuration {
    return configuration(this.c);
  }
  /** The index of the entry holding it: 0 for the bootstrap configuration, the snapshot's index for a snapshot's. */
  get configurationIndex(): number {
    return this.c.st.log.latestConfig()?.index ?? 0;
  }
  get softState(): SoftState {
    return currentSoftState(this.c);
  }
  /** What a storage fault took from this server and how far it has come back: null when nothing. */
  get recovery(): RecoveryStatus | null {
    return recoveryStatus(this.c);
  }
  /**
   * A damaged server that cannot recover by itself (recovery.ts): the driver
   * should stop with a clear message.
   */
  get stuck(): boolean {
    return stuck(this.c);
  }

  /** Everything this server remembers (state.ts), read-only: for model checkers, replays and tests. */
  state(): Readonly<ServerState> {
    return this.c.st;
  }

  /** A snapshot of the externally visible state (status pages, tests, invariants). */
  status(): NodeStatus {
    const st = this.c.st;
    return {
      id: this.id,
      role: st.role,
      term: st.currentTerm,
      votedFor: st.votedFor,
      leader: st.leaderId,
      commitIndex: st.commitIndex,
      lastApplied: st.lastApplied,
      lastLogIndex: st.log.lastIndex(),
      lastLogTerm: st.log.lastTerm(),
      snapshotIndex: st.log.snapshotIndex,
      recovery: this.recovery,
      configuration: this.configuration,
      configurationIndex: this.configurationIndex,
      configurationCommitted: this.configurationIndex <= st.commitIndex,
      peers: [...st.progress.values()].map((pr) => ({ id: pr.id, matchIndex: pr.matchIndex, nextIndex: pr.nextIndex, state: pr.state })),
    };
  }

  // ---------------------------------------------------------------------
  // Model checking: both derived from the one state record (state.ts).
  // ---------------------------------------------------------------------

  /** An independent copy, with the same rules (bug-zoo variants stay broken). */
  clone(): RaftNode {
    if (this.c.st.readyInFlight) throw new Error("clone() between ready() and advance()");
    const copy = Object.create(RaftNode.prototype) as RaftNode;
    const w = copy as unknown as { id: NodeId; c: Core };
    w.id = this.id;
    w.c = { st: copyState(this.c.st), config: this.c.config, bootstrap: this.c.bootstrap, rules: this.c.rules };
    return copy;
  }

  /**
   * Every piece of state that decides this server's future behaviour, as a
   * string: two servers with equal fingerprints (and equal configs and
   * rules) act the same from here on (state.ts says what is left out, and why).
   */
  fingerprint(): string {
    return fingerprint(this.c.st);
  }
}
