// Finding bugs by search. Plain random runs rarely line up the four or five
// faults a deep bug needs (the paper's Figure 8 takes three leaders, two
// crashes and a lost message, each at the right moment). So the search
// keeps what it has learnt: whenever a run reaches a KIND of cluster state
// it has never seen (an abstract signature of roles, terms and the shape of
// the uncommitted logs), that moment becomes a branch point, and later runs
// replay up to it and draw a fresh future from there. This is novelty
// search over schedules — the idea behind coverage-guided fuzzers — and it
// needs no knowledge of any particular bug.

import { generatePlan, type Fault, type RunSpec } from "./plan.js";
import { Prng } from "./prng.js";
import { runPlan, type RunResult } from "./run.js";
import type { World } from "./world.js";
import { verdict, type Bug } from "./zoo.js";

export interface SearchOptions {
  readonly seed: number;
  readonly nodes: readonly number[];
  readonly steps: number;
  readonly faults: ReadonlySet<Fault>;
  readonly transfers?: boolean;
  /** Membership changes in every run (PlanOptions.membership). */
  readonly membership?: boolean;
  /** The core's optional defences (PlanOptions.preVote, .checkQuorum): on unless false. */
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly bug?: Bug | undefined;
  /** Stop after this many milliseconds, measured with `now`. */
  readonly budgetMs: number;
  readonly now: () => number;
  /** Stop after this many runs. */
  readonly maxRuns?: number;
  /** Branch from novel states (default); false gives plain independent random runs. */
  readonly branching?: boolean;
  /**
   * Swarm testing (default on): each fresh run keeps a random subset of the
   * faults (each with probability 1/2, at least one), and its branches keep
   * the same subset. A run without, say, crash storms or message loss lines
   * up long sequences that those faults would break up.
   */
  readonly swarm?: boolean;
  /**
   * Energy (default off): a branch point whose futures found new kinds of
   * state is worth more — its value grows by the new signatures its runs
   * added (as in coverage-guided fuzzers' power schedules).
   */
  readonly energy?: boolean;
  /** Called after every run (a progress display). */
  readonly onRun?: (progress: SearchProgress) => void;
}

export interface SearchProgress {
  readonly runs: number;
  readonly ticks: number;
  readonly elapsedMs: number;
  readonly signatures: number;
  /** Runs that broke an invariant the bug is not pinned to, so far. */
  readonly others: number;
}

export interface SearchResult {
  readonly runs: number;
  readonly ticks: number;
  readonly elapsedMs: number;
  readonly signatures: number;
  /** A run that broke an invariant the bug is pinned to (any violation, on the real core). */
  readonly found: RunResult | null;
  /**
   * With a bug: runs that broke some other invariant, by invariant (the first
   * such run, and how many). They do not count as finding the bug; the search
   * goes on. One that is not among the bug's side effects is a bug in the
   * variant or in the simulator.
   */
  readonly others: ReadonlyMap<string, { readonly first: RunResult; count: number }>;
}

interface BranchPoint {
  readonly spec: RunSpec;
  readonly nodes: number;
  readonly faults: ReadonlySet<Fault>;
  readonly at: number;
  /** How far the logs have drifted apart there (see divergence). */
  readonly score: number;
  picks: number;
  /** New signatures found by runs branched from here. */
  yield: number;
}

const MAX_NEW_POINTS_PER_RUN = 4;
const MAX_BRANCH_DEPTH = 12;
/**
 * Weights of a node whose log disagrees with the newest committed log at or
 * below the commit index: its entries there are older than the committed
 * ones ("!"), or newer ("^" — the rare kind, which the last-term comparison
 * of an election favours). Measured in docs/SIMULATION.md ("Figure 8 on
 * every seed").
 */
const CONFLICT_WEIGHT = 1;
const NEWER_WEIGHT = 6;
/** Branch points drawn per pick; the most valuable one is branched from. */
const TOURNAMENT = 10;

export function search(o: SearchOptions): SearchResult {
  const start = o.now();
  const rng = new Prng(o.seed);
  const seen = new Set<string>();
  const corpus: BranchPoint[] = [];
  const others = new Map<string, { first: RunResult; count: number }>();
  let runs = 0;
  let ticks = 0;
  while (o.now() - start < o.budgetMs && runs < (o.maxRuns ?? Infinity)) {
    const from = (o.branching ?? true) && corpus.length > 0 && rng.chance(0.8) ? pickPoint(corpus, rng, o.energy ?? false) : null;
    const nodes = from?.nodes ?? rng.pick(o.nodes);
    const faults = from?.faults ?? ((o.swarm ?? true) ? swarm(o.faults, rng) : o.faults);
    const spec: RunSpec = from
      ? { seed: from.spec.seed, branches: [...from.spec.branches, { at: from.at, seed: rng.u32() }] }
      : { seed: rng.u32(), branches: [] };
    const plan = generatePlan({ seed: spec.seed, nodes, steps: o.steps, faults, transfers: o.transfers ?? false, membership: o.membership ?? false, preVote: o.preVote ?? true, checkQuorum: o.checkQuorum ?? true }, spec.branches);
    const branchedAt = spec.branches.at(-1)?.at ?? 0;
    let added = 0;
    const result = runPlan(plan, {
      bug: o.bug,
      onTick: (w) => {
        if (w.now < branchedAt || w.now >= o.steps || added >= MAX_NEW_POINTS_PER_RUN || spec.branches.length >= MAX_BRANCH_DEPTH) return;
        const sig = signature(w);
        if (seen.has(sig)) return;
        seen.add(sig);
        corpus.push({ spec, nodes, faults, at: w.now + 1, score: divergence(sig), picks: 0, yield: 0 });
        added++;
      },
    });
    runs++;
    ticks += result.stats.ticks;
    if (from) from.yield += added;
    o.onRun?.({ runs, ticks, elapsedMs: o.now() - start, signatures: seen.size, others: [...others.values()].reduce((n, x) => n + x.count, 0) });
    const v = result.violation;
    if (v && o.bug && verdict(o.bug, v.invariant) !== "pinned") {
      const known = others.get(v.invariant);
      if (known) known.count++;
      else others.set(v.invariant, { first: result, count: 1 });
    } else if (v) return { runs, ticks, elapsedMs: o.now() - start, signatures: seen.size, found: result, others };
  }
  return { runs, ticks, elapsedMs: o.now() - start, signatures: seen.size, found: null, others };
}

/** A random subset of `faults`, each kept with probability 1/2, never empty (swarm testing). */
export function swarm(faults: ReadonlySet<Fault>, rng: Prng): ReadonlySet<Fault> {
  const all = [...faults];
  if (all.length <= 1) return faults;
  const kept = all.filter(() => rng.chance(0.5));
  return new Set(kept.length > 0 ? kept : [rng.pick(all)]);
}

/**
 * A tournament: of a few random branch points, the one whose logs diverge
 * most, discounted by how often it was tried already. Safety bugs live where
 * logs disagree about uncommitted entries, so that is where the search
 * spends its time; the discount keeps it from digging one hole forever.
 */
function pickPoint(corpus: BranchPoint[], rng: Prng, energy: boolean): BranchPoint {
  const value = (p: BranchPoint) => (p.score + (energy ? 2 * p.yield : 0)) / (1 + p.picks);
  let best = rng.pick(corpus);
  for (let i = 1; i < TOURNAMENT; i++) {
    const c = rng.pick(corpus);
    if (value(c) > value(best)) best = c;
  }
  best.picks++;
  return best;
}

/**
 * How much the nodes disagree, read off a signature: distinct uncommitted
 * log shapes plus distinct terms in them (disagreement about the log), plus
 * the campaigns that compete in one term (disagreement about leadership:
 * two candidates, or a candidate and a leader, of the same term), plus the
 * nodes whose log disagrees with the committed log (disagreement about
 * history: weighted by CONFLICT_WEIGHT, and NEWER_WEIGHT when the node's
 * entries there are of a newer term than the committed ones).
 */
export function divergence(sig: string): number {
  const shapes = new Set<string>();
  const terms = new Set<string>();
  const campaigns = new Map<string, number>();
  let conflicting = 0;
  let newer = 0;
  for (const node of sig.split("|")) {
    const m = /^([a-z])v?(\d+)[=<]([!^]?)(.*)$/.exec(node);
    if (!m) continue;
    if (m[3] === "!") conflicting++;
    if (m[3] === "^") newer++;
    if (m[1] === "c" || m[1] === "l") campaigns.set(m[2]!, (campaigns.get(m[2]!) ?? 0) + 1);
    if (m[4] === "") continue;
    shapes.add(m[4]!);
    for (const t of m[4]!.split(",")) terms.add(t);
  }
  let contested = 0;
  for (const n of campaigns.values()) contested += n - 1;
  return 1 + shapes.size + terms.size + 2 * contested + CONFLICT_WEIGHT * conflicting + NEWER_WEIGHT * newer;
}

/**
 * An abstract picture of the cluster, blind to node names and absolute
 * numbers: for each node, whether it is up, its role, the rank of its term
 * among the terms in play, whether it knows the newest commit index, and
 * the terms (as ranks) of its log entries past the newest commit index —
 * or, for a node whose log disagrees with that of a node knowing the newest
 * commit index at or below it, from where they disagree, marked "!" (its
 * entries there are of older terms) or "^" (of newer terms).
 */
export function signature(w: World): string {
  const live = [...w.nodes.values()].filter((n) => n.raft);
  const commit = Math.max(0, ...live.map((n) => n.raft!.commitIndex));
  // The log of a node that knows the newest commit index: entries of other
  // nodes at or below it that disagree with it are shown too (a node holding
  // entries that conflict with committed ones, or with ones about to be).
  const ref = live.find((n) => n.raft!.commitIndex === commit)?.raft!.log;
  const terms = new Set<number>();
  const suffixes = new Map<number, number[]>();
  const conflicts = new Map<number, string>();
  for (const n of live) {
    const log = n.raft!.log;
    terms.add(n.raft!.currentTerm);
    let from = commit + 1;
    if (ref && log !== ref) {
      const top = Math.min(commit, log.lastIndex());
      let j = top;
      // Log Matching: the first index from the top where the terms agree ends the disagreement.
      while (top - j < 64) {
        const mine = log.term(j);
        const theirs = ref.term(j);
        if (mine === undefined || theirs === undefined || mine === theirs) break;
        j--;
      }
      if (j < top) {
        from = j + 1;
        conflicts.set(n.id, log.term(top)! > ref.term(top)! ? "^" : "!");
      }
    }
    const runs: number[] = [];
    for (let i = Math.max(from, log.firstIndex()); i <= log.lastIndex(); i++) {
      const t = log.term(i)!;
      if (runs.at(-1) !== t) runs.push(t);
    }
    const tail = runs.slice(-4);
    for (const t of tail) terms.add(t);
    suffixes.set(n.id, tail);
  }
  const rank = new Map([...terms].sort((a, b) => a - b).map((t, i) => [t, i]));
  const parts = [...w.nodes.values()].map((n) => {
    if (!n.raft) return "down";
    const r = n.raft;
    const known = r.commitIndex === commit ? "=" : "<";
    const voted = r.votedFor !== null && r.role === "follower" ? "v" : "";
    return `${r.role[0]}${voted}${rank.get(r.currentTerm)}${known}${conflicts.get(n.id) ?? ""}${suffixes.get(n.id)!.map((t) => rank.get(t)).join(",")}`;
  });
  return parts.sort().join("|");
}
