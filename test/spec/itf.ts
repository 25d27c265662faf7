// Reading the traces `quint run --out-itf` writes (the Informal Trace Format):
// JSON where integers are {"#bigint": "3"}, maps {"#map": [[k, v], ...]},
// sets {"#set": [...]}, tuples {"#tup": [...]} and sum-type values
// {"tag": "Name", "value": ...}. This file turns them into plain values and
// names the types of spec/raft.qnt's state, so the replay reads like the spec.

import { readFileSync } from "node:fs";

/** A decoded ITF value: numbers, booleans, strings, arrays (lists, sets, tuples), Maps, records and tagged variants. */
export type Value = number | boolean | string | Value[] | Map<Value, Value> | { [field: string]: Value };

export function decode(v: unknown): Value {
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "string") return v;
  if (Array.isArray(v)) return v.map(decode);
  if (v === null || typeof v !== "object") throw new Error(`ITF: unexpected value ${JSON.stringify(v)}`);
  const o = v as Record<string, unknown>;
  if ("#bigint" in o) return Number(o["#bigint"]);
  if ("#map" in o) return new Map((o["#map"] as [unknown, unknown][]).map(([k, x]) => [decode(k), decode(x)]));
  if ("#set" in o) return (o["#set"] as unknown[]).map(decode);
  if ("#tup" in o) return (o["#tup"] as unknown[]).map(decode);
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decode(x)]));
}

// ---------------------------------------------------------------------------
// spec/raft.qnt's types, as decoded
// ---------------------------------------------------------------------------

export type Variant<T extends string, V> = { readonly tag: T; readonly value: V };
type Unit = readonly [];

/** raft.qnt's Config: sorted lists, as the core's Configuration (without its context). */
export interface SpecConfig {
  readonly voters: number[];
  readonly outgoing: number[];
  readonly learners: number[];
}

/** value: 0 the no-op, -1 a configuration (then `config`), else a client command; config is empty lists otherwise. */
export interface SpecEntry {
  readonly term: number;
  readonly value: number;
  readonly config: SpecConfig;
}

export type SpecMsg =
  | Variant<"RequestVote", { from: number; to: number; term: number; preVote: boolean; transfer: boolean; lastLogIndex: number; lastLogTerm: number }>
  | Variant<"RequestVoteResponse", { from: number; to: number; term: number; preVote: boolean; voteGranted: boolean }>
  | Variant<"AppendEntries", { from: number; to: number; term: number; prevLogIndex: number; prevLogTerm: number; entries: SpecEntry[]; leaderCommit: number; seq: number }>
  | Variant<"AppendEntriesResponse", { from: number; to: number; term: number; success: boolean; matchIndex: number; conflictIndex: number; conflictTerm: number; seq: number; incarnation: number }>
  | Variant<"InstallSnapshot", { from: number; to: number; term: number; lastIncludedIndex: number; lastIncludedTerm: number; seq: number; config: SpecConfig }>
  | Variant<"InstallSnapshotResponse", { from: number; to: number; term: number; matchIndex: number; lastIncludedIndex: number; seq: number; incarnation: number }>
  | Variant<"TimeoutNow", { from: number; to: number; term: number }>
  | Variant<"RecoveryQuery", { from: number; to: number; term: number }>
  | Variant<"RecoveryReply", { from: number; to: number; term: number; lastLogIndex: number; recovering: boolean }>;

export interface SpecProgress {
  readonly state: Variant<"Probe" | "Replicate" | "Snapshot", Unit>;
  readonly matchIndex: number;
  readonly nextIndex: number;
  readonly probeSent: boolean;
  readonly inflight: number[];
  readonly recentActive: boolean;
  readonly respondedSinceHeartbeat: boolean;
  readonly ackedSeq: number;
  readonly incarnation: number;
}

/** raft.qnt's LostMark; { through: -1, term: -1 } is none. */
export interface SpecLost {
  readonly through: number;
  readonly term: number;
}

export interface SpecReadResult {
  readonly id: number;
  readonly ok: boolean;
  readonly index: number;
  readonly leader: number;
}

export interface SpecServer {
  readonly id: number;
  readonly currentTerm: number;
  readonly votedFor: number;
  readonly snapIndex: number;
  readonly snapTerm: number;
  readonly snapConfig: SpecConfig;
  readonly entries: SpecEntry[];
  readonly commitIndex: number;
  readonly lastApplied: number;
  readonly role: Variant<"Follower" | "PreCandidate" | "Candidate" | "Leader", Unit>;
  readonly leaderId: number;
  readonly progress: Map<number, SpecProgress>;
  readonly progressIds: number[];
  readonly electionElapsed: number;
  readonly heartbeatElapsed: number;
  readonly randomizedElectionTimeout: number;
  readonly votes: Map<number, boolean>;
  readonly seq: number;
  readonly pendingReads: { id: number; index: number; requiredSeq: number }[];
  readonly readRoundWanted: boolean;
  readonly commitToAnnounce: boolean;
  readonly stableIndex: number;
  readonly persistedTerm: number;
  readonly persistedVote: number;
  readonly snapshotToPersist: boolean;
  readonly writing: boolean;
  readonly pendingApply: number;
  readonly leadTransferee: number;
  readonly transferElapsed: number;
  readonly lost: SpecLost;
  readonly surveying: boolean;
  readonly surveyNeeded: number;
  readonly surveyTermAtLeast: number;
  readonly surveyEmptyLog: boolean;
  readonly surveyAnswers: Map<number, { term: number; lastLogIndex: number; recovering: boolean }>;
  readonly peersRecovering: Map<number, { recovering: boolean; round: number }>;
  readonly recoveryRound: number;
  readonly incarnation: number;
  readonly persistedKnown: boolean;
  readonly persistedLost: SpecLost;
}

export interface SpecDisk {
  readonly hardStateKnown: boolean;
  readonly currentTerm: number;
  readonly votedFor: number;
  readonly lost: SpecLost;
  readonly snapIndex: number;
  readonly snapTerm: number;
  readonly snapConfig: SpecConfig;
  readonly entries: SpecEntry[];
}

export type SpecStep =
  | Variant<"Init", Unit>
  | Variant<"Tick", { node: number; draw: number }>
  | Variant<"Deliver", { msg: SpecMsg; draw: number }>
  | Variant<"Drop", SpecMsg[]>
  | Variant<"Propose", { node: number; value: number }>
  | Variant<"Read", { node: number; id: number }>
  | Variant<"Transfer", { node: number; to: number }>
  | Variant<"Compact", { node: number; index: number }>
  | Variant<"Restart", { node: number; draw: number }>
  | Variant<"Persist", number>
  | Variant<"Reconfigure", { node: number; voters: number[]; learners: number[] }>;

export interface SpecState {
  readonly servers: Map<number, SpecServer>;
  readonly disks: Map<number, SpecDisk>;
  readonly lastStep: SpecStep;
  readonly lastSent: SpecMsg[];
  readonly lastReads: SpecReadResult[];
}

/** Reads one ITF trace file of spec/raft.qnt: its states, variable names stripped of their module prefix. */
export function readTrace(file: string): SpecState[] {
  const itf = JSON.parse(readFileSync(file, "utf8")) as { states: Record<string, unknown>[] };
  return itf.states.map((s) => {
    const out: Record<string, Value> = {};
    for (const [name, v] of Object.entries(s)) {
      if (name === "#meta") continue;
      out[name.split("::").pop()!] = decode(v);
    }
    return out as unknown as SpecState;
  });
}
