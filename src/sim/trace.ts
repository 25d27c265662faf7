// One readable line per message, for traces: who sent what to whom.

import { assertNever, type Message } from "../core/types.js";

export function describeMessage(m: Message): string {
  const head = `n${m.from} -> n${m.to} ${m.type}(term ${m.term}`;
  switch (m.type) {
    case "RequestVote":
      return `${head}${m.preVote ? ", pre-vote" : ""}, last ${m.lastLogIndex}@${m.lastLogTerm})`;
    case "RequestVoteResponse":
      return `${head}${m.preVote ? ", pre-vote" : ""}, ${m.voteGranted ? "granted" : "refused"})`;
    case "AppendEntries": {
      const es = m.entries.length === 0 ? "heartbeat" : `entries ${m.entries.map((e) => `${e.index}@${e.term}`).join(" ")}`;
      return `${head}, prev ${m.prevLogIndex}@${m.prevLogTerm}, ${es}, commit ${m.leaderCommit})`;
    }
    case "AppendEntriesResponse":
      return m.success ? `${head}, ok, match ${m.matchIndex})` : `${head}, refused, hint ${m.conflictIndex}@${m.conflictTerm})`;
    case "InstallSnapshot":
      return `${head}, snapshot ${m.lastIncludedIndex}@${m.lastIncludedTerm}, ${m.data.length} bytes)`;
    case "InstallSnapshotResponse":
      return `${head}, match ${m.matchIndex})`;
    default:
      return assertNever(m);
  }
}

/** A trace without the chatter: heartbeats that carry nothing and their plain acknowledgements. */
export function condense(trace: readonly string[]): string[] {
  return trace.filter((line) => !/AppendEntries\(.*heartbeat/.test(line) && !/AppendEntriesResponse\(.*, ok, /.test(line));
}
