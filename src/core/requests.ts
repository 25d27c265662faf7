// What a driver does with the client requests it hands to the core, in one
// place for every driver (the server, the simulator, a library user's own):
// which proposal or read is still waiting, and how each one ends. The policy
// is what a client must be told (GUIDE: "not done, retry" is not "unknown"):
//
//   applied    the proposal's own entry was applied: here is its result.
//   replaced   another leader's entry took its index: it was never executed
//              and never will be; safe to retry anywhere.
//   unknown    it may or may not have been executed: the node installed a
//              snapshot covering it, crashed, stopped, or gave up waiting.
//   refused    a read the core would not serve (not the leader): retry at `leader`.
//
// Reads confirmed by the core (ReadResult ok) wait here until the state
// machine has applied their index; they stay safe to serve after the node
// stops leading, since they were confirmed when they arrived.
//
// Pure: no timers, no I/O (a driver that gives up after a deadline calls
// `forget`). And the one snapshot policy both drivers use.

import type { ReadResult } from "./api.js";
import { EntryType, type Entry, type NodeId } from "./types.js";

export type Outcome<R> =
  | { readonly kind: "applied"; readonly result: R }
  | { readonly kind: "replaced" }
  | { readonly kind: "unknown"; readonly why: "snapshot" | "crash" | "stopped" }
  | { readonly kind: "refused"; readonly leader: NodeId | null };

export class Requests<P, Q, R> {
  /** index -> the proposal made there, with the term it was made in. */
  private readonly proposals = new Map<number, { term: number; request: P }>();
  /** read id -> the read, until the core answers it. */
  private readonly reads = new Map<number, Q>();
  /** Confirmed reads, in arrival order, with the index each waits for. */
  private waiting: { index: number; request: Q }[] = [];

  constructor(
    /** How a proposal ended. */
    private readonly settleProposal: (request: P, outcome: Outcome<R>) => void,
    /** A read refused by the core or abandoned: never executed. */
    private readonly refuseRead: (request: Q, leader: NodeId | null) => void,
  ) {}

  get pendingProposals(): number {
    return this.proposals.size;
  }

  /** propose() accepted it at (index, term). */
  proposed(index: number, term: number, request: P): void {
    this.proposals.set(index, { term, request });
  }

  /** read(id) was called for it. */
  readRequested(id: number, request: Q): void {
    this.reads.set(id, request);
  }

  /** Is this read still waiting, for its confirmation or its index? */
  hasRead(request: Q): boolean {
    for (const q of this.reads.values()) if (q === request) return true;
    return this.waiting.some((w) => w.request === request);
  }

  /** The entry at e.index was applied; `result` is what the state machine answered (a no-op entry has none). */
  applied(e: Entry, result?: R): void {
    const p = this.proposals.get(e.index);
    if (p !== undefined) {
      this.proposals.delete(e.index);
      if (p.term === e.term && e.type === EntryType.Normal) this.settleProposal(p.request, { kind: "applied", result: result as R });
      else this.settleProposal(p.request, { kind: "replaced" });
    }
  }

  /**
   * A snapshot up to `index` replaced the state machine: proposals it covers
   * were applied or not, nobody here can tell — unless the log still shows
   * another term at their index (`termAt`), which proves they were replaced.
   */
  snapshotInstalled(index: number, termAt: (index: number) => number | undefined): void {
    for (const [i, p] of this.proposals) {
      if (i > index) continue;
      this.proposals.delete(i);
      const term = termAt(i);
      this.settleProposal(p.request, term !== undefined && term !== p.term ? { kind: "replaced" } : { kind: "unknown", why: "snapshot" });
    }
  }

  /** The driver stopped waiting for the proposal at `index` (a deadline): it owns the answer now. */
  forget(index: number): P | undefined {
    const p = this.proposals.get(index);
    this.proposals.delete(index);
    return p?.request;
  }

  /** The core's answer to a read: wait for its index, or refuse it. */
  readResult(r: ReadResult): void {
    const q = this.reads.get(r.id);
    if (q === undefined) return;
    this.reads.delete(r.id);
    if (r.ok) this.waiting.push({ index: r.index, request: q });
    else this.refuseRead(q, r.leader);
  }

  /** The confirmed reads the state machine can now serve (applied through their index), in arrival order. */
  readsServable(lastApplied: number): Q[] {
    if (!this.waiting.some((w) => w.index <= lastApplied)) return [];
    const now = this.waiting.filter((w) => w.index <= lastApplied);
    this.waiting = this.waiting.filter((w) => w.index > lastApplied);
    return now.map((w) => w.request);
  }

  /** The node crashed or stopped: every proposal's outcome is unknown, every read was never executed. */
  abandonAll(why: "crash" | "stopped"): void {
    const proposals = [...this.proposals.values()];
    const reads = [...this.reads.values(), ...this.waiting.map((w) => w.request)];
    this.proposals.clear();
    this.reads.clear();
    this.waiting = [];
    for (const p of proposals) this.settleProposal(p.request, { kind: "unknown", why });
    for (const q of reads) this.refuseRead(q, null);
  }
}

/** The snapshot policy of every driver: snapshot once `every` entries were applied since the last one. */
export function snapshotDue(lastApplied: number, snapshotIndex: number, every: number): boolean {
  return lastApplied - snapshotIndex >= every;
}
