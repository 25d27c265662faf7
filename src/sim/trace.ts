// One readable line per message, for traces: who sent what to whom.

import { assertNever, type Message } from "../core/types.js";

export function describeMessage(m: Message): string {
  const head = `n${m.from} -> n${m.to} ${m.type}(term ${m.term}`;
  switch (m.type) {
    case "RequestVote":
      return `${head}${m.preVote ? ", pre-vote" : ""}${m.transfer ? ", transfer" : ""}, last ${m.lastLogIndex}@${m.lastLogTerm})`;
    case "RequestVoteResponse":
      return `${head}${m.preVote ? ", pre-vote" : ""}, ${m.voteGranted ? "granted" : "refused"})`;
    case "AppendEntries": {
      const es = m.entries.length === 0 ? "heartbeat" : `entries ${m.entries.map((e) => `${e.index}@${e.term}`).join(" ")}`;
      return `${head}, prev ${m.prevLogIndex}@${m.prevLogTerm}, ${es}, commit ${m.leaderCommit})`;
    }
    case "AppendEntriesResponse": {
      const inc = m.incarnation === 0 ? "" : `, life ${m.incarnation}`;
      return m.success ? `${head}, ok, match ${m.matchIndex}${inc})` : `${head}, refused, hint ${m.conflictIndex}@${m.conflictTerm}${inc})`;
    }
    case "InstallSnapshot":
      return `${head}, snapshot ${m.lastIncludedIndex}@${m.lastIncludedTerm}, bytes ${m.offset}..${m.offset + m.data.length}${m.done ? ", done" : ""})`;
    case "TimeoutNow":
      return `${head}, campaign now: leadership transfer)`;
    case "InstallSnapshotResponse":
      return m.matchIndex > 0 ? `${head}, match ${m.matchIndex})` : `${head}, snapshot ${m.lastIncludedIndex}, has ${m.received} bytes)`;
    case "RecoveryQuery":
      return `${head}, what is your term?)`;
    case "RecoveryReply":
      return `${head}, last ${m.lastLogIndex}${m.recovering ? ", recovering too" : ""})`;
    default:
      return assertNever(m);
  }
}

/** A trace without the chatter: heartbeats that carry nothing and their plain acknowledgements. */
export function condense(trace: readonly string[]): string[] {
  return trace.filter((line) => !/AppendEntries\(.*heartbeat/.test(line) && !/AppendEntriesResponse\(.*, ok, /.test(line));
}

/**
 * The story of a violation: the lines that matter for the log index it names
 * ("entry 29@9"): leaders and candidates, crashes and restarts, partitions,
 * real (not pre-) votes, the AppendEntries that carry that index and the
 * answers that acknowledge it, and the violation itself.
 */
export function story(trace: readonly string[], violationMessage: string): string[] {
  const m = /entry (\d+)@\d+/.exec(violationMessage) ?? /(\d+)@\d+/.exec(violationMessage);
  const index = m ? Number(m[1]) : null;
  const carries = (line: string) => {
    if (index === null) return false;
    const es = /entries ([\d@ ]+),/.exec(line);
    if (es) return es[1]!.split(" ").some((e) => Number(e.split("@")[0]) === index);
    const match = /, ok, match (\d+)\)/.exec(line);
    return match !== null && Number(match[1]) >= index && Number(match[1]) < index + 3;
  };
  const relevant = (line: string) =>
    /-> (leader|candidate) |CRASHED|RESTARTED|PARTITION|HEAL|CUT |TRANSFER|TimeoutNow|VIOLATION|FAULTS END|installed snapshot/.test(line) ||
    (/RequestVote(Response)?\(term \d+, (transfer, )?(last|granted)/.test(line) && !line.includes("pre-vote")) ||
    carries(line);
  // The story starts with the leader that first sent an entry at that index.
  const first = trace.findIndex(carries);
  let start = 0;
  if (first > 0) {
    start = first;
    while (start > 0 && !/-> leader /.test(trace[start]!)) start--;
  }
  return collapseRepeats(trace.slice(start).filter(relevant));
}

/**
 * Folds a run of lines that say the same thing at different ticks (a leader
 * resending one entry, a follower acknowledging it again) into one line
 * that says how often and until when.
 */
export function collapseRepeats(lines: readonly string[]): string[] {
  const out: string[] = [];
  let body: string | null = null;
  let count = 0;
  let last = "";
  const flush = () => {
    if (count > 1) out[out.length - 1] += `  (x${count}, the last at t=${last})`;
  };
  for (const line of lines) {
    const m = /^t=\s*(\d+)  (.*)$/.exec(line);
    if (m && m[2] === body) {
      count++;
      last = m[1]!;
      continue;
    }
    flush();
    out.push(line);
    body = m ? m[2]! : null;
    count = 1;
  }
  flush();
  return out;
}
