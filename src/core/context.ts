// What every rule file works on: one server's state, its configuration, and
// the rules a bug-zoo variant may replace (rules.ts). node.ts builds one per
// server and passes it to the functions of election.ts, replication.ts, …

import type { RaftConfig } from "./api.js";
import { majority } from "./quorum.js";
import type { Rules } from "./rules.js";
import type { ServerState } from "./state.js";
import type { Message, NodeId } from "./types.js";

export interface Core {
  readonly st: ServerState;
  readonly config: RaftConfig;
  readonly members: readonly NodeId[];
  readonly rules: Rules;
}

/** Queues a message for the next ready(). */
export function send(c: Core, m: Message): void {
  c.st.messages.push(m);
}

export function peers(c: Core): NodeId[] {
  return c.members.filter((m) => m !== c.config.id);
}

/** Votes (or acknowledgements) a decision needs: a majority of the members. */
export function quorum(c: Core): number {
  return majority(c.members.length);
}

export function preVoteEnabled(c: Core): boolean {
  return c.config.preVote ?? true;
}

export function checkQuorumEnabled(c: Core): boolean {
  return c.config.checkQuorum ?? true;
}

/** This server's storage incarnation, sent with every answer to a leader (docs/STORAGE.md). */
export function incarnation(c: Core): number {
  return c.config.incarnation ?? 0;
}

export function resetElectionTimeout(c: Core): void {
  const [lo, hi] = c.config.electionTimeoutTicks;
  c.st.randomizedElectionTimeout = lo + c.config.random(hi - lo);
}
