// One raftkv node: the unchanged Raft core, driven by real time, real
// sockets and a real disk, with the key-value state machine on top.
//
// Node's event loop is the course's "one thread reading a queue". Inputs —
// timer ticks, peer messages, client commands — go straight into the core
// unless a Ready is being written to disk; then they wait in `queued` and
// are all fed in before the next ready(): everything that arrives during
// one fsync shares the next one (group commit).
//
// For each Ready: persist (WAL append + one fsync), then send the messages,
// apply the committed entries, answer the reads, advance(). Nothing is sent
// before the state it depends on is durable (GUIDE: persist before you promise)
// — except a leader's AppendEntries, which go out while its own fsync runs
// (thesis §10.2.1; the core marks such a Ready `sendBeforePersist` and counts
// the leader's log toward commitment only once it is durable).

import { appendFileSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { RaftNode, type Ready, type Snapshot, type SoftState } from "../core/node.js";
import { Requests, snapshotDue, type Outcome } from "../core/requests.js";
import type { StatusJson } from "../util/status-json.js";
import { EntryType, type Entry, type HardState, type Message, type NodeId, type Role } from "../core/types.js";
import type { NodeStatus } from "../kv/info.js";
import { DecodeError } from "../kv/binary.js";
import { KvStateMachine } from "../kv/stateMachine.js";
import { errorReply, type Reply } from "../resp/writer.js";
import { Wal, type RecoveredState } from "../storage/wal.js";
import { MAX_REPLICABLE_ENTRY_BYTES, PeerTransport, type PeerTls } from "../transport/peers.js";
import type { Logger } from "../util/log.js";
import { formatAddress, nodeById, type ClusterConfig, type NodeAddresses } from "./config.js";
import { Metrics } from "./metrics.js";
import { dataDirHasState, Membership, MEMBERSHIP_TICK_MS, type AdminAnswer, type MembersJson } from "./membership.js";

/**
 * What the runtime needs of the replicated state machine. KvStateMachine is
 * one; `raftkv/server` (src/server/service.ts) adapts any other to it.
 * apply() must depend only on the state and the command: every replica
 * applies the same commands in the same order and must compute the same.
 */
export interface ServerStateMachine {
  /** `reads`: what the write's plan carried for the node that proposed it (the KV store's transaction reads); undefined elsewhere. */
  apply(index: number, command: Uint8Array, reads?: unknown): Reply;
  snapshot(): Uint8Array;
  restore(data: Uint8Array): void;
  /** A size to show on /status (the KV store's key count). */
  readonly size: number;
  /**
   * Optional: the entry to propose for a client's write, given the leader's
   * clock (the KV store puts the time into it, so replicas apply it at that
   * time). Without it the command is proposed as it is.
   */
  stamp?(command: Uint8Array, now: number): Uint8Array;
  /** Optional: an entry carrying only the time, when one is needed now (the KV store's active expiry), else null. */
  timeCommand?(now: number): Uint8Array | null;
}

/** What a client's request asks of the node: a write through the log, or a read (linearizable, or `local`: any node about itself). */
export type ServerPlan<S> =
  | { readonly kind: "write"; readonly command: Uint8Array; readonly reads?: unknown }
  | { readonly kind: "read" | "local"; readonly run: (sm: S, node: NodeStatus) => Reply };

export interface ServerOptions<S extends ServerStateMachine = KvStateMachine> {
  readonly config: ClusterConfig;
  /** The state machine; default a KvStateMachine. */
  readonly stateMachine?: S;
  readonly id: NodeId;
  readonly dataDir: string;
  readonly logger: Logger;
  /** Milliseconds per core tick; heartbeat and election timeouts are whole numbers of ticks. Default 10. */
  readonly tickMs?: number;
  /** How long a write may wait for its commit before the client gets -TIMEOUT. Default 5000. */
  readonly commitTimeoutMs?: number;
  /** Take a snapshot (and drop the log before it) every this many applied entries. Default 10000. */
  readonly snapshotEvery?: number;
  /**
   * The operator's last resort when a majority of the nodes lost data
   * (docs/STORAGE.md): start as if this node's disk were whole, trusting its
   * log and guessing its term. Acknowledged writes the node lacks are lost.
   */
  readonly acceptDataLoss?: boolean;
  /** The cluster secret peers prove to each other (the cluster file's secretFile); null or absent: peers are not authenticated. */
  readonly peerSecret?: Buffer | null;
  /** Mutual TLS on the peer port (the cluster file's "tls"); null or absent: plain TCP. */
  readonly peerTls?: PeerTls | null;
  /**
   * A new node joining a running cluster (`raftkv server --join`): its data
   * directory must be empty; it starts as no voter and waits for a leader to
   * add it (SPEC §10). The cluster file names it and at least one current
   * member (it asks the members it names for the live membership).
   */
  readonly join?: boolean;
}

/** A membership change asked for on the admin port. */
export type MembershipRequest =
  | { readonly kind: "add"; readonly body: unknown }
  | { readonly kind: "promote" | "remove"; readonly id: NodeId; readonly force: boolean };

type ReadRun<S> = (sm: S, node: NodeStatus) => Reply;

/** A client command waiting for the cluster. */
interface Waiter {
  resolve(reply: Reply): void;
  readonly started: number;
}

/** Why a write's outcome is unknown, in the -TIMEOUT reply. */
const UNKNOWN_BECAUSE = {
  snapshot: "the node caught up from a snapshot",
  crash: "the node restarted",
  stopped: "the node is shutting down",
} as const;

export class RaftServer<S extends ServerStateMachine = KvStateMachine> {
  readonly id: NodeId;
  readonly self: NodeAddresses;
  readonly metrics = new Metrics();
  readonly sm: S;
  private raft!: RaftNode;
  private wal!: Wal;
  private transport!: PeerTransport;
  private readonly log: Logger;
  private readonly tickMs: number;
  private readonly commitTimeoutMs: number;
  private readonly snapshotEvery: number;
  private ticker: NodeJS.Timeout | null = null;
  private expiryTicker: NodeJS.Timeout | null = null;
  private membershipTicker: NodeJS.Timeout | null = null;
  /** The configuration this node follows (src/server/membership.ts). */
  private membership!: Membership;
  /** When each peer was last heard from (performance.now()): who is reachable, for membership changes. */
  private readonly lastHeard = new Map<NodeId, number>();
  /** Log index of the TICK proposed for active expiry, until it is applied (0: none). */
  private expiryTickIndex = 0;
  private writing = false;
  private releaseLock: () => void = () => {};
  private queued: (() => void)[] = [];
  private stopped = false;
  /** Resolves when the current write finishes (used by stop()). */
  private writeDone: Promise<void> = Promise.resolve();

  /** Proposed writes and reads until they end, with the outcome policy every driver shares (src/core/requests.ts). */
  private readonly requests = new Requests<Waiter, { run: ReadRun<S>; waiter: Waiter }, Reply>(
    (waiter, outcome) => waiter.resolve(this.proposalReply(waiter, outcome)),
    (read, leader) => read.waiter.resolve(this.notLeader(leader)),
  );
  /** What a proposed write's plan carried for apply (the KV store's transaction reads), by log index, until that index applies. */
  private readonly proposedReads = new Map<number, { term: number; reads: unknown }>();
  private nextReadId = 1;
  private lastRole: Role = "follower";
  private lastLeader: NodeId | null = null;
  private softStateWaiters: (() => void)[] = [];
  /** Recent elections and leader changes, newest last (for the dashboard). */
  readonly events: { time: number; term: number; event: string }[] = [];

  constructor(private readonly o: ServerOptions<S>) {
    // Without a state machine of its own, a server is the key-value store.
    this.sm = o.stateMachine ?? (new KvStateMachine() as ServerStateMachine as S);
    this.id = o.id;
    this.self = nodeById(o.config, o.id);
    this.log = o.logger;
    this.tickMs = o.tickMs ?? 10;
    this.commitTimeoutMs = o.commitTimeoutMs ?? 5000;
    this.snapshotEvery = o.snapshotEvery ?? o.config.snapshotEvery ?? 10_000;
  }

  async start(): Promise<void> {
    const hadData = dataDirHasState(this.o.dataDir);
    mkdirSync(this.o.dataDir, { recursive: true });
    this.releaseLock = lockDataDir(this.o.dataDir);
    try {
      // Before the log is opened: a joiner's members file says it is one before anything else is written.
      this.membership = Membership.open({
        config: this.o.config,
        id: this.id,
        dataDir: this.o.dataDir,
        join: this.o.join === true,
        hadData,
        log: this.log,
        host: { raft: () => this.raft, transport: () => this.transport ?? null, heardFrom: (id) => this.lastHeard.get(id) },
      });
    } catch (err) {
      this.releaseLock();
      throw err;
    }
    this.events.push(...loadEvents(join(this.o.dataDir, EVENTS_FILE)));
    const { wal, state } = await Wal.open(this.o.dataDir, {
      logger: this.log,
      ...(this.o.config.walSegmentBytes !== undefined && { segmentBytes: this.o.config.walSegmentBytes }),
      onFsync: (seconds) => this.metrics.fsyncSeconds.observe(seconds),
    });
    this.wal = wal;
    if (state.snapshot) this.sm.restore(state.snapshot.data);
    // A new joiner lost nothing: it has no term or vote to ask the others about.
    const fresh = this.o.join === true && !hadData;
    const hardState = this.o.acceptDataLoss ? acceptLoss(state, this.log) : fresh ? { currentTerm: 0, votedFor: null } : state.hardState;
    const { electionTimeoutMs, heartbeatMs } = this.o.config;
    const ticks = (ms: number) => Math.max(1, Math.round(ms / this.tickMs));
    let [lo, hi] = [ticks(electionTimeoutMs[0]), ticks(electionTimeoutMs[1])];
    const hb = ticks(heartbeatMs);
    if (lo <= hb) lo = hb + 1;
    if (hi <= lo) hi = lo + 1;
    this.raft = new RaftNode(
      {
        id: this.id,
        members: this.membership.bootstrapVoters,
        electionTimeoutTicks: [lo, hi],
        heartbeatTicks: hb,
        random: (n) => Math.floor(Math.random() * n),
        snapshotChunkBytes: this.o.config.snapshotChunkBytes ?? 1 << 20,
        incarnation: state.incarnation,
      },
      { hardState, snapshot: state.snapshot, entries: state.entries },
    );
    this.log.info("recovered", {
      term: this.raft.currentTerm,
      votedFor: this.raft.votedFor,
      lastLogIndex: this.raft.log.lastIndex(),
      snapshotIndex: this.raft.log.snapshotIndex,
      incarnation: state.incarnation,
      recovery: this.raft.recovery,
    });
    try {
      this.membership.started();
    } catch (err) {
      await this.wal.close();
      this.releaseLock();
      throw err;
    }
    if (!this.o.peerSecret && !this.o.peerTls) {
      this.log.warn("peers_unauthenticated", {
        message: "the cluster file names no secretFile and no tls: anyone who can reach this node's peer port from a member's host can speak for that member (docs/SECURITY.md)",
      });
    }
    this.transport = new PeerTransport({
      secret: this.o.peerSecret ?? null,
      tls: this.o.peerTls ?? null,
      id: this.id,
      listen: this.self.peer,
      peers: this.membership.peerAddresses(),
      logger: this.log,
      onMessage: (m) => {
        this.lastHeard.set(m.from, performance.now());
        this.input(() => this.raft.step(copyMessage(m)));
      },
    });
    await this.transport.start();
    this.ticker = setInterval(() => this.input(() => this.raft.tick()), this.tickMs);
    this.expiryTicker = setInterval(() => this.input(() => this.proposeExpiryTick()), EXPIRY_TICK_MS);
    this.membershipTicker = setInterval(() => this.input(() => this.membership.tick(performance.now())), MEMBERSHIP_TICK_MS);
    // A joiner does not know the members yet (only whom to ask): no count for it.
    const joining = this.membership.selfState() === "joining";
    this.log.info("started", { peer: formatAddress(this.self.peer), ...(!joining && { members: this.membership.memberIds().length }), membership: this.membership.selfState() });
  }

  /**
   * Before a clean stop: a leader hands its leadership to the follower with
   * the longest log (thesis §3.10), so the cluster has a new leader within a
   * round trip instead of an election timeout. Resolves with the new leader's
   * id, or null if this node did not lead or the transfer did not finish in
   * `timeoutMs` (then the others elect one as after a crash). With `to`,
   * hands it to that node (`raftkv move-leader`, POST /transfer-leadership).
   * With `untilLeaderKnown`, it also waits (within `timeoutMs`) for the new
   * leader's first message: this node steps down a moment before that.
   */
  async handOffLeadership(timeoutMs = 600, to: NodeId | null = null, untilLeaderKnown = false): Promise<NodeId | null> {
    if (this.stopped || this.raft.role !== "leader" || this.raft.status().peers.length === 0) return null;
    const started = performance.now();
    // In turn with the other inputs (it waits for a disk write in flight).
    const target = await new Promise<NodeId | null>((resolve) =>
      this.input(() => {
        // Only a voter can take over: a learner (or a member on its way out of the joint configuration's new voters) cannot.
        const voters = this.raft.configuration.voters;
        const best = to ?? [...this.raft.status().peers].filter((p) => voters.includes(p.id)).sort((a, b) => b.matchIndex - a.matchIndex)[0]?.id;
        resolve(best !== undefined && this.raft.transferLeadership(best) ? best : null);
      }),
    );
    if (target === null) return null;
    this.log.info("leadership_transfer_started", { to: target });
    while (performance.now() - started < timeoutMs) {
      await this.softStateChange(timeoutMs - (performance.now() - started));
      if (this.raft.role !== "leader" && (!untilLeaderKnown || this.raft.leaderId !== null)) {
        const leader = this.raft.leaderId;
        const ms = Math.round(performance.now() - started);
        // Another node known to lead is a transfer; having stepped down with no new leader known yet is only that.
        if (leader !== null && leader !== this.id) this.log.info("leadership_transferred", { to: target, leader, ms });
        else this.log.info("stepped_down", { to: target, ms });
        return leader ?? target;
      }
    }
    if (this.raft.role !== "leader") this.log.info("stepped_down", { to: target, ms: timeoutMs, note: "no new leader heard from yet" });
    else this.log.warn("leadership_transfer_timed_out", { to: target, ms: timeoutMs });
    return null;
  }

  /** Stops cleanly: no new input, the disk write in flight finishes, everything closes. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    if (this.expiryTicker) clearInterval(this.expiryTicker);
    if (this.membershipTicker) clearInterval(this.membershipTicker);
    await this.writeDone;
    this.requests.abandonAll("stopped");
    await this.transport?.close();
    await this.wal?.close();
    this.releaseLock();
    this.log.info("stopped");
  }

  // ---------------------------------------------------------------------
  // Client commands
  // ---------------------------------------------------------------------

  /** Runs a write or read plan through Raft (a local one at once, in turn with the node's other inputs); resolves with the client's reply. */
  execute(plan: ServerPlan<S>): Promise<Reply> {
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve, started: performance.now() };
      this.input(() => {
        if (this.stopped) return resolve(errorReply("CLUSTERDOWN the node is shutting down"));
        // A local plan (INFO) runs at once on a non-leader, and as a read on the leader.
        if (plan.kind === "local" && this.raft.role !== "leader") return resolve(plan.run(this.sm, this.nodeStatus()));
        if (this.raft.role !== "leader") return resolve(this.notLeader(this.raft.leaderId));
        if (plan.kind === "write") {
          // The leader's clock goes into the entry: every replica applies it at that time (expiry).
          const entry = this.sm.stamp ? this.sm.stamp(plan.command, Date.now()) : plan.command;
          // One peer frame carries an entry to the other nodes: a bigger one could never reach them (each try an election).
          if (entry.length > MAX_REPLICABLE_ENTRY_BYTES) return resolve(errorReply(`ERR command too large to replicate: ${entry.length} bytes, the limit is ${MAX_REPLICABLE_ENTRY_BYTES}`));
          const r = this.raft.propose(entry);
          if (!r.ok) return resolve(this.notLeader(r.leader));
          this.metrics.proposals.inc();
          this.requests.proposed(r.index, r.term, this.timed(waiter, () => this.requests.forget(r.index)));
          if (plan.reads !== undefined) this.proposedReads.set(r.index, { term: r.term, reads: plan.reads });
        } else {
          const id = this.nextReadId++;
          this.requests.readRequested(id, { run: plan.run, waiter });
          this.raft.read(id);
        }
      });
    });
  }

  /**
   * Active expiry: when keys are due by this leader's clock and no write
   * came to carry the time, a TICK entry (nothing but the time) does; each
   * replica removes the due keys when it applies it. One in flight at a time.
   */
  private proposeExpiryTick(): void {
    if (this.stopped || this.raft.role !== "leader") return;
    if (this.expiryTickIndex > this.raft.lastApplied && this.expiryTickIndex <= this.raft.log.lastIndex()) return;
    const command = this.sm.timeCommand?.(Date.now());
    if (!command) return;
    const r = this.raft.propose(command);
    if (r.ok) this.expiryTickIndex = r.index;
  }

  /** A write's waiter that answers -TIMEOUT if the commit is not seen in time. */
  private timed(waiter: Waiter, forget: () => void): Waiter {
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      forget();
      waiter.resolve(errorReply(`TIMEOUT the command was accepted into the log, but its commit was not seen within ${this.commitTimeoutMs} ms; it may or may not have been applied`));
    }, this.commitTimeoutMs);
    return {
      started: waiter.started,
      resolve: (reply) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        waiter.resolve(reply);
      },
    };
  }

  /** Not executed: where to retry (the leader's client address as the live configuration gives it). */
  notLeader(leader: NodeId | null): Reply {
    // It will never know the leader again: the client should ask the members it knows of.
    if (this.membership.isRemoved) return errorReply("CLUSTERDOWN this node was removed from the cluster");
    if (leader === null || leader === this.id) return errorReply("CLUSTERDOWN no leader");
    const n = this.membership.addressesOf(leader);
    return n ? errorReply(`MOVED 0 ${formatAddress(n.client)}`) : errorReply("CLUSTERDOWN no leader");
  }

  // ---------------------------------------------------------------------
  // Membership (SPEC §10; src/server/membership.ts)
  // ---------------------------------------------------------------------

  /** GET /members. */
  members(): MembersJson {
    return this.membership.list(performance.now());
  }

  /** POST /members, POST /members/ID/promote, DELETE /members/ID: run in turn with the node's other inputs. */
  changeMembers(request: MembershipRequest): Promise<AdminAnswer> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve({ status: 503, body: { error: "the node is shutting down" } });
      this.input(() => {
        const now = performance.now();
        if (request.kind === "add") resolve(this.membership.add(request.body));
        else if (request.kind === "promote") resolve(this.membership.promote(request.id, request.force, now));
        else resolve(this.membership.remove(request.id, request.force, now));
      });
    });
  }

  /** A member's addresses as the live configuration gives them (null: not known). */
  addressesOf(id: NodeId): NodeAddresses | null {
    return this.membership.addressesOf(id);
  }

  // ---------------------------------------------------------------------
  // The event loop
  // ---------------------------------------------------------------------

  private input(fn: () => void): void {
    if (this.stopped) return;
    if (this.writing) {
      this.queued.push(fn);
      return;
    }
    fn();
    this.schedulePump();
  }

  private pumpScheduled = false;

  /**
   * The next Ready is taken once the event loop has run every I/O callback
   * that is ready now (setImmediate runs right after them): the commands and
   * peer messages that arrived together share one Ready — one WAL write, one
   * AppendEntries per peer, one read-index round — instead of one each.
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Processes Readies until there is nothing to do or a disk write is under way. */
  private pump(): void {
    while (!this.writing && !this.stopped && this.raft.hasReady()) {
      const rd = this.raft.ready();
      if (rd.softState) this.noteSoftState(rd.softState);
      // Before anything is sent: the transport must know a member just added.
      if (rd.configuration) this.membership.onConfiguration(rd.configuration);
      const needsDisk = rd.hardState !== null || rd.entries.length > 0 || rd.snapshot !== null;
      if (!needsDisk) {
        this.finish(rd, true);
        continue;
      }
      this.writing = true;
      if (rd.sendBeforePersist) this.send(rd);
      this.writeDone = this.persist(rd).then(
        () => {
          this.finish(rd, !rd.sendBeforePersist);
          this.writing = false;
          const queued = this.queued;
          this.queued = [];
          for (const fn of queued) fn();
          this.pump();
        },
        (err: unknown) => this.fatal("the write-ahead log failed", err),
      );
    }
  }

  private async persist(rd: Ready): Promise<void> {
    const saved = rd.snapshot ? this.wal.saveSnapshot(rd.snapshot) : null;
    if (rd.hardState) this.wal.setHardState(rd.hardState);
    if (rd.entries.length > 0) this.wal.append(rd.entries);
    await this.wal.sync();
    await saved;
  }

  private send(rd: Ready): void {
    this.transport.sendAll(rd.messages);
  }

  /** After the Ready is durable: send (unless sent already), apply, answer, advance. */
  private finish(rd: Ready, send: boolean): void {
    if (send) this.send(rd);
    if (rd.snapshot) this.installSnapshot(rd.snapshot);
    for (const e of rd.committed) this.apply(e);
    this.membership.persist();
    this.raft.advance();
    for (const r of rd.reads) this.requests.readResult(r);
    this.serveReads();
    this.maybeSnapshot();
    this.noteRecovery();
  }

  private apply(e: Entry): void {
    const own = this.proposedReads.get(e.index);
    if (own !== undefined) this.proposedReads.delete(e.index);
    const reply = e.type === EntryType.Normal ? this.applyCommand(e, own?.term === e.term ? own.reads : undefined) : undefined;
    this.metrics.applied.inc();
    this.requests.applied(e, reply);
  }

  /** A write's answer, from how it ended (src/core/requests.ts). */
  private proposalReply(waiter: Waiter, outcome: Outcome<Reply>): Reply {
    switch (outcome.kind) {
      case "applied":
        this.metrics.requestSeconds.observe((performance.now() - waiter.started) / 1000);
        return outcome.result;
      case "replaced":
      case "refused":
        // Another leader's entry took that index: ours was never committed.
        return this.notLeader(this.raft.leaderId);
      case "unknown":
        return errorReply(`TIMEOUT ${UNKNOWN_BECAUSE[outcome.why]}; the command may or may not have been applied`);
    }
  }

  /**
   * A committed entry the state machine cannot decode is refused the same
   * way on every replica (they hold the same bytes: the WAL and the network
   * check them), so they stay identical: an error to its client, no change
   * to the state, and a line in the log. Never a crash loop.
   */
  private applyCommand(e: Entry, reads: unknown): Reply {
    try {
      return this.sm.apply(e.index, e.data, reads);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.log.error("entry_undecodable", { index: e.index, term: e.term, bytes: e.data.length, error: err.message });
      return errorReply(`ERR log entry ${e.index} holds a command this node cannot decode; it was not applied`);
    }
  }

  private installSnapshot(s: Snapshot): void {
    this.sm.restore(s.data);
    this.requests.snapshotInstalled(s.lastIncludedIndex, (i) => this.raft.log.term(i));
    for (const index of this.proposedReads.keys()) if (index <= s.lastIncludedIndex) this.proposedReads.delete(index);
    this.log.info("snapshot_installed", { index: s.lastIncludedIndex, term: s.lastIncludedTerm, bytes: s.data.length });
  }

  /** Confirmed reads whose index the state machine has reached (still safe after a step-down: they were confirmed on arrival). */
  private serveReads(): void {
    for (const { run, waiter } of this.requests.readsServable(this.raft.lastApplied)) {
      this.metrics.requestSeconds.observe((performance.now() - waiter.started) / 1000);
      waiter.resolve(run(this.sm, this.nodeStatus()));
    }
  }

  /** Every `snapshotEvery` applied entries: snapshot the state machine, drop the log before it. */
  private maybeSnapshot(): void {
    const applied = this.raft.lastApplied;
    if (!snapshotDue(applied, this.raft.log.snapshotIndex, this.snapshotEvery)) return;
    this.raft.compact(applied, this.sm.snapshot());
    // The core's snapshot: the state machine's bytes and the configuration as of `applied`.
    const snap: Snapshot = this.raft.state().snapshot!;
    this.wal
      .saveSnapshot(snap)
      .then(() => this.wal.compact(applied))
      .then(
        () => this.log.info("snapshot_taken", { index: applied, bytes: snap.data.length }),
        (err: unknown) => this.fatal("saving a snapshot failed", err),
      );
  }

  /** Logs role and leader changes (with the term), counts elections, and wakes whoever waits for one (Ready.softState). */
  private noteSoftState(ss: SoftState): void {
    const { role, leader, term } = ss;
    if (role !== this.lastRole) {
      this.log.info("role_changed", { term, from: this.lastRole, to: role });
      if (role === "candidate") this.metrics.elections.inc();
      if (role === "leader") this.record(term, `node ${this.id} became leader`);
      // Its unconfirmed reads come back refused in this Ready (the core fails them on stepping down).
      if (this.lastRole === "leader") this.record(term, `node ${this.id} stepped down`);
    }
    if (leader !== this.lastLeader && leader !== null) this.log.info("leader_changed", { term, leader });
    this.lastRole = role;
    this.lastLeader = leader;
    const waiting = this.softStateWaiters;
    this.softStateWaiters = [];
    for (const w of waiting) w();
  }

  /** Resolves at the next soft-state change, or after `ms`. */
  private softStateChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.softStateWaiters.push(done);
    });
  }

  /** When the node came back from a storage fault, and since when it cannot (docs/STORAGE.md). */
  private recoveringSince: number | null = null;
  private stuckSince: number | null = null;

  /** Logs the end of a recovery; stops the node, loudly, when it cannot recover. */
  private noteRecovery(): void {
    const recovery = this.raft.recovery;
    if (recovery !== null) this.recoveringSince ??= performance.now();
    else if (this.recoveringSince !== null) {
      this.log.info("recovered_from_storage_fault", { ms: Math.round(performance.now() - this.recoveringSince), lastLogIndex: this.raft.log.lastIndex() });
      this.recoveringSince = null;
    }
    if (!this.raft.stuck) {
      this.stuckSince = null;
      return;
    }
    this.stuckSince ??= performance.now();
    // Ten election timeouts of the same answer, not a moment's view: a leader that can be elected is elected by then.
    if (performance.now() - this.stuckSince < Math.max(STUCK_FOR_MS, 10 * this.o.config.electionTimeoutMs[1])) return;
    const members = this.raft.configuration.voters.length;
    this.log.error("cannot_recover", {
      message:
        members === 1
          ? `this single node lost data it had acknowledged (${recovery?.lostThrough === null ? "its term and vote" : `entries up to index ${recovery?.lostThrough}`}) and there is no other node to get it back from`
          : `a majority of the cluster's nodes (this one included) lost data they had acknowledged, so no leader can be elected and nothing can be recovered through the protocol`,
      whatToDo:
        "restore the data directories from a backup; or, accepting that acknowledged writes may be lost, restart the nodes that stopped like this one with `raftkv server --accept-data-loss ...`: each then trusts what its disk holds, the most up-to-date one leads, and writes none of them holds are lost",
      recovery,
    });
    process.exit(1);
  }

  private record(term: number, event: string): void {
    const e = { time: Date.now(), term, event };
    this.events.push(e);
    if (this.events.length > MAX_EVENTS) this.events.shift();
    // Kept beside the log (not fsynced: history for the dashboard, not state), so a restart does not forget it.
    try {
      appendFileSync(join(this.o.dataDir, EVENTS_FILE), JSON.stringify(e) + "\n");
    } catch (err) {
      this.log.warn("events_not_saved", { error: err });
    }
  }

  private fatal(what: string, err: unknown): never {
    this.log.error("fatal", { what, error: err });
    process.exit(1);
  }

  // ---------------------------------------------------------------------
  // Views
  // ---------------------------------------------------------------------

  nodeStatus(): NodeStatus {
    return {
      id: this.id,
      role: this.raft.role,
      term: this.raft.currentTerm,
      leaderId: this.raft.leaderId,
      commitIndex: this.raft.commitIndex,
      lastApplied: this.raft.lastApplied,
    };
  }

  /** GET /status (SPEC §5). */
  status(): StatusJson {
    const s = this.raft.status();
    const leader = this.raft.leaderId;
    const members = this.membership.memberIds();
    const leaderAddresses = leader === null ? null : this.membership.addressesOf(leader);
    return {
      id: this.id,
      role: s.role,
      term: s.term,
      votedFor: s.votedFor,
      leader,
      leaderClient: leaderAddresses === null ? null : formatAddress(leaderAddresses.client),
      commitIndex: s.commitIndex,
      lastApplied: s.lastApplied,
      lastLogIndex: s.lastLogIndex,
      lastLogTerm: s.lastLogTerm,
      snapshotIndex: s.snapshotIndex,
      recovery: s.recovery,
      // The members of the live configuration, not the cluster file's nodes (SPEC §10).
      peers: members
        .filter((id) => id !== this.id)
        .map((id) => {
          const p = s.peers.find((x) => x.id === id);
          return { id, matchIndex: p?.matchIndex ?? null, nextIndex: p?.nextIndex ?? null, state: p?.state ?? null, reachable: this.transport.isConnected(id) };
        }),
      keys: this.sm.size,
      nodes: members.flatMap((id) => {
        const n = this.membership.addressesOf(id);
        return n === null ? [] : [{ id, admin: formatAddress(n.admin), client: formatAddress(n.client) }];
      }),
      events: this.events,
      membership: {
        state: this.membership.selfState(),
        configIndex: s.configurationIndex,
        committed: s.configurationCommitted,
        voters: s.configuration.voters,
        outgoing: s.configuration.outgoing,
        learners: s.configuration.learners,
        pending: this.membership.pending(),
      },
    };
  }

  /** The current term, for log lines (null before start). */
  get term(): number | null {
    return this.raft ? this.raft.currentTerm : null;
  }

  get role(): Role {
    return this.raft.role;
  }

  get leaderId(): NodeId | null {
    return this.raft.leaderId;
  }

  /** The voters of the live configuration (who can be handed leadership). */
  get memberIds(): readonly NodeId[] {
    return this.membership.voterIds();
  }

  /** Raft state for /metrics. */
  raftGauges(): { term: number; role: Role; commitIndex: number; lastApplied: number; lastLogIndex: number } {
    return { term: this.raft.currentTerm, role: this.raft.role, commitIndex: this.raft.commitIndex, lastApplied: this.raft.lastApplied, lastLogIndex: this.raft.log.lastIndex() };
  }

  transportStats(): PeerTransport["stats"] {
    return this.transport.stats;
  }
}

/** How often a leader checks for keys due to expire (active expiry). */
const EXPIRY_TICK_MS = 100;

/** How long, at least, a node must find itself unable to recover before it stops. */
const STUCK_FOR_MS = 5000;

/**
 * --accept-data-loss: whatever the disk lost, carry on with what is left. A
 * lost term is taken from the log (its last term), a lost vote is dropped;
 * the lost mark is cleared. Logged, loudly.
 */
function acceptLoss(state: RecoveredState, log: Logger): HardState {
  const lastTerm = state.entries.at(-1)?.term ?? state.snapshot?.lastIncludedTerm ?? 0;
  const hs = state.hardState ?? { currentTerm: lastTerm, votedFor: null };
  log.warn("data_loss_accepted", { hardState: state.hardState, lostThrough: state.hardState?.lost?.through ?? null, damage: state.damage });
  return { currentTerm: Math.max(hs.currentTerm, lastTerm), votedFor: hs.votedFor };
}

export class DataDirInUseError extends Error {
  override readonly name = "DataDirInUseError";
}

/**
 * Only one process may own a data directory: a second `raftkv server` for a
 * running node would otherwise open (and start a segment in) its live WAL.
 * The lock is a LOCK file holding the owner's pid; a lock left by a process
 * that no longer exists (kill -9) is taken over.
 */
/** The node's recent elections, one JSON line each, in its data directory (the dashboard's history). */
const EVENTS_FILE = "events.jsonl";
const MAX_EVENTS = 50;

/** The last MAX_EVENTS well-formed lines of the events file; the file is cut back to them when it has grown. */
function loadEvents(path: string): { time: number; term: number; event: string }[] {
  let lines: string[];
  try {
    lines = readFileSync(path, "utf8").split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
  const events = lines
    .map((l) => {
      try {
        const e = JSON.parse(l) as { time: unknown; term: unknown; event: unknown };
        return typeof e.time === "number" && typeof e.term === "number" && typeof e.event === "string" ? { time: e.time, term: e.term, event: e.event } : null;
      } catch {
        return null; // a torn last line after a crash
      }
    })
    .filter((e) => e !== null)
    .slice(-MAX_EVENTS);
  if (lines.length > 4 * MAX_EVENTS) writeFileSync(path, events.map((e) => JSON.stringify(e) + "\n").join(""));
  return events;
}

function lockDataDir(dir: string): () => void {
  const path = join(dir, "LOCK");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(readFileSync(path, "utf8").trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid))
        throw new DataDirInUseError(`data directory ${dir} is in use by process ${pid} (is this node already running?)`);
      rmSync(path, { force: true }); // stale: its owner is gone
    }
  }
  throw new DataDirInUseError(`cannot lock data directory ${dir}`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Messages from the transport hold views of the receive buffer; entries and
 * snapshots the core keeps must own their bytes.
 */
function copyMessage(m: Message): Message {
  if (m.type === "AppendEntries" && m.entries.length > 0) return { ...m, entries: m.entries.map((e) => ({ ...e, data: Uint8Array.prototype.slice.call(e.data) })) };
  if (m.type === "InstallSnapshot") return { ...m, data: Uint8Array.prototype.slice.call(m.data) };
  return m;
}
