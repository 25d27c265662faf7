// What a leader learns from its followers' answers beyond replication:
// that they are alive (check-quorum, thesis §6.2) and which heartbeat round
// they acknowledged (read index, thesis §6.4).

import { quorum, type Core } from "./context.js";
import type { Progress } from "./progress.js";
import { releaseReads } from "./read-index.js";

/** Any answer from a follower: it is alive, and it acknowledged AppendEntries up to `seq`. */
export function noteActive(c: Core, pr: Progress, seq: number): void {
  pr.recentActive = true;
  pr.respondedSinceHeartbeat = true;
  if (seq > pr.ackedSeq) {
    pr.ackedSeq = seq;
    releaseReads(c);
  }
}

/** Check-quorum: did a majority (the leader included) answer since the last check? Starts the next round. */
export function quorumActive(c: Core): boolean {
  let active = 1;
  for (const pr of c.st.progress.values()) {
    if (pr.recentActive) active++;
    pr.recentActive = false;
  }
  return active >= quorum(c);
}
