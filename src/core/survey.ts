// The survey a server that lost its term and vote runs before it takes part
// again: how many must answer, and what their answers decide (the reasoning
// is in recovery.ts).

import type { LostMark, NodeId } from "./types.js";

/** How many other servers a server that lost its hard state must hear from: n - q + 1 (recovery.ts says why). */
export function surveySize(members: number): number {
  const quorum = Math.floor(members / 2) + 1;
  return members - quorum + 1;
}

/** One other server's answer to a RecoveryQuery. */
export interface SurveyAnswer {
  readonly term: number;
  readonly lastLogIndex: number;
  /** The server answering is recovering from a storage fault itself. */
  readonly recovering: boolean;
}

/** What a finished survey decided. */
export type SurveyOutcome =
  /** Nobody has ever done anything: start as a new server. */
  | { readonly fresh: true }
  /**
   * Adopt `term`, count the vote in it as given (to ourselves: no other
   * candidate gets it), and catch up to `lost.through` before voting again.
   */
  | { readonly fresh: false; readonly term: number; readonly lost: LostMark };

export class Survey {
  private readonly answers = new Map<NodeId, SurveyAnswer>();

  constructor(
    private readonly members: number,
    /** How many intact answers decide (surveySize, unless a bug-zoo variant says otherwise). */
    private readonly needed: number,
    /** A term this server is known to have reached (its log's last term): a lower bound. */
    private readonly termAtLeast: number,
    /** This server's own log is empty. */
    private readonly emptyLog: boolean,
  ) {}

  answer(from: NodeId, a: SurveyAnswer): void {
    this.answers.set(from, a);
  }

  /** The outcome, once enough servers answered; null until then. */
  outcome(): SurveyOutcome | null {
    const all = [...this.answers.values()];
    const nothingEver = (a: SurveyAnswer) => a.term === 0 && a.lastLogIndex === 0;
    if (this.emptyLog && this.termAtLeast === 0 && all.length === this.members - 1 && all.every(nothingEver)) return { fresh: true };
    const answers = all.filter((a) => !a.recovering);
    if (answers.length < this.needed) return null;
    return {
      fresh: false,
      term: Math.max(this.termAtLeast, ...answers.map((a) => a.term)),
      lost: { through: Math.max(...answers.map((a) => a.lastLogIndex)), term: Math.max(this.termAtLeast, ...answers.map((a) => a.term)) },
    };
  }

  /** For model checking: the answers as text. */
  fingerprint(): string {
    return [...this.answers]
      .sort((a, b) => a[0] - b[0])
      .map(([id, a]) => `${id}:${a.term}/${a.lastLogIndex}${a.recovering ? "r" : ""}`)
      .join(",");
  }

  clone(): Survey {
    const c = new Survey(this.members, this.needed, this.termAtLeast, this.emptyLog);
    for (const [id, a] of this.answers) c.answers.set(id, a);
    return c;
  }
}

