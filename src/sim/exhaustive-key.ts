// Canonical text for the parts of an exhaustive-mode state (servers with
// their disks, messages), written so that renaming the servers is cheap
// (see exhaustive-symmetry.ts), and the short hash the explorer remembers
// instead of a state's key.
//
// Every server id in the text is one character, idChar(id) (a C1 control
// character, which nothing else in the text uses, and which keeps the
// strings one byte per character), so that renaming is a character
// substitution. Per-peer lists (votes received, a leader's progress per
// follower) are kept as arrays indexed by id, since renaming reorders them.
//
// What is left out, because it cannot change what happens next here:
// - read-index sequence numbers. The model never asks for a linearizable
//   read, so no read is pending, and a future read waits for
//   acknowledgements of sequence numbers not sent yet. Gone are the `seq` of
//   every message and the `@<ackedSeq - seq>` that RaftNode.fingerprint()
//   prints per follower (a leader heartbeating one silent follower would
//   otherwise count it down without end: an infinite state space);
// - the order in which votes arrived: only who granted and who refused.

import type { RaftNode } from "../core/node.js";
import { EntryType, assertNever, type Entry, type HardState, type Message, type NodeId } from "../core/types.js";

/** One server's state and disk as text; see the header. */
export interface NodePart {
  /** Everything but the per-peer lists, ids written with idChar. */
  readonly text: string;
  /** Per id (at id - 1): how that server answered this one's current campaign: "+", "-" or "". */
  readonly votes: readonly string[];
  /** Per id (at id - 1): this leader's progress for that follower, or "". */
  readonly progress: readonly string[];
  /** Equal for two servers' parts whenever some renaming of the servers maps one onto the other. */
  readonly signature: string;
  /** The last rendering of this part under a renaming (exhaustive-symmetry.ts), which the next state most likely asks for again. */
  memo: Memo | null;
}

/** A number given to a text as rendered under one renaming of the servers (exhaustive-symmetry.ts). */
export interface Memo {
  readonly renaming: number;
  readonly number: number;
}

/** Thrown when RaftNode.fingerprint() no longer has the layout this file reads. */
export class FingerprintFormatError extends Error {
  constructor(fingerprint: string) {
    super(`RaftNode.fingerprint() changed its layout (got "${fingerprint}"); update nodePart() in src/sim/exhaustive-key.ts to match`);
    this.name = "FingerprintFormatError";
  }
}

const ID_BASE = 0x80;
/** Matches any idChar. */
export const ID_CHARS = /[\x81-\xff]/g;

export function idChar(id: NodeId): string {
  return String.fromCharCode(ID_BASE + id);
}

export function idOf(c: string): NodeId {
  return c.charCodeAt(0) - ID_BASE;
}

// RaftNode.fingerprint(): fields separated by "|"; these hold ids.
const VOTED_FOR = 2;
const LEADER = 3;
const VOTES = 11;
const PROGRESS = 12;
const PERSISTED_HARD_STATE = 15;
// 16: a snapshot being received in chunks (no ids in it).
const TRANSFER = 17;
// 18: lost-through (no ids). 19 and 20: a storage-fault survey's answers and
// who said it was recovering: always empty here (the model has no storage
// faults), so they hold no ids to rename.
const SURVEY = 19;
const RECOVERING_PEERS = 20;
const FIELDS = 21;

/**
 * Node parts by server, fingerprint and disk. A server's states recur (a
 * heartbeat often leaves a follower as it was), so most lookups hit: the
 * parts are shared between states, and so are their memoized renderings.
 */
export class NodePartCache {
  private readonly parts = new Map<string, NodePart>();

  constructor(
    private readonly members: number,
    /** Forget everything beyond this many parts, to bound memory. */
    private readonly limit = 1 << 18,
  ) {}

  of(node: RaftNode, diskText: string): NodePart {
    const fingerprint = node.fingerprint();
    const key = `${node.id}|${fingerprint}~${diskText}`;
    let part = this.parts.get(key);
    if (part === undefined) {
      if (this.parts.size >= this.limit) this.parts.clear();
      part = nodePart(fingerprint, node.id, diskText, this.members);
      this.parts.set(key, part);
    }
    return part;
  }
}

/** The disk's contribution to a part: hard state and entries. */
export function diskText(hardState: HardState, entries: readonly Entry[]): string {
  return `${hardState.currentTerm}/${hardState.votedFor === null ? "_" : idChar(hardState.votedFor)}/${entries.map(entryKey).join(" ")}`;
}

function nodePart(fingerprint: string, self: NodeId, disk: string, members: number): NodePart {
  const f = fingerprint.split("|");
  if (f.length !== FIELDS) throw new FingerprintFormatError(fingerprint);
  // Votes: "<id>+" or "<id>-" each, no separator.
  const votes = new Array<string>(members).fill("");
  const v = f[VOTES]!;
  for (let i = 0, id = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === "+" || c === "-") {
      votes[id - 1] = c;
      id = 0;
    } else id = 10 * id + Number(c);
  }
  // Progress: "<id>=<progress>@<ackedSeq - seq>" each, separated by ";".
  const progress = new Array<string>(members).fill("");
  if (f[PROGRESS] !== "") {
    for (const one of f[PROGRESS]!.split(";")) {
      const eq = one.indexOf("=");
      const at = one.lastIndexOf("@");
      if (eq < 1 || at < eq) throw new FingerprintFormatError(fingerprint);
      progress[Number(one.slice(0, eq)) - 1] = one.slice(eq + 1, at);
    }
  }
  if (f[SURVEY] !== "" || f[RECOVERING_PEERS] !== "") throw new Error("exhaustive mode does not model storage faults, yet a server is recovering from one");
  f[VOTED_FOR] = optionalId(f[VOTED_FOR]!);
  if (f[TRANSFER] !== "") {
    const [to, elapsed] = f[TRANSFER]!.split("/");
    f[TRANSFER] = `${optionalId(to!)}/${elapsed}`;
  }
  f[LEADER] = optionalId(f[LEADER]!);
  const [persistedTerm, persistedVote, persistedLost] = f[PERSISTED_HARD_STATE]!.split("/");
  f[PERSISTED_HARD_STATE] = `${persistedTerm}/${optionalId(persistedVote!)}/${persistedLost}`;
  f[VOTES] = "";
  f[PROGRESS] = "";
  const text = `${f.join("|")}~${disk}`;
  const selfChar = idChar(self);
  const others = votes.filter((_, i) => i !== self - 1);
  const signature = [
    text.replace(ID_CHARS, (c) => (c === selfChar ? "s" : "*")),
    votes[self - 1],
    others.sort().join(""),
    progress.filter((p) => p !== "").sort().join(";"),
  ].join("|");
  return { text, votes, progress, signature, memo: null };
}

function optionalId(field: string): string {
  return field === "_" ? "_" : idChar(Number(field));
}

export function entryKey(e: Entry): string {
  return e.type === EntryType.Noop ? `${e.term}n` : `${e.term}:${e.data.join(".")}`;
}

/** The sender's and the receiver's idChar first (so one link's messages sort together), then the content, without `seq`. */
export function messageKey(m: Message): string {
  const link = idChar(m.from) + idChar(m.to);
  switch (m.type) {
    case "RequestVote":
      return `${link}V${m.term}${m.preVote ? "p" : ""}${m.transfer ? "t" : ""} ${m.lastLogIndex}@${m.lastLogTerm}`;
    case "RequestVoteResponse":
      return `${link}v${m.term}${m.preVote ? "p" : ""}${m.voteGranted ? "+" : "-"}`;
    case "AppendEntries":
      return `${link}A${m.term} ${m.prevLogIndex}@${m.prevLogTerm} [${m.entries.map(entryKey).join(" ")}] ${m.leaderCommit}`;
    case "AppendEntriesResponse":
      return `${link}a${m.term}${m.success ? "+" : "-"} ${m.matchIndex} ${m.conflictIndex}@${m.conflictTerm}${m.incarnation === 0 ? "" : ` i${m.incarnation}`}`;
    case "InstallSnapshot":
      return `${link}S${m.term} ${m.lastIncludedIndex}@${m.lastIncludedTerm} ${m.offset}${m.done ? "." : "+"} ${m.data.join(".")}`;
    case "InstallSnapshotResponse":
      return `${link}s${m.term} ${m.matchIndex} ${m.lastIncludedIndex}:${m.received}${m.incarnation === 0 ? "" : ` i${m.incarnation}`}`;
    case "TimeoutNow":
      return `${link}T${m.term}`;
    case "RecoveryQuery":
      return `${link}Q${m.term}`;
    case "RecoveryReply":
      return `${link}q${m.term} ${m.lastLogIndex}${m.recovering ? "r" : ""}`;
    default:
      return assertNever(m);
  }
}

/**
 * A 64-bit hash of `text` as a 4-character string: two independent 32-bit
 * multiplicative hashes over the UTF-16 code units, each finished with
 * murmur3's avalanche. The explorer keeps only this per visited state, so two
 * distinct states with one hash would merge and the second would go
 * unexplored; with n states the chance of any such collision is about
 * n² / 2^65, under 1e-5 for 10 million states.
 */
export function hash64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x2545f491;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  a = avalanche(a ^ text.length);
  b = avalanche(b);
  return String.fromCharCode(a >>> 16, a & 0xffff, b >>> 16, b & 0xffff);
}

function avalanche(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
