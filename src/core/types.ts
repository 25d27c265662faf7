// Types shared by the Raft core and everything that drives it.
// Names follow Figure 2 of the Raft paper (Ongaro & Ousterhout, 2014).

/** A server's id. Positive integer; 0 is never a valid id. */
export type NodeId = number;

/** Why an entry is in the log. */
export const enum EntryType {
  /** A client command for the state machine. */
  Normal = 0,
  /** The empty entry a new leader appends to commit entries of earlier terms (§5.4.2, §8). */
  Noop = 1,
  /** A cluster configuration (thesis ch. 4): `data` is encodeConfiguration's bytes (configuration.ts). */
  Config = 2,
}

/**
 * Who is in the cluster (thesis ch. 4). Each server uses the latest
 * configuration in its log, committed or not (thesis §4.1); the first one is
 * the bootstrap configuration the driver gave (RaftConfig.members).
 */
export interface Configuration {
  /** Servers whose votes and acknowledgements count. Sorted. */
  readonly voters: readonly NodeId[];
  /**
   * Joint consensus (§6 of the paper, thesis §4.3): while changing from one
   * set of voters to another, the old set. Every decision (election, commit,
   * read confirmation, check-quorum) then needs a majority of `voters` AND a
   * majority of `outgoing`. Empty when the configuration is not joint. Sorted.
   */
  readonly outgoing: readonly NodeId[];
  /** Servers that receive the log but never vote and are never counted (etcd's learners). Sorted. */
  readonly learners: readonly NodeId[];
  /** The driver's own data about the members (their addresses), carried through the log untouched. Opaque to the core. */
  readonly context: string;
}

/** One log entry. `index` is 1-based, as in the paper. */
export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  /** The command; empty for Noop. Opaque to the core. */
  readonly data: Uint8Array;
}

/** The state a server must persist before it answers any RPC (Figure 2, "Persistent state on all servers"). */
export interface HardState {
  readonly currentTerm: number;
  readonly votedFor: NodeId | null;
  /**
   * Set when a storage fault may have taken entries this server had
   * acknowledged (docs/STORAGE.md): its log may lack entries up to
   * `through`. Until a leader has brought its log that far again it does not
   * campaign, and votes only for a candidate whose log is at least as
   * up-to-date as the one it lost. Absent when nothing was lost.
   */
  readonly lost?: LostMark;
}

/** What a server may have lost to a storage fault. */
export interface LostMark {
  /** The log may lack acknowledged entries up to this index. */
  readonly through: number;
  /** No entry it lost has a term above this one (its currentTerm when the loss was found). */
  readonly term: number;
}

/** "precandidate": running a pre-vote round (thesis §9.6) before becoming a candidate; its term has not changed. */
export type Role = "follower" | "precandidate" | "candidate" | "leader";

// ---------------------------------------------------------------------------
// Messages. Every message carries the sender's term; a higher term turns the
// receiver into a follower, a lower one is refused (Figure 2, "Rules for Servers").
// ---------------------------------------------------------------------------

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

/**
 * RequestVote RPC (§5.2), also used for pre-vote (thesis §9.6): with `preVote`
 * set, `term` is the term the sender WOULD campaign in, and nobody changes
 * state on receiving it.
 */
export interface RequestVote extends Envelope {
  readonly type: "RequestVote";
  readonly preVote: boolean;
  /** Sent on the leader's TimeoutNow (leadership transfer, thesis §3.10): voters that heard from that leader recently do not ignore it. */
  readonly transfer: boolean;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
}

export interface RequestVoteResponse extends Envelope {
  readonly type: "RequestVoteResponse";
  readonly preVote: boolean;
  readonly voteGranted: boolean;
}

/**
 * AppendEntries RPC (§5.3). `seq` is a per-leader counter echoed by the
 * follower; the leader uses it to know that a majority acknowledged its
 * leadership after a given moment (read index, thesis §6.4).
 */
export interface AppendEntries extends Envelope {
  readonly type: "AppendEntries";
  readonly prevLogIndex: number;
  readonly prevLogTerm: number;
  readonly entries: readonly Entry[];
  readonly leaderCommit: number;
  readonly seq: number;
}

/**
 * Reply to AppendEntries. On success `matchIndex` is the last index known to
 * match the leader's log. On failure `conflictIndex`/`conflictTerm` are the
 * fast-backtracking hint (§5.3, "the follower can include the term of the
 * conflicting entry and the first index it stores for that term"):
 * conflictTerm 0 means the follower's log is too short, and conflictIndex is
 * then its lastLogIndex + 1.
 */
export interface AppendEntriesResponse extends Envelope {
  readonly type: "AppendEntriesResponse";
  readonly success: boolean;
  readonly matchIndex: number;
  readonly conflictIndex: number;
  readonly conflictTerm: number;
  readonly seq: number;
  /** The follower's incarnation (see RaftConfig.incarnation): a newer one tells the leader it restarted. */
  readonly incarnation: number;
}

/**
 * InstallSnapshot RPC (§7, Figure 13): sent when the entries a follower needs
 * were compacted away. A snapshot travels in chunks, one at a time.
 */
export interface InstallSnapshot extends Envelope {
  readonly type: "InstallSnapshot";
  readonly lastIncludedIndex: number;
  readonly lastIncludedTerm: number;
  /** Where this chunk starts in the snapshot's bytes. */
  readonly offset: number;
  /** This chunk of the snapshot's bytes. */
  readonly data: Uint8Array;
  /** This is the last chunk. */
  readonly done: boolean;
  readonly seq: number;
  /** The configuration as of lastIncludedIndex (its entry is inside the snapshot). */
  readonly config: Configuration;
}

export interface InstallSnapshotResponse extends Envelope {
  readonly type: "InstallSnapshotResponse";
  /** The follower's last index known to match: at least lastIncludedIndex once it installed the snapshot (or already held that entry); 0 while chunks are still arriving. */
  readonly matchIndex: number;
  /** lastIncludedIndex of the snapshot this answers. */
  readonly lastIncludedIndex: number;
  /** Bytes of that snapshot the follower holds: where the next chunk must start. */
  readonly received: number;
  readonly seq: number;
  /** The follower's incarnation, as in AppendEntriesResponse. */
  readonly incarnation: number;
}

/** Leadership transfer (thesis §3.10): the leader tells an up-to-date follower to start an election now. */
export interface TimeoutNow extends Envelope {
  readonly type: "TimeoutNow";
}

/**
 * Storage-fault recovery (docs/STORAGE.md): a server that lost its term and
 * vote asks the others for theirs before it takes part in anything. Answered
 * by every server whatever the terms, and changes no one's state.
 */
export interface RecoveryQuery extends Envelope {
  readonly type: "RecoveryQuery";
}

/** The answer: `term` is the sender's currentTerm. */
export interface RecoveryReply extends Envelope {
  readonly type: "RecoveryReply";
  readonly lastLogIndex: number;
  /** The sender is itself recovering from a storage fault. */
  readonly recovering: boolean;
}

export type Message =
  | RequestVote
  | RequestVoteResponse
  | AppendEntries
  | AppendEntriesResponse
  | InstallSnapshot
  | InstallSnapshotResponse
  | TimeoutNow
  | RecoveryQuery
  | RecoveryReply;

export type MessageType = Message["type"];

export { assertNever } from "../util/assert.js";
