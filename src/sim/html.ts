// `raftkv sim --replay SEED --html FILE`: one simulated run as a page that
// plays it tick by tick — roles, terms, logs as term-coloured boxes, commit
// indexes, crashed nodes, cut links and the messages of each tick.
//
// The trace alone does not hold the nodes' state, so the run is played
// again (runs are deterministic) with a hook at the end of every tick that
// snapshots every node. The page embeds the first snapshot whole and then,
// tick by tick, only what changed; its script rebuilds every tick's state
// on load. Long runs keep their last `maxTicks` ticks, where a violation is.

import type { Role } from "../core/types.js";
import { FAULTS, specToString, type SimPlan } from "./plan.js";
import type { RunResult } from "./run.js";
import { World, type SimNode } from "./world.js";
import type { Bug } from "./zoo.js";
import { renderPage } from "./html-page.js";
import type { Delta, NodeTuple, ReplayData, TraceLine } from "./replay-data.js";
import { isChatter, isNotable, messageOf, renderEvent, renderLine, type SimEvent } from "./trace.js";
import { isDeepStrictEqual } from "node:util";

export type { ReplayData, TraceLine } from "./replay-data.js";

export interface ReplayPageOptions {
  /** The bug-zoo variant the run was made with, if any: the replay must use it too. */
  readonly bug?: Bug | undefined;
  /** At most this many ticks are kept (the last ones). Default 3000. */
  readonly maxTicks?: number;
}

/** The run played again did not give the same events: the page would show another run. */
export class ReplayDivergedError extends Error {
  override readonly name = "ReplayDivergedError";
}

/**
 * The page, as one self-contained HTML string. `result` must come from a
 * traced run (runPlan(plan, { trace: true })); its replay is checked against
 * that trace, and ReplayDivergedError thrown if they differ.
 */
export function replayPage(result: RunResult, o: ReplayPageOptions = {}): string {
  return renderPage(recordReplay(result, o));
}

// ---------------------------------------------------------------------------
// The embedded data
// ---------------------------------------------------------------------------

/** Role codes in the data: index into ROLES; DOWN for a crashed node. */
const ROLES: readonly (Role | "down")[] = ["follower", "precandidate", "candidate", "leader", "down"];
const DOWN = 4;


/** A node's log: the snapshot's last index and term, then the term of each entry after it. */
interface LogView {
  readonly base: number;
  readonly baseTerm: number;
  readonly terms: readonly number[];
}

interface NodeView {
  readonly tuple: NodeTuple;
  readonly log: LogView;
  /** A leader's matchIndex for every node (its own last index for itself); null unless leader. */
  readonly match: readonly number[] | null;
}

interface Frame {
  /** The tick this frame ends (-1: the state before the first tick). */
  readonly t: number;
  readonly nodes: readonly NodeView[];
  /** Cut links as "from>to". */
  readonly cut: readonly string[];
  /** The network's condition, in words. */
  readonly net: string;
  /** The trace events of this tick, as the page shows them. */
  readonly lines: readonly TraceLine[];
}

/** Plays the run again, snapshotting every tick, and encodes the frames. */
export function recordReplay(result: RunResult, o: ReplayPageOptions = {}): ReplayData {
  const plan = result.plan;
  const max = o.maxTicks ?? 3000;
  // The world itself rather than runPlan: the page needs the state before the first tick and at a violation, which ends its tick early.
  const world = new World({ plan, bug: o.bug, trace: true });
  const faults = new FaultView(plan);
  const frames: Frame[] = [];
  let consumed = 0;
  const capture = (t: number): void => {
    const prev = frames.at(-1);
    faults.advanceTo(t);
    const lines = world.trace.slice(consumed).map(traceLine);
    consumed = world.trace.length;
    const cut = faults.cutLinks();
    frames.push({
      t,
      nodes: world.ids.map((id, i) => viewNode(world.nodes.get(id)!, world.ids, prev?.nodes[i])),
      cut: prev && sameArray(prev.cut, cut) ? prev.cut : cut,
      net: faults.describe(t),
      lines,
    });
    // Trimmed in chunks so that a long run costs amortised O(1) per tick.
    if (frames.length >= 2 * max) frames.splice(0, frames.length - max);
  };
  capture(-1);
  world.onTick = (w) => capture(w.now);
  world.run();
  // A violation ends its tick before the hook runs; the liveness check fails after the last tick.
  if (world.violation || world.trace.length > consumed) capture(world.now);
  if (frames.length > max) frames.splice(0, frames.length - max);
  checkSameRun(result.trace, world.trace);

  const first = frames[0]!;
  const bugName = o.bug?.name ?? null;
  return {
    title: `seed ${result.plan.spec.seed}, ${plan.nodes} nodes${bugName ? `, bug ${bugName}` : ""}`,
    replay: replayText(plan, bugName),
    ids: world.ids,
    roles: ROLES,
    bug: bugName,
    violation: result.violation,
    omitted: Math.max(0, first.t),
    start: {
      t: first.t,
      n: first.nodes.map((v) => v.tuple),
      l: first.nodes.map((v) => [v.log.base, v.log.baseTerm, ...v.log.terms]),
      m: first.nodes.map((v) => v.match),
      c: first.cut,
      w: first.net,
      x: first.lines,
    },
    deltas: frames.slice(1).map((f, k) => encodeDelta(frames[k]!, f)),
  };
}

function viewNode(n: SimNode, ids: readonly number[], prev: NodeView | undefined): NodeView {
  const r = n.raft;
  let tuple: NodeTuple;
  let log: LogView;
  let match: number[] | null = null;
  if (r) {
    tuple = [ROLES.indexOf(r.role), r.currentTerm, r.votedFor, r.leaderId, r.commitIndex, r.lastApplied];
    const base = r.log.snapshotIndex;
    log = { base, baseTerm: r.log.snapshotTerm, terms: r.log.slice(base + 1, r.log.lastIndex() + 1).map((e) => e.term) };
    if (r.role === "leader") match = ids.map((id) => (id === n.id ? r.log.lastIndex() : r.progress.get(id)?.matchIndex ?? 0));
  } else {
    // Crashed: what its disk holds is what it will come back with.
    tuple = [DOWN, n.disk.hardState?.currentTerm ?? 0, n.disk.hardState?.votedFor ?? null, null, null, null];
    log = { base: n.disk.snapshot?.lastIncludedIndex ?? 0, baseTerm: n.disk.snapshot?.lastIncludedTerm ?? 0, terms: n.disk.entries.map((e) => e.term) };
  }
  if (!prev) return { tuple, log, match };
  const samelog = prev.log.base === log.base && prev.log.baseTerm === log.baseTerm && sameArray(prev.log.terms, log.terms);
  return {
    tuple: sameArray(prev.tuple, tuple) ? prev.tuple : tuple,
    log: samelog ? prev.log : log,
    match: prev.match && match && sameArray(prev.match, match) ? prev.match : match,
  };
}

function encodeDelta(prev: Frame, f: Frame): Delta {
  const d: Delta = { t: f.t, x: f.lines };
  f.nodes.forEach((v, i) => {
    const p = prev.nodes[i]!;
    if (v.tuple !== p.tuple) (d.n ??= {})[i] = v.tuple;
    if (v.log !== p.log) (d.l ??= {})[i] = encodeLog(p.log, v.log);
    if (v.match !== p.match) (d.m ??= {})[i] = v.match;
  });
  if (f.cut !== prev.cut) d.c = f.cut;
  if (f.net !== prev.net) d.w = f.net;
  return d;
}

/** [base, baseTerm, keep, ...terms]: the new log shares entries base+1..keep with the previous one. */
function encodeLog(p: LogView, v: LogView): number[] {
  let keep = v.base;
  if (v.base >= p.base) {
    const pLast = p.base + p.terms.length;
    while (keep < pLast && keep - v.base < v.terms.length && p.terms[keep - p.base] === v.terms[keep - v.base]) keep++;
  }
  return [v.base, v.baseTerm, keep, ...v.terms.slice(keep - v.base)];
}

/** The network as the plan made it at each tick: the same events the world carries out, kept in view. */
class FaultView {
  private readonly cut = new Set<string>();
  private drop = 0;
  private duplicate = 0;
  private maxDelay = 2;
  private storm: { until: number; p: number } | null = null;
  private pos = 0;
  /** The next tick whose events are still to be carried out. */
  private next = 0;

  constructor(private readonly plan: SimPlan) {}

  /** Carries out the events of every tick up to and including `t`, in the world's order: healing first, then the plan's events. */
  advanceTo(t: number): void {
    for (; this.next <= t; this.next++) {
      if (this.next === this.plan.steps) this.heal();
      while (this.pos < this.plan.events.length && this.plan.events[this.pos]!.at <= this.next) {
        const e = this.plan.events[this.pos++]!;
        switch (e.kind) {
          case "partition":
            this.cut.clear();
            for (const a of e.groups) for (const b of e.groups) if (a !== b) for (const x of a) for (const y of b) this.cut.add(`${x}>${y}`);
            break;
          case "cut":
            this.cut.add(`${e.from}>${e.to}`);
            break;
          case "heal":
            this.cut.clear();
            break;
          case "network":
            this.drop = e.drop;
            this.duplicate = e.duplicate;
            this.maxDelay = e.maxDelay;
            break;
          case "storm":
            this.storm = { until: e.until, p: e.p };
            break;
          case "crash":
          case "crash-leader":
          case "isolate-leader":
          case "restart":
          case "op":
            break; // seen in the nodes themselves
        }
      }
    }
  }

  private heal(): void {
    this.cut.clear();
    this.drop = 0;
    this.duplicate = 0;
    this.maxDelay = 2;
  }

  cutLinks(): string[] {
    return [...this.cut].sort();
  }

  describe(t: number): string {
    const parts = [`delay 1–${this.maxDelay} ticks`];
    if (this.drop > 0) parts.push(`drop ${Math.round(this.drop * 100)}%`);
    if (this.duplicate > 0) parts.push(`duplicate ${Math.round(this.duplicate * 100)}%`);
    if (this.storm && t < this.storm.until) parts.push(`crash storm until t=${this.storm.until}`);
    if (t >= this.plan.steps) parts.push("faults over: healing");
    return parts.join(" · ");
  }
}

/** One event as the page shows it: its words, how to style it, and the arrow of a message. */
export function traceLine(e: SimEvent): TraceLine {
  const tag = e.kind === "violation" ? "bad" : isNotable(e) ? "event" : isChatter(e) ? "chatter" : "";
  const m = messageOf(e);
  if (!m) return { text: renderEvent(e), tag };
  let label: string = m.type;
  let color = "#3b76d8";
  if (m.type === "RequestVote") [label, color] = [m.preVote ? "pre-vote?" : "vote?", "#8e44ad"];
  else if (m.type === "RequestVoteResponse") [label, color] = [m.voteGranted ? "yes" : "no", "#b07cc6"];
  else if (m.type === "AppendEntries") label = m.entries.length > 0 ? `append ${m.entries.length}` : "heartbeat";
  else if (m.type === "AppendEntriesResponse") [label, color] = [m.success ? "ok" : "refused", "#7fa6e6"];
  else if (m.type === "InstallSnapshot") [label, color] = ["snapshot", "#a0522d"];
  else if (m.type === "InstallSnapshotResponse") [label, color] = ["snap ok", "#c08a6b"];
  const lost = e.kind === "drop";
  return { text: renderEvent(e), tag, msg: { from: m.from, to: m.to, label, color: lost ? "#d64545" : color, lost } };
}

function checkSameRun(original: readonly SimEvent[], again: readonly SimEvent[]): void {
  if (original.length === 0 && again.length > 0) throw new ReplayDivergedError("the run has no trace to compare its replay with: make it with runPlan(plan, { trace: true })");
  const n = Math.min(original.length, again.length);
  let i = 0;
  while (i < n && isDeepStrictEqual(original[i], again[i])) i++;
  if (i === original.length && i === again.length) return;
  const show = (e: SimEvent | undefined) => JSON.stringify(e ? renderLine(e) : "end of trace");
  throw new ReplayDivergedError(
    `the run did not replay the same way, so the page would show another run (first difference at trace event ${i + 1}: ` +
      `${show(original[i])} vs ${show(again[i])}); ` +
      `a run found with --bug must be replayed with the same --bug`,
  );
}

function replayText(plan: SimPlan, bug: string | null): string {
  const faults = plan.faults.size === FAULTS.length ? "all" : plan.faults.size === 0 ? "none" : [...plan.faults].join(",");
  return `npx raftkv sim --replay ${specToString(plan.spec)} --nodes ${plan.nodes} --steps ${plan.steps} --faults ${faults}${bug ? ` --bug ${bug}` : ""}`;
}

function sameArray<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
