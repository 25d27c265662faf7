// Trace validation: runs of the real core in the simulator (src/sim/world.ts,
// faults included) checked against spec/raft.qnt, step by step. The other
// direction from replay.ts: there the spec chooses the steps and the core
// must follow; here the simulator's run of the core chooses them and the
// spec must allow each one (as etcd-io/raft's Traceetcdraft.tla does for
// etcd's traces).
//
// Recording. The simulator builds its nodes through a `make` function (the
// hook the bug zoo uses). `record` wraps it: every RaftNode it builds has
// its driver-facing methods observed — the constructor (a boot from what the
// disk holds), tick, step, propose, read, transferLeadership, compact,
// ready, advance — and after each call the event keeps the call's
// parameters, the election timeout the core drew during it, and the core's
// state then (replay.ts's `project`); at advance() also what the driver
// wrote to the simulated disk. Nothing in src/ changes for it.
//
// Checking. Each event is one action of raft.qnt's "driver's steps one at a
// time" section, with the event's parameters:
//
//   boot (the first, of every node)  initWith(draws)
//   boot (later)                     rebootFrom(n, draw, disk): a crash may leave exactly that disk
//   tick / step(m)                   feedTick(n, draw) / feedMessage(m, draw, keep): m must be in the spec's network
//   propose / read / transfer        feedPropose(n, v) / feedRead(n, id) / feedTransfer(n, to)
//   compact(i)                       compactAt(n, i)
//   ready()                          readyAt(n): the Ready's messages leave now (sendBeforePersist) or after the write
//   advance()                        doneAt(n): the write, its held messages leave, advance()
//
// evaluated by Quint's own evaluator (evaluator.ts) on the spec's state. A
// step is rejected when its action is not enabled (a message the spec never
// sent, a disk no crash can leave, ...) or when the state the spec reaches
// is not the one the core shows: the acting server's every field, the
// messages its Ready sent, the reads it answered, its disk after a write.
// Since the spec's action is deterministic once its parameters are given,
// that is exactly "the spec allows this step".
//
// The network is the spec's set of messages: the simulator may lose a
// message (the validator then issues the spec's `drop` once no later
// delivery of it follows) or duplicate it (`keep`: the delivery leaves a
// copy when another delivery of the same message follows).
//
// Entry data are interned: the no-op is 0, each distinct command is a
// distinct positive value, so the spec sees which entries are equal.

import { createHash } from "node:crypto";
import type { RaftConfig, RestoredState, Ready } from "../../src/core/node.js";
import { RaftNode } from "../../src/core/node.js";
import { decodeConfiguration } from "../../src/core/configuration.js";
import { EntryType, type Configuration, type Entry, type Message, type NodeId } from "../../src/core/types.js";
import { generatePlan, serverCount, type Fault, type SimPlan } from "../../src/sim/plan.js";
import { World } from "../../src/sim/world.js";
import type { Bug } from "../../src/sim/zoo.js";
import { QuintModule, quintText, type QuintState } from "./evaluator.js";
import { msgKey, RaftModel, same, type ModelParams, type MState } from "./model.js";
import type { SpecDisk, SpecEntry, SpecMsg, SpecReadResult, SpecServer } from "./itf.js";
import { fromCoreConfig, NO_CONFIG, project, projectSpec, show, SPEC_CONFIG_VALUE } from "./replay.js";

/** The simulator's settings raftTV (spec/raftTV.qnt) is instantiated with. */
export const TV_CONFIG = { nodes: 3, electionTicks: [6, 12] as const, maxBytesPerAppend: 1 << 20 };

type Projected = Record<string, unknown>;

export type CoreEvent =
  | { kind: "boot"; node: NodeId; draw: number; incarnation: number; disk: SpecDisk; state: Projected }
  | { kind: "tick"; node: NodeId; draw: number; state: Projected }
  | { kind: "step"; node: NodeId; draw: number; msg: SpecMsg; state: Projected }
  | { kind: "propose"; node: NodeId; value: number; state: Projected }
  | { kind: "read"; node: NodeId; id: number; state: Projected }
  | { kind: "transfer"; node: NodeId; to: NodeId; state: Projected }
  | { kind: "reconfigure"; node: NodeId; voters: NodeId[]; learners: NodeId[]; state: Projected }
  | { kind: "compact"; node: NodeId; index: number; state: Projected }
  | { kind: "ready"; node: NodeId; early: boolean; sent: SpecMsg[]; reads: SpecReadResult[]; state: Projected }
  | { kind: "advance"; node: NodeId; disk: SpecDisk; state: Projected };

/** A run of the simulator as the events of its nodes' driver interface. */
export interface Recording {
  readonly plan: SimPlan;
  readonly events: CoreEvent[];
  /** A rule of the core that the simulator saw broken (the run's own invariants), if any. */
  readonly violation: string | null;
}

/** Entry data as spec values: the no-op 0, a configuration -1 (with its configuration), each distinct command its own positive number. */
class Interner {
  private readonly ids = new Map<string, number>();
  value(e: Entry): number {
    if (e.type === EntryType.Noop) return 0;
    if (e.type === EntryType.Config) return SPEC_CONFIG_VALUE;
    if (e.type !== EntryType.Normal) throw new Error(`entry ${e.index}: type ${String(e.type)} is not in the spec`);
    const key = Buffer.from(e.data).toString("latin1");
    let v = this.ids.get(key);
    if (v === undefined) this.ids.set(key, (v = this.ids.size + 1));
    return v;
  }
  entry = (e: Entry): SpecEntry => ({ term: e.term, value: this.value(e), config: e.type === EntryType.Config ? fromCoreConfig(decodeConfiguration(e.data)) : NO_CONFIG });
  data(d: Uint8Array): number {
    return this.value({ index: 0, term: 0, type: EntryType.Normal, data: d });
  }
}

/** A core message in the spec's form (the spec leaves out snapshot bytes and incarnations). */
export function specMessage(m: Message, entry: (e: Entry) => SpecEntry): SpecMsg {
  switch (m.type) {
    case "RequestVote":
      return { tag: m.type, value: { from: m.from, to: m.to, term: m.term, preVote: m.preVote, transfer: m.transfer, lastLogIndex: m.lastLogIndex, lastLogTerm: m.lastLogTerm } };
    case "RequestVoteResponse":
      return { tag: m.type, value: { from: m.from, to: m.to, term: m.term, preVote: m.preVote, voteGranted: m.voteGranted } };
    case "AppendEntries":
      return {
        tag: m.type,
        value: { from: m.from, to: m.to, term: m.term, prevLogIndex: m.prevLogIndex, prevLogTerm: m.prevLogTerm, entries: m.entries.map(entry), leaderCommit: m.leaderCommit, seq: m.seq },
      };
    case "AppendEntriesResponse":
      return {
        tag: m.type,
        value: { from: m.from, to: m.to, term: m.term, success: m.success, matchIndex: m.matchIndex, conflictIndex: m.conflictIndex, conflictTerm: m.conflictTerm, seq: m.seq, incarnation: m.incarnation },
      };
    case "InstallSnapshot":
      if (m.offset !== 0 || !m.done) throw new Error(`InstallSnapshot in more than one chunk (offset ${m.offset}): the spec sends snapshots whole`);
      return { tag: m.type, value: { from: m.from, to: m.to, term: m.term, lastIncludedIndex: m.lastIncludedIndex, lastIncludedTerm: m.lastIncludedTerm, seq: m.seq, config: fromCoreConfig(m.config) } };
    case "InstallSnapshotResponse":
      return { tag: m.type, value: { from: m.from, to: m.to, term: m.term, matchIndex: m.matchIndex, lastIncludedIndex: m.lastIncludedIndex, seq: m.seq, incarnation: m.incarnation } };
    case "TimeoutNow":
      return { tag: m.type, value: { from: m.from, to: m.to, term: m.term } };
    case "RecoveryQuery":
      return { tag: m.type, value: { from: m.from, to: m.to, term: m.term } };
    case "RecoveryReply":
      return { tag: m.type, value: { from: m.from, to: m.to, term: m.term, lastLogIndex: m.lastLogIndex, recovering: m.recovering } };
  }
}

function specDisk(d: RestoredState | { hardState: RestoredState["hardState"]; snapshot: RestoredState["snapshot"]; entries: readonly Entry[] }, entry: (e: Entry) => SpecEntry, bootstrap: Configuration): SpecDisk {
  const lost = d.hardState?.lost;
  return {
    hardStateKnown: d.hardState !== null,
    currentTerm: d.hardState?.currentTerm ?? 0,
    votedFor: d.hardState?.votedFor ?? 0,
    lost: lost ? { through: lost.through, term: lost.term } : { through: -1, term: -1 },
    snapIndex: d.snapshot?.lastIncludedIndex ?? 0,
    snapTerm: d.snapshot?.lastIncludedTerm ?? 0,
    snapConfig: fromCoreConfig(d.snapshot?.config ?? bootstrap),
    entries: (d.entries ?? []).map(entry),
  };
}

function readResult(r: Ready["reads"][number]): SpecReadResult {
  return r.ok ? { id: r.id, ok: true, index: r.index, leader: 0 } : { id: r.id, ok: false, index: 0, leader: r.leader ?? 0 };
}

/**
 * Runs a plan in the simulator with every node's driver interface observed.
 * `inner` builds the nodes (a zoo variant's make, or RaftNode's constructor).
 */
export function record(plan: SimPlan, inner: Bug["make"] = (c, r) => new RaftNode(c, r), until?: number): Recording {
  const events: CoreEvent[] = [];
  const intern = new Interner();
  const lo = plan.electionTicks[0];
  const bootstrap: Configuration = { voters: Array.from({ length: plan.nodes }, (_, i) => i + 1), outgoing: [], learners: [], context: "" };
  let world: World | null = null;
  // The election timeout drawn during the current call, if any.
  let drawn: number | null = null;
  const draw = () => {
    const d = drawn ?? lo;
    drawn = null;
    return d;
  };
  const make = (config: RaftConfig, restored?: RestoredState): RaftNode => {
    const id = config.id;
    drawn = null;
    const raft = inner({ ...config, random: (n) => ((drawn = lo + config.random(n)), drawn - lo) }, restored);
    events.push({ kind: "boot", node: id, draw: draw(), incarnation: config.incarnation ?? 0, disk: specDisk(restored ?? { hardState: null, snapshot: null, entries: [] }, intern.entry, bootstrap), state: project(raft, intern.entry) });
    const r = raft as unknown as Record<string, (...a: unknown[]) => unknown>;
    const observe = (name: string, after: (result: unknown, args: unknown[]) => CoreEvent | null) => {
      const original = r[name]!.bind(raft);
      r[name] = (...args: unknown[]) => {
        drawn = null;
        const result = original(...args);
        const e = after(result, args);
        if (e) events.push(e);
        return result;
      };
    };
    const state = () => project(raft, intern.entry);
    observe("tick", () => ({ kind: "tick", node: id, draw: draw(), state: state() }));
    observe("step", (_r, [m]) => ({ kind: "step", node: id, draw: draw(), msg: specMessage(m as Message, intern.entry), state: state() }));
    observe("propose", (_r, [data]) => ({ kind: "propose", node: id, value: intern.data(data as Uint8Array), state: state() }));
    observe("read", (_r, [rid]) => ({ kind: "read", node: id, id: rid as number, state: state() }));
    observe("transferLeadership", (_r, [to]) => ({ kind: "transfer", node: id, to: to as number, state: state() }));
    observe("proposeConfChange", (_r, [target]) => {
      const t = target as { voters: NodeId[]; learners: NodeId[] };
      return { kind: "reconfigure", node: id, voters: [...t.voters], learners: [...t.learners], state: state() };
    });
    observe("compact", (_r, [index]) => ({ kind: "compact", node: id, index: index as number, state: state() }));
    observe("ready", (rd) => {
      const ready = rd as Ready;
      return { kind: "ready", node: id, early: ready.sendBeforePersist, sent: ready.messages.map((m) => specMessage(m, intern.entry)), reads: ready.reads.map(readResult), state: state() };
    });
    observe("advance", () => ({ kind: "advance", node: id, disk: specDisk(world!.nodes.get(id)!.disk, intern.entry, bootstrap), state: state() }));
    return raft;
  };
  world = new World({ plan, bug: { name: "recorded", description: "", make, breaks: [] } });
  world.run(until);
  return { plan, events, violation: world.violation ? `${world.violation.invariant}: ${world.violation.message}` : null };
}

/** A plan of the simulator at raftTV's settings (spec/raftTV.qnt): the seed's faults and client operations (`clients` concurrent clients; more fill logs faster, up to compaction and snapshots). */
export function tvPlan(seed: number, steps: number, faults: ReadonlySet<Fault>, transfers = true, membership = false, clients?: number): SimPlan {
  const plan = generatePlan({ seed, nodes: TV_CONFIG.nodes, steps, faults, transfers, membership, clients });
  return { ...plan, electionTicks: TV_CONFIG.electionTicks, maxBytesPerAppend: TV_CONFIG.maxBytesPerAppend };
}

/** A step of a run that the spec does not allow. */
export class Rejected extends Error {
  constructor(
    readonly event: number,
    readonly kind: CoreEvent["kind"],
    readonly what: string,
    readonly spec: unknown,
    readonly core: unknown,
  ) {
    super(`event ${event} (${kind}): ${what}${spec === undefined ? "" : `\n  spec: ${show(spec)}\n  core: ${show(core)}`}`);
    this.name = "Rejected";
  }
}

export interface Validated {
  /** Spec steps taken (events, plus the network's drops). */
  steps: number;
  /** How often each spec action was taken. */
  actions: Map<string, number>;
}

// ---------------------------------------------------------------------------
// The spec's side: raft.qnt's driver actions, evaluated by Quint's evaluator
// or by model.ts (its TypeScript transcription, kept honest by the lockstep
// engine, which runs both and compares their whole states after each step).
// ---------------------------------------------------------------------------

/** One of raft.qnt's driver actions with its parameters. */
export type SpecAction =
  | { name: "initIncarnation"; draws: Map<number, number>; incarnation: number }
  | { name: "rebootFrom"; n: number; draw: number; disk: SpecDisk; incarnation: number }
  | { name: "feedTick"; n: number; draw: number }
  | { name: "feedMessage"; m: SpecMsg; draw: number; keep: boolean }
  | { name: "feedPropose"; n: number; value: number }
  | { name: "feedRead"; n: number; id: number }
  | { name: "feedTransfer"; n: number; to: number }
  | { name: "feedReconfigure"; n: number; voters: number[]; learners: number[] }
  | { name: "compactAt"; n: number; index: number }
  | { name: "readyAt"; n: number }
  | { name: "doneAt"; n: number }
  | { name: "drop"; lost: SpecMsg[] };

/** raft.qnt's action as Quint text. */
export function actionText(a: SpecAction): string {
  switch (a.name) {
    case "initIncarnation":
      return `initIncarnation(${quintText(a.draws)}, ${a.incarnation})`;
    case "rebootFrom":
      return `rebootFrom(${a.n}, ${a.draw}, ${quintText(a.disk)}, ${a.incarnation})`;
    case "feedTick":
      return `feedTick(${a.n}, ${a.draw})`;
    case "feedMessage":
      return `feedMessage(${quintText(a.m)}, ${a.draw}, ${a.keep})`;
    case "feedPropose":
      return `feedPropose(${a.n}, ${a.value})`;
    case "feedRead":
      return `feedRead(${a.n}, ${a.id})`;
    case "feedTransfer":
      return `feedTransfer(${a.n}, ${a.to})`;
    case "feedReconfigure":
      return `feedReconfigure(${a.n}, ${quintText(a.voters)}, ${quintText(a.learners)})`;
    case "compactAt":
      return `compactAt(${a.n}, ${a.index})`;
    case "readyAt":
      return `readyAt(${a.n})`;
    case "doneAt":
      return `doneAt(${a.n})`;
    case "drop":
      return `drop(Set(${a.lost.map(quintText).join(", ")}))`;
  }
}

/** The spec's state as validation reads it, moved on by actions. */
export interface SpecEngine {
  /** Takes the action if it is enabled (true); false, and the state stays, if not. */
  act(a: SpecAction): boolean;
  server(n: number): SpecServer;
  held(n: number): SpecMsg[];
  disk(n: number): SpecDisk;
  lastSent(): SpecMsg[];
  lastReads(): SpecReadResult[];
  invariant(name: string): boolean;
}

const modules = new Map<string, QuintModule>();
/** raftTV, or raftTVMembership (two spares) for a membership run. */
const raftTV = (membership: boolean): QuintModule => {
  const main = membership ? "raftTVMembership" : "raftTV";
  let m = modules.get(main);
  if (!m) modules.set(main, (m = new QuintModule("raftTV.qnt", main)));
  return m;
};

/** Quint's own evaluator on raft.qnt (evaluator.ts): the spec itself, about 400 steps a second. */
export class QuintEngine implements SpecEngine {
  readonly q: QuintState;
  constructor(membership: boolean) {
    this.q = raftTV(membership).fresh();
  }
  act = (a: SpecAction) => this.q.act(actionText(a));
  server = (n: number) => this.q.read(`servers.get(${n})`) as unknown as SpecServer;
  held = (n: number) => this.q.read(`servers.get(${n}).held`) as unknown as SpecMsg[];
  disk = (n: number) => this.q.read(`disks.get(${n})`) as unknown as SpecDisk;
  lastSent = () => this.q.read("lastSent") as unknown as SpecMsg[];
  lastReads = () => this.q.read("lastReads") as unknown as SpecReadResult[];
  invariant = (name: string) => this.q.read(name) === true;
  /** The whole state (every variable validation's actions move), comparable with ModelEngine.whole(). */
  whole(): Record<string, string> {
    const r = (x: string) => this.q.read(x) as unknown;
    return {
      servers: show(r("servers")),
      disks: show(r("disks")),
      msgs: show((r("msgs") as unknown as SpecMsg[]).map(msgKey).sort()),
      lastSent: show(r("lastSent")),
      lastReads: show(r("lastReads")),
      leaders: show((r("leaders") as number[][]).map(([t, n]) => `${t},${n}`).sort()),
      committed: show(r("committed")),
      readArrivals: show(r("readArrivals")),
      readsReleased: show((r("readsReleased") as number[][]).map(([id, i]) => `${id},${i}`).sort()),
    };
  }
}

/** raftTV's parameters (spec/raftTV.qnt), for model.ts. */
const tvParams = (membership: boolean): ModelParams => ({
  N: 3, Spares: membership ? 2 : 0, ElectionMin: 6, ElectionMax: 12, HeartbeatTicks: 3, MaxInflight: 8, MaxBatch: 1000000,
  PreVote: true, CheckQuorum: true, MaxTerm: 1000000, MaxMsgs: 1000000,
});

/** model.ts, raft.qnt transcribed: the same steps, a hundred times faster. */
export class ModelEngine implements SpecEngine {
  readonly model: RaftModel;
  st: MState | null = null;
  constructor(membership: boolean) {
    this.model = new RaftModel(tvParams(membership));
  }
  private get state(): MState {
    if (!this.st) throw new Error("no state before initIncarnation");
    return this.st;
  }
  act(a: SpecAction): boolean {
    const M = this.model;
    if (a.name === "initIncarnation") {
      this.st = M.initIncarnation(a.draws, a.incarnation);
      return true;
    }
    const st = this.state;
    let next: MState | null;
    switch (a.name) {
      case "rebootFrom":
        next = M.rebootFrom(st, a.n, a.draw, a.disk, a.incarnation);
        break;
      case "feedTick":
        next = M.feedTick(st, a.n, a.draw);
        break;
      case "feedMessage":
        next = M.feedMessage(st, a.m, a.draw, a.keep);
        break;
      case "feedPropose":
        next = M.feedPropose(st, a.n, a.value);
        break;
      case "feedRead":
        next = M.feedRead(st, a.n, a.id);
        break;
      case "feedTransfer":
        next = M.feedTransfer(st, a.n, a.to);
        break;
      case "feedReconfigure":
        next = M.feedReconfigure(st, a.n, a.voters, a.learners);
        break;
      case "compactAt":
        next = M.compactAt(st, a.n, a.index);
        break;
      case "readyAt":
        next = M.readyAt(st, a.n);
        break;
      case "doneAt":
        next = M.doneAt(st, a.n);
        break;
      case "drop":
        next = M.drop(st, a.lost);
        break;
    }
    if (!next) return false;
    this.st = next;
    return true;
  }
  server = (n: number) => this.state.servers.get(n)! as unknown as SpecServer;
  held = (n: number) => this.state.servers.get(n)!.held;
  disk = (n: number) => this.state.disks.get(n)!;
  lastSent = () => this.state.lastSent;
  lastReads = () => this.state.lastReads;
  invariant = (name: string) => this.model.invariant(this.state, name);
  whole(): Record<string, string> {
    const st = this.state;
    return {
      servers: show(st.servers),
      disks: show(st.disks),
      msgs: show([...st.msgs.keys()].sort()),
      lastSent: show(st.lastSent),
      lastReads: show(st.lastReads),
      leaders: show([...st.leaders].sort()),
      committed: show(st.committed),
      readArrivals: show(st.readArrivals),
      readsReleased: show([...st.readsReleased].sort()),
    };
  }
}

/** A difference between model.ts and Quint's evaluator: the transcription is wrong (or raft.qnt changed without it). */
export class Drift extends Error {
  constructor(readonly event: number, readonly what: string) {
    super(`event ${event}: model.ts and raft.qnt disagree on ${what}`);
    this.name = "Drift";
  }
}

/** Both: every action taken by Quint and by model.ts, and after each their whole states and (at invariant checks) invariants compared. */
export class LockstepEngine implements SpecEngine {
  readonly quint: QuintEngine;
  readonly model: ModelEngine;
  event = -1;
  /** Steps and invariant checks compared. */
  compared = 0;
  constructor(membership: boolean) {
    this.quint = new QuintEngine(membership);
    this.model = new ModelEngine(membership);
  }
  act(a: SpecAction): boolean {
    const q = this.quint.act(a);
    const m = this.model.act(a);
    if (q !== m) throw new Drift(this.event, `whether ${actionText(a).slice(0, 300)} is enabled (Quint ${q}, model ${m})`);
    if (q) {
      const qs = this.quint.whole();
      const ms = this.model.whole();
      for (const k of Object.keys(qs)) if (qs[k] !== ms[k]) throw new Drift(this.event, `${k} after ${actionText(a).slice(0, 300)}\n  quint: ${qs[k]!.slice(0, 3000)}\n  model: ${ms[k]!.slice(0, 3000)}`);
      this.compared++;
    }
    return q;
  }
  server = (n: number) => this.quint.server(n);
  held = (n: number) => this.quint.held(n);
  disk = (n: number) => this.quint.disk(n);
  lastSent = () => this.quint.lastSent();
  lastReads = () => this.quint.lastReads();
  invariant(name: string): boolean {
    const q = this.quint.invariant(name);
    const m = this.model.invariant(name);
    if (q !== m) throw new Drift(this.event, `the invariant ${name} (Quint ${q}, model ${m})`);
    this.compared++;
    return q;
  }
}

export type EngineName = "model" | "quint" | "lockstep";

export function makeEngine(name: EngineName, membership: boolean): SpecEngine {
  return name === "model" ? new ModelEngine(membership) : name === "quint" ? new QuintEngine(membership) : new LockstepEngine(membership);
}

/**
 * Checks a recording against spec/raft.qnt (instance raftTV); throws
 * Rejected at the first event the spec does not allow. Every
 * `invariantsEvery` events, and at the end, the spec's invariants (Safety)
 * must hold on its state — which is the core's. The spec's steps are taken
 * by model.ts unless `engine` says Quint's evaluator ("quint") or both in
 * lockstep ("lockstep").
 */
export function validate(rec: Recording, o: { invariantsEvery?: number; engine?: EngineName | SpecEngine; seen?: Set<string> } = {}): Validated {
  const q = typeof o.engine === "object" ? o.engine : makeEngine(o.engine ?? "model", rec.plan.membership ?? false);
  const actions = new Map<string, number>();
  const events = rec.events;
  const nodes = serverCount(rec.plan);
  let steps = 0;
  const take = (i: number, name: string, a: SpecAction) => {
    if (q instanceof LockstepEngine) q.event = i;
    if (!q.act(a)) {
      const text = actionText(a);
      throw new Rejected(i, events[i]!.kind, `the spec does not allow ${text.length > 400 ? `${text.slice(0, 400)}...` : text}`, undefined, undefined);
    }
    actions.set(name, (actions.get(name) ?? 0) + 1);
    steps++;
  };

  // The last event at which each message (in the spec's form) is delivered: decides keep and drop.
  const keyOf = msgKey;
  const lastDelivery = new Map<string, number>();
  events.forEach((e, i) => {
    if (e.kind === "step") lastDelivery.set(keyOf(e.msg), i);
  });
  // The spec's network, as the validator knows it.
  const net = new Map<string, SpecMsg>();
  const sendAll = (ms: SpecMsg[]) => {
    for (const m of ms) net.set(keyOf(m), m);
  };

  // Init: the first boot of every node.
  if (events.length < nodes || events.slice(0, nodes).some((e, i) => e.kind !== "boot" || e.node !== i + 1)) throw new Error("a recording starts with every node's boot");
  const boots = events.slice(0, nodes) as Extract<CoreEvent, { kind: "boot" }>[];
  const draws = new Map(boots.map((e) => [e.node, e.draw]));
  if (boots.some((e) => e.incarnation !== boots[0]!.incarnation)) throw new Error("the nodes start with different incarnations");
  take(0, "init", { name: "initIncarnation", draws, incarnation: boots[0]!.incarnation });
  for (let i = 0; i < nodes; i++) compareServer(q, i, events[i]!);

  const every = o.invariantsEvery ?? 0;
  const incarnations = new Map(boots.map((e) => [e.node, e.incarnation]));
  for (let i = nodes; i < events.length; i++) {
    const e = events[i]!;
    const n = e.node;
    switch (e.kind) {
      case "boot":
        take(i, e.incarnation > (incarnations.get(n) ?? 0) ? "rebootFrom (a new incarnation)" : "rebootFrom", { name: "rebootFrom", n, draw: e.draw, disk: e.disk, incarnation: e.incarnation });
        incarnations.set(n, e.incarnation);
        break;
      case "tick":
        take(i, "feedTick", { name: "feedTick", n, draw: e.draw });
        break;
      case "step": {
        const key = keyOf(e.msg);
        const keep = lastDelivery.get(key)! > i;
        take(i, `feedMessage(${e.msg.tag}${e.msg.tag === "RequestVote" || e.msg.tag === "RequestVoteResponse" ? (e.msg.value.preVote ? ", pre-vote" : "") : ""}${keep ? ", a copy kept" : ""})`, { name: "feedMessage", m: e.msg, draw: e.draw, keep });
        if (!keep) net.delete(key);
        break;
      }
      case "propose":
        take(i, "feedPropose", { name: "feedPropose", n, value: e.value });
        break;
      case "read":
        take(i, "feedRead", { name: "feedRead", n, id: e.id });
        break;
      case "transfer":
        take(i, "feedTransfer", { name: "feedTransfer", n, to: e.to });
        break;
      case "reconfigure":
        take(i, "feedReconfigure", { name: "feedReconfigure", n, voters: e.voters, learners: e.learners });
        break;
      case "compact":
        take(i, "compactAt", { name: "compactAt", n, index: e.index });
        break;
      case "ready": {
        take(i, "readyAt", { name: "readyAt", n });
        const sent = q.lastSent();
        const held = q.held(n);
        const specMsgs = e.early ? sent : held;
        if (!same(specMsgs, e.sent)) throw new Rejected(i, e.kind, `n${n}'s Ready: the messages it sends${e.early ? " (before the write)" : " (after the write)"}`, specMsgs, e.sent);
        if (e.early && held.length > 0) throw new Rejected(i, e.kind, `n${n}'s Ready is sent before it is written, and the spec's is not`, held, []);
        if (!e.early && sent.length > 0) throw new Rejected(i, e.kind, `n${n}'s Ready waits for its write, and the spec's is sent at once`, sent, []);
        const reads = q.lastReads();
        if (!same(reads, e.reads)) throw new Rejected(i, e.kind, `n${n}'s Ready: the reads it answers`, reads, e.reads);
        if (e.early) sendAll(e.sent);
        break;
      }
      case "advance": {
        const held = q.held(n);
        take(i, "doneAt", { name: "doneAt", n });
        sendAll(held);
        const disk = q.disk(n);
        if (!same(disk, e.disk)) throw new Rejected(i, e.kind, `n${n}'s disk after the write`, disk, e.disk);
        break;
      }
    }
    compareServer(q, i, e);
    // Distinct spec states (servers and disks, as the replay counts them), when asked: a digest of each.
    if (o.seen && q instanceof ModelEngine) o.seen.add(stateDigest(q.st!));
    // Messages that no later event delivers leave the spec's network too (lost, or to a node that is down).
    const lost = [...net].filter(([key]) => (lastDelivery.get(key) ?? -1) <= i);
    if (lost.length > 0) {
      for (const [key] of lost) net.delete(key);
      take(i, "drop", { name: "drop", lost: lost.map(([, m]) => m) });
    }
    if (every > 0 && i % every === 0) checkInvariants(q, i, e);
  }
  checkInvariants(q, events.length - 1, events[events.length - 1]!);
  return { steps, actions };
}

/** Digests of servers and disks by identity: model.ts never mutates a value, and a step replaces only the acting server's. */
const digests = new WeakMap<object, string>();
function digestOf(v: object): string {
  let d = digests.get(v);
  if (d === undefined) digests.set(v, (d = createHash("sha1").update(show(v)).digest("base64")));
  return d;
}
/** A state's servers and disks (the replay's "distinct spec states"), as one digest. */
function stateDigest(st: MState): string {
  const h = createHash("sha1");
  for (const [n, s] of st.servers) h.update(`${n}:${digestOf(s)}:${digestOf(st.disks.get(n)!)};`);
  return h.digest("base64");
}

const INVARIANTS = ["ElectionSafety", "LogMatching", "LeaderCompleteness", "StateMachineSafety", "ReadIndexSafety", "CommittedOnMajority", "RecoveringNeverCampaigns", "OneUncommittedConfiguration"];

function checkInvariants(q: SpecEngine, i: number, e: CoreEvent): void {
  for (const inv of INVARIANTS) if (!q.invariant(inv)) throw new Rejected(i, e.kind, `the spec's invariant ${inv} is violated`, undefined, undefined);
}

/** The acting server's state in the spec equals the core's. */
function compareServer(q: SpecEngine, i: number, e: CoreEvent): void {
  const spec = projectSpec(q.server(e.node));
  const core = e.state;
  for (const field of Object.keys(spec)) {
    if (!same(spec[field], core[field])) throw new Rejected(i, e.kind, `n${e.node}.${field} after ${describe(e)}`, spec[field], core[field]);
  }
}

export function describe(e: CoreEvent): string {
  switch (e.kind) {
    case "step":
      return `step(${show(e.msg)})`;
    case "boot":
      return `a restart from ${show(e.disk)}`;
    case "ready":
      return "ready()";
    case "advance":
      return "advance()";
    default:
      return `${e.kind}()`;
  }
}
