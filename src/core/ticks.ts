// Logical time: election timeouts for followers and candidates (§5.2),
// heartbeats, check-quorum (thesis §6.2) and the end of an unfinished
// transfer (thesis §3.10) for leaders.

import { checkQuorumEnabled, resetElectionTimeout, type Core } from "./context.js";
import { campaign } from "./election.js";
import { mayCampaign, stepDownIfRemoved } from "./membership.js";
import { sendRecoveryQueries } from "./recovery.js";
import { broadcastHeartbeat } from "./replication.js";
import { becomeFollower } from "./roles.js";
import { quorumActive } from "./tracker.js";

export function tick(c: Core): void {
  if (c.st.role === "leader") tickLeader(c);
  else tickElection(c);
}

function tickElection(c: Core): void {
  const st = c.st;
  st.electionElapsed++;
  if (st.electionElapsed < st.randomizedElectionTimeout) return;
  st.electionElapsed = 0;
  if (st.survey !== null || c.rules.recovering(c)) {
    // A damaged server does not campaign: it waits for a leader, and asks around meanwhile.
    st.leaderId = null;
    resetElectionTimeout(c);
    sendRecoveryQueries(c);
    return;
  }
  // A learner, or a server the configuration no longer (or not yet) names,
  // waits to be told. It no longer knows a leader: it must not keep
  // ignoring votes on the strength of one it last heard long ago (§4.2.3).
  if (!mayCampaign(c)) {
    st.leaderId = null;
    resetElectionTimeout(c);
    return;
  }
  campaign(c);
}

function tickLeader(c: Core): void {
  const st = c.st;
  if (stepDownIfRemoved(c)) return;
  st.heartbeatElapsed++;
  st.electionElapsed++;
  // A transfer that has not happened within an election timeout is abandoned.
  if (st.leadTransferee !== null && ++st.transferElapsed >= c.config.electionTimeoutTicks[1]) st.leadTransferee = null;
  if (st.electionElapsed >= c.config.electionTimeoutTicks[0]) {
    st.electionElapsed = 0;
    if (checkQuorumEnabled(c) && !quorumActive(c)) {
      becomeFollower(c, st.currentTerm, null);
      return;
    }
  }
  if (st.heartbeatElapsed >= c.config.heartbeatTicks) {
    st.heartbeatElapsed = 0;
    broadcastHeartbeat(c);
  }
}
