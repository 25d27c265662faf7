// GET /members (the admin port, SPEC §10, docs/REFERENCE.md): the live
// membership as one node knows it. One type for the server that writes it
// and the client that reads it.

/** voter; learner; joining (a learner to be promoted, or a voter the joint configuration adds); leaving (a voter the joint configuration removes). */
export type MemberState = "voter" | "learner" | "joining" | "leaving";

export interface MemberJson {
  readonly id: number;
  /** Addresses from the configuration's context; null when the configuration has none for this id. */
  readonly peer: string | null;
  readonly client: string | null;
  readonly admin: string | null;
  readonly role: "voter" | "learner";
  readonly state: MemberState;
  /** The leader's view; null from a node that does not lead. */
  readonly reachable: boolean | null;
  readonly matchIndex: number | null;
  /**
   * The leader's view, for a learner it is to promote by itself (state
   * joining): why it has not yet, e.g. how far behind it is. Null otherwise,
   * and from a node that does not lead.
   */
  readonly waiting: string | null;
}

/** A membership change under way: the configuration not yet committed, or joint. */
export interface PendingChangeJson {
  readonly index: number;
  readonly voters: readonly number[];
  readonly outgoing: readonly number[];
  readonly learners: readonly number[];
}

export interface MembersJson {
  readonly leader: number | null;
  readonly configIndex: number;
  readonly committed: boolean;
  readonly joint: boolean;
  readonly members: readonly MemberJson[];
  readonly pending: PendingChangeJson | null;
}
