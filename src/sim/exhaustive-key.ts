// Canonical text for the parts of an exhaustive-mode state, and the short
// hash the explorer remembers instead of the whole text.
//
// The model never asks for a linearizable read, so the read-index sequence
// numbers decide nothing: no read is pending, and any future read waits for
// acknowledgements of sequence numbers not sent yet. They are left out of
// the key: `seq` of every message, and the `@<ackedSeq - seq>` that
// RaftNode.fingerprint() prints per follower (a leader heartbeating one
// silent follower would otherwise count it down without end, and the state
// space would be infinite). The order in which votes arrived is left out too:
// only who granted and who refused matters.

import type { RaftNode } from "../core/node.js";
import { EntryType, assertNever, type Entry, type Message } from "../core/types.js";

/** RaftNode.fingerprint() with the parts that cannot matter here normalized (see the header). */
export function nodeKey(node: RaftNode): string {
  const fields = node.fingerprint().split("|");
  // Fields 11 and 12 of the fingerprint: votes ("2+3-") and progress ("2=...@-3;3=...@0").
  fields[11] = sortVotes(fields[11]!);
  fields[12] = fields[12]!.replace(/@-?\d+(?=;|$)/g, "");
  return fields.join("|");
}

function sortVotes(votes: string): string {
  const each = votes.match(/\d+[+-]/g);
  return each === null ? votes : each.sort().join("");
}

export function entryKey(e: Entry): string {
  return e.type === EntryType.Noop ? `${e.term}n` : `${e.term}:${e.data.join(".")}`;
}

/** Sorts by sender, then receiver (so one link's messages are adjacent), then content; no `seq`. */
export function messageKey(m: Message): string {
  const link = `${m.from}>${m.to} `;
  switch (m.type) {
    case "RequestVote":
      return `${link}V${m.term}${m.preVote ? "p" : ""} ${m.lastLogIndex}@${m.lastLogTerm}`;
    case "RequestVoteResponse":
      return `${link}v${m.term}${m.preVote ? "p" : ""}${m.voteGranted ? "+" : "-"}`;
    case "AppendEntries":
      return `${link}A${m.term} ${m.prevLogIndex}@${m.prevLogTerm} [${m.entries.map(entryKey).join(" ")}] ${m.leaderCommit}`;
    case "AppendEntriesResponse":
      return `${link}a${m.term}${m.success ? "+" : "-"} ${m.matchIndex} ${m.conflictIndex}@${m.conflictTerm}`;
    case "InstallSnapshot":
      return `${link}S${m.term} ${m.lastIncludedIndex}@${m.lastIncludedTerm} ${m.data.join(".")}`;
    case "InstallSnapshotResponse":
      return `${link}s${m.term} ${m.matchIndex}`;
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
