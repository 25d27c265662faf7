// What a leader learns from its followers' answers beyond replication:
// that they are alive (check-quorum, thesis §6.2) and which heartbeat round
// they acknowledged (read index, thesis §6.4).

import { voterSets, type Core } from "./context.js";
import { jointMajority } from "./quorum.js";
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
  const st = c.st;
  const ok = jointMajority(voterSets(c), (id) => id === c.config.id || (st.progress.get(id)?.recentActive ?? false));
  for (const pr of st.progress.values()) pr.recentActive = false;
  return ok;
}
