// A simulated run's trace: a list of typed events, recorded by the world
// (world.ts) when a run is traced. Everything that reads a trace — the
// story, the shrunk trace the CLI prints, the replay page, the tests — reads
// these events; text is made from them only for people (renderEvent).

import type { KvCommand, KvOutput } from "../check/linearizability.js";
import { assertNever, type Message, type NodeId, type Role } from "../core/types.js";
import type { Damage } from "./plan.js";

/** Why a message sent was lost: its link was cut, the network chose to drop it, or the network was full (world.ts MAX_IN_FLIGHT). */
export type Loss = "cut" | "dropped" | "overflow";

/** One thing that happened in a run, at tick `at`. */
export type SimEvent =
  /** A message reached a live node over a working link and was handed to it. */
  | { readonly at: number; readonly kind: "deliver"; readonly message: Message }
  /** A message sent and lost: across a cut link, or dropped by the network. */
  | { readonly at: number; readonly kind: "drop"; readonly message: Message; readonly loss: Loss }
  | { readonly at: number; readonly kind: "role"; readonly node: NodeId; readonly from: Role; readonly to: Role; readonly term: number }
  /** A leader's commit index moved past what it last traced. */
  | { readonly at: number; readonly kind: "commit"; readonly node: NodeId; readonly index: number; readonly term: number }
  | { readonly at: number; readonly kind: "snapshot"; readonly node: NodeId; readonly index: number }
  | { readonly at: number; readonly kind: "crash"; readonly node: NodeId }
  | { readonly at: number; readonly kind: "restart"; readonly node: NodeId; readonly term: number; readonly lastIndex: number; readonly recovering: boolean }
  /** A storage fault struck `node`'s disk; `harmless`: there was nothing of that kind to lose. */
  | { readonly at: number; readonly kind: "damage"; readonly node: NodeId; readonly damage: Damage; readonly harmless: boolean }
  | { readonly at: number; readonly kind: "recovered"; readonly node: NodeId }
  | { readonly at: number; readonly kind: "partition"; readonly groups: readonly (readonly NodeId[])[] }
  | { readonly at: number; readonly kind: "cut"; readonly from: NodeId; readonly to: NodeId }
  | { readonly at: number; readonly kind: "heal" }
  | { readonly at: number; readonly kind: "network"; readonly drop: number; readonly duplicate: number; readonly maxDelay: number }
  | { readonly at: number; readonly kind: "storm"; readonly until: number; readonly p: number }
  | { readonly at: number; readonly kind: "transfer"; readonly from: NodeId; readonly to: NodeId }
  /** A fault aimed at a role (plan.ts "crash-leader", "isolate-leader") found `node` leading: the crash or partition follows. */
  | { readonly at: number; readonly kind: "aimed"; readonly fault: "crash-leader" | "isolate-leader"; readonly node: NodeId }
  /** An operator asks leader `leader` for a membership change; `outcome` is the configuration it appended, or why it refused. */
  | { readonly at: number; readonly kind: "reconfigure"; readonly leader: NodeId; readonly voters: readonly NodeId[]; readonly learners: readonly NodeId[]; readonly outcome: string }
  | { readonly at: number; readonly kind: "branch"; readonly seed: number }
  /** The end of the faults: every node up, the network perfect. */
  | { readonly at: number; readonly kind: "faults-end" }
  /** A client got its answer from `node`, which had applied through `applied`. */
  | { readonly at: number; readonly kind: "reply"; readonly client: number; readonly input: KvCommand; readonly output: KvOutput; readonly node: NodeId; readonly applied: number }
  | { readonly at: number; readonly kind: "violation"; readonly invariant: string; readonly message: string };

export type SimEventKind = SimEvent["kind"];

/** An event without its tick (the world stamps it). */
export type SimEventBody = SimEvent extends infer E ? (E extends SimEvent ? Omit<E, "at"> : never) : never;

/** The message an event is about, if it is about one. */
export function messageOf(e: SimEvent): Message | null {
  return e.kind === "deliver" || e.kind === "drop" ? e.message : null;
}

/** Heartbeats that carry nothing and their plain acknowledgements: the chatter a reader usually skips. */
export function isChatter(e: SimEvent): boolean {
  const m = messageOf(e);
  return m !== null && ((m.type === "AppendEntries" && m.entries.length === 0) || (m.type === "AppendEntriesResponse" && m.success));
}

/** Events worth stopping at when stepping through a run: roles, crashes, the network, a violation. */
export function isNotable(e: SimEvent): boolean {
  switch (e.kind) {
    case "role":
    case "crash":
    case "restart":
    case "partition":
    case "cut":
    case "heal":
    case "network":
    case "storm":
    case "aimed":
    case "faults-end":
    case "branch":
    case "violation":
    case "snapshot":
      return true;
    default:
      return false;
  }
}

/** A trace without the chatter. */
export function condense(trace: readonly SimEvent[]): SimEvent[] {
  return trace.filter((e) => !isChatter(e));
}

/** The tick as traces print it: "t=   42". */
export function tickLabel(at: number): string {
  return `t=${String(at).padStart(5)}`;
}

/** One event as a trace line: "t=   42  n1 CRASHED". */
export function renderLine(e: SimEvent): string {
  return `${tickLabel(e.at)}  ${renderEvent(e)}`;
}

export function renderTrace(trace: readonly SimEvent[]): string[] {
  return trace.map(renderLine);
}

const DAMAGE_TEXT: Record<Damage, string> = {
  tail: "lost the tail of its log",
  corrupt: "a damaged entry (cut from there)",
  snapshot: "lost its snapshot, and the log after it",
  hardstate: "lost its term and vote",
  wipe: "lost its whole data directory",
};

/** What a storage fault did, in words. */
export function describeDamage(damage: Damage, harmless: boolean): string {
  if (!harmless) return DAMAGE_TEXT[damage];
  return damage === "snapshot" ? "lost nothing (no snapshot)" : "lost nothing (empty log)";
}

/** One event in words, without its tick. */
export function renderEvent(e: SimEvent): string {
  switch (e.kind) {
    case "deliver":
      return describeMessage(e.message);
    case "drop":
      return `${describeMessage(e.message)}  [${e.loss}]`;
    case "role":
      return `n${e.node} ${e.from} -> ${e.to} (term ${e.term})`;
    case "commit":
      return `n${e.node} commits through ${e.index} (leader of term ${e.term})`;
    case "snapshot":
      return `n${e.node} installed snapshot at ${e.index}`;
    case "crash":
      return `n${e.node} CRASHED`;
    case "restart":
      return `n${e.node} RESTARTED (term ${e.term}, log ${e.lastIndex}${e.recovering ? ", recovering" : ""})`;
    case "damage":
      return `n${e.node} DISK FAULT: ${describeDamage(e.damage, e.harmless)}`;
    case "recovered":
      return `n${e.node} recovered from its storage fault`;
    case "partition":
      return `PARTITION ${e.groups.map((g) => `{${g.join(",")}}`).join(" ")}`;
    case "cut":
      return `CUT link n${e.from} -> n${e.to}`;
    case "heal":
      return "HEAL all links";
    case "network":
      return `NETWORK drop ${e.drop} duplicate ${e.duplicate} delay 1..${e.maxDelay}`;
    case "storm":
      return `CRASH STORM until t=${e.until}, p=${e.p} per delivered message`;
    case "transfer":
      return `TRANSFER leadership n${e.from} -> n${e.to}`;
    case "aimed":
      return `n${e.node} is the leader: ${e.fault === "crash-leader" ? "crash it" : "cut it off"}`;
    case "reconfigure":
      return `RECONFIGURE voters ${e.voters.join(",")}${e.learners.length > 0 ? ` learners ${e.learners.join(",")}` : ""} (asking n${e.leader}): ${e.outcome}`;
    case "branch":
      return `BRANCH: random choices from seed ${e.seed}`;
    case "faults-end":
      return "FAULTS END: all nodes up, network healed";
    case "reply":
      return `client ${e.client}: ${JSON.stringify(e.input)} -> ${String(e.output)}  (n${e.node}, applied ${e.applied})`;
    case "violation":
      return `VIOLATION ${e.invariant}: ${e.message}`;
    default:
      return assertNever(e);
  }
}

/** One readable line per message, for traces: who sent what to whom. */
export function describeMessage(m: Message): string {
  return `n${m.from} -> n${m.to} ${describeBody(m)}`;
}

/**
 * A message without its sender and receiver: "AppendEntries(term 2, ...)".
 * `commit: false` leaves out an AppendEntries' commit index (the story does:
 * the same entries sent again with a newer commit index are one sending).
 */
export function describeBody(m: Message, o: { commit?: boolean } = {}): string {
  const head = `${m.type}(term ${m.term}`;
  switch (m.type) {
    case "RequestVote":
      return `${head}${m.preVote ? ", pre-vote" : ""}${m.transfer ? ", transfer" : ""}, last ${m.lastLogIndex}@${m.lastLogTerm})`;
    case "RequestVoteResponse":
      return `${head}${m.preVote ? ", pre-vote" : ""}, ${m.voteGranted ? "granted" : "refused"})`;
    case "AppendEntries": {
      const es = m.entries.length === 0 ? "heartbeat" : `entries ${m.entries.map((e) => `${e.index}@${e.term}`).join(" ")}`;
      return `${head}, prev ${m.prevLogIndex}@${m.prevLogTerm}, ${es}${o.commit === false ? "" : `, commit ${m.leaderCommit}`})`;
    }
    case "AppendEntriesResponse": {
      const inc = m.incarnation === 0 ? "" : `, life ${m.incarnation}`;
      return m.success ? `${head}, ok, match ${m.matchIndex}${inc})` : `${head}, refused, hint ${m.conflictIndex}@${m.conflictTerm}${inc})`;
    }
    case "InstallSnapshot":
      return `${head}, snapshot ${m.lastIncludedIndex}@${m.lastIncludedTerm}, bytes ${m.offset}..${m.offset + m.data.length}${m.done ? ", done" : ""})`;
    case "TimeoutNow":
      return `${head}, campaign now: leadership transfer)`;
    case "InstallSnapshotResponse":
      return m.matchIndex > 0 ? `${head}, match ${m.matchIndex})` : `${head}, snapshot ${m.lastIncludedIndex}, has ${m.received} bytes)`;
    case "RecoveryQuery":
      return `${head}, what is your term?)`;
    case "RecoveryReply":
      return `${head}, last ${m.lastLogIndex}${m.recovering ? ", recovering too" : ""})`;
    default:
      return assertNever(m);
  }
}
