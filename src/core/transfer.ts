// Leadership transfer (thesis §3.10): the leader stops taking proposals,
// brings the target up to date, then sends it TimeoutNow; the target
// campaigns at once, and the others do not ignore its RequestVote (it is
// marked `transfer`). Abandoned after an election timeout (ticks.ts).

import { voterPeers, send, type Core } from "./context.js";
import type { NodeId } from "./types.js";

export function transferLeadership(c: Core, to: NodeId): boolean {
  const st = c.st;
  if (st.role !== "leader" || to === c.config.id || !voterPeers(c).includes(to)) return false;
  st.leadTransferee = to;
  st.transferElapsed = 0;
  maybeSendTimeoutNow(c);
  return true;
}

/** Once the target's log matches the leader's: TimeoutNow. */
export function maybeSendTimeoutNow(c: Core): void {
  const st = c.st;
  const to = st.leadTransferee;
  if (to === null || st.progress.get(to)!.matchIndex !== st.log.lastIndex()) return;
  send(c, { type: "TimeoutNow", from: c.config.id, to, term: st.currentTerm });
}
