// The deterministic world: a virtual clock, a simulated network and disks,
// clients, and N nodes running the unchanged Raft core. Everything random
// comes from the seed; the same plan gives the same run, event for event.
//
// Time is counted in ticks. In each tick the world, in this order: carries
// out the plan's events for that tick, delivers the messages due, completes
// the disk writes due, ticks every live node, and lets clients time out.

import type { KvCommand, KvOutput, Operation } from "../check/linearizability.js";
import { describeConfiguration } from "../core/configuration.js";
import { RaftNode, type RaftConfig, type Ready, type RestoredState, type Snapshot, type SoftState } from "../core/node.js";
import { EntryType, type Entry, type HardState, type Message, type NodeId, type Role } from "../core/types.js";
import type { RandomInvariant } from "./invariant-catalogue.js";
import { Invariants, type DiskView } from "./invariants.js";
import { Requests, snapshotDue, type Outcome } from "../core/requests.js";
import { SimKv, encodeOp } from "./kv.js";
import { serverCount, type Damage, type SimPlan, type PlanEvent } from "./plan.js";
import { Prng } from "./prng.js";
import type { SimEvent, SimEventBody } from "./trace.js";
import type { Bug } from "./zoo.js";

/** What survives a crash. */
interface Disk {
  /** null: lost to a storage fault (or never written). */
  hardState: HardState | null;
  snapshot: Snapshot | null;
  /** Entries after the snapshot, in order. */
  entries: Entry[];
}

type Input =
  | { kind: "tick" }
  | { kind: "message"; message: Message }
  | { kind: "transfer"; to: NodeId }
  | { kind: "reconfigure"; voters: readonly NodeId[]; learners: readonly NodeId[] };

export interface SimNode {
  readonly id: NodeId;
  raft: RaftNode | null; // null while crashed
  /** The role its last Ready reported (a restarted server is a follower). */
  role: Role;
  kv: SimKv;
  disk: Disk;
  /** A Ready being written to disk, and when the write completes. */
  writing: { ready: Ready; doneAt: number } | null;
  /** Inputs that arrived during the write: fed together afterwards (group commit). */
  queued: Input[];
  /** The client ops handed to this node (proposals and reads) until each is settled: the server's own table (core/requests.ts). */
  requests: Requests<ClientOp, ClientOp, KvOutput>;
}

interface ClientOp {
  readonly id: number;
  readonly client: number;
  readonly input: KvCommand;
  readonly call: number;
  target: NodeId;
  /** Set once the op was handed to a node that accepted it (its outcome may then be unknown). */
  accepted: boolean;
  done: boolean;
  /** Refusals that named a leader, so far: see leaderHint. */
  redirects: number;
}

export interface WorldOptions {
  readonly plan: SimPlan;
  readonly bug?: Bug;
  readonly trace?: boolean;
}

export interface Violation {
  /** Its name in the catalogue (invariant-catalogue.ts). */
  readonly invariant: RandomInvariant;
  readonly message: string;
  readonly at: number;
  /** The entry the violation is about, when it names one: the story follows it. */
  readonly entry?: { readonly index: number; readonly term: number };
}

export interface RunStats {
  ticks: number;
  steps: number;
  messages: number;
  elections: number;
  commits: number;
  opsCompleted: number;
  opsUnknown: number;
  /** Leadership transfers a leader accepted (runs with `transfers`). */
  transfers: number;
  /** Membership changes a leader accepted (runs with `membership`). */
  reconfigurations: number;
  /** Storage faults that took something from a disk, and recoveries from them (runs with "disk"). */
  storageFaults: number;
  recoveries: number;
  /** Messages the network chose to drop, and crashes a storm chose (numbered in this order for SimPlan.spare). */
  drops: number;
  stormCrashes: number;
  /** Of those, how many SimPlan.spare kept from happening. */
  spared: number;
  /** Messages lost because the network already held MAX_IN_FLIGHT (a run whose traffic feeds on itself). */
  overflows: number;
}

const HEARTBEAT_TICKS = 3;
const CLIENT_TIMEOUT = 150;
const SNAPSHOT_EVERY = 40;
/** Messages the network holds at most; a send beyond it is lost (see send). */
export const MAX_IN_FLIGHT = 5000;

export class World {
  readonly plan: SimPlan;
  readonly ids: NodeId[];
  /** The bootstrap configuration's voters (RaftConfig.members): all of `ids` but a membership run's spares. */
  readonly bootstrap: readonly NodeId[];
  readonly nodes = new Map<NodeId, SimNode>();
  /** What happened, event by event (only when tracing: most runs never read it). */
  readonly trace: SimEvent[] = [];
  readonly history: Operation<KvCommand, KvOutput>[] = [];
  readonly stats: RunStats = { ticks: 0, steps: 0, messages: 0, elections: 0, commits: 0, opsCompleted: 0, opsUnknown: 0, transfers: 0, reconfigurations: 0, storageFaults: 0, recoveries: 0, drops: 0, stormCrashes: 0, spared: 0, overflows: 0 };
  violation: Violation | null = null;
  now = 0;

  private readonly tracing: boolean;
  private readonly bug: Bug | undefined;
  private net: Prng;
  private disks: Prng;
  private faults: Prng;
  private readonly nodeRandom = new Map<NodeId, Prng>();
  private readonly invariants: Invariants;
  /** Messages in flight, by the tick they arrive. */
  private inflight = new Map<number, { order: number; m: Message }[]>();
  private inflightCount = 0;
  /** Links cut, by linkKey(from, to). */
  private cut = new Set<number>();
  private drop = 0;
  private duplicate = 0;
  private maxDelay = 2;
  private storm: { until: number; p: number } | null = null;
  private readonly restarts: { at: number; node: NodeId }[] = [];
  /** Servers whose disk lost something and that have not recovered yet: at most a minority at a time. */
  private readonly damaged = new Set<NodeId>();
  private planPos = 0;
  private nextReadId = 1;
  private nextOpId = 1;
  private readonly clientQueue = new Map<number, KvCommand[]>();
  private readonly clientBusy = new Map<number, ClientOp | null>();
  private readonly clientTarget = new Map<number, NodeId>();
  private readonly healAt: number;
  private readonly branches: { at: number; seed: number }[];
  /**
   * Each node's incarnation (RaftConfig.incarnation): a new one, greater than
   * any before, whenever a storage fault took something from its disk (the
   * server uses its clock for that), so that leaders forget what it had
   * acknowledged.
   */
  private readonly incarnations = new Map<NodeId, number>();
  private lastIncarnation = 1;
  /** The commit index each node last traced as leader ("commits through"). */
  private readonly leaderCommitLogged = new Map<NodeId, number>();
  /** Called at the end of every tick (the search uses it to spot new kinds of states). */
  onTick: ((world: World) => void) | null = null;

  constructor(o: WorldOptions) {
    this.plan = o.plan;
    this.bug = o.bug;
    this.tracing = o.trace ?? false;
    // A membership run has spares beyond the bootstrap voters: servers no configuration names yet.
    this.ids = Array.from({ length: serverCount(o.plan) }, (_, i) => i + 1);
    this.bootstrap = this.ids.slice(0, o.plan.nodes);
    const root = new Prng(o.plan.seed);
    this.net = root.fork();
    this.disks = root.fork();
    this.faults = root.fork();
    for (const id of this.ids) this.nodeRandom.set(id, root.fork());
    this.branches = [...o.plan.spec.branches];
    this.invariants = new Invariants((invariant, message, entry) => this.fail(invariant, message, entry));
    for (const id of this.ids) {
      const disk: Disk = { hardState: { currentTerm: 0, votedFor: null }, snapshot: null, entries: [] };
      const node: SimNode = { id, raft: null, role: "follower", kv: this.emptyKv(), disk, writing: null, queued: [], requests: this.requestTable(id) };
      this.nodes.set(id, node);
      this.boot(node);
    }
    for (let c = 1; c <= (o.plan.clients ?? 3); c++) {
      this.clientQueue.set(c, []);
      this.clientBusy.set(c, null);
    }
    this.healAt = o.plan.steps;
  }

  /** Runs the whole plan, then the healing period. Stops at the first violation. */
  /** Runs the whole plan, then the healing period (or stops at tick `until`). Stops at the first violation. */
  run(until = Infinity): void {
    const cut = Math.min(until, this.plan.stopAt ?? Infinity);
    const end = Math.min(cut, this.plan.steps + this.plan.healTicks);
    while (this.now < end && !this.violation) this.step();
    if (!this.violation && cut === Infinity) this.checkLiveness();
    // Writes still in flight may yet take effect: they enter the history as unknown.
    for (const op of this.clientBusy.values()) if (op && !op.done) this.giveUp(op);
  }

  /** One tick of virtual time. */
  step(): void {
    const t = this.now;
    while (this.branches.length > 0 && this.branches[0]!.at <= t) this.reseed(this.branches.shift()!.seed);
    if (t === this.healAt) this.heal();
    for (let i = this.restarts.length - 1; i >= 0; i--) {
      const r = this.restarts[i]!;
      if (r.at > t) continue;
      this.restarts.splice(i, 1);
      this.apply({ at: t, kind: "restart", node: r.node });
    }
    while (this.planPos < this.plan.events.length && this.plan.events[this.planPos]!.at <= t) {
      this.apply(this.plan.events[this.planPos++]!);
      if (this.violation) return;
    }
    // Messages due now, in a shuffled order (the network does not preserve order).
    const due = (this.inflight.get(t) ?? []).sort((a, b) => a.order - b.order);
    this.inflight.delete(t);
    this.inflightCount -= due.length;
    for (const f of due) {
      this.deliver(f.m);
      if (this.violation) return;
    }
    for (const node of this.nodes.values()) {
      if (node.writing && node.writing.doneAt <= t) this.finishWrite(node);
      if (this.violation) return;
    }
    for (const node of this.nodes.values()) {
      if (node.raft) this.input(node, { kind: "tick" });
      if (this.violation) return;
    }
    this.startClientOps();
    this.expireClientOps();
    // The disks' view is built only when something was newly committed: most ticks commit nothing.
    if (this.invariants.hasNewlyCommitted) this.invariants.checkDurability(this.diskView());
    this.onTick?.(this);
    this.now++;
    this.stats.ticks++;
  }

  /** A branch point: from here on every random choice comes from `seed`. */
  private reseed(seed: number): void {
    const root = new Prng(seed);
    this.net = root.fork();
    this.disks = root.fork();
    this.faults = root.fork();
    for (const id of this.ids) this.nodeRandom.set(id, root.fork());
    this.log(() => ({ kind: "branch", seed }));
  }

  // -------------------------------------------------------------------
  // Nodes
  // -------------------------------------------------------------------

  private config(id: NodeId): RaftConfig {
    return {
      id,
      members: this.bootstrap,
      electionTimeoutTicks: this.plan.electionTicks,
      heartbeatTicks: HEARTBEAT_TICKS,
      random: (n) => this.nodeRandom.get(id)!.int(n),
      maxBytesPerAppend: this.plan.maxBytesPerAppend,
      // Plans that split batches finely also split snapshots into small chunks (Figure 13).
      snapshotChunkBytes: this.plan.maxBytesPerAppend === 1 ? 8 : this.plan.maxBytesPerAppend === 200 ? 64 : 1 << 20,
      maxInflight: 8,
      preVote: this.plan.preVote ?? true,
      checkQuorum: this.plan.checkQuorum ?? true,
      incarnation: this.incarnations.get(id) ?? 1,
    };
  }

  private boot(node: SimNode): void {
    const restored: RestoredState = { hardState: node.disk.hardState, snapshot: node.disk.snapshot, entries: node.disk.entries };
    const config = this.config(node.id);
    node.raft = this.bug ? this.bug.make(config, restored) : new RaftNode(config, restored);
    node.role = "follower";
    node.kv = SimKv.restore(node.disk.snapshot?.data ?? null, this.clock);
    this.invariants.restarted(node.id, node.raft);
    if (node.raft.recovery) this.damaged.add(node.id);
  }

  private input(node: SimNode, input: Input): void {
    if (!node.raft) return;
    if (node.writing) {
      node.queued.push(input);
      return;
    }
    this.feed(node, input);
    this.drive(node);
  }

  private feed(node: SimNode, input: Input): void {
    const raft = node.raft!;
    this.stats.steps++;
    if (input.kind === "tick") raft.tick();
    else if (input.kind === "transfer") {
      if (raft.transferLeadership(input.to)) this.stats.transfers++;
    } else if (input.kind === "reconfigure") {
      const r = raft.proposeConfChange({ voters: input.voters, learners: input.learners, context: "" });
      if (r.ok) this.stats.reconfigurations++;
      const outcome = r.ok ? `appends configuration ${describeConfiguration(raft.configuration)} at ${r.index}` : `refused: ${r.message}`;
      this.log(() => ({ kind: "reconfigure", leader: node.id, voters: input.voters, learners: input.learners, outcome }));
    } else raft.step(input.message);
  }

  /** The Ready's soft state says who the node is now (drivers never compare the core's fields before and after). */
  private roleChanged(node: SimNode, now: SoftState): void {
    const before = node.role;
    if (now.role === before) return;
    node.role = now.role;
    if (now.role === "leader") this.stats.elections++;
    this.log(() => ({ kind: "role", node: node.id, from: before, to: now.role, term: now.term }));
    this.invariants.roleChanged(node.id, node.raft!);
  }

  /** Hands the node's Ready to the disk; the rest happens when the write completes. */
  private drive(node: SimNode): void {
    const raft = node.raft!;
    if (node.writing || !raft.hasReady()) return;
    const ready = raft.ready();
    if (ready.softState) this.roleChanged(node, ready.softState);
    const needsDisk = ready.hardState !== null || ready.entries.length > 0 || ready.snapshot !== null;
    const latency = needsDisk ? this.disks.pick([0, 0, 1, 2]) : 0;
    node.writing = { ready, doneAt: this.now + latency };
    // A leader replicates while it writes (thesis §10.2.1): a crash before the write completes loses its copy, not the messages.
    if (ready.sendBeforePersist) for (const m of ready.messages) this.send(m);
    if (latency === 0) this.finishWrite(node);
  }

  private finishWrite(node: SimNode): void {
    const { ready } = node.writing!;
    const raft = node.raft!;
    this.persist(node, ready, Infinity);
    node.writing = null;
    if (!ready.sendBeforePersist) for (const m of ready.messages) this.send(m);
    const snap = ready.snapshot;
    if (snap) {
      node.kv = SimKv.restore(snap.data, this.clock);
      node.requests.snapshotInstalled(snap.lastIncludedIndex, (i) => raft.log.term(i));
      this.invariants.stateAfter(node.id, snap.lastIncludedIndex, node.kv.state(), "snapshot");
      this.log(() => ({ kind: "snapshot", node: node.id, index: snap.lastIncludedIndex }));
    }
    for (const e of ready.committed) this.applyEntry(node, e);
    if (this.tracing && raft.role === "leader" && raft.commitIndex > (this.leaderCommitLogged.get(node.id) ?? 0)) {
      this.leaderCommitLogged.set(node.id, raft.commitIndex);
      this.log(() => ({ kind: "commit", node: node.id, index: raft.commitIndex, term: raft.currentTerm }));
    }
    raft.advance();
    if (raft.recovery === null && this.damaged.delete(node.id)) {
      this.stats.recoveries++;
      this.log(() => ({ kind: "recovered", node: node.id }));
    }
    this.invariants.afterStep(node.id, raft);
    if (this.violation) return;
    for (const r of ready.reads) node.requests.readResult(r);
    this.serveReads(node);
    this.maybeCompact(node);
    const queued = node.queued;
    node.queued = [];
    for (const input of queued) {
      this.feed(node, input);
      if (this.violation) return;
    }
    this.drive(node);
  }

  /** Writes the first `records` records of the Ready to disk (all of them unless a crash tears the write). */
  private persist(node: SimNode, ready: Ready, records: number): void {
    const disk = node.disk;
    if (records <= 0) return;
    let left = records;
    if (ready.hardState) {
      disk.hardState = ready.hardState;
      left--;
    }
    if (ready.snapshot && left > 0) {
      disk.snapshot = ready.snapshot;
      disk.entries = [];
      left--;
    }
    for (const e of ready.entries) {
      if (left-- <= 0) break;
      const base = disk.snapshot?.lastIncludedIndex ?? 0;
      const pos = e.index - base - 1;
      if (pos < disk.entries.length) {
        this.invariants.diskTruncated(node.id, disk.entries.slice(pos));
        disk.entries.length = pos;
      }
      disk.entries.push(e);
    }
  }

  private applyEntry(node: SimNode, e: Entry): void {
    this.invariants.applied(node.id, e);
    const output = e.type === EntryType.Normal ? node.kv.apply(e.index, e.data) : undefined;
    this.invariants.stateAfter(node.id, e.index, node.kv.state(), "applied");
    node.requests.applied(e, output);
  }

  /** How a node's table settles a client op: as the server answers its client. */
  private requestTable(id: NodeId): Requests<ClientOp, ClientOp, KvOutput> {
    const settle = (op: ClientOp, outcome: Outcome<KvOutput>): void => {
      switch (outcome.kind) {
        case "applied":
          return this.complete(op, outcome.result, this.nodes.get(id)!);
        case "replaced":
          // The server answers MOVED to the leader it knows of.
          return this.retry(op, this.nodes.get(id)!.raft?.leaderId ?? null);
        case "unknown":
          return this.giveUp(op);
        case "refused":
          return this.retry(op, outcome.leader);
      }
    };
    return new Requests<ClientOp, ClientOp, KvOutput>(settle, (op, leader) => this.retry(op, leader));
  }

  /** Reads and stamps use virtual time, like everything else here. */
  private readonly clock = (): number => this.now;

  private emptyKv(): SimKv {
    return SimKv.restore(null, this.clock);
  }

  private maybeCompact(node: SimNode): void {
    const raft = node.raft!;
    if (!snapshotDue(raft.lastApplied, raft.log.snapshotIndex, SNAPSHOT_EVERY)) return;
    raft.compact(raft.lastApplied, node.kv.snapshot());
    const snap: Snapshot = raft.state().snapshot!;
    node.disk.snapshot = snap;
    node.disk.entries = node.disk.entries.filter((e) => e.index > snap.lastIncludedIndex);
  }

  private crash(node: SimNode): void {
    if (!node.raft) return;
    // A write in progress is torn: some prefix of its records reached the disk.
    if (node.writing) {
      const w = node.writing.ready;
      const total = (w.hardState ? 1 : 0) + (w.snapshot ? 1 : 0) + w.entries.length;
      const kept = this.plan.faults.has("torn") ? this.disks.int(total + 1) : 0;
      this.persist(node, w, kept);
    }
    node.raft = null;
    node.writing = null;
    node.queued = [];
    node.requests.abandonAll("crash");
    this.invariants.crashed(node.id);
    this.log(() => ({ kind: "crash", node: node.id }));
  }

  // -------------------------------------------------------------------
  // Network
  // -------------------------------------------------------------------

  private send(m: Message): void {
    this.stats.messages++;
    if (this.cut.has(linkKey(m.from, m.to))) {
      this.log(() => ({ kind: "drop", message: m, loss: "cut" }));
      return;
    }
    if (this.inflightCount >= MAX_IN_FLIGHT) {
      // A full network: found when a zoo variant's follower refused every
      // AppendEntries and duplicated answers each drew another one, so the
      // traffic grew without bound (and the search ran out of memory).
      // Normal runs never come near it; no random draw is made here.
      this.stats.overflows++;
      this.log(() => ({ kind: "drop", message: m, loss: "overflow" }));
      return;
    }
    if (this.net.chance(this.drop)) {
      const k = ++this.stats.drops;
      if (this.plan.spare?.drops.has(k)) {
        this.stats.spared++;
        // Spared by the shrinker: delivered next tick, without drawing from the network's stream.
        this.enqueue(this.now + 1, -k, m);
        return;
      }
      this.log(() => ({ kind: "drop", message: m, loss: "dropped" }));
      return;
    }
    const copies = this.net.chance(this.duplicate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const at = this.now + this.net.range(1, this.maxDelay);
      this.enqueue(at, this.net.u32(), m);
    }
  }

  private enqueue(at: number, order: number, m: Message): void {
    this.inflightCount++;
    const slot = this.inflight.get(at);
    const f = { order, m };
    if (slot) slot.push(f);
    else this.inflight.set(at, [f]);
  }

  private deliver(m: Message): void {
    const node = this.nodes.get(m.to)!;
    if (!node.raft || this.cut.has(linkKey(m.from, m.to))) return;
    if (this.tracing) this.log(() => ({ kind: "deliver", message: m }));
    this.input(node, { kind: "message", message: m });
    // Vote traffic is rare next to replication traffic, yet a crash right after
    // answering a vote is as dangerous as one after answering an append: a
    // storm strikes it ten times as often, so elections get their share of crashes.
    const weight = m.type === "RequestVote" ? 10 : 1;
    if (this.storm && this.now < this.storm.until && this.faults.chance(Math.min(1, this.storm.p * weight))) {
      const k = ++this.stats.stormCrashes;
      if (this.plan.spare?.crashes.has(k)) {
        this.stats.spared++;
        this.faults.chance(0.5); // the draws a crash would make, so that later choices stay as they were
        this.faults.range(1, 60);
        return;
      }
      this.crash(node);
      // Often back at once: what a node forgot to persist matters most to the messages still in flight to it.
      this.restarts.push({ at: this.now + (this.faults.chance(0.5) ? this.faults.range(1, 4) : this.faults.range(1, 60)), node: node.id });
    }
  }

  // -------------------------------------------------------------------
  // The plan
  // -------------------------------------------------------------------

  private apply(e: PlanEvent): void {
    switch (e.kind) {
      case "crash":
        this.crash(this.nodes.get(e.node)!);
        return;
      case "crash-leader": {
        const leader = this.leader();
        if (!leader) return;
        this.log(() => ({ kind: "aimed", fault: "crash-leader", node: leader.id }));
        this.crash(leader);
        this.restarts.push({ at: this.now + e.down, node: leader.id });
        return;
      }
      case "isolate-leader": {
        const leader = this.leader();
        if (!leader) return;
        const rest = this.ids.filter((id) => id !== leader.id);
        this.log(() => ({ kind: "aimed", fault: "isolate-leader", node: leader.id }));
        this.apply({ at: e.at, kind: "partition", groups: [[leader.id], rest] });
        return;
      }
      case "restart": {
        const node = this.nodes.get(e.node)!;
        if (node.raft) return;
        this.boot(node);
        this.log(() => ({ kind: "restart", node: e.node, term: node.raft!.currentTerm, lastIndex: node.raft!.log.lastIndex(), recovering: node.raft!.recovery !== null }));
        return;
      }
      case "damage":
        this.damage(this.nodes.get(e.node)!, e.damage, e.down);
        return;
      case "partition":
        this.cut.clear();
        for (const a of e.groups) for (const b of e.groups) if (a !== b) for (const x of a) for (const y of b) this.cut.add(linkKey(x, y));
        this.log(() => ({ kind: "partition", groups: e.groups }));
        return;
      case "cut":
        this.cut.add(linkKey(e.from, e.to));
        this.log(() => ({ kind: "cut", from: e.from, to: e.to }));
        return;
      case "heal":
        this.cut.clear();
        this.log(() => ({ kind: "heal" }));
        return;
      case "network":
        this.drop = e.drop;
        this.duplicate = e.duplicate;
        this.maxDelay = e.maxDelay;
        this.log(() => ({ kind: "network", drop: e.drop, duplicate: e.duplicate, maxDelay: e.maxDelay }));
        return;
      case "storm":
        this.storm = { until: e.until, p: e.p };
        this.log(() => ({ kind: "storm", until: e.until, p: e.p }));
        return;
      case "op":
        this.clientQueue.get(e.client)!.push(e.input);
        return;
      case "reconfigure": {
        const leader = [...this.nodes.values()].filter((n) => n.raft?.role === "leader").sort((a, b) => b.raft!.currentTerm - a.raft!.currentTerm)[0];
        if (!leader) return;
        this.input(leader, { kind: "reconfigure", voters: e.voters, learners: e.learners });
        return;
      }
      case "transfer": {
        // To whichever node leads in the highest term now; nothing if there is none or it is the target.
        const leader = this.leader();
        if (!leader || leader.id === e.to) return;
        this.log(() => ({ kind: "transfer", from: leader.id, to: e.to }));
        this.input(leader, { kind: "transfer", to: e.to });
        return;
      }
    }
  }

  /** The node that leads in the highest term now, if any. */
  private leader(): SimNode | undefined {
    return [...this.nodes.values()].filter((n) => n.raft?.role === "leader").sort((a, b) => b.raft!.currentTerm - a.raft!.currentTerm)[0];
  }

  /**
   * A storage fault: the node crashes, and its disk gives back less than it
   * had, as the real storage layer would report it (src/storage, docs/STORAGE.md):
   * lost entries leave a lost mark in the hard state; a lost hard state is
   * null. Only while the damaged servers stay a minority of every voter
   * set of the latest configuration known committed (spec/raft.qnt
   * rebootFrom): beyond that, nothing can recover what was acknowledged.
   * Learners and spares do not count.
   */
  private damage(node: SimNode, kind: Damage, down: number): void {
    const cfg = this.invariants.committedConfiguration;
    const sets = cfg === null ? [this.bootstrap] : cfg.outgoing.length > 0 ? [cfg.voters, cfg.outgoing] : [cfg.voters];
    const damaged = new Set([...this.damaged, node.id]);
    if (sets.some((vs) => vs.filter((id) => damaged.has(id)).length > vs.length - (Math.floor(vs.length / 2) + 1))) return;
    this.crash(node);
    const disk = node.disk;
    const base = disk.snapshot?.lastIncludedIndex ?? 0;
    const last = base + disk.entries.length;
    const lose = (keep: number) => {
      if (keep >= disk.entries.length) return false;
      disk.entries = disk.entries.slice(0, keep);
      if (disk.hardState) disk.hardState = withLost(disk.hardState, last);
      return true;
    };
    // Whether there was nothing of that kind to lose.
    let harmless = false;
    switch (kind) {
      case "tail":
        harmless = !(disk.entries.length > 0 && lose(disk.entries.length - 1 - this.faults.int(Math.min(disk.entries.length, 8))));
        break;
      case "corrupt":
        harmless = !(disk.entries.length > 0 && lose(this.faults.int(disk.entries.length)));
        break;
      case "snapshot":
        if (disk.snapshot === null) {
          harmless = true;
          break;
        }
        disk.snapshot = null;
        disk.entries = [];
        if (disk.hardState) disk.hardState = withLost(disk.hardState, last);
        break;
      case "hardstate":
        disk.hardState = null;
        break;
      case "wipe":
        disk.hardState = null;
        disk.snapshot = null;
        disk.entries = [];
        break;
    }
    if (disk.hardState === null || disk.hardState.lost) {
      this.incarnations.set(node.id, ++this.lastIncarnation);
      this.damaged.add(node.id);
      this.stats.storageFaults++;
    }
    this.log(() => ({ kind: "damage", node: node.id, damage: kind, harmless }));
    this.restarts.push({ at: this.now + down, node: node.id });
  }

  /** The end of the faults: every link up, every node up, a perfect network. */
  private heal(): void {
    this.cut.clear();
    this.drop = 0;
    this.duplicate = 0;
    this.maxDelay = 2;
    for (const node of this.nodes.values()) if (!node.raft) this.boot(node);
    this.log(() => ({ kind: "faults-end" }));
  }

  // -------------------------------------------------------------------
  // Clients
  // -------------------------------------------------------------------

  private startClientOps(): void {
    for (const [c, queue] of this.clientQueue) {
      if (this.clientBusy.get(c) || queue.length === 0) continue;
      const input = queue.shift()!;
      // A client keeps talking to the node that last served it.
      const target = this.clientTarget.get(c) ?? this.ids[(c - 1) % this.ids.length]!;
      const op: ClientOp = { id: this.nextOpId++, client: c, input, call: this.now, target, accepted: false, done: false, redirects: 0 };
      this.clientBusy.set(c, op);
      this.submit(op);
    }
  }

  private submit(op: ClientOp): void {
    if (op.done) return;
    const node = this.nodes.get(op.target)!;
    const raft = node.raft;
    if (!raft || node.writing) {
      // Down or busy: try again next tick, elsewhere if down.
      if (!raft) op.target = this.nextTarget(op.target);
      return;
    }
    if (op.input.op === "get") {
      const id = this.nextReadId++;
      node.requests.readRequested(id, op);
      raft.read(id);
    } else {
      // Only a leader takes a proposal: encoding it for a follower, which refuses it with its leader hint, is wasted (a client retries every tick).
      const r = raft.role === "leader" ? raft.propose(encodeOp(op.input, this.now)) : ({ ok: false, leader: raft.leaderId } as const);
      if (!r.ok) {
        op.target = this.leaderHint(op, r.leader) ?? this.nextTarget(op.target);
        return;
      }
      op.accepted = true;
      node.requests.proposed(r.index, r.term, op);
    }
    this.drive(node);
  }

  private serveReads(node: SimNode): void {
    for (const op of node.requests.readsServable(node.raft!.lastApplied)) this.complete(op, node.kv.read(op.input), node);
  }

  /** Not executed: safe to send again, to the leader it named or to another node. */
  private retry(op: ClientOp, leader: NodeId | null): void {
    if (op.done) return;
    op.target = this.leaderHint(op, leader) ?? this.nextTarget(op.target);
    op.accepted = false;
  }

  /**
   * The leader a refusal named, to try next. In a membership run, servers
   * that were removed without learning it may keep naming a leader that is
   * gone, and send a client round in circles: after as many redirects as
   * there are servers, the client ignores hints and tries each server in
   * turn (other runs keep following hints, as they always did).
   */
  private leaderHint(op: ClientOp, leader: NodeId | null): NodeId | null {
    if (leader === null) return null;
    return this.plan.membership && ++op.redirects > this.ids.length ? null : leader;
  }

  private complete(op: ClientOp, output: KvOutput, node: SimNode): void {
    if (op.done) return;
    op.done = true;
    this.clientTarget.set(op.client, op.target);
    this.stats.opsCompleted++;
    this.history.push({ clientId: op.client, input: op.input, output, call: op.call, return: this.now });
    this.clientBusy.set(op.client, null);
    this.log(() => ({ kind: "reply", client: op.client, input: op.input, output, node: node.id, applied: node.raft!.lastApplied }));
  }

  /** The outcome is unknown: it may still commit. */
  private giveUp(op: ClientOp): void {
    if (op.done) return;
    op.done = true;
    this.stats.opsUnknown++;
    if (op.input.op !== "get") this.history.push({ clientId: op.client, input: op.input, call: op.call, return: Infinity, unknown: true });
    this.clientBusy.set(op.client, null);
  }

  private expireClientOps(): void {
    for (const op of this.clientBusy.values()) {
      if (!op || op.done) continue;
      if (this.now - op.call > CLIENT_TIMEOUT) {
        this.giveUp(op);
        continue;
      }
      // Not accepted anywhere yet: (re)submit.
      if (!op.accepted && !this.isPendingRead(op)) this.submit(op);
    }
  }

  private isPendingRead(op: ClientOp): boolean {
    for (const n of this.nodes.values()) if (n.requests.hasRead(op)) return true;
    return false;
  }

  private nextTarget(current: NodeId): NodeId {
    return this.ids[current % this.ids.length]!;
  }

  // -------------------------------------------------------------------
  // Checks
  // -------------------------------------------------------------------

  private diskView(): Map<NodeId, DiskView> {
    const view = new Map<NodeId, DiskView>();
    for (const n of this.nodes.values()) {
      // A server that lost its hard state does not know what it lost: everything, as far as the check goes.
      const lostThrough = !this.damaged.has(n.id) ? 0 : n.disk.hardState === null ? Infinity : (n.disk.hardState.lost?.through ?? Infinity);
      view.set(n.id, { snapshotIndex: n.disk.snapshot?.lastIncludedIndex ?? 0, snapshotTerm: n.disk.snapshot?.lastIncludedTerm ?? 0, entries: n.disk.entries, lostThrough });
    }
    return view;
  }

  /** After the healing period: one leader that all agree on, and every client done. */
  private checkLiveness(): void {
    const leaders = [...this.nodes.values()].filter((n) => n.raft?.role === "leader");
    if (leaders.length === 0) {
      this.fail("Liveness", `no leader ${this.plan.healTicks} ticks after the faults ended`);
      return;
    }
    if (this.damaged.size > 0) {
      this.fail("Recovery", `${[...this.damaged].map((id) => `n${id}`).join(", ")} still recovering from a storage fault ${this.plan.healTicks} ticks after the faults ended`);
      return;
    }
    const stuck = [...this.clientBusy.values()].filter((op) => op && !op.done && this.now - op.call > CLIENT_TIMEOUT);
    if (stuck.length > 0) this.fail("Liveness", `client operations still pending after the faults ended: ${stuck.map((o) => JSON.stringify(o!.input)).join(", ")}`);
    const healedOps = this.history.filter((o) => o.call >= this.healAt + 50 && o.return !== Infinity);
    if (healedOps.length === 0 && this.plan.events.some((e) => e.kind === "op" && e.at >= this.healAt + 50 && e.at < this.now - 100))
      this.fail("Liveness", "no client operation completed after the faults ended");
  }

  private fail(invariant: RandomInvariant, message: string, entry?: Violation["entry"]): void {
    if (this.violation) return;
    this.violation = { invariant, message, at: this.now, ...(entry ? { entry } : {}) };
    this.log(() => ({ kind: "violation", invariant, message }));
  }

  /** Trace events are built only when tracing: most runs never read them. */
  private log(event: () => SimEventBody): void {
    if (this.tracing) this.trace.push({ at: this.now, ...event() } as SimEvent);
  }
}

/** A directed link's key in World.cut (node ids are small integers). */
function linkKey(from: NodeId, to: NodeId): number {
  return from * 0x10000 + to;
}

/** The hard state the storage layer reports after losing entries up to `through` (src/storage/recover.ts). */
function withLost(hs: HardState, through: number): HardState {
  return { ...hs, lost: { through: Math.max(hs.lost?.through ?? 0, through), term: Math.max(hs.lost?.term ?? 0, hs.currentTerm) } };
}
