// The cluster as a model for the generic explorer: N servers running the
// unchanged Raft core (or a bug-zoo variant), a network that loses and
// reorders, disks, crashes and client proposals, in every interleaving.
//
// Events (each enabled in every state unless said otherwise):
//   tick(n)       time passes at server n until it acts (see below)
//   deliver(m)    any message in flight, in any order
//   drop(m)       the network loses it
//   restart(n)    n crashes and comes back at once from its disk alone: the
//                 hard state and entries persisted from each Ready, so a
//                 variant that persists less than it holds is caught. The
//                 messages in flight to and from it stay in the network.
//   propose(n)    a client command at n, while n is leader and fewer than
//                 maxEntries commands were proposed in all
// After each event the server is driven as a real driver would: while it
// hasReady(), ready(), persist to its disk, put the messages in the network,
// advance().
//
// Choices that keep the state space finite and small, and why they keep it
// faithful:
// - Election timeout [2, 3) ticks and heartbeat 1 tick: each timer has a
//   single value, so `random` is never consulted. What matters is the order
//   of timeouts and messages, and every order is explored.
// - A tick event runs the server's clock until it acts: sends, persists, or
//   changes role or term. A follower's first tick only brings its timeout
//   nearer, and the one rule that reads the timer before then ("heard from a
//   leader within the minimum election timeout") holds for both values; so
//   the skipped state acts like the state before it, and skipping it loses
//   no behaviour. (A leader acts at every tick: heartbeat 1.)
// - Terms: a transition after which the server's term exceeds maxTerm is
//   disabled (next() returns the state unchanged: a self-loop the explorer
//   skips), and a follower or candidate already at maxTerm does not time
//   out, since its campaign could only be for a term past the bound (its
//   pre-vote round would change nothing but its own role).
// - The network is a multiset of messages kept sorted by key, so sending
//   order does not split states. It holds at most `linkCapacity` messages
//   per (from, to) link and `inboxCapacity` messages to one server: a send
//   beyond that is lost, as the network may always lose it. Both bounds
//   treat every server alike, which symmetry reduction needs (a bound on the
//   whole network would keep the broadcast to the lower id and lose the
//   other). Duplication is only what the servers send twice.
// - A response from a term older than its receiver's persisted term can
//   only ever be ignored (Figure 2), so it is removed as soon as that holds:
//   the state without it can do everything the state with it can.
// - A restart is one event (crash and recovery together): a server that is
//   down receives nothing and does nothing, which drops and not ticking
//   already cover.
// - Symmetry: states that differ only by a renaming of the servers are one
//   (exhaustive-symmetry.ts).
//
// History variables, part of the state and its key because the invariants
// read them: which servers were leader of each term, and the entries known
// committed anywhere (their term, and the term of the first server seen
// with it committed).

import { RaftNode, type RaftConfig, type RestoredState } from "../core/node.js";
import type { Entry, HardState, Message, NodeId } from "../core/types.js";
import type { Model } from "../explore/explorer.js";
import { INVARIANTS, TRANSITION_CHECKS } from "./exhaustive-invariants.js";
import { NodePartCache, diskText, hash64, messageKey } from "./exhaustive-key.js";
import type { ClusterEvent, ClusterState, CommittedEntry, Disk, InFlight } from "./exhaustive-state.js";
import { Canonicalizer } from "./exhaustive-symmetry.js";
import type { Bug } from "./zoo.js";

export interface ClusterOptions {
  readonly nodes: number;
  /** No server's term goes above this. */
  readonly maxTerm: number;
  /** Client commands proposed, in all. */
  readonly maxEntries: number;
  readonly bug?: Bug | undefined;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /** Messages in flight per (from, to) link; more are lost. */
  readonly linkCapacity: number;
  /** Messages in flight to one server; more are lost. */
  readonly inboxCapacity: number;
  /** Explore crash-and-restart events. */
  readonly restarts: boolean;
  /** Count states that differ only by a renaming of the servers as one (exhaustive-symmetry.ts). */
  readonly symmetry: boolean;
}

export type { ClusterEvent, ClusterState, CommittedEntry, Disk, InFlight } from "./exhaustive-state.js";

/** A server that always has a Ready: it would loop the driver forever. */
export class EndlessReadyError extends Error {
  constructor(id: NodeId) {
    super(`n${id} still hasReady() after ${MAX_READY_ROUNDS} ready()/advance() rounds in one step`);
    this.name = "EndlessReadyError";
  }
}

const MAX_READY_ROUNDS = 64;
const ELECTION_TICKS: readonly [number, number] = [2, 3];
const HEARTBEAT_TICKS = 1;
const EMPTY_DISK = disk({ currentTerm: 0, votedFor: null }, []);

export function clusterModel(o: ClusterOptions): Model<ClusterState, ClusterEvent> {
  return new ClusterModel(o);
}

class ClusterModel implements Model<ClusterState, ClusterEvent> {
  readonly initial: readonly ClusterState[];
  readonly invariants = INVARIANTS;
  readonly transitionChecks = TRANSITION_CHECKS;
  private readonly configs: RaftConfig[];
  private readonly ticks: ClusterEvent[];
  private readonly restarts: ClusterEvent[];
  private readonly proposes: ClusterEvent[];
  private readonly parts: NodePartCache;
  private readonly canonical: Canonicalizer;

  constructor(private readonly o: ClusterOptions) {
    const members = Array.from({ length: o.nodes }, (_, i) => i + 1);
    this.parts = new NodePartCache(o.nodes);
    this.canonical = new Canonicalizer(o.symmetry);
    this.configs = members.map((id) => ({
      id,
      members,
      electionTimeoutTicks: ELECTION_TICKS,
      heartbeatTicks: HEARTBEAT_TICKS,
      random: () => 0,
      preVote: o.preVote,
      checkQuorum: o.checkQuorum,
    }));
    this.ticks = members.map((node) => ({ kind: "tick", node }));
    this.restarts = members.map((node) => ({ kind: "restart", node }));
    this.proposes = members.map((node) => ({ kind: "propose", node }));
    const nodes = this.configs.map((c) => this.boot(c, EMPTY_DISK));
    this.initial = [
      {
        nodes,
        disks: nodes.map(() => EMPTY_DISK),
        parts: nodes.map((n) => this.parts.of(n, EMPTY_DISK.text)),
        network: [],
        proposals: 0,
        leaders: [],
        committed: [],
      },
    ];
  }

  events(s: ClusterState): readonly ClusterEvent[] {
    // A follower or candidate at maxTerm would campaign for a term past the bound.
    const events = this.ticks.filter((_, i) => s.nodes[i]!.role === "leader" || s.nodes[i]!.currentTerm < this.o.maxTerm);
    // Equal messages are interchangeable: act on the first of each run only.
    const distinct = s.network.filter((f, i) => i === 0 || s.network[i - 1]!.key !== f.key);
    for (const f of distinct) events.push(f.deliver);
    for (const f of distinct) events.push(f.drop);
    if (this.o.restarts) events.push(...this.restarts);
    if (s.proposals < this.o.maxEntries) {
      for (let i = 0; i < s.nodes.length; i++) if (s.nodes[i]!.role === "leader") events.push(this.proposes[i]!);
    }
    return events;
  }

  next(s: ClusterState, e: ClusterEvent): ClusterState {
    switch (e.kind) {
      case "tick": {
        const node = s.nodes[e.node - 1]!.clone();
        tickUntilItActs(node);
        return this.settle(s, node, s.network, s.proposals);
      }
      case "deliver": {
        const node = s.nodes[e.flight.message.to - 1]!.clone();
        node.step(e.flight.message);
        return this.settle(s, node, without(s.network, e.flight), s.proposals);
      }
      case "drop":
        return { ...s, network: without(s.network, e.flight) };
      case "restart":
        return this.settle(s, this.boot(this.configs[e.node - 1]!, s.disks[e.node - 1]!), s.network, s.proposals);
      case "propose": {
        const node = s.nodes[e.node - 1]!.clone();
        node.propose(Uint8Array.of(s.proposals + 1));
        return this.settle(s, node, s.network, s.proposals + 1);
      }
    }
  }

  key(s: ClusterState): string {
    return hash64(this.canonical.key(s));
  }

  private boot(config: RaftConfig, disk: Disk): RaftNode {
    const restored: RestoredState = { hardState: disk.hardState, entries: disk.entries, snapshot: null };
    return this.o.bug ? this.o.bug.make(config, restored) : new RaftNode(config, restored);
  }

  /** Drives `node` (already given its input) to quiescence and builds the state after it. */
  private settle(s: ClusterState, node: RaftNode, network: readonly InFlight[], proposals: number): ClusterState {
    const i = node.id - 1;
    let disk = s.disks[i]!;
    let net = network;
    for (let rounds = 0; node.hasReady(); rounds++) {
      if (rounds === MAX_READY_ROUNDS) throw new EndlessReadyError(node.id);
      const ready = node.ready();
      if (ready.snapshot) throw new Error(`n${node.id} got a snapshot to persist, but no server here ever compacts its log`);
      disk = persist(disk, ready.hardState, ready.entries);
      if (ready.messages.length > 0) net = this.send(net, ready.messages);
      node.advance();
    }
    if (node.currentTerm > this.o.maxTerm) return s;
    const disks = replace(s.disks, i, disk);
    return {
      nodes: replace(s.nodes, i, node),
      disks,
      parts: replace(s.parts, i, this.parts.of(node, disk.text)),
      network: withoutDead(net, disks),
      proposals,
      leaders: noteLeader(s.leaders, node),
      committed: noteCommitted(s.committed, node),
    };
  }

  private send(network: readonly InFlight[], messages: readonly Message[]): InFlight[] {
    const net = [...network];
    for (const m of messages) {
      let toInbox = 0;
      let onLink = 0;
      for (const f of net) {
        if (f.message.to !== m.to) continue;
        toInbox++;
        if (f.message.from === m.from) onLink++;
      }
      if (onLink >= this.o.linkCapacity || toInbox >= this.o.inboxCapacity) continue;
      const f = inFlight(m);
      net.splice(sortedPosition(net, f.key), 0, f);
    }
    return net;
  }
}

/**
 * Figure 2 ignores a response from an older term, and a server's term never
 * goes below what its disk holds; so such a response can only ever be lost.
 * It is removed at once: the state without it can do everything the state
 * with it can (delivering it changes nothing, and dropping it gives exactly
 * this state), so no violation is missed, and states that differ only in
 * such leftovers are not explored separately.
 */
function withoutDead(network: readonly InFlight[], disks: readonly Disk[]): readonly InFlight[] {
  const live = network.filter((f) => !(isResponse(f.message) && f.message.term < disks[f.message.to - 1]!.hardState.currentTerm));
  return live.length === network.length ? network : live;
}

function isResponse(m: Message): boolean {
  return m.type === "RequestVoteResponse" || m.type === "AppendEntriesResponse" || m.type === "InstallSnapshotResponse";
}

/**
 * Ticks until the server does something: sends, persists, or changes role or
 * term. Ticks before that only bring a timer closer to firing, and no rule
 * reads a timer below its deadline except "heard from a leader within the
 * minimum election timeout", which holds for every such tick; so the states
 * in between act like the state before them, just nearer the timeout, and
 * skipping them loses no behaviour. A leader acts at each tick (heartbeat 1).
 */
function tickUntilItActs(node: RaftNode): void {
  const { role, currentTerm } = node;
  for (let ticks = 0; ticks < ELECTION_TICKS[1]; ticks++) {
    node.tick();
    if (node.hasReady() || node.role !== role || node.currentTerm !== currentTerm) return;
  }
}

function inFlight(message: Message): InFlight {
  const f = { key: messageKey(message), message, memo: null } as InFlight & { deliver: ClusterEvent; drop: ClusterEvent };
  f.deliver = { kind: "deliver", flight: f };
  f.drop = { kind: "drop", flight: f };
  return f;
}

function sortedPosition(net: readonly InFlight[], key: string): number {
  let lo = 0;
  let hi = net.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (net[mid]!.key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function without(network: readonly InFlight[], f: InFlight): InFlight[] {
  const i = network.indexOf(f);
  return [...network.slice(0, i), ...network.slice(i + 1)];
}

function replace<T>(items: readonly T[], i: number, item: T): T[] {
  const copy = [...items];
  copy[i] = item;
  return copy;
}

/** What a driver writes for one Ready: the hard state, and entries (each replacing the stored suffix from its index). */
function persist(d: Disk, hardState: HardState | null, entries: readonly Entry[]): Disk {
  if (hardState === null && entries.length === 0) return d;
  const stored = [...d.entries];
  for (const e of entries) {
    stored.length = Math.min(stored.length, e.index - 1);
    stored.push(e);
  }
  return disk(hardState ?? d.hardState, stored);
}

function disk(hardState: HardState, entries: readonly Entry[]): Disk {
  return { hardState, entries, text: diskText(hardState, entries) };
}

function noteLeader(leaders: readonly number[], node: RaftNode): readonly number[] {
  if (node.role !== "leader") return leaders;
  const bit = 1 << (node.id - 1);
  const seen = leaders[node.currentTerm] ?? 0;
  if (seen & bit) return leaders;
  const copy = Array.from({ length: Math.max(leaders.length, node.currentTerm + 1) }, (_, t) => leaders[t] ?? 0);
  copy[node.currentTerm] = seen | bit;
  return copy;
}

function noteCommitted(committed: readonly CommittedEntry[], node: RaftNode): readonly CommittedEntry[] {
  const upTo = Math.min(node.commitIndex, node.log.lastIndex());
  if (upTo <= committed.length) return committed;
  const copy = [...committed];
  for (let i = copy.length + 1; i <= upTo; i++) copy.push({ term: node.log.term(i) ?? -1, commitTerm: node.currentTerm });
  return copy;
}
