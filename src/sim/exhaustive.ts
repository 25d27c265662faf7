// `raftkv sim --exhaustive`: bounded model checking of the real Raft core.
// Every interleaving of ticks, deliveries, losses, crashes and proposals
// that the bounds allow is explored breadth first (see exhaustive-model.ts
// for the model and its bounds, exhaustive-invariants.ts for what is
// checked), so a violation comes with a shortest path to it, and a complete
// exploration without one is a proof for those bounds.

import { explore, type ExploreProgress } from "../explore/explorer.js";
import { INVARIANTS, TRANSITION_CHECKS } from "./exhaustive-invariants.js";
import { clusterModel, type ClusterOptions } from "./exhaustive-model.js";
import { describePath } from "./exhaustive-report.js";
import type { Bug } from "./zoo.js";

export interface ExhaustiveOptions {
  readonly nodes: number;
  readonly maxTerm: number;
  readonly maxEntries: number;
  /** Stop, incomplete, rather than visit more distinct states. */
  readonly maxStates: number;
  readonly bug?: Bug | undefined;
  /** Default true, as in the core. */
  readonly preVote?: boolean;
  /** Default true, as in the core. */
  readonly checkQuorum?: boolean;
  /** Messages in flight per (from, to) link; more are lost. Default 1. */
  readonly linkCapacity?: number;
  /** Messages in flight to one server; more are lost. Default 1. */
  readonly inboxCapacity?: number;
  /** Explore crash-and-restart events. Default true. */
  readonly restarts?: boolean;
  /** Symmetry reduction: states equal up to renaming the servers count once. Default true. */
  readonly symmetry?: boolean;
  /** Called after each breadth-first level (a progress display). */
  readonly onProgress?: (progress: ExploreProgress) => void;
}

export interface ExhaustiveResult {
  /** What the CLI prints: the bounds, the counts, and a violation's path. */
  readonly report: string;
  readonly violation: boolean;
  /** The property violated, when one is. */
  readonly invariant?: string;
  /** Events on the path to the violation. */
  readonly pathLength?: number;
  readonly statesExplored: number;
  readonly transitions: number;
  readonly depth: number;
  /** Every state within the bounds was explored. */
  readonly complete: boolean;
}

/** Server ids are bits of a mask and single characters in keys; beyond a few servers the state space is out of reach anyway. */
const MAX_NODES = 9;

export function exhaustive(o: ExhaustiveOptions): ExhaustiveResult {
  if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > MAX_NODES) throw new RangeError(`exhaustive mode takes 1 to ${MAX_NODES} servers, got ${o.nodes}`);
  const options: ClusterOptions = {
    nodes: o.nodes,
    maxTerm: o.maxTerm,
    maxEntries: o.maxEntries,
    bug: o.bug,
    preVote: o.preVote ?? true,
    checkQuorum: o.checkQuorum ?? true,
    linkCapacity: o.linkCapacity ?? 1,
    inboxCapacity: o.inboxCapacity ?? 1,
    restarts: o.restarts ?? true,
    symmetry: o.symmetry ?? true,
  };
  const started = performance.now();
  const r = explore(clusterModel(options), { maxStates: o.maxStates, ...(o.onProgress && { onProgress: o.onProgress }) });
  const seconds = (performance.now() - started) / 1000;

  const lines = [
    `exhaustive: ${options.nodes} servers running ${o.bug ? `bug ${o.bug.name}` : "the real core"}; ` +
      `terms <= ${options.maxTerm}, client entries <= ${options.maxEntries}, restarts ${onOff(options.restarts)}`,
    `  pre-vote ${onOff(options.preVote)}, check-quorum ${onOff(options.checkQuorum)}; election timeout 2 ticks, heartbeat 1 tick ` +
      `(a tick runs a server's clock until it acts)`,
    `  in flight: <= ${options.linkCapacity} per link, <= ${options.inboxCapacity} to a server (a send beyond is lost); ` +
      `symmetry reduction ${onOff(options.symmetry)}`,
    `explored ${r.statesExplored} states, ${r.transitions} transitions, depth ${r.maxDepthReached} in ${seconds.toFixed(1)} s ` +
      `(${Math.round(r.statesExplored / Math.max(seconds, 1e-3))} states/s)`,
  ];
  if (r.complete) lines.push("  complete: every state within these bounds was explored");
  else if (r.stoppedBy === "maxStates") lines.push(`  INCOMPLETE: stopped at ${o.maxStates} states (raise --max-states); the states beyond were not checked`);

  const v = r.violation;
  if (v) {
    lines.push(`VIOLATION of ${v.invariant}: ${v.message}`, `path (${v.path.steps.length} events, the shortest there is):`, ...describePath(v.path));
  } else {
    lines.push(`no violation of: ${[...INVARIANTS, ...TRANSITION_CHECKS].map((c) => c.name).join(", ")}`);
  }
  return {
    report: lines.join("\n"),
    violation: v !== undefined,
    ...(v && { invariant: v.invariant, pathLength: v.path.steps.length }),
    statesExplored: r.statesExplored,
    transitions: r.transitions,
    depth: r.maxDepthReached,
    complete: r.complete,
  };
}

function onOff(on: boolean): string {
  return on ? "on" : "off";
}
