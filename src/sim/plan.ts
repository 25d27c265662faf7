// A run's schedule of outside events — faults and client operations — drawn
// from the seed before the run starts. Keeping it explicit lets the shrinker
// delete events one by one and replay what is left.

import type { KvCommand } from "../check/linearizability.js";
import type { NodeId } from "../core/types.js";
import { Prng } from "./prng.js";

export const FAULTS = ["drop", "duplicate", "delay", "partition", "oneway", "crash", "aimed", "torn", "disk"] as const;
export type Fault = (typeof FAULTS)[number];

/**
 * What a run has unless told otherwise: every fault but storage faults
 * ("disk"), which break the disk's promise that Raft's proofs rely on and
 * are switched on by name (`--faults all`). The bug zoo's storage-fault
 * variants switch them on themselves.
 */
export const DEFAULT_FAULTS: readonly Fault[] = FAULTS.filter((f) => f !== "disk");

/**
 * Storage faults ("disk"), struck at a crash: what the disk gives back on
 * restart is less than what was fsynced (docs/STORAGE.md).
 *   tail       the last entries are gone
 *   corrupt    one entry is damaged: it and everything after it are cut
 *   snapshot   the snapshot is gone, and with it the log after it
 *   hardstate  the term and vote are gone, the log is intact
 *   wipe       the whole data directory is gone
 */
export const DAMAGE = ["tail", "corrupt", "snapshot", "hardstate", "wipe"] as const;
export type Damage = (typeof DAMAGE)[number];

export type PlanEvent =
  | { readonly at: number; readonly kind: "crash"; readonly node: NodeId }
  | { readonly at: number; readonly kind: "restart"; readonly node: NodeId }
  /**
   * Whichever node leads (in the highest term) when the event comes crashes,
   * and restarts `down` ticks later; nothing happens if no node leads. A
   * fault aimed at a role rather than a name: the moments that matter most
   * (a leader that has just been elected, or has just sent entries to some
   * of its followers) are when the leader goes down.
   */
  | { readonly at: number; readonly kind: "crash-leader"; readonly down: number }
  /**
   * Whichever node leads when the event comes is cut off from all the others
   * (until the next "heal"); nothing happens if no node leads. Unlike a
   * crash, this also stops the messages it has already sent.
   */
  | { readonly at: number; readonly kind: "isolate-leader" }
  /** Links between nodes of different groups are cut, both ways. */
  | { readonly at: number; readonly kind: "partition"; readonly groups: readonly (readonly NodeId[])[] }
  /** The link from `from` to `to` is cut; the other direction still works. */
  | { readonly at: number; readonly kind: "cut"; readonly from: NodeId; readonly to: NodeId }
  | { readonly at: number; readonly kind: "heal" }
  /**
   * Until `until`, every delivered message crashes its receiver right after
   * it is handled with probability `p` (the node restarts a little later):
   * crashes at any moment, not only at round times.
   */
  | { readonly at: number; readonly kind: "storm"; readonly until: number; readonly p: number }
  | { readonly at: number; readonly kind: "network"; readonly drop: number; readonly duplicate: number; readonly maxDelay: number }
  | { readonly at: number; readonly kind: "op"; readonly client: number; readonly input: KvCommand }
  /** An operator asks the current leader to hand its leadership to `to` (thesis §3.10). */
  | { readonly at: number; readonly kind: "transfer"; readonly to: NodeId }
  /** An operator asks the current leader to move the cluster to this configuration (membership changes, thesis ch. 4). */
  | { readonly at: number; readonly kind: "reconfigure"; readonly voters: readonly NodeId[]; readonly learners: readonly NodeId[] }
  /**
   * `node` crashes and its disk gives back less than it had (a storage
   * fault); it restarts `down` ticks later. Skipped when it would leave more
   * than a minority of the servers damaged at once.
   */
  | { readonly at: number; readonly kind: "damage"; readonly node: NodeId; readonly damage: Damage; readonly down: number };

export interface PlanOptions {
  readonly seed: number;
  readonly nodes: number;
  /** Ticks of virtual time with faults. */
  readonly steps: number;
  readonly faults: ReadonlySet<Fault>;
  readonly clients?: number;
  readonly keys?: number;
  /**
   * Leadership transfers now and then (an operator action, not a fault).
   * Drawn from a stream of their own, so a run without them is the same
   * run it always was.
   */
  readonly transfers?: boolean;
  /**
   * Membership changes now and then: the cluster starts with `nodes` voters
   * and MEMBERSHIP_SPARES more servers that no configuration names yet, and
   * an operator moves it to random configurations of all of them (learners,
   * promotions, removals of followers and of the leader, replacements,
   * several voters at once). Drawn from a stream of its own, like transfers.
   */
  readonly membership?: boolean;
  /**
   * The core's optional defences (RaftConfig.preVote and .checkQuorum, thesis
   * §9.6 and §6.2): on unless set to false, as in the server. An embedder may
   * switch them off, which is Raft as Figure 2 states it; runs without them
   * test that configuration. Without check-quorum a leader cut off from the
   * others stays leader until it hears a higher term, so a read it answers
   * without a fresh quorum round is a stale read at once.
   */
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
}

/** Servers a membership run has beyond the bootstrap voters. */
export const MEMBERSHIP_SPARES = 2;

/** Every server of a run: the bootstrap voters, then the spares of a membership run. */
export function serverCount(o: Pick<PlanOptions, "nodes" | "membership">): number {
  return o.nodes + (o.membership ? MEMBERSHIP_SPARES : 0);
}

/**
 * Which run: a seed, and optionally branch points. A branch at tick `at`
 * keeps everything before `at` and draws the rest of the run — faults,
 * client operations and every random choice — from its own seed. The
 * search uses branches to explore many futures of an interesting moment.
 * Written as "SEED" or "SEED~AT:SEED~AT:SEED" (see specToString).
 */
export interface RunSpec {
  readonly seed: number;
  readonly branches: readonly { readonly at: number; readonly seed: number }[];
}

/**
 * A run's whole schedule: its options, the events drawn from its seed, and
 * the knobs drawn with them. (Named SimPlan so as not to be confused with
 * src/kv/plan.ts's Plan, what a Redis command will do.)
 */
export interface SimPlan extends PlanOptions {
  readonly spec: RunSpec;
  readonly events: readonly PlanEvent[];
  /** Entry bytes per AppendEntries: small values split batches, which some bugs need. */
  readonly maxBytesPerAppend: number;
  /** The election timeout range in ticks: a narrow one makes split votes common, where vote bugs live. */
  readonly electionTicks: readonly [number, number];
  /** Ticks after the faults during which the network is perfect and every node up: the cluster must recover. */
  readonly healTicks: number;
  /**
   * A branched run ends BRANCH_HORIZON ticks after its last branch point,
   * with no healing period: it exists to try one future of one moment.
   */
  readonly stopAt: number | null;
  /**
   * For the shrinker: random losses and storm crashes that do not happen,
   * by their number in the run (the k-th message the network chose to drop,
   * the k-th crash a storm chose). The random draws are made all the same,
   * so the rest of the run keeps its random choices.
   */
  readonly spare?: { readonly drops: ReadonlySet<number>; readonly crashes: ReadonlySet<number> };
}

export const BRANCH_HORIZON = 300;

export function specToString(spec: RunSpec): string {
  return [String(spec.seed), ...spec.branches.map((b) => `${b.at}:${b.seed}`)].join("~");
}

export function parseSpec(text: string): RunSpec | null {
  const [head, ...rest] = text.split("~");
  if (!/^\d+$/.test(head ?? "")) return null;
  const branches: { at: number; seed: number }[] = [];
  for (const part of rest) {
    const m = /^(\d+):(\d+)$/.exec(part);
    if (!m) return null;
    branches.push({ at: Number(m[1]), seed: Number(m[2]) });
  }
  return { seed: Number(head), branches };
}

export function generatePlan(o: PlanOptions, branches: RunSpec["branches"] = []): SimPlan {
  const base = new Prng(o.seed ^ 0x5eed);
  const maxBytesPerAppend = base.pick([1, 200, 1 << 20]);
  const electionTicks = base.pick<readonly [number, number]>([[15, 30], [15, 17]]);
  const windows = [{ from: 0, seed: o.seed }, ...branches.map((b) => ({ from: b.at, seed: b.seed }))];
  const events: PlanEvent[] = [];
  windows.forEach((w, i) => {
    const to = i + 1 < windows.length ? windows[i + 1]!.from : Infinity;
    // Faults strike every server, spares included.
    const all = { ...o, nodes: serverCount(o) };
    for (const e of generateEvents(all, new Prng(w.seed ^ 0x5eed ^ (i * 0x9e3779b9)), w.from)) if (e.at < to) events.push(e);
    if (o.transfers) for (const e of generateTransfers(all, new Prng(w.seed ^ 0x7a2f5e1 ^ (i * 0x9e3779b9)), w.from)) if (e.at < to) events.push(e);
    if (o.membership) for (const e of generateReconfigurations(all, new Prng(w.seed ^ 0x3e3be75 ^ (i * 0x9e3779b9)), w.from)) if (e.at < to) events.push(e);
    if (o.faults.has("disk")) for (const e of generateDamage(o, new Prng(w.seed ^ 0xd15cfa17 ^ (i * 0x9e3779b9)), w.from)) if (e.at < to) events.push(e);
  });
  events.sort((a, b) => a.at - b.at);
  const last = branches.at(-1);
  const stopAt = last ? Math.min(o.steps, last.at + BRANCH_HORIZON) : null;
  return { ...o, clients: o.clients ?? 3, keys: o.keys ?? 2, spec: { seed: o.seed, branches }, events, maxBytesPerAppend, electionTicks, healTicks: 400, stopAt };
}

/** Leadership transfers from tick `from` on, to a random node, every 40-200 ticks. */
function generateTransfers(o: PlanOptions, rng: Prng, from: number): PlanEvent[] {
  const events: PlanEvent[] = [];
  for (let t = from + rng.range(20, 120); t < o.steps; t += rng.range(40, 200)) events.push({ at: t, kind: "transfer", to: 1 + rng.int(o.nodes) });
  return events;
}

/**
 * Membership changes from tick `from` on, every 5-100 ticks: a random
 * non-empty set of voters (at most five) and some of the others as learners.
 * Many are refused (one change at a time); the leader's own removal, several
 * voters replaced at once and learner-only changes all come up.
 */
function generateReconfigurations(o: PlanOptions, rng: Prng, from: number): PlanEvent[] {
  const ids = Array.from({ length: o.nodes }, (_, i) => i + 1);
  const events: PlanEvent[] = [];
  for (let t = from + rng.range(10, 100); t < o.steps; t += rng.range(5, 100)) {
    const order = rng.shuffle(ids);
    const size = rng.range(1, Math.min(5, ids.length));
    const rest = order.slice(size);
    events.push({ at: t, kind: "reconfigure", voters: order.slice(0, size).sort((a, b) => a - b), learners: rest.filter(() => rng.chance(0.5)).sort((a, b) => a - b) });
  }
  return events;
}

/**
 * Storage faults from tick `from` on, every 60-400 ticks. Drawn from a stream
 * of their own, so the other faults and the client operations of a seed are
 * the same with or without them.
 */
function generateDamage(o: PlanOptions, rng: Prng, from: number): PlanEvent[] {
  const events: PlanEvent[] = [];
  for (let t = from + rng.range(30, 200); t < o.steps; t += rng.range(60, 400)) {
    events.push({ at: t, kind: "damage", node: 1 + rng.int(o.nodes), damage: rng.pick(DAMAGE), down: rng.chance(0.5) ? rng.range(1, 10) : rng.range(10, 120) });
  }
  return events;
}

/** Faults and client operations from tick `from` on. */
function generateEvents(o: PlanOptions, rng: Prng, from: number): PlanEvent[] {
  const ids = Array.from({ length: o.nodes }, (_, i) => i + 1);
  const clients = o.clients ?? 3;
  const keys = o.keys ?? 2;
  const events: PlanEvent[] = [];
  const has = (f: Fault) => o.faults.has(f);

  // Faults: a new one every so often, each with its own end.
  const down = new Set<NodeId>();
  const pendingRestarts: [number, NodeId][] = [];
  // A branch exists to try futures of one moment: its first fault often strikes at once.
  let t = from === 0 ? rng.range(20, 80) : from + (rng.chance(0.5) ? rng.range(0, 3) : rng.range(1, 80));
  while (t < o.steps) {
    const choices: (() => void)[] = [];
    if (has("crash")) {
      const up = ids.filter((id) => !down.has(id));
      if (up.length > 0)
        choices.push(() => {
          const node = rng.pick(up);
          down.add(node);
          events.push({ at: t, kind: "crash", node });
          // Quick restarts matter: a node back within one election can meet its old term again.
          const back = t + (rng.chance(0.5) ? rng.range(1, 15) : rng.range(15, 200));
          if (back < o.steps) {
            events.push({ at: back, kind: "restart", node });
            pendingRestarts.push([back, node]);
          }
        });
    }
    if (has("crash"))
      choices.push(() => {
        events.push({ at: t, kind: "storm", until: Math.min(o.steps, t + rng.range(30, 300)), p: rng.pick([0.002, 0.01, 0.03]) });
      });
    if (has("partition"))
      choices.push(() => {
        const shuffled = rng.shuffle(ids);
        const cut = rng.range(1, ids.length - 1);
        events.push({ at: t, kind: "partition", groups: [shuffled.slice(0, cut), shuffled.slice(cut)] });
        events.push({ at: Math.min(o.steps, t + rng.range(10, 250)), kind: "heal" });
      });
    // Faults aimed at the leader, a fault kind of their own: swarm testing
    // (search.ts) gives them to about half the runs, and the other half keep
    // the crash and partition mix of runs without them.
    if (has("aimed")) {
      choices.push(() => {
        events.push({ at: t, kind: "crash-leader", down: rng.chance(0.5) ? rng.range(1, 15) : rng.range(15, 200) });
      });
      choices.push(() => {
        events.push({ at: t, kind: "isolate-leader" });
        events.push({ at: Math.min(o.steps, t + rng.range(10, 250)), kind: "heal" });
      });
    }
    if (has("oneway"))
      choices.push(() => {
        const from = rng.pick(ids);
        const to = rng.pick(ids.filter((id) => id !== from));
        events.push({ at: t, kind: "cut", from, to });
        events.push({ at: Math.min(o.steps, t + rng.range(10, 200)), kind: "heal" });
      });
    if (has("drop") || has("duplicate") || has("delay"))
      choices.push(() => {
        events.push({
          at: t,
          kind: "network",
          drop: has("drop") ? rng.pick([0, 0.05, 0.2, 0.5]) : 0,
          duplicate: has("duplicate") ? rng.pick([0, 0.05, 0.2]) : 0,
          maxDelay: has("delay") ? rng.pick([2, 5, 15, 40]) : 2,
        });
      });
    if (choices.length === 0) break;
    rng.pick(choices)();
    t += rng.range(10, 120);
    // Restarts scheduled above free their node for another crash.
    for (let i = pendingRestarts.length - 1; i >= 0; i--) {
      if (pendingRestarts[i]![0] <= t) {
        down.delete(pendingRestarts[i]![1]);
        pendingRestarts.splice(i, 1);
      }
    }
  }

  // Client operations: each client thinks a little between requests.
  // Values are unique within a run (branches tag theirs), which gives the linearizability check its power.
  const tag = from === 0 ? "" : `b${from}.`;
  let counter = 0;
  for (let c = 1; c <= clients; c++) {
    for (let at = from + rng.range(0, 20); at < o.steps + 200; at += rng.range(3, 40)) {
      const key = `k${rng.int(keys)}`;
      const r = rng.float();
      const input: KvCommand =
        r < 0.4 ? { op: "get", key } : r < 0.75 ? { op: "set", key, value: `${tag}c${c}v${++counter}` } : r < 0.9 ? { op: "append", key, value: `+${tag}${++counter}` } : { op: "incr", key };
      events.push({ at, kind: "op", client: c, input });
    }
  }

  return events;
}
