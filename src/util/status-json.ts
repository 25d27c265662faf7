// GET /status (the admin port, docs/REFERENCE.md): one node's Raft state as
// JSON. One type for the server that writes it, the client and the tests that
// read it, and the dashboard script that draws it.

export interface PeerStatusJson {
  readonly id: number;
  /** null unless this node leads. */
  readonly matchIndex: number | null;
  readonly nextIndex: number | null;
  /** Replication state (probe, replicate, snapshot); null unless this node leads. */
  readonly state: string | null;
  /** A peer connection to it is up. */
  readonly reachable: boolean;
}

export interface NodeEventJson {
  readonly time: number;
  readonly term: number;
  readonly event: string;
}

export interface StatusJson {
  readonly id: number;
  readonly role: string;
  readonly term: number;
  readonly votedFor: number | null;
  /** The leader's id as this node knows it; null when it knows none. */
  readonly leader: number | null;
  /** The leader's client address, host:port; null when it knows none. */
  readonly leaderClient: string | null;
  readonly commitIndex: number;
  readonly lastApplied: number;
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  readonly snapshotIndex: number;
  /** Recovery from a storage fault (docs/STORAGE.md), or null. */
  readonly recovery: { readonly surveying: boolean; readonly lostThrough: number | null } | null;
  readonly peers: readonly PeerStatusJson[];
  /** The state machine's size (the KV store's key count). */
  readonly keys: number;
  /** Every member of the configuration in effect (voters and learners), with its admin and client addresses. */
  readonly nodes: readonly { readonly id: number; readonly admin: string; readonly client: string }[];
  /** Recent elections and step-downs this node saw. */
  readonly events: readonly NodeEventJson[];
  /** This node's place in the cluster's configuration, and the change under way (SPEC §10). */
  readonly membership: MembershipStatusJson;
}

export interface MembershipStatusJson {
  /**
   * voter; learner (receives the log, does not vote); joining (a learner to be
   * promoted once caught up, a voter the joint configuration adds, or a node
   * started with --join not added yet); leaving (a voter the joint
   * configuration removes); removed (a configuration left it out: it no
   * longer talks to the cluster).
   */
  readonly state: "voter" | "learner" | "joining" | "leaving" | "removed";
  /** The log index of the configuration in effect (0: the bootstrap one) and whether it is committed. */
  readonly configIndex: number;
  readonly committed: boolean;
  readonly voters: readonly number[];
  /** The old voters while the configuration is joint; empty otherwise. */
  readonly outgoing: readonly number[];
  readonly learners: readonly number[];
  /** The change under way (the configuration while it is not committed, or joint), or null. */
  readonly pending: { readonly index: number; readonly voters: readonly number[]; readonly outgoing: readonly number[]; readonly learners: readonly number[] } | null;
}
