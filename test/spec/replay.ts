// Model-based testing of the real core against spec/raft.qnt: a trace that
// the spec's simulator wrote (`quint run --out-itf`) is replayed, step by
// step, on RaftNode instances, and after every step the core's state, what
// it sent, what it answered and what its driver wrote to disk must equal the
// spec's.
//
// The mapping, one spec step to one core input:
//
//   Init                a RaftNode per server, from an empty disk
//   Tick(n, draw)       n.tick()
//   Deliver(m, draw)    m.to.step(m), m converted to a core Message
//   Drop(m)             nothing (the spec's network loses m)
//   Propose(n, v)       n.propose([v])
//   Read(n, id)         n.read(id)
//   Transfer(n, to)     n.transferLeadership(to)
//   Compact(n, i)       n.compact(i, data), and the driver stores the snapshot
//   Restart(n, draw)    a new RaftNode built from what n's disk holds
//   Reconfigure(n, v, l) n.proposeConfChange({ voters: v, learners: l })
//
//   Persist(n)          the pending write of n's Ready completes: advance()
//
// followed by the driver loop every real driver runs: while hasReady(),
// ready(), persist, send, apply, advance(). When the spec's server is left
// `writing` (a slow disk under a leader's Ready with sendBeforePersist), the
// replay sends that Ready's messages and keeps its write pending until the
// Persist step, as src/sim/world.ts does with a disk latency.
//
// What the spec abstracts, and how the replay maps it:
// - Randomness: the only random choice is the election timeout drawn at each
//   reset, from [ElectionMin, ElectionMax). The spec picks it as `draw`; the
//   replay makes RaftConfig.random return exactly that during the step (a
//   step resets at most one server's timer, and every reset in a step uses
//   the same draw, in the spec and here).
// - Bytes: entry data is one byte, the spec's value (the no-op is empty);
//   a snapshot is one byte long and travels in one chunk (offset 0, done),
//   so InstallSnapshotResponse.received is always 1; the spec leaves these
//   fields out and the replay checks them here.
// - The core's private fields (timers, votes, seq, pending reads, persistence
//   bookkeeping) are read through a cast: they are compared because the
//   spec models them, and a difference there shows up first.

import { decodeConfiguration, encodeConfiguration } from "../../src/core/configuration.js";
import { RaftNode, type RaftConfig, type Ready, type ReadResult } from "../../src/core/node.js";
import type { Progress } from "../../src/core/progress.js";
import { EntryType, type Configuration, type Entry, type HardState, type LostMark, type Message, type NodeId } from "../../src/core/types.js";
import type { SpecConfig, SpecDisk, SpecEntry, SpecMsg, SpecReadResult, SpecServer, SpecState } from "./itf.js";

/** spec/raftMC.qnt's parameters, as a core configuration. */
export const SPEC_CONFIG = {
  electionTimeoutTicks: [2, 4] as const,
  heartbeatTicks: 1,
  maxInflight: 2,
  /** One entry per AppendEntries (the spec's MaxBatch = 1). */
  maxBytesPerAppend: 1,
  preVote: true,
  checkQuorum: true,
};

export type MakeNode = (config: RaftConfig, restored?: ConstructorParameters<typeof RaftNode>[1]) => RaftNode;

/** A difference between the spec and the core. */
export class Divergence extends Error {
  constructor(
    readonly step: number,
    readonly what: string,
    readonly spec: unknown,
    readonly core: unknown,
  ) {
    super(`step ${step}: ${what}\n  spec: ${show(spec)}\n  core: ${show(core)}`);
    this.name = "Divergence";
  }
}


interface Disk {
  hardState: HardState;
  snapshot: { index: number; term: number; data: Uint8Array; config: Configuration | null } | null;
  entries: Entry[];
}

interface Driven {
  raft: RaftNode;
  disk: Disk;
  /** What RaftConfig.random returns: the spec's draw for this step, minus ElectionMin. */
  draw: number;
  /** A leader's Ready whose messages left and whose write is pending (the spec's `writing`). */
  pending: Ready | null;
}

const LO = SPEC_CONFIG.electionTimeoutTicks[0];

/** Replays one trace; throws a Divergence at the first difference. Returns the number of steps replayed. */
export function replay(trace: readonly SpecState[], make: MakeNode = (c, r) => new RaftNode(c, r)): number {
  const init = trace[0]!;
  if (init.lastStep.tag !== "Init") throw new Error("a trace starts with Init");
  const ids = [...init.servers.keys()].sort((a, b) => a - b);
  // The bootstrap voters (the spec's 1..N); the other servers are spares no configuration names yet.
  const members = init.servers.get(ids[0]!)!.snapConfig.voters;
  const nodes = new Map<NodeId, Driven>();
  const config = (id: NodeId): RaftConfig => ({
    id,
    members,
    electionTimeoutTicks: SPEC_CONFIG.electionTimeoutTicks,
    heartbeatTicks: SPEC_CONFIG.heartbeatTicks,
    maxInflight: SPEC_CONFIG.maxInflight,
    maxBytesPerAppend: SPEC_CONFIG.maxBytesPerAppend,
    preVote: SPEC_CONFIG.preVote,
    checkQuorum: SPEC_CONFIG.checkQuorum,
    random: () => nodes.get(id)!.draw,
  });
  const boot = (id: NodeId, disk: Disk, draw: number): void => {
    const d: Driven = nodes.get(id) ?? { raft: null as unknown as RaftNode, disk, draw, pending: null };
    d.draw = draw - LO;
    // a crash loses the Ready being written
    d.pending = null;
    nodes.set(id, d);
    const snapshot = disk.snapshot && { lastIncludedIndex: disk.snapshot.index, lastIncludedTerm: disk.snapshot.term, data: disk.snapshot.data, config: disk.snapshot.config };
    d.raft = make(config(id), { hardState: disk.hardState, entries: [...disk.entries], snapshot });
  };
  for (const id of ids) boot(id, { hardState: { currentTerm: 0, votedFor: null }, snapshot: null, entries: [] }, init.servers.get(id)!.randomizedElectionTimeout);
  compareAll(0, init, nodes, [], []);

  for (let i = 1; i < trace.length; i++) {
    const st = trace[i]!;
    const step = st.lastStep;
    let out: { messages: Message[]; reads: SpecReadResult[] } = { messages: [], reads: [] };
    switch (step.tag) {
      case "Init":
        throw new Error(`step ${i}: Init in the middle of a trace`);
      case "Tick": {
        const d = nodes.get(step.value.node)!;
        d.draw = step.value.draw - LO;
        d.raft.tick();
        out = drive(i, d, st);
        break;
      }
      case "Deliver": {
        const m = toCore(step.value.msg);
        const d = nodes.get(m.to)!;
        d.draw = step.value.draw - LO;
        d.raft.step(m);
        out = drive(i, d, st);
        break;
      }
      case "Drop":
        break;
      case "Propose": {
        const d = nodes.get(step.value.node)!;
        const r = d.raft.propose(Uint8Array.of(step.value.value));
        const accepted = lastIndexOf(st.servers.get(d.raft.id)!) > lastIndexOf(trace[i - 1]!.servers.get(d.raft.id)!);
        if (r.ok !== accepted) throw new Divergence(i, `n${d.raft.id}'s answer to a proposal`, accepted ? "accepted" : "refused", r);
        out = drive(i, d, st);
        break;
      }
      case "Read": {
        const d = nodes.get(step.value.node)!;
        d.raft.read(step.value.id);
        out = settle(i, d);
        break;
      }
      case "Transfer": {
        const d = nodes.get(step.value.node)!;
        d.raft.transferLeadership(step.value.to);
        out = settle(i, d);
        break;
      }
      case "Compact": {
        const { node, index } = step.value;
        const d = nodes.get(node)!;
        const data = Uint8Array.of(index);
        d.raft.compact(index, data);
        // What the simulator's driver does: the snapshot goes to disk, and the entries it covers go.
        d.disk.snapshot = { index, term: d.raft.log.snapshotTerm, data, config: d.raft.state().snapshot?.config ?? null };
        d.disk.entries = d.disk.entries.filter((e) => e.index > index);
        out = settle(i, d);
        break;
      }
      case "Persist": {
        const d = nodes.get(step.value)!;
        if (!d.pending) throw new Divergence(i, `n${step.value} has no write pending`, "writing", "idle");
        persist(d.disk, d.pending);
        d.pending = null;
        d.raft.advance();
        out = settle(i, d);
        break;
      }
      case "Reconfigure": {
        const { node, voters, learners } = step.value;
        const d = nodes.get(node)!;
        const r = d.raft.proposeConfChange({ voters, learners, context: "" });
        const accepted = lastIndexOf(st.servers.get(node)!) > lastIndexOf(trace[i - 1]!.servers.get(node)!);
        if (r.ok !== accepted) throw new Divergence(i, `n${node}'s answer to a membership change`, accepted ? "accepted" : "refused", r);
        out = drive(i, d, st);
        break;
      }
      case "Restart": {
        const { node, draw } = step.value;
        boot(node, nodes.get(node)!.disk, draw);
        break;
      }
      default:
        assertNever(step);
    }
    compareAll(i, st, nodes, out.messages, out.reads);
  }
  return trace.length - 1;
}

/**
 * After an input: the driver loop, or, when the spec's server is now
 * `writing`, a slow disk: the first Ready's messages leave at once
 * (sendBeforePersist) and its write stays pending until the Persist step.
 */
function drive(step: number, d: Driven, st: SpecState): { messages: Message[]; reads: SpecReadResult[] } {
  if (!st.servers.get(d.raft.id)!.writing) return settle(step, d);
  if (!d.raft.hasReady()) throw new Divergence(step, `n${d.raft.id} has no Ready to write`, "writing", "nothing to do");
  const rd = d.raft.ready();
  if (!rd.sendBeforePersist) throw new Divergence(step, `n${d.raft.id}'s Ready may not be sent before it is written`, true, false);
  d.pending = rd;
  return { messages: [...rd.messages], reads: rd.reads.map(readResult) };
}

function readResult(r: ReadResult): SpecReadResult {
  return r.ok ? { id: r.id, ok: true, index: r.index, leader: 0 } : { id: r.id, ok: false, index: 0, leader: r.leader ?? 0 };
}

/** The driver loop (src/sim/world.ts, without disk latency): persist, send, apply, advance, until nothing is left. */
function settle(step: number, d: Driven): { messages: Message[]; reads: SpecReadResult[] } {
  const messages: Message[] = [];
  const reads: SpecReadResult[] = [];
  for (let rounds = 0; d.raft.hasReady(); rounds++) {
    if (rounds === 16) throw new Divergence(step, `n${d.raft.id} still hasReady() after ${rounds} rounds`, "quiet", "busy");
    const rd = d.raft.ready();
    persist(d.disk, rd);
    messages.push(...rd.messages);
    reads.push(...rd.reads.map(readResult));
    d.raft.advance();
  }
  return { messages, reads };
}

function persist(disk: Disk, rd: Ready): void {
  if (rd.hardState) disk.hardState = rd.hardState;
  if (rd.snapshot) {
    disk.snapshot = { index: rd.snapshot.lastIncludedIndex, term: rd.snapshot.lastIncludedTerm, data: rd.snapshot.data, config: rd.snapshot.config };
    disk.entries = [];
  }
  for (const e of rd.entries) {
    const pos = e.index - (disk.snapshot?.index ?? 0) - 1;
    disk.entries.length = Math.min(disk.entries.length, pos);
    disk.entries.push(e);
  }
}

// ---------------------------------------------------------------------------
// Spec <-> core
// ---------------------------------------------------------------------------

const SNAPSHOT_BYTES = 1;

/** raft.qnt's CONFIG entry value, and the config of every other entry. */
export const SPEC_CONFIG_VALUE = -1;
export const NO_CONFIG: SpecConfig = { voters: [], outgoing: [], learners: [] };

export function toCoreConfig(c: SpecConfig): Configuration {
  return { voters: [...c.voters], outgoing: [...c.outgoing], learners: [...c.learners], context: "" };
}

/** A core configuration in the spec's form (its context, the driver's data, is not in the spec). */
export function fromCoreConfig(c: Configuration): SpecConfig {
  return { voters: [...c.voters], outgoing: [...c.outgoing], learners: [...c.learners] };
}

function toCoreEntry(e: SpecEntry, index: number): Entry {
  if (e.value === SPEC_CONFIG_VALUE) return { index, term: e.term, type: EntryType.Config, data: encodeConfiguration(toCoreConfig(e.config)) };
  return e.value === 0
    ? { index, term: e.term, type: EntryType.Noop, data: new Uint8Array(0) }
    : { index, term: e.term, type: EntryType.Normal, data: Uint8Array.of(e.value) };
}

function fromCoreEntry(e: Entry): SpecEntry {
  if (e.type === EntryType.Config) return { term: e.term, value: SPEC_CONFIG_VALUE, config: fromCoreConfig(decodeConfiguration(e.data)) };
  return { term: e.term, value: e.type === EntryType.Noop ? 0 : e.data[0]!, config: NO_CONFIG };
}

/** A spec message as the core's Message. */
export function toCore(m: SpecMsg): Message {
  switch (m.tag) {
    case "RequestVote":
      return { type: "RequestVote", ...m.value };
    case "RequestVoteResponse":
      return { type: "RequestVoteResponse", ...m.value };
    case "AppendEntries": {
      const v = m.value;
      return { type: "AppendEntries", ...v, entries: v.entries.map((e, k) => toCoreEntry(e, v.prevLogIndex + 1 + k)) };
    }
    case "AppendEntriesResponse":
      return { type: "AppendEntriesResponse", ...m.value };
    case "InstallSnapshot":
      return { type: "InstallSnapshot", ...m.value, offset: 0, data: Uint8Array.of(m.value.lastIncludedIndex), done: true, config: toCoreConfig(m.value.config) };
    case "InstallSnapshotResponse":
      return { type: "InstallSnapshotResponse", ...m.value, received: SNAPSHOT_BYTES };
    case "TimeoutNow":
      return { type: "TimeoutNow", ...m.value };
    case "RecoveryQuery":
      return { type: "RecoveryQuery", ...m.value };
    case "RecoveryReply":
      return { type: "RecoveryReply", ...m.value };
    default:
      return assertNever(m);
  }
}

/** A core message in the spec's shape (fields in the spec's order, so that JSON texts compare). */
export function fromCore(m: Message): SpecMsg {
  switch (m.type) {
    case "RequestVote":
      return { tag: m.type, value: { from: m.from, to: m.to, term: m.term, preVote: m.preVote, transfer: m.transfer, lastLogIndex: m.lastLogIndex, lastLogTerm: m.lastLogTerm } };
    case "RequestVoteResponse":
      return { tag: m.type, value: { from: m.from, to: m.to, term: m.term, preVote: m.preVote, voteGranted: m.voteGranted } };
    case "AppendEntries":
      m.entries.forEach((e, k) => {
        if (e.index !== m.prevLogIndex + 1 + k) throw new Error(`AppendEntries with a hole: entry ${e.index} at position ${k} after ${m.prevLogIndex}`);
      });
      return {
        tag: m.type,
        value: { from: m.from, to: m.to, term: m.term, prevLogIndex: m.prevLogIndex, prevLogTerm: m.prevLogTerm, entries: m.entries.map(fromCoreEntry), leaderCommit: m.leaderCommit, seq: m.seq },
      };
    case "AppendEntriesResponse":
      return {
        tag: m.type,
        value: { from: m.from, to: m.to, term: m.term, success: m.success, matchIndex: m.matchIndex, conflictIndex: m.conflictIndex, conflictTerm: m.conflictTerm, seq: m.seq, incarnation: m.incarnation },
      };
    case "InstallSnapshot":
      if (m.offset !== 0 || !m.done || m.data.length !== SNAPSHOT_BYTES) throw new Error(`InstallSnapshot in more than one chunk: offset ${m.offset}, ${m.data.length} bytes, done ${m.done}`);
      return { tag: m.type, value: { from: m.from, to: m.to, term: m.term, lastIncludedIndex: m.lastIncludedIndex, lastIncludedTerm: m.lastIncludedTerm, seq: m.seq, config: fromCoreConfig(m.config) } };
    case "InstallSnapshotResponse":
      if (m.received !== SNAPSHOT_BYTES) throw new Error(`InstallSnapshotResponse with received ${m.received}`);
      return { tag: m.type, value: { from: m.from, to: m.to, term: m.term, matchIndex: m.matchIndex, lastIncludedIndex: m.lastIncludedIndex, seq: m.seq, incarnation: m.incarnation } };
    case "TimeoutNow":
      return { tag: m.type, value: { from: m.from, to: m.to, term: m.term } };
    case "RecoveryQuery":
      return { tag: m.type, value: { from: m.from, to: m.to, term: m.term } };
    case "RecoveryReply":
      return { tag: m.type, value: { from: m.from, to: m.to, term: m.term, lastLogIndex: m.lastLogIndex, recovering: m.recovering } };
    default:
      return assertNever(m);
  }
}

const ROLE = { follower: "Follower", precandidate: "PreCandidate", candidate: "Candidate", leader: "Leader" } as const;
const PROGRESS_STATE = { probe: "Probe", replicate: "Replicate", snapshot: "Snapshot" } as const;

/** The core server's state in the spec's shape: every field of SpecServer except the per-step scratch ones. */
export function project(raft: RaftNode, entry: (e: Entry) => SpecEntry = fromCoreEntry): Record<string, unknown> {
  const x = raft.state();
  const log = raft.log;
  const entries: SpecEntry[] = [];
  for (let i = log.firstIndex(); i <= log.lastIndex(); i++) entries.push(entry(log.entry(i)!));
  return {
    id: raft.id,
    currentTerm: raft.currentTerm,
    votedFor: raft.votedFor ?? 0,
    snapIndex: log.snapshotIndex,
    snapTerm: log.snapshotTerm,
    // the configuration as of the snapshot's index (the bootstrap one when none was recorded)
    snapConfig: fromCoreConfig(log.configAt(log.snapshotIndex)?.config ?? bootstrapOf(raft)),
    entries,
    commitIndex: raft.commitIndex,
    lastApplied: raft.lastApplied,
    role: ROLE[raft.role],
    leaderId: raft.leaderId ?? 0,
    progress: sortedEntries(new Map([...raft.progress].map(([id, pr]) => [id, projectProgress(pr)]))),
    progressIds: [...raft.progress.keys()],
    electionElapsed: x.electionElapsed,
    heartbeatElapsed: x.heartbeatElapsed,
    randomizedElectionTimeout: x.randomizedElectionTimeout,
    votes: sortedEntries(x.votes),
    seq: x.seq,
    pendingReads: x.pendingReads.map((r) => ({ id: r.id, index: r.index, requiredSeq: r.requiredSeq })),
    readRoundWanted: x.readRoundWanted,
    commitToAnnounce: x.commitToAnnounce,
    stableIndex: x.stableIndex,
    persistedTerm: x.persistedHardState?.currentTerm ?? 0,
    persistedVote: x.persistedHardState?.votedFor ?? 0,
    snapshotToPersist: x.snapshotToPersist !== null,
    writing: x.readyInFlight !== null,
    pendingApply: x.readyInFlight?.applied ?? 0,
    leadTransferee: x.leadTransferee ?? 0,
    transferElapsed: x.transferElapsed,
    ...projectRecovery(raft),
  };
}

const NOLOST = { through: -1, term: -1 };

/** RaftConfig.members as a configuration (private: read through a cast, as the timers are). */
function bootstrapOf(raft: RaftNode): Configuration {
  return (raft as unknown as { c: { bootstrap: Configuration } }).c.bootstrap;
}

function lostMark(l: LostMark | undefined | null): { through: number; term: number } {
  return l ? { through: l.through, term: l.term } : NOLOST;
}

/** The storage-fault recovery state (recovery.ts): the survey's private fields are read through a cast, as the timers are. */
function projectRecovery(raft: RaftNode): Record<string, unknown> {
  const x = raft.state();
  const survey = x.survey as unknown as { needed: number; termAtLeast: number; emptyLog: boolean; answers: Map<number, { term: number; lastLogIndex: number; recovering: boolean }> } | null;
  const config = (raft as unknown as { c: { config: RaftConfig } }).c.config;
  return {
    lost: lostMark(x.lost),
    surveying: survey !== null,
    surveyNeeded: survey?.needed ?? 0,
    surveyTermAtLeast: survey?.termAtLeast ?? 0,
    surveyEmptyLog: survey?.emptyLog ?? false,
    surveyAnswers: sortedEntries(new Map([...(survey?.answers ?? new Map())].map(([id, a]) => [id, { term: a.term, lastLogIndex: a.lastLogIndex, recovering: a.recovering }]))),
    peersRecovering: sortedEntries(new Map([...x.peersRecovering].map(([id, r]) => [id, { recovering: r.recovering, round: r.round }]))),
    recoveryRound: x.recoveryRound,
    incarnation: config.incarnation ?? 0,
    persistedKnown: x.persistedHardState !== null,
    persistedLost: lostMark(x.persistedHardState?.lost),
  };
}

function projectProgress(pr: Progress): Record<string, unknown> {
  return {
    state: PROGRESS_STATE[pr.state],
    matchIndex: pr.matchIndex,
    nextIndex: pr.nextIndex,
    probeSent: pr.probeSent,
    inflight: [...pr.inflight],
    recentActive: pr.recentActive,
    respondedSinceHeartbeat: pr.respondedSinceHeartbeat,
    ackedSeq: pr.ackedSeq,
    incarnation: pr.incarnation,
  };
}

export function projectSpec(s: SpecServer): Record<string, unknown> {
  const progress = new Map([...s.progress].map(([id, pr]): [number, Record<string, unknown>] => [id, { ...pr, state: pr.state.tag }]));
  return {
    id: s.id,
    currentTerm: s.currentTerm,
    votedFor: s.votedFor,
    snapIndex: s.snapIndex,
    snapTerm: s.snapTerm,
    snapConfig: s.snapConfig,
    entries: s.entries,
    commitIndex: s.commitIndex,
    lastApplied: s.lastApplied,
    role: s.role.tag,
    leaderId: s.leaderId,
    progress: sortedEntries(progress),
    progressIds: s.progressIds,
    electionElapsed: s.electionElapsed,
    heartbeatElapsed: s.heartbeatElapsed,
    randomizedElectionTimeout: s.randomizedElectionTimeout,
    votes: sortedEntries(s.votes),
    seq: s.seq,
    pendingReads: s.pendingReads,
    readRoundWanted: s.readRoundWanted,
    commitToAnnounce: s.commitToAnnounce,
    stableIndex: s.stableIndex,
    persistedTerm: s.persistedTerm,
    persistedVote: s.persistedVote,
    snapshotToPersist: s.snapshotToPersist,
    writing: s.writing,
    pendingApply: s.pendingApply,
    leadTransferee: s.leadTransferee,
    transferElapsed: s.transferElapsed,
    lost: s.lost,
    surveying: s.surveying,
    surveyNeeded: s.surveyNeeded,
    surveyTermAtLeast: s.surveyTermAtLeast,
    surveyEmptyLog: s.surveyEmptyLog,
    surveyAnswers: sortedEntries(s.surveyAnswers),
    peersRecovering: sortedEntries(s.peersRecovering),
    recoveryRound: s.recoveryRound,
    incarnation: s.incarnation,
    persistedKnown: s.persistedKnown,
    persistedLost: s.persistedLost,
  };
}

function projectDisk(d: Disk, bootstrap: Configuration): SpecDisk {
  return {
    hardStateKnown: true,
    currentTerm: d.hardState.currentTerm,
    votedFor: d.hardState.votedFor ?? 0,
    lost: lostMark(d.hardState.lost),
    snapIndex: d.snapshot?.index ?? 0,
    snapTerm: d.snapshot?.term ?? 0,
    snapConfig: fromCoreConfig(d.snapshot?.config ?? bootstrap),
    entries: d.entries.map(fromCoreEntry),
  };
}

function compareAll(step: number, st: SpecState, nodes: Map<NodeId, Driven>, messages: readonly Message[], reads: readonly SpecReadResult[]): void {
  for (const [id, d] of nodes) {
    const internals = d.raft.state();
    if (internals.incoming !== null) throw new Divergence(step, `n${id} holds part of a snapshot (the spec sends snapshots whole)`, null, internals.incoming);
    const spec = projectSpec(st.servers.get(id)!);
    const core = project(d.raft);
    for (const field of Object.keys(spec)) {
      if (show(spec[field]) !== show(core[field])) throw new Divergence(step, `n${id}.${field} after ${describeStep(st)}`, spec[field], core[field]);
    }
    const disk = st.disks.get(id)!;
    const coreDisk = projectDisk(d.disk, bootstrapOf(d.raft));
    if (show(disk) !== show(coreDisk)) throw new Divergence(step, `n${id}'s disk after ${describeStep(st)}`, disk, coreDisk);
  }
  const sent = messages.map(fromCore);
  if (show(st.lastSent) !== show(sent)) throw new Divergence(step, `messages sent by ${describeStep(st)}`, st.lastSent, sent);
  if (show(st.lastReads) !== show(reads)) throw new Divergence(step, `reads answered by ${describeStep(st)}`, st.lastReads, reads);
}

function lastIndexOf(s: SpecServer): number {
  return s.snapIndex + s.entries.length;
}

function describeStep(st: SpecState): string {
  return `${st.lastStep.tag} ${show(st.lastStep.value)}`;
}

function sortedEntries<V>(m: Map<number, V>): [number, V][] {
  return [...m].sort((a, b) => a[0] - b[0]);
}

/** JSON with Maps as sorted entry lists and record fields sorted: the form in which spec and core values are compared and shown. */
export function show(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (x instanceof Map) return [...x].sort((a, b) => (a[0] as number) - (b[0] as number));
    if (x !== null && typeof x === "object" && !Array.isArray(x)) return Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return x;
  });
}

function assertNever(x: never): never {
  throw new Error(`unexpected: ${JSON.stringify(x)}`);
}
