// The exhaustive mode's states and events (exhaustive-model.ts explores them;
// exhaustive-invariants.ts and exhaustive-symmetry.ts read them).

import type { RaftNode } from "../core/node.js";
import type { Entry, HardState, Message, NodeId } from "../core/types.js";
import type { Memo, NodePart } from "./exhaustive-key.js";

/** What survives a crash. No server compacts its log here, so there is never a snapshot. */
export interface Disk {
  readonly hardState: HardState;
  /** Entry i at position i - 1. */
  readonly entries: readonly Entry[];
  /** For the state's key. */
  readonly text: string;
}

/** A message in the network, with its canonical key and the events that act on it. */
export interface InFlight {
  readonly key: string;
  readonly message: Message;
  readonly deliver: ClusterEvent;
  readonly drop: ClusterEvent;
  /** The number of its key under the last renaming asked for (exhaustive-symmetry.ts). */
  memo: Memo | null;
}

export type ClusterEvent =
  | { readonly kind: "tick"; readonly node: NodeId }
  | { readonly kind: "deliver"; readonly flight: InFlight }
  | { readonly kind: "drop"; readonly flight: InFlight }
  | { readonly kind: "restart"; readonly node: NodeId }
  | { readonly kind: "propose"; readonly node: NodeId };

export interface CommittedEntry {
  readonly term: number;
  /** The term of the first server seen with this entry committed: no leader of a later term may lack it. */
  readonly commitTerm: number;
}

/**
 * One state of the cluster. Immutable: a transition copies the arrays and
 * clones the one server it changes, and shares everything else.
 */
export interface ClusterState {
  /** Server with id i + 1 at index i. */
  readonly nodes: readonly RaftNode[];
  readonly disks: readonly Disk[];
  /** Per server, the text of its state and disk for the key (cached: most transitions change one server). */
  readonly parts: readonly NodePart[];
  /** Sorted by key. */
  readonly network: readonly InFlight[];
  readonly proposals: number;
  /** Per term, the bitmask of servers that were its leader at some point (bit i for id i + 1). */
  readonly leaders: readonly number[];
  /** Index i + 1 at position i. */
  readonly committed: readonly CommittedEntry[];
}

