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
// This is etcd-io/raft's Ready/Advance contract.
//
// The rules are Figure 2 of the Raft paper plus, from Ongaro's thesis:
// pre-vote (§9.6), check-quorum and ignoring disruptive votes (§6.2, §4.2.3),
// read index (§6.4), a leader's no-op entry at the start of its term (§6.4),
// and leadership transfer (§3.10).
// Each rule that a bug could break lives in a small protected method, so the
// simulator's bug zoo can break exactly one rule by overriding it.

import { RaftLog } from "./log.js";
import type { AppendResult } from "./log.js";
import { Progress } from "./progress.js";
import { committedIndex } from "./quorum.js";
import { Survey, surveySize } from "./recovery.js";
import {
  EntryType,
  assertNever,
  type AppendEntries,
  type AppendEntriesResponse,
  type Entry,
  type HardState,
  type InstallSnapshot,
  type InstallSnapshotResponse,
  type LostMark,
  type RecoveryReply,
  type TimeoutNow,
  type Message,
  type NodeId,
  type RequestVote,
  type RequestVoteResponse,
  type Role,
} from "./types.js";

export interface RaftConfig {
  readonly id: NodeId;
  /** Every member of the cluster, this server included. */
  readonly members: readonly NodeId[];
  /** Election timeout in ticks, drawn uniformly from [min, max) at each reset (§5.2). */
  readonly electionTimeoutTicks: readonly [number, number];
  /** Ticks between a leader's heartbeats; well below the election timeout. */
  readonly heartbeatTicks: number;
  /** The only source of randomness: an integer in [0, n). */
  readonly random: (n: number) => number;
  /** Run a pre-vote round before a real election (thesis §9.6). Default true. */
  readonly preVote?: boolean;
  /** A leader that has not heard from a majority for an election timeout steps down (thesis §6.2). Default true. */
  readonly checkQuorum?: boolean;
  /** Unanswered AppendEntries allowed per follower when streaming. Default 64. */
  readonly maxInflight?: number;
  /** Entry data per AppendEntries, in bytes (at least one entry is always sent). Default 1 MiB. */
  readonly maxBytesPerAppend?: number;
  /** Snapshot bytes per InstallSnapshot chunk (Figure 13). Default 1 MiB. */
  readonly snapshotChunkBytes?: number;
  /**
   * Which life of this server's storage this is: a new, greater one after
   * every restart that found something lost (the server uses its clock, the
   * simulator a counter); an intact restart keeps it. Sent with every answer
   * to a leader, so that a leader learns that a follower may have lost what
   * it had acknowledged (docs/STORAGE.md). Default 0: unknown.
   */
  readonly incarnation?: number;
}

/** What survived a restart. */
export interface RestoredState {
  /** null: the term and vote were lost (a storage fault, or no data directory at all); the server asks the others first. */
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly snapshot: Snapshot | null;
}

export interface Snapshot {
  readonly lastIncludedIndex: number;
  readonly lastIncludedTerm: number;
  readonly data: Uint8Array;
}

export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly leader: NodeId | null };

export type ReadResult =
  /** Safe to answer once the state machine has applied `index`. */
  | { readonly id: number; readonly ok: true; readonly index: number }
  /** Not answered: this server is not (or no longer) the leader. Safe to retry elsewhere. */
  | { readonly id: number; readonly ok: false; readonly leader: NodeId | null };

/** What the driver must do now, in this order: persist, then send and apply. */
export interface Ready {
  /** Persist if not null (term and vote changed). */
  readonly hardState: HardState | null;
  /** A snapshot received from the leader: persist it (it replaces the whole stored log), then restore the state machine from it. */
  readonly snapshot: Snapshot | null;
  /** Append to stable storage; if entries[0].index is not past the stored log, the stored suffix from there is replaced. */
  readonly entries: readonly Entry[];
  /** Send after persisting, or at once if `sendBeforePersist`. */
  readonly messages: readonly Message[];
  /**
   * The messages promise nothing about this Ready's writes, so the driver may
   * send them while it persists (thesis §10.2.1: the leader writes its log in
   * parallel with replicating it). True only for a leader whose term and vote
   * are already durable: its AppendEntries carry entries and a commit index,
   * and the commit index counts the leader's own log only up to what is
   * durable (`stableIndex`), so no entry is committed on the strength of an
   * unwritten copy. Everything else (votes, follower acknowledgements)
   * promises durable state and must wait.
   */
  readonly sendBeforePersist: boolean;
  /** Apply to the state machine, in order, after the snapshot if any. */
  readonly committed: readonly Entry[];
  readonly reads: readonly ReadResult[];
}

/** A read waiting for its quorum confirmation. */
interface PendingRead {
  readonly id: number;
  /** commitIndex when the read arrived; 0 while the leader has not yet committed an entry of its term. */
  index: number;
  /** A majority must have acknowledged an AppendEntries with seq >= this. */
  requiredSeq: number;
}

export class RaftNode {
  readonly id: NodeId;
  readonly members: readonly NodeId[];
  protected readonly config: RaftConfig;

  // Persistent state on all servers (Figure 2).
  currentTerm = 0;
  votedFor: NodeId | null = null;
  readonly log: RaftLog;
  /** What a storage fault may have taken (docs/STORAGE.md): no votes, no campaigns until a leader brought the log past `through`. */
  private lost: LostMark | null = null;
  /** Set while the term and vote are unknown: the answers to our RecoveryQuery so far. */
  private survey: Survey | null = null;
  /** What each other server last said of itself in answer to our RecoveryQuery: recovering or not, and in which round of queries. */
  private peersRecovering = new Map<NodeId, { recovering: boolean; round: number }>();
  /** Rounds of RecoveryQuery sent (one per election timeout without a leader). */
  private recoveryRound = 0;

  // Volatile state on all servers.
  commitIndex = 0;
  lastApplied = 0;

  role: Role = "follower";
  leaderId: NodeId | null = null;

  // Volatile state on leaders: one Progress (nextIndex, matchIndex, flow control) per follower.
  readonly progress = new Map<NodeId, Progress>();

  // Elections.
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  /** Votes (or pre-votes) received in the current campaign. */
  private votes = new Map<NodeId, boolean>();

  // Read index.
  private seq = 0;
  private pendingReads: PendingRead[] = [];
  private readRoundWanted = false;
  /** The leader's commitIndex moved: followers should hear it soon, not at the next heartbeat. */
  private commitToAnnounce = false;

  // Persistence bookkeeping.
  private stableIndex: number;
  /** null while the term and vote are unknown (surveying). */
  private persistedHardState: HardState | null;
  private snapshotToPersist: Snapshot | null = null;
  /** Newest snapshot (own or installed), for followers that fell behind the log. */
  private snapshot: Snapshot | null;
  /** Leader: the follower leadership is being handed to (thesis §3.10), and ticks since the transfer began. */
  private leadTransferee: NodeId | null = null;
  private transferElapsed = 0;
  /** Follower: the chunks received so far of a snapshot the leader is sending (memory only; a restart starts it over). */
  private incoming: { leaderTerm: number; index: number; term: number; chunks: Uint8Array[]; bytes: number } | null = null;

  // Outputs collected until the next ready().
  private messages: Message[] = [];
  private reads: ReadResult[] = [];
  private readyInFlight: { stableIndex: number; hardState: HardState | null; applied: number } | null = null;

  constructor(config: RaftConfig, restored?: RestoredState) {
    if (!config.members.includes(config.id)) throw new Error(`node ${config.id} is not in members [${config.members.join(", ")}]`);
    const [lo, hi] = config.electionTimeoutTicks;
    if (!(lo > config.heartbeatTicks && hi > lo)) throw new Error("need heartbeatTicks < electionTimeout min < max");
    this.config = config;
    this.id = config.id;
    this.members = [...config.members];
    this.snapshot = restored?.snapshot ?? null;
    const snap = this.snapshot ? { index: this.snapshot.lastIncludedIndex, term: this.snapshot.lastIncludedTerm } : undefined;
    this.log = new RaftLog(restored?.entries ?? [], snap);
    const hs = restored === undefined ? { currentTerm: 0, votedFor: null } : restored.hardState;
    this.commitIndex = this.log.snapshotIndex;
    this.lastApplied = this.log.snapshotIndex;
    this.stableIndex = this.log.lastIndex();
    this.persistedHardState = hs;
    if (hs === null) {
      // The term is at least the last entry's; the vote is anybody's guess.
      this.currentTerm = this.log.lastTerm();
      // Alone, there is nobody to ask and nobody to have voted for but ourselves.
      if (this.members.length > 1) this.startSurvey();
    } else {
      this.currentTerm = hs.currentTerm;
      this.votedFor = hs.votedFor;
      this.lost = hs.lost ?? null;
    }
    this.resetElectionTimeout();
  }

  private get preVoteEnabled(): boolean {
    return this.config.preVote ?? true;
  }

  private get checkQuorumEnabled(): boolean {
    return this.config.checkQuorum ?? true;
  }

  private get quorum(): number {
    return Math.floor(this.members.length / 2) + 1;
  }

  private peers(): NodeId[] {
    return this.members.filter((m) => m !== this.id);
  }

  // ---------------------------------------------------------------------
  // Inputs
  // ---------------------------------------------------------------------

  tick(): void {
    this.assertNoReadyInFlight();
    if (this.role === "leader") this.tickLeader();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      if (this.survey !== null || this.recovering()) {
        // A damaged server does not campaign: it waits for a leader, and asks around meanwhile.
        this.leaderId = null;
        this.resetElectionTimeout();
        this.sendRecoveryQueries();
        return;
      }
      this.campaign();
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    // A transfer that has not happened within an election timeout is abandoned (thesis §3.10).
    if (this.leadTransferee !== null && ++this.transferElapsed >= this.config.electionTimeoutTicks[1]) this.leadTransferee = null;
    if (this.electionElapsed >= this.config.electionTimeoutTicks[0]) {
      this.electionElapsed = 0;
      if (this.checkQuorumEnabled && !this.quorumActive()) {
        this.becomeFollower(this.currentTerm, null);
        return;
      }
    }
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat();
    }
  }

  /**
   * Leadership transfer (thesis §3.10): the leader stops taking proposals,
   * brings `to` up to date, then sends it TimeoutNow, and `to` starts an
   * election at once that the others do not ignore. Abandoned after an
   * election timeout. Returns false if this server is not the leader or `to`
   * is not another member.
   */
  transferLeadership(to: NodeId): boolean {
    this.assertNoReadyInFlight();
    if (this.role !== "leader" || to === this.id || !this.progress.has(to)) return false;
    this.leadTransferee = to;
    this.transferElapsed = 0;
    this.maybeSendTimeoutNow();
    return true;
  }

  /** Where leadership is being handed, or null. */
  get transferringTo(): NodeId | null {
    return this.leadTransferee;
  }

  private maybeSendTimeoutNow(): void {
    const to = this.leadTransferee;
    if (to === null || this.progress.get(to)!.matchIndex !== this.log.lastIndex()) return;
    this.send({ type: "TimeoutNow", from: this.id, to, term: this.currentTerm });
  }

  /** Proposes a command. Only a leader accepts; the entry commits (or not) later. */
  propose(data: Uint8Array): ProposeResult {
    this.assertNoReadyInFlight();
    if (this.role !== "leader") return { ok: false, leader: this.leaderId };
    // While handing leadership over, take nothing new: the target must catch up with a log that stands still.
    if (this.leadTransferee !== null) return { ok: false, leader: null };
    const entry: Entry = { index: this.log.lastIndex() + 1, term: this.currentTerm, type: EntryType.Normal, data };
    this.log.appendNew(entry);
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
    if (this.role !== "leader") {
      this.reads.push({ id, ok: false, leader: this.leaderId });
      return;
    }
    if (!this.readNeedsQuorum()) {
      this.reads.push({ id, ok: true, index: this.commitIndex });
      return;
    }
    const read: PendingRead = { id, index: 0, requiredSeq: this.seq + 1 };
    this.pendingReads.push(read);
    // A leader only knows the latest commit index once an entry of its own
    // term is committed (thesis §6.4); until then the read waits.
    if (this.committedInCurrentTerm()) read.index = this.commitIndex;
    // One confirmation round, at the next ready(), serves every read that arrived before it.
    this.readRoundWanted = true;
    this.releaseReads();
  }

  step(m: Message): void {
    this.assertNoReadyInFlight();
    if (m.to !== this.id || !this.members.includes(m.from)) return;
    // Storage-fault recovery (docs/STORAGE.md) is outside the paper's RPCs: it changes no term.
    if (m.type === "RecoveryQuery") return this.answerRecoveryQuery(m.from);
    if (m.type === "RecoveryReply") return this.handleRecoveryReply(m);
    // A server that does not know its term takes part in nothing until it does.
    if (this.survey !== null) return;

    // Rules for all servers: a higher term makes us a follower of that term.
    if (m.term > this.currentTerm) {
      if (m.type === "RequestVote" && this.ignoreDisruptiveVote(m)) return;
      if (m.type === "RequestVote" && m.preVote) {
        // A pre-vote changes nobody's term (thesis §9.6).
      } else if (m.type === "RequestVoteResponse" && m.preVote && m.voteGranted) {
        // A granted pre-vote carries the proposed term, not the voter's.
      } else {
        const leader = m.type === "AppendEntries" || m.type === "InstallSnapshot" ? m.from : null;
        this.observeHigherTerm(m.term, leader);
      }
    } else if (m.term < this.currentTerm) {
      this.refuseStale(m);
      return;
    }

    switch (m.type) {
      case "RequestVote":
        return this.handleRequestVote(m);
      case "RequestVoteResponse":
        return this.handleVoteResponse(m);
      case "AppendEntries":
        return this.handleAppendEntries(m);
      case "AppendEntriesResponse":
        return this.handleAppendResponse(m);
      case "InstallSnapshot":
        return this.handleInstallSnapshot(m);
      case "InstallSnapshotResponse":
        return this.handleSnapshotResponse(m);
      case "TimeoutNow":
        return this.handleTimeoutNow(m);
      default:
        assertNever(m);
    }
  }

  /**
   * The application took a snapshot of its state at `index` (<= lastApplied):
   * the log up to there can be discarded, and followers too far behind get
   * this snapshot instead of entries.
   */
  compact(index: number, data: Uint8Array): void {
    this.assertNoReadyInFlight();
    if (index > this.lastApplied) throw new Error(`compact: index ${index} is not applied yet (lastApplied ${this.lastApplied})`);
    if (index <= this.log.snapshotIndex) return;
    const term = this.log.term(index)!;
    this.log.compact(index, term);
    this.snapshot = { lastIncludedIndex: index, lastIncludedTerm: term, data };
  }

  // ---------------------------------------------------------------------
  // Output
  // ---------------------------------------------------------------------

  /** True when ready() would return something to do. */
  hasReady(): boolean {
    return (
      this.messages.length > 0 ||
      this.reads.length > 0 ||
      (this.role === "leader" && this.members.length > 1 && (this.readRoundWanted || this.commitToAnnounce)) ||
      this.snapshotToPersist !== null ||
      this.log.lastIndex() > this.stableIndex ||
      this.hardStateChanged() ||
      this.applyTarget() > this.lastApplied ||
      (this.role === "leader" && this.peers().some((p) => this.wantsAppend(p)))
    );
  }

  ready(): Ready {
    this.assertNoReadyInFlight();
    if (this.role === "leader") {
      if (this.readRoundWanted && this.members.length > 1) this.broadcastHeartbeat();
      for (const p of this.peers()) this.maybeSendAppend(p, false);
      if (this.commitToAnnounce) this.announceCommit();
    }
    this.commitToAnnounce = false;
    this.readRoundWanted = false;
    const hs = this.hardStateToPersist();
    const hardState = this.hardStateChanged() ? hs : null;
    const applyTo = this.applyTarget();
    const rd: Ready = {
      hardState,
      snapshot: this.snapshotToPersist,
      entries: this.log.slice(this.stableIndex + 1, this.log.lastIndex() + 1),
      messages: this.messages,
      sendBeforePersist: this.role === "leader" && hardState === null && this.snapshotToPersist === null,
      committed: this.log.slice(this.lastApplied + 1, applyTo + 1),
      reads: this.reads,
    };
    this.readyInFlight = { stableIndex: this.log.lastIndex(), hardState: hs, applied: applyTo };
    this.messages = [];
    this.reads = [];
    this.snapshotToPersist = null;
    return rd;
  }

  /** The driver persisted, sent and applied everything of the last ready(). */
  advance(): void {
    const done = this.readyInFlight;
    if (!done) throw new Error("advance() without ready()");
    this.readyInFlight = null;
    this.stableIndex = done.stableIndex;
    if (done.hardState !== null) this.persistedHardState = done.hardState;
    this.lastApplied = Math.max(this.lastApplied, done.applied);
    // A leader counts its own log toward commitment only once it is durable (thesis §10.2.1).
    if (this.role === "leader") this.maybeCommit();
  }

  // ---------------------------------------------------------------------
  // Role changes: the only doors between roles.
  // ---------------------------------------------------------------------

  protected becomeFollower(term: number, leader: NodeId | null): void {
    if (term > this.currentTerm) {
      this.currentTerm = term;
      this.votedFor = null;
    }
    if (this.role === "leader") this.failPendingReads();
    this.leadTransferee = null;
    this.role = "follower";
    this.leaderId = leader;
    this.electionElapsed = 0;
    this.resetElectionTimeout();
    this.progress.clear();
  }

  private becomePreCandidate(): void {
    this.role = "precandidate";
    this.leaderId = null;
    this.votes = new Map([[this.id, true]]);
    this.resetElectionTimeout();
  }

  private becomeCandidate(): void {
    this.currentTerm++;
    this.votedFor = this.id;
    this.role = "candidate";
    this.leaderId = null;
    this.votes = new Map([[this.id, true]]);
    this.resetElectionTimeout();
  }

  private becomeLeader(): void {
    this.role = "leader";
    this.leaderId = this.id;
    this.heartbeatElapsed = 0;
    this.electionElapsed = 0;
    this.progress.clear();
    for (const p of this.peers()) this.progress.set(p, new Progress(p, this.log.lastIndex()));
    // The no-op lets the leader commit entries of earlier terms (§5.4.2) and
    // learn the commit index it needs for reads (thesis §6.4).
    if (this.appendsNoopOnElection()) this.log.appendNew({ index: this.log.lastIndex() + 1, term: this.currentTerm, type: EntryType.Noop, data: new Uint8Array(0) });
    this.broadcastHeartbeat();
  }

  // ---------------------------------------------------------------------
  // Elections (§5.2, §5.4.1; pre-vote thesis §9.6)
  // ---------------------------------------------------------------------

  private campaign(): void {
    if (this.members.length === 1) {
      this.becomeCandidate();
      this.becomeLeader();
      return;
    }
    if (this.preVoteEnabled) {
      this.becomePreCandidate();
      this.requestVotes(true);
    } else {
      this.becomeCandidate();
      this.requestVotes(false);
    }
  }

  private requestVotes(preVote: boolean, transfer = false): void {
    const term = preVote ? this.currentTerm + 1 : this.currentTerm;
    for (const p of this.peers()) {
      this.send({
        type: "RequestVote",
        from: this.id,
        to: p,
        term,
        preVote,
        transfer,
        lastLogIndex: this.log.lastIndex(),
        lastLogTerm: this.log.lastTerm(),
      });
    }
  }

  private handleRequestVote(m: RequestVote): void {
    let granted: boolean;
    if (!this.coversWhatWasLost(m)) {
      granted = false;
    } else if (m.preVote) {
      // Grant a pre-vote only if we would grant the real vote, and we have
      // not heard from a leader recently (else the cluster is healthy).
      granted = m.term > this.currentTerm && !this.heardFromLeaderRecently() && this.candidateIsUpToDate(m);
    } else {
      granted = this.mayVoteFor(m.from) && this.candidateIsUpToDate(m);
      if (granted) {
        this.votedFor = m.from;
        this.electionElapsed = 0; // granting a vote resets the election timer (Figure 2, Followers)
      }
    }
    this.send({
      type: "RequestVoteResponse",
      from: this.id,
      to: m.from,
      term: m.preVote && granted ? m.term : this.currentTerm,
      preVote: m.preVote,
      voteGranted: granted,
    });
  }

  private handleVoteResponse(m: RequestVoteResponse): void {
    const campaigning = m.preVote ? this.role === "precandidate" : this.role === "candidate";
    if (!campaigning) return;
    // A granted pre-vote names the term we would campaign in; refusals carry the voter's term (ours, else we stepped down above).
    if (m.preVote && m.voteGranted && m.term !== this.currentTerm + 1) return;
    this.votes.set(m.from, m.voteGranted);
    const granted = [...this.votes.values()].filter(Boolean).length;
    const refused = this.votes.size - granted;
    if (granted >= this.quorum) {
      if (m.preVote) {
        this.becomeCandidate();
        this.requestVotes(false);
      } else {
        this.becomeLeader();
      }
    } else if (refused >= this.quorum) {
      this.becomeFollower(this.currentTerm, null);
    }
  }

  /** Thesis §9.6/§4.2.3: a server that heard from a leader within the minimum election timeout believes it is alive. */
  private heardFromLeaderRecently(): boolean {
    return this.leaderId !== null && this.electionElapsed < this.config.electionTimeoutTicks[0];
  }

  /**
   * Thesis §4.2.3: with check-quorum, a RequestVote arriving within the
   * minimum election timeout of hearing from a current leader is ignored:
   * neither the term is updated nor the vote granted.
   */
  private ignoreDisruptiveVote(m: RequestVote): boolean {
    // A leader counts as having heard from itself: it keeps its lease too.
    // A transfer's election was asked for by the leader itself (thesis §3.10).
    return !m.transfer && this.checkQuorumEnabled && this.heardFromLeaderRecently();
  }

  /** TimeoutNow from our leader: campaign now, skipping pre-vote (the leader asked for it). */
  private handleTimeoutNow(m: TimeoutNow): void {
    if (this.role !== "follower" || m.from !== this.leaderId || this.recovering()) return;
    this.becomeCandidate();
    this.requestVotes(false, true);
  }

  // ---------------------------------------------------------------------
  // Log replication (§5.3)
  // ---------------------------------------------------------------------

  private handleAppendEntries(m: AppendEntries): void {
    // Same term: the sender is the leader of our term (Election Safety).
    if (this.role !== "follower") this.becomeFollower(m.term, m.from);
    this.leaderId = m.from;
    this.electionElapsed = 0;

    const result = this.appendFromLeader(m);
    if (result.ok) {
      if (result.truncatedFrom !== null && result.truncatedFrom <= this.stableIndex) this.stableIndex = result.truncatedFrom - 1;
      const newCommit = this.followerCommitTarget(m.leaderCommit, result.lastNewIndex);
      if (newCommit > this.commitIndex) this.commitIndex = newCommit;
      this.noteMatched(result.lastNewIndex);
      this.answerAppend(m.from, m.seq, true, result.lastNewIndex, 0, 0);
    } else {
      this.answerAppend(m.from, m.seq, false, 0, result.conflictIndex, result.conflictTerm);
    }
  }

  private answerAppend(to: NodeId, seq: number, success: boolean, matchIndex: number, conflictIndex: number, conflictTerm: number): void {
    this.send({ type: "AppendEntriesResponse", from: this.id, to, term: this.currentTerm, success, matchIndex, conflictIndex, conflictTerm, seq, incarnation: this.incarnation });
  }

  private get incarnation(): number {
    return this.config.incarnation ?? 0;
  }

  private handleAppendResponse(m: AppendEntriesResponse): void {
    if (this.role !== "leader") return;
    const pr = this.progress.get(m.from);
    if (!pr || !this.observeIncarnation(pr, m.incarnation)) return;
    this.noteActive(pr, m.seq);
    if (m.success) {
      const advanced = pr.acknowledge(m.matchIndex);
      // Any success tells us where the logs match: stream from there on.
      if (pr.state === "probe") pr.becomeReplicate();
      if (advanced) this.maybeCommit();
      if (m.from === this.leadTransferee) this.maybeSendTimeoutNow();
    } else {
      pr.refused(this.backtrackHint(m));
    }
  }

  /** Leader side of fast backtracking: where to retry after a refusal. */
  private backtrackHint(m: AppendEntriesResponse): number {
    if (m.conflictTerm === 0) return m.conflictIndex;
    const last = this.log.lastIndexOfTerm(m.conflictTerm);
    return last > 0 ? last + 1 : m.conflictIndex;
  }

  private noteActive(pr: Progress, seq: number): void {
    pr.recentActive = true;
    pr.respondedSinceHeartbeat = true;
    if (seq > pr.ackedSeq) {
      pr.ackedSeq = seq;
      this.releaseReads();
    }
  }

  private wantsAppend(p: NodeId): boolean {
    const pr = this.progress.get(p);
    return pr !== undefined && pr.nextIndex <= this.log.lastIndex() && pr.canSend(this.maxInflight);
  }

  private get maxInflight(): number {
    return this.config.maxInflight ?? 64;
  }

  /**
   * Sends what the follower is missing, if flow control allows. With
   * `heartbeat`, sends even when there is nothing new (empty AppendEntries).
   */
  private maybeSendAppend(p: NodeId, heartbeat: boolean): void {
    const pr = this.progress.get(p)!;
    // Chunks go out one at a time, on each answer (handleSnapshotResponse),
    // and again from the heartbeat when an answer is overdue.
    if (pr.state === "snapshot") return;
    const prevLogIndex = pr.nextIndex - 1;
    const prevLogTerm = this.log.term(prevLogIndex);
    if (prevLogTerm === undefined) {
      // The entries it needs are compacted away.
      pr.becomeSnapshot(this.log.snapshotIndex);
      this.sendSnapshot(pr);
      return;
    }
    const hasNew = pr.nextIndex <= this.log.lastIndex();
    const canSendEntries = hasNew && pr.canSend(this.maxInflight);
    if (!canSendEntries && !heartbeat) return;
    const entries = canSendEntries ? this.log.slice(pr.nextIndex, this.log.lastIndex() + 1, this.config.maxBytesPerAppend ?? 1 << 20) : [];
    if (entries.length > 0) pr.sent(entries[entries.length - 1]!.index);
    else if (pr.state === "probe") pr.probeSent = true;
    this.send({
      type: "AppendEntries",
      from: this.id,
      to: p,
      term: this.currentTerm,
      prevLogIndex,
      prevLogTerm,
      entries,
      leaderCommit: this.commitIndex,
      seq: ++this.seq,
    });
  }

  /** Sends the chunk of the snapshot that starts where the follower is known to be. */
  private sendSnapshot(pr: Progress): void {
    const snap = this.snapshot!;
    // A newer snapshot replaced the one being sent: start it over.
    if (pr.nextIndex !== snap.lastIncludedIndex + 1) pr.becomeSnapshot(snap.lastIncludedIndex);
    const offset = Math.min(pr.snapshotOffset, snap.data.length);
    const end = Math.min(snap.data.length, offset + Math.max(1, this.config.snapshotChunkBytes ?? 1 << 20));
    this.send({
      type: "InstallSnapshot",
      from: this.id,
      to: pr.id,
      term: this.currentTerm,
      lastIncludedIndex: snap.lastIncludedIndex,
      lastIncludedTerm: snap.lastIncludedTerm,
      offset,
      data: snap.data.subarray(offset, end),
      done: end === snap.data.length,
      seq: ++this.seq,
    });
  }

  private broadcastHeartbeat(): void {
    for (const p of this.peers()) {
      const pr = this.progress.get(p)!;
      // A streaming follower that answered nothing since the last heartbeat
      // may have lost the whole window: fall back to probing from matchIndex.
      if (pr.state === "replicate" && pr.inflight.length > 0 && !pr.respondedSinceHeartbeat) pr.becomeProbe();
      if (pr.state === "probe") pr.probeSent = false;
      // A chunk or its answer may be lost: send the chunk again (which also keeps the follower's election timer quiet).
      if (pr.state === "snapshot" && !pr.respondedSinceHeartbeat) this.sendSnapshot(pr);
      pr.respondedSinceHeartbeat = false;
      this.maybeSendAppend(p, true);
    }
  }

  /** Tells followers that got nothing in this batch about the new commit index (an empty AppendEntries). */
  private announceCommit(): void {
    const told = new Set(this.messages.filter((m) => m.type === "AppendEntries").map((m) => m.to));
    for (const p of this.peers()) if (!told.has(p)) this.maybeSendAppend(p, true);
  }

  /**
   * One chunk of a snapshot (Figure 13). Chunks are kept only if they
   * continue what was received of the same snapshot from the same leader
   * term; the answer says how many bytes are held, so the leader resends
   * from there after a loss, a duplicate or a restart.
   */
  private handleInstallSnapshot(m: InstallSnapshot): void {
    if (this.role !== "follower") this.becomeFollower(m.term, m.from);
    this.leaderId = m.from;
    this.electionElapsed = 0;
    const whole = m.offset + m.data.length;
    let matchIndex = 0;
    let received = whole;
    if (m.lastIncludedIndex <= this.commitIndex) {
      // Nothing to install: everything it covers is committed here already.
      this.incoming = null;
      matchIndex = this.commitIndex;
      this.noteMatched(this.commitIndex);
    } else if (this.log.term(m.lastIncludedIndex) === m.lastIncludedTerm) {
      // We already hold that entry: just learn that it is committed.
      this.incoming = null;
      this.commitIndex = m.lastIncludedIndex;
      matchIndex = m.lastIncludedIndex;
      this.noteMatched(matchIndex);
    } else {
      const inc = this.incomingFor(m);
      if (m.offset === 0) {
        this.incoming = { leaderTerm: m.term, index: m.lastIncludedIndex, term: m.lastIncludedTerm, chunks: [m.data], bytes: m.data.length };
      } else if (inc !== null && inc.bytes === m.offset) {
        inc.chunks.push(m.data);
        inc.bytes += m.data.length;
      }
      const now = this.incomingFor(m);
      received = now?.bytes ?? 0;
      if (now && m.done && now.bytes === whole) {
        this.incoming = null;
        this.installSnapshot({ lastIncludedIndex: m.lastIncludedIndex, lastIncludedTerm: m.lastIncludedTerm, data: concatChunks(now.chunks, now.bytes) });
        matchIndex = m.lastIncludedIndex;
        this.noteMatched(matchIndex);
      }
    }
    this.send({
      type: "InstallSnapshotResponse",
      from: this.id,
      to: m.from,
      term: this.currentTerm,
      matchIndex,
      lastIncludedIndex: m.lastIncludedIndex,
      received,
      seq: m.seq,
      incarnation: this.incarnation,
    });
  }

  /** The snapshot being received, if `m` is a chunk of it (same snapshot, same leader term). */
  private incomingFor(m: InstallSnapshot): NonNullable<RaftNode["incoming"]> | null {
    const inc = this.incoming;
    return inc !== null && inc.leaderTerm === m.term && inc.index === m.lastIncludedIndex && inc.term === m.lastIncludedTerm ? inc : null;
  }

  /** Figure 13, steps 6–8: the snapshot replaces the whole log, and the state machine is reset from it. */
  private installSnapshot(snap: Snapshot): void {
    this.log.restore(snap.lastIncludedIndex, snap.lastIncludedTerm);
    this.snapshot = snap;
    this.snapshotToPersist = snap;
    this.stableIndex = snap.lastIncludedIndex;
    this.commitIndex = snap.lastIncludedIndex;
    this.lastApplied = snap.lastIncludedIndex;
  }

  private handleSnapshotResponse(m: InstallSnapshotResponse): void {
    if (this.role !== "leader") return;
    const pr = this.progress.get(m.from);
    if (!pr || !this.observeIncarnation(pr, m.incarnation)) return;
    this.noteActive(pr, m.seq);
    pr.acknowledge(m.matchIndex);
    if (pr.state === "snapshot") {
      if (pr.matchIndex >= pr.nextIndex - 1) {
        pr.becomeProbe(); // installed, or it had the entries already
      } else if (m.lastIncludedIndex === pr.nextIndex - 1 && m.matchIndex === 0) {
        // The next chunk, from where the follower is (also after a loss or its restart).
        pr.snapshotOffset = m.received;
        this.sendSnapshot(pr);
      }
    }
    this.maybeCommit();
  }

  // ---------------------------------------------------------------------
  // Commitment (§5.3, §5.4.2)
  // ---------------------------------------------------------------------

  /** Advances commitIndex to the highest index stored on a majority, if it is of this term. */
  private maybeCommit(): void {
    const match = this.members.map((m) => (m === this.id ? this.stableIndex : this.progress.get(m)!.matchIndex));
    const n = committedIndex(match);
    if (n > this.commitIndex && this.mayCommitByCounting(n)) {
      const hadCommittedInTerm = this.committedInCurrentTerm();
      this.commitIndex = n;
      this.commitToAnnounce = true;
      if (!hadCommittedInTerm && this.committedInCurrentTerm()) for (const r of this.pendingReads) if (r.index === 0) r.index = this.commitIndex;
      this.releaseReads();
    }
  }

  private committedInCurrentTerm(): boolean {
    return this.log.term(this.commitIndex) === this.currentTerm;
  }

  /** Entries we may hand to the state machine: committed, and held in our log. */
  private applyTarget(): number {
    return Math.min(this.commitIndex, this.log.lastIndex());
  }

  // ---------------------------------------------------------------------
  // Read index (thesis §6.4) and check-quorum (thesis §6.2)
  // ---------------------------------------------------------------------

  /** Answers every pending read whose confirmation round a majority has acknowledged. */
  private releaseReads(): void {
    if (this.pendingReads.length === 0) return;
    const acked = this.members.map((m) => (m === this.id ? Number.MAX_SAFE_INTEGER : this.progress.get(m)!.ackedSeq));
    const confirmedSeq = committedIndex(acked);
    while (this.pendingReads.length > 0) {
      const r = this.pendingReads[0]!;
      if (r.index === 0 || r.requiredSeq > confirmedSeq) break;
      this.pendingReads.shift();
      this.reads.push({ id: r.id, ok: true, index: r.index });
    }
  }

  private failPendingReads(): void {
    for (const r of this.pendingReads) this.reads.push({ id: r.id, ok: false, leader: null });
    this.pendingReads = [];
  }

  private quorumActive(): boolean {
    let active = 1;
    for (const pr of this.progress.values()) {
      if (pr.recentActive) active++;
      pr.recentActive = false;
    }
    return active >= this.quorum;
  }

  // ---------------------------------------------------------------------
  // Recovery from storage faults (recovery.ts, docs/STORAGE.md)
  // ---------------------------------------------------------------------

  private startSurvey(): void {
    this.survey = new Survey(this.members.length, this.surveySize(), this.log.lastTerm(), this.log.lastIndex() === 0);
    this.sendRecoveryQueries();
  }

  /** Asks every other server for its term, its last index and whether it is recovering too. */
  private sendRecoveryQueries(): void {
    this.recoveryRound++;
    for (const p of this.peers()) this.send({ type: "RecoveryQuery", from: this.id, to: p, term: this.currentTerm });
  }

  private answerRecoveryQuery(to: NodeId): void {
    const recovering = this.survey !== null || this.lost !== null;
    this.send({ type: "RecoveryReply", from: this.id, to, term: this.currentTerm, lastLogIndex: this.log.lastIndex(), recovering });
  }

  private handleRecoveryReply(m: RecoveryReply): void {
    this.peersRecovering.set(m.from, { recovering: m.recovering, round: this.recoveryRound });
    if (this.survey === null) return;
    this.survey.answer(m.from, { term: m.term, lastLogIndex: m.lastLogIndex, recovering: m.recovering });
    const outcome = this.survey.outcome();
    if (outcome === null) return;
    this.survey = null;
    if (outcome.fresh) {
      this.currentTerm = 0;
      this.votedFor = null;
    } else {
      this.currentTerm = outcome.term;
      // We may have voted in this term before the fault: we vote in it for nobody else.
      this.votedFor = this.id;
      this.lost = outcome.lost;
    }
    this.electionElapsed = 0;
    this.resetElectionTimeout();
  }

  /** Our log is known to match the current leader's up to `index`: a damaged server brought that far has recovered. */
  private noteMatched(index: number): void {
    if (this.lost !== null && index >= this.lost.through) this.lost = null;
  }

  /**
   * A damaged server that cannot recover by itself: no leader, and a
   * majority (itself included) damaged, so no leader can ever be elected
   * (damaged servers do not vote). Alone in its cluster, it has nobody to
   * recover from. The driver should stop with a clear message.
   */
  get stuck(): boolean {
    if (this.survey === null && this.lost === null) return false;
    if (this.members.length === 1) return true;
    if (this.leaderId !== null) return false;
    // Answers to this round of queries or the last: a server heard from longer ago may have changed.
    let recovering = 1;
    for (const r of this.peersRecovering.values()) if (r.recovering && r.round >= this.recoveryRound - 1) recovering++;
    return recovering >= this.quorum;
  }

  /** What a storage fault took from this server and how far it has come back: null when nothing. */
  get recovery(): { readonly surveying: boolean; readonly lostThrough: number | null } | null {
    if (this.survey === null && this.lost === null) return null;
    return { surveying: this.survey !== null, lostThrough: this.lost?.through ?? null };
  }

  // ---------------------------------------------------------------------
  // Terms
  // ---------------------------------------------------------------------

  /** Figure 2: "If RPC request or response contains term T > currentTerm: set currentTerm = T, convert to follower". */
  protected observeHigherTerm(term: number, leader: NodeId | null): void {
    this.becomeFollower(term, leader);
  }

  /** A message from an older term: tell the sender our term so it steps down (requests only). */
  private refuseStale(m: Message): void {
    switch (m.type) {
      case "AppendEntries":
      case "InstallSnapshot":
        this.answerAppend(m.from, 0, false, 0, 0, 0);
        return;
      case "RequestVote":
        this.send({ type: "RequestVoteResponse", from: this.id, to: m.from, term: this.currentTerm, preVote: m.preVote, voteGranted: false });
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
  // The rules the bug zoo breaks, one method each.
  // ---------------------------------------------------------------------

  /** §5.4.2 / Figure 8: only an entry of the current term is committed by counting replicas. */
  protected mayCommitByCounting(index: number): boolean {
    return this.log.term(index) === this.currentTerm;
  }

  /** §5.4.1: vote only for a candidate whose log is at least as up-to-date as ours. */
  protected candidateIsUpToDate(m: RequestVote): boolean {
    return this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm);
  }

  /** Figure 2, RequestVote receiver 2: one vote per term. */
  protected mayVoteFor(candidate: NodeId): boolean {
    return this.votedFor === null || this.votedFor === candidate;
  }

  /** Figure 2: currentTerm and votedFor are persisted before any reply that depends on them. Null while they are unknown (surveying). */
  protected hardStateToPersist(): HardState | null {
    if (this.survey !== null) return null;
    return this.lost === null ? { currentTerm: this.currentTerm, votedFor: this.votedFor } : { currentTerm: this.currentTerm, votedFor: this.votedFor, lost: this.lost };
  }

  /**
   * A server whose disk may have lost entries it acknowledged does not
   * campaign (docs/STORAGE.md): its log could lack a committed entry, and the
   * servers that also lack it could elect it.
   */
  protected recovering(): boolean {
    return this.lost !== null;
  }

  /**
   * §5.4.1 for a damaged server: its vote must be as careful as the one it
   * would have given with the log it lost, so the candidate's log must be at
   * least as up-to-date as that log — ending in a later term than any it
   * held, or in that term at or past its last index (docs/STORAGE.md).
   * Always true for a server that lost nothing.
   */
  protected coversWhatWasLost(m: RequestVote): boolean {
    const lost = this.lost;
    return lost === null || m.lastLogTerm > lost.term || (m.lastLogTerm === lost.term && m.lastLogIndex >= lost.through);
  }

  /** How many intact servers a server that lost its term and vote must hear from (recovery.ts). */
  protected surveySize(): number {
    return surveySize(this.members.length);
  }

  /**
   * The leader reads a follower's incarnation before anything else in its
   * answer: an old one is ignored, a new one makes it forget what it knew of
   * that follower (Progress.observeIncarnation). False: ignore the answer.
   */
  protected observeIncarnation(pr: Progress, incarnation: number): boolean {
    return pr.observeIncarnation(incarnation);
  }

  /** Figure 2, AppendEntries receiver 2–4. */
  protected appendFromLeader(m: AppendEntries): AppendResult {
    return this.log.tryAppend(m.prevLogIndex, m.prevLogTerm, m.entries);
  }

  /** Figure 2, AppendEntries receiver 5: commitIndex = min(leaderCommit, index of last new entry). */
  protected followerCommitTarget(leaderCommit: number, lastNewIndex: number): number {
    return Math.min(leaderCommit, lastNewIndex);
  }

  /** §8 / thesis §6.4: a new leader appends a no-op entry of its term at once. */
  protected appendsNoopOnElection(): boolean {
    return true;
  }

  /** Thesis §6.4: a read must be confirmed by a quorum heartbeat round. */
  protected readNeedsQuorum(): boolean {
    return true;
  }

  // ---------------------------------------------------------------------

  protected send(m: Message): void {
    this.messages.push(m);
  }

  private hardStateChanged(): boolean {
    const hs = this.hardStateToPersist();
    const p = this.persistedHardState;
    if (hs === null) return false;
    return p === null || hs.currentTerm !== p.currentTerm || hs.votedFor !== p.votedFor || hs.lost?.through !== p.lost?.through || hs.lost?.term !== p.lost?.term;
  }

  private resetElectionTimeout(): void {
    const [lo, hi] = this.config.electionTimeoutTicks;
    this.randomizedElectionTimeout = lo + this.config.random(hi - lo);
  }

  private assertNoReadyInFlight(): void {
    if (this.readyInFlight) throw new Error("input between ready() and advance()");
  }

  // ---------------------------------------------------------------------
  // Model checking support: copying a server, and naming its state.
  // ---------------------------------------------------------------------

  /** An independent copy, of the same class (bug-zoo variants stay broken). */
  clone(): this {
    if (this.readyInFlight) throw new Error("clone() between ready() and advance()");
    // Built by the constructor (with a random source that draws nothing), so the
    // copy has the same V8 object shape as a real server and stays fast;
    // then every field is overwritten with this server's.
    const Kind = this.constructor as new (config: RaftConfig) => this;
    const c = new Kind({ ...this.config, random: () => 0 });
    Object.assign(c, this);
    const w = c as unknown as Record<string, unknown>;
    w.log = this.log.clone();
    w.progress = new Map([...this.progress].map(([id, pr]) => [id, pr.clone()]));
    w.votes = new Map(this.votes);
    w.survey = this.survey?.clone() ?? null;
    w.peersRecovering = new Map(this.peersRecovering);
    w.pendingReads = this.pendingReads.map((r) => ({ ...r }));
    w.incoming = this.incoming && { ...this.incoming, chunks: [...this.incoming.chunks] };
    w.messages = [...this.messages];
    w.reads = [...this.reads];
    return c;
  }

  /**
   * Every piece of state that decides this server's future behaviour, as a
   * string: two servers with equal fingerprints (and equal configs) act the
   * same from here on. The read-index sequence number is left out on
   * purpose: only its order relative to followers' acknowledgements matters,
   * so acknowledgements are recorded relative to it.
   */
  fingerprint(): string {
    const log: string[] = [];
    for (let i = this.log.firstIndex(); i <= this.log.lastIndex(); i++) {
      const e = this.log.entry(i)!;
      log.push(`${e.term}${e.type === EntryType.Noop ? "n" : ":" + Array.from(e.data).join(".")}`);
    }
    const pr = [...this.progress.values()].map((p) => `${p.id}=${p.fingerprint()}@${p.ackedSeq - this.seq}`);
    const votes = [...this.votes].map(([id, g]) => `${id}${g ? "+" : "-"}`);
    return [
      this.role[0],
      this.currentTerm,
      this.votedFor ?? "_",
      this.leaderId ?? "_",
      `${this.log.snapshotIndex}@${this.log.snapshotTerm}`,
      log.join(" "),
      this.commitIndex,
      this.lastApplied,
      this.electionElapsed,
      this.heartbeatElapsed,
      this.randomizedElectionTimeout,
      votes.join(""),
      pr.join(";"),
      this.pendingReads.map((r) => `${r.id}:${r.index}:${r.requiredSeq - this.seq}`).join(","),
      this.stableIndex,
      this.persistedHardState === null ? "?" : `${this.persistedHardState.currentTerm}/${this.persistedHardState.votedFor ?? "_"}/${this.persistedHardState.lost ? `${this.persistedHardState.lost.through}@${this.persistedHardState.lost.term}` : ""}`,
      this.incoming ? `${this.incoming.leaderTerm}:${this.incoming.index}@${this.incoming.term}:${this.incoming.bytes}` : "",
      this.leadTransferee === null ? "" : `${this.leadTransferee}/${this.transferElapsed}`,
      this.lost === null ? "" : `${this.lost.through}@${this.lost.term}`,
      this.survey?.fingerprint() ?? "",
      [...this.peersRecovering].map(([id, r]) => `${id}${r.recovering ? "+" : "-"}${r.round - this.recoveryRound}`).join(""),
    ].join("|");
  }

  /** A snapshot of the externally visible state (status pages, tests, invariants). */
  status(): NodeStatus {
    return {
      id: this.id,
      role: this.role,
      term: this.currentTerm,
      votedFor: this.votedFor,
      leader: this.leaderId,
      commitIndex: this.commitIndex,
      lastApplied: this.lastApplied,
      lastLogIndex: this.log.lastIndex(),
      lastLogTerm: this.log.lastTerm(),
      snapshotIndex: this.log.snapshotIndex,
      recovery: this.recovery,
      peers: [...this.progress.values()].map((pr) => ({ id: pr.id, matchIndex: pr.matchIndex, nextIndex: pr.nextIndex, state: pr.state })),
    };
  }
}

export interface NodeStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly votedFor: NodeId | null;
  readonly leader: NodeId | null;
  readonly commitIndex: number;
  readonly lastApplied: number;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  readonly snapshotIndex: number;
  /** Recovery from a storage fault (docs/STORAGE.md), or null. */
  readonly recovery: RaftNode["recovery"];
  readonly peers: readonly { id: NodeId; matchIndex: number; nextIndex: number; state: string }[];
}

/** The chunks of a snapshot, joined (the core cannot use node:buffer). */
function concatChunks(chunks: readonly Uint8Array[], bytes: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
