// What a replay page embeds (JSON): recorded by html.ts, rendered by html-page.ts.

import type { Violation } from "./world.js";

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
  /** The first frame, whole: tuples, logs as [base, baseTerm, ...terms], match, cut links, network, trace lines. */
  readonly start: { t: number; n: NodeTuple[]; l: number[][]; m: (readonly number[] | null)[]; c: readonly string[]; w: string; x: readonly string[] };
  /** Every later frame: its tick, its trace lines and what changed since the frame before. */
  readonly deltas: readonly Delta[];
}

export interface Delta {
  t: number;
  x: readonly string[];
  n?: Record<number, NodeTuple>;
  /** [base, baseTerm, keep, ...terms after keep]: entries base+1..keep are the previous frame's. */
  l?: Record<number, number[]>;
  m?: Record<number, readonly number[] | null>;
  c?: readonly string[];
  w?: string;
}

