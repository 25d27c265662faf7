// What a replay page embeds (JSON): recorded by html.ts, rendered by html-page.ts.

import type { Violation } from "./world.js";

/**
 * One trace event as the page shows it. html.ts makes these from the run's
 * typed events (trace.ts), so the page's script never reads meaning out of text.
 */
export interface TraceLine {
  /** The event in words, without its tick. */
  readonly text: string;
  /** "bad": a violation; "event": a moment worth stopping at; "chatter": a heartbeat or its plain answer; "": the rest. */
  readonly tag: "bad" | "event" | "chatter" | "";
  /** A message, drawn as an arrow from `from` to `to`; `lost`: cut or dropped. */
  readonly msg?: { readonly from: number; readonly to: number; readonly label: string; readonly color: string; readonly lost: boolean };
}

/** [role code, term, votedFor, leader, commitIndex, lastApplied]; a crashed node has its disk's term and vote and nulls. */
export type NodeTuple = [number, number, number | null, number | null, number | null, number | null];

/** What the page's script reads (JSON). Deltas use node positions (0-based) as keys. */
export interface ReplayData {
  readonly title: string;
  readonly replay: string;
  readonly ids: readonly number[];
  readonly roles: readonly string[];
  readonly bug: string | null;
  readonly violation: Violation | null;
  /** Ticks before the first frame that were left out to keep the page small. */
  readonly omitted: number;
  /** The first frame, whole: tuples, logs as [base, baseTerm, ...terms], match, cut links, network, trace events. */
  readonly start: { t: number; n: NodeTuple[]; l: number[][]; m: (readonly number[] | null)[]; c: readonly string[]; w: string; x: readonly TraceLine[] };
  /** Every later frame: its tick, its trace events and what changed since the frame before. */
  readonly deltas: readonly Delta[];
}

export interface Delta {
  t: number;
  x: readonly TraceLine[];
  n?: Record<number, NodeTuple>;
  /** [base, baseTerm, keep, ...terms after keep]: entries base+1..keep are the previous frame's. */
  l?: Record<number, number[]>;
  m?: Record<number, readonly number[] | null>;
  c?: readonly string[];
  w?: string;
}

