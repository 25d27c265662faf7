// `raftkv`: the pure Raft core, as a library (docs/LIBRARY.md).
//
// RaftNode has no I/O, no clock and no randomness of its own: you feed it
// ticks and messages, and it hands you a Ready — what to persist, send and
// apply — in the style of etcd's raft package. Everything else (a disk, a
// network, timers) is yours; `raftkv/server` is one such driver.
//
// This file is the package's public surface for the core: code inside the
// repository may move; what is exported here is what the package promises.

import { EntryType } from "./core/types.js";

export { RaftNode } from "./core/node.js";
export type { NodeStatus, ProposeResult, RaftConfig, ReadResult, Ready, RestoredState, Snapshot } from "./core/node.js";
export type { Entry, HardState, LostMark, Message, MessageType, NodeId, Role } from "./core/types.js";

/** Entry.type values: a client command, or the empty entry a new leader appends. */
export const EntryKind = { Normal: EntryType.Normal, Noop: EntryType.Noop } as const;
