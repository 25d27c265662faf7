// The core's public types: how a driver configures a server, what it hands
// back after a restart, and what the server asks of it (Ready).
// The server itself is node.ts; the rules live in the files it names.

import type { Configuration, Entry, HardState, Message, NodeId, Role } from "./types.js";

export interface RaftConfig {
  readonly id: NodeId;
  /**
   * The bootstrap configuration: the servers that vote until the log (or a
   * snapshot) holds a configuration of its own (membership.ts). A server
   * joining an existing cluster is not among them: it waits, never
   * campaigning, until a leader's log names it.
   */
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
  /**
   * The configuration as of lastIncludedIndex (thesis §5.1: a snapshot keeps
   * the latest configuration it covers); null for a snapshot written before
   * membership changes existed: the bootstrap configuration then applies.
   */
  readonly config: Configuration | null;
}

export type ProposeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly leader: NodeId | null };

export type ReadResult =
  /** Safe to answer once the state machine has applied `index`. */
  | { readonly id: number; readonly ok: true; readonly index: number }
  /** Not answered: this server is not (or no longer) the leader. Safe to retry elsewhere. */
  | { readonly id: number; readonly ok: false; readonly leader: NodeId | null };

/** Who this server is right now: what a driver shows and routes by (etcd's SoftState, with the term). */
export interface SoftState {
  readonly role: Role;
  readonly leader: NodeId | null;
  readonly term: number;
}

/** What the driver must do now, in this order: persist, then send and apply. */
export interface Ready {
  /** Not null when role, leader or term changed since the last Ready: the driver never needs to compare fields itself. */
  readonly softState: SoftState | null;
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
  /** Not null when the configuration in effect changed since the last Ready (an appended, removed or installed one): whom to talk to. */
  readonly configuration: Configuration | null;
}

/** What a storage fault took from this server and how far it has come back (docs/STORAGE.md). */
export interface RecoveryStatus {
  /** The term and vote are unknown: the server is asking the others. */
  readonly surveying: boolean;
  /** Entries up to here may be lost; null once a leader brought the log past them. */
  readonly lostThrough: number | null;
}

/** A snapshot of the externally visible state (status pages, tests, invariants). */
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
  readonly recovery: RecoveryStatus | null;
  /** The configuration in effect (the latest in the log), the index of its entry (0: bootstrap), and whether that entry is committed. */
  readonly configuration: Configuration;
  readonly configurationIndex: number;
  readonly configurationCommitted: boolean;
  readonly peers: readonly { id: NodeId; matchIndex: number; nextIndex: number; state: string }[];
}
