// Everything one server remembers, as one record. Every rule (election.ts,
// replication.ts, …) reads and writes this record and nothing else, so it is
// also what the model checker copies and compares: `copyState` and
// `fingerprint` below are both written against this one type, and the
// compiler refuses a new field until both say what to do with it.

import { RaftLog } from "./log.js";
import type { Progress } from "./progress.js";
import type { Snapshot, ReadResult, SoftState } from "./api.js";
import type { Survey } from "./survey.js";
import { decodeConfiguration, describeConfiguration } from "./configuration.js";
import { EntryType, type Configuration, type HardState, type LostMark, type Message, type NodeId, type Role } from "./types.js";

/** A read waiting for its quorum confirmation (read-index.ts). */
export interface PendingRead {
  readonly id: number;
  /** commitIndex when the read arrived; 0 while the leader has not yet committed an entry of its term. */
  index: number;
  /** A majority must have acknowledged an AppendEntries with seq >= this. */
  requiredSeq: number;
}

/** Follower: the chunks received so far of a snapshot the leader is sending (snapshot.ts). */
export interface IncomingSnapshot {
  readonly leaderTerm: number;
  readonly index: number;
  readonly term: number;
  readonly chunks: Uint8Array[];
  bytes: number;
}

/** What one ready() handed out, to be marked done by advance(). */
export interface ReadyInFlight {
  readonly stableIndex: number;
  readonly hardState: HardState | null;
  readonly applied: number;
}

export interface ServerState {
  // Persistent state on all servers (Figure 2).
  currentTerm: number;
  votedFor: NodeId | null;
  readonly log: RaftLog;
  /** What a storage fault may have taken (docs/STORAGE.md): no votes, no campaigns until a leader brought the log past `through`. */
  lost: LostMark | null;
  /** Set while the term and vote are unknown: the answers to our RecoveryQuery so far. */
  survey: Survey | null;
  /** What each other server last said of itself in answer to our RecoveryQuery: recovering or not, and in which round of queries. */
  readonly peersRecovering: Map<NodeId, { recovering: boolean; round: number }>;
  /** Rounds of RecoveryQuery sent (one per election timeout without a leader). */
  recoveryRound: number;

  // Volatile state on all servers.
  commitIndex: number;
  lastApplied: number;
  role: Role;
  leaderId: NodeId | null;

  // Volatile state on leaders: one Progress (nextIndex, matchIndex, flow control) per follower.
  readonly progress: Map<NodeId, Progress>;

  // Elections and timers.
  electionElapsed: number;
  heartbeatElapsed: number;
  randomizedElectionTimeout: number;
  /** Votes (or pre-votes) received in the current campaign. */
  votes: Map<NodeId, boolean>;

  // Read index (thesis §6.4).
  /** Sequence number of the leader's last AppendEntries or InstallSnapshot. */
  seq: number;
  pendingReads: PendingRead[];
  /** A confirmation round is wanted at the next ready(). */
  readRoundWanted: boolean;
  /** The leader's commitIndex moved: followers should hear it soon, not at the next heartbeat. */
  commitToAnnounce: boolean;

  // Leadership transfer (thesis §3.10).
  /** Leader: the follower leadership is being handed to, and ticks since the transfer began. */
  leadTransferee: NodeId | null;
  transferElapsed: number;

  // Snapshots.
  /** Newest snapshot (own or installed), for followers that fell behind the log. */
  snapshot: Snapshot | null;
  incoming: IncomingSnapshot | null;

  // Persistence bookkeeping (Ready/Advance, ready.ts).
  /** Last index known durable. */
  stableIndex: number;
  /** null while the term and vote are unknown (surveying). */
  persistedHardState: HardState | null;
  snapshotToPersist: Snapshot | null;
  /** The soft state the last Ready reported. */
  reportedSoftState: SoftState | null;
  /** The configuration the last Ready reported (or the driver read at start). */
  reportedConfig: Configuration | null;

  // Outputs collected until the next ready().
  messages: Message[];
  reads: ReadResult[];
  readyInFlight: ReadyInFlight | null;
}

export function initialState(log: RaftLog, snapshot: Snapshot | null): ServerState {
  return {
    currentTerm: 0,
    votedFor: null,
    log,
    lost: null,
    survey: null,
    peersRecovering: new Map(),
    recoveryRound: 0,
    commitIndex: log.snapshotIndex,
    lastApplied: log.snapshotIndex,
    role: "follower",
    leaderId: null,
    progress: new Map(),
    electionElapsed: 0,
    heartbeatElapsed: 0,
    randomizedElectionTimeout: 0,
    votes: new Map(),
    seq: 0,
    pendingReads: [],
    readRoundWanted: false,
    commitToAnnounce: false,
    leadTransferee: null,
    transferElapsed: 0,
    snapshot,
    incoming: null,
    stableIndex: log.lastIndex(),
    persistedHardState: null,
    snapshotToPersist: null,
    reportedSoftState: null,
    reportedConfig: null,
    messages: [],
    reads: [],
    readyInFlight: null,
  };
}

/** An independent copy. The literal names every field, so a new field cannot be forgotten here. */
export function copyState(st: ServerState): ServerState {
  return {
    currentTerm: st.currentTerm,
    votedFor: st.votedFor,
    log: st.log.clone(),
    lost: st.lost,
    survey: st.survey?.clone() ?? null,
    peersRecovering: new Map([...st.peersRecovering].map(([id, r]) => [id, { ...r }])),
    recoveryRound: st.recoveryRound,
    commitIndex: st.commitIndex,
    lastApplied: st.lastApplied,
    role: st.role,
    leaderId: st.leaderId,
    progress: new Map([...st.progress].map(([id, pr]) => [id, pr.clone()])),
    electionElapsed: st.electionElapsed,
    heartbeatElapsed: st.heartbeatElapsed,
    randomizedElectionTimeout: st.randomizedElectionTimeout,
    votes: new Map(st.votes),
    seq: st.seq,
    pendingReads: st.pendingReads.map((r) => ({ ...r })),
    readRoundWanted: st.readRoundWanted,
    commitToAnnounce: st.commitToAnnounce,
    leadTransferee: st.leadTransferee,
    transferElapsed: st.transferElapsed,
    snapshot: st.snapshot,
    incoming: st.incoming && { ...st.incoming, chunks: [...st.incoming.chunks] },
    stableIndex: st.stableIndex,
    persistedHardState: st.persistedHardState,
    snapshotToPersist: st.snapshotToPersist,
    reportedSoftState: st.reportedSoftState,
    reportedConfig: st.reportedConfig,
    messages: [...st.messages],
    reads: [...st.reads],
    readyInFlight: st.readyInFlight,
  };
}

/** How a field enters the fingerprint: its text, or why it is left out. */
type FingerprintRule = ((st: ServerState) => string) | { readonly leftOut: string };

/**
 * The fingerprint, field by field, in the order the text is written
 * (src/sim/exhaustive-key.ts reads this layout). The mapped type makes the
 * table complete: a field added to ServerState is a compile error here until
 * it is given a text or a reason to leave it out. Numbers that only ever
 * grow (the read-index `seq`, recovery rounds) are written relative to their
 * current value, so that two servers differing only in how long they have
 * run compare equal.
 */
export const FINGERPRINT: { readonly [K in keyof ServerState]: FingerprintRule } = {
  role: (st) => st.role[0]!,
  currentTerm: (st) => String(st.currentTerm),
  votedFor: (st) => String(st.votedFor ?? "_"),
  leaderId: (st) => String(st.leaderId ?? "_"),
  log: (st) => `${st.log.snapshotIndex}@${st.log.snapshotTerm}${baseConfigText(st.log)}|${logText(st.log)}`,
  commitIndex: (st) => String(st.commitIndex),
  lastApplied: (st) => String(st.lastApplied),
  electionElapsed: (st) => String(st.electionElapsed),
  heartbeatElapsed: (st) => String(st.heartbeatElapsed),
  randomizedElectionTimeout: (st) => String(st.randomizedElectionTimeout),
  votes: (st) => [...st.votes].map(([id, g]) => `${id}${g ? "+" : "-"}`).join(""),
  progress: (st) => [...st.progress.values()].map((p) => `${p.id}=${p.fingerprint()}@${p.ackedSeq - st.seq}`).join(";"),
  pendingReads: (st) => st.pendingReads.map((r) => `${r.id}:${r.index}:${r.requiredSeq - st.seq}`).join(","),
  stableIndex: (st) => String(st.stableIndex),
  persistedHardState: (st) => {
    const p = st.persistedHardState;
    return p === null ? "?" : `${p.currentTerm}/${p.votedFor ?? "_"}/${p.lost ? `${p.lost.through}@${p.lost.term}` : ""}`;
  },
  incoming: (st) => (st.incoming ? `${st.incoming.leaderTerm}:${st.incoming.index}@${st.incoming.term}:${st.incoming.bytes}` : ""),
  leadTransferee: (st) => (st.leadTransferee === null ? "" : `${st.leadTransferee}/${st.transferElapsed}`),
  lost: (st) => (st.lost === null ? "" : `${st.lost.through}@${st.lost.term}`),
  // "?" marks a survey under way even before any answer: a surveying server ignores the protocol.
  survey: (st) => (st.survey === null ? "" : `?${st.survey.fingerprint()}`),
  peersRecovering: (st) => [...st.peersRecovering].map(([id, r]) => `${id}${r.recovering ? "+" : "-"}${r.round - st.recoveryRound}`).join(""),

  seq: { leftOut: "only its order relative to acknowledgements matters: progress and pendingReads are written relative to it" },
  recoveryRound: { leftOut: "only its distance to the rounds in peersRecovering matters, written there" },
  transferElapsed: { leftOut: "written with leadTransferee; meaningless without one" },
  snapshot: { leftOut: "its index and term are the log's base (in log); its data is the state machine's" },
  readRoundWanted: { leftOut: "false between ready() calls, where servers are compared" },
  commitToAnnounce: { leftOut: "false between ready() calls, where servers are compared" },
  snapshotToPersist: { leftOut: "null between ready() calls, where servers are compared" },
  reportedSoftState: { leftOut: "decides only what the next Ready reports, never a message or a state change" },
  reportedConfig: { leftOut: "decides only what the next Ready reports, never a message or a state change" },
  messages: { leftOut: "outputs, empty between ready() calls" },
  reads: { leftOut: "outputs, empty between ready() calls" },
  readyInFlight: { leftOut: "null between advance() and ready(), where servers are compared" },
};

const PARTS: readonly ((st: ServerState) => string)[] = Object.values(FINGERPRINT).filter((r): r is (st: ServerState) => string => typeof r === "function");

/** Everything that decides this server's future behaviour, as text: equal fingerprints (and configs) act the same from here on. */
export function fingerprint(st: ServerState): string {
  let out = PARTS[0]!(st);
  for (let i = 1; i < PARTS.length; i++) out += "|" + PARTS[i]!(st);
  return out;
}

function logText(log: RaftLog): string {
  const parts: string[] = [];
  for (let i = log.firstIndex(); i <= log.lastIndex(); i++) {
    const e = log.entry(i)!;
    parts.push(`${e.term}${e.type === EntryType.Noop ? "n" : e.type === EntryType.Config ? "c" + describeConfiguration(decodeConfiguration(e.data)) : ":" + Array.from(e.data).join(".")}`);
  }
  return parts.join(" ");
}

/** The snapshot's configuration, when it carries one ("" otherwise: the bootstrap one, the same for every server). */
function baseConfigText(log: RaftLog): string {
  const base = log.configAt(log.snapshotIndex);
  return base === null || base.index > log.snapshotIndex ? "" : `c${describeConfiguration(base.config)}`;
}

