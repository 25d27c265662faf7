// Readable lines for a path the exhaustive mode found: one per event, each
// followed by the servers whose role, term, vote, log or commit index it
// changed.

import type { RaftNode } from "../core/node.js";
import type { Path } from "../explore/explorer.js";
import type { ClusterEvent, ClusterState } from "./exhaustive-model.js";
import { describeMessage } from "./trace.js";

export function describePath(path: Path<ClusterState, ClusterEvent>): string[] {
  const lines = ["   0. every server is a follower of term 0 with an empty log"];
  let before = path.initial;
  path.steps.forEach(({ event, state }, i) => {
    lines.push(`${String(i + 1).padStart(4)}. ${describeEvent(before, event, state)}`);
    state.nodes.forEach((n, j) => {
      const summary = summarize(n);
      if (summary !== summarize(before.nodes[j]!)) lines.push(`        n${n.id}: ${summary}`);
    });
    before = state;
  });
  return lines;
}

function describeEvent(before: ClusterState, e: ClusterEvent, after: ClusterState): string {
  switch (e.kind) {
    case "tick":
      // A tick runs the clock until the server acts: all a follower or candidate does then is campaign.
      if (before.nodes[e.node - 1]!.role !== "leader") return `n${e.node} times out`;
      if (after.nodes[e.node - 1]!.role === "leader") return `n${e.node} ticks (heartbeat)`;
      return `n${e.node} ticks: it heard from no majority, so it steps down (check-quorum)`;
    case "deliver":
      return `deliver ${describeMessage(e.flight.message)}`;
    case "drop":
      return `drop ${describeMessage(e.flight.message)}`;
    case "restart": {
      const n = after.nodes[e.node - 1]!;
      const vote = n.votedFor === null ? "" : `, voted for n${n.votedFor}`;
      return `n${e.node} crashes and restarts (term ${n.currentTerm}${vote}, log ${n.log.lastIndex()}@${n.log.lastTerm()})`;
    }
    case "propose":
      return `client proposes at n${e.node} (index ${after.nodes[e.node - 1]!.log.lastIndex()})`;
  }
}

function summarize(n: RaftNode): string {
  const entries: string[] = [];
  for (let i = 1; i <= n.log.lastIndex(); i++) entries.push(`${i}@${n.log.term(i)}`);
  const vote = n.votedFor === null ? "" : `, voted for n${n.votedFor}`;
  return `${n.role}, term ${n.currentTerm}${vote}, log ${entries.length > 0 ? entries.join(" ") : "empty"}, commit ${n.commitIndex}`;
}
