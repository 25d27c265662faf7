// The table `raftkv status` prints: a header line, then one line per node,
// columns aligned, numbers right-aligned so that indexes line up by digit.

import type { NodeStatus } from "./status.js";

export interface StatusRow {
  readonly id: number;
  /** The node's client address, as in the cluster file. */
  readonly address: string;
  /** What the node answered, or why it did not. */
  readonly answer: { readonly ok: true; readonly status: NodeStatus } | { readonly ok: false; readonly reason: string };
}

const HEADER = ["ID", "ADDRESS", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "REACHABLE"] as const;
const RIGHT_ALIGNED: ReadonlySet<number> = new Set([0, 3, 4, 5, 6]);

export function formatStatusTable(rows: readonly StatusRow[]): string {
  const cells = [[...HEADER], ...rows.map(rowCells)];
  const widths = HEADER.map((_, column) => Math.max(...cells.map((line) => line[column]!.length)));
  const lines = cells.map((line) =>
    line
      .map((cell, column) => {
        if (column === line.length - 1) return cell;
        return RIGHT_ALIGNED.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!);
      })
      .join("  "),
  );
  return lines.join("\n") + "\n";
}

function rowCells({ id, address, answer }: StatusRow): string[] {
  if (!answer.ok) return [String(id), address, "-", "-", "-", "-", "-", `no (${answer.reason})`];
  const s = answer.status;
  // A removed node still answers, with the role it had: say what it is now. A learner or joining node says so too.
  const role = s.membership === undefined || s.membership === "voter" ? s.role : s.membership === "removed" ? "removed" : `${s.role} (${s.membership})`;
  return [String(id), address, role, String(s.term), s.leader === null ? "-" : String(s.leader), String(s.commitIndex), String(s.lastApplied), "yes"];
}
