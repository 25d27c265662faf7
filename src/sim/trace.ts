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
 * The story of a violation, told for a student: only what the violation
 * needs, one event a line. From the leader that first sent the entry the
 * violation names ("entry 29@9"): elections won (with the candidate's last
 * entry and who voted for it), campaigns lost (folded), leaders stepping
 * down, crashes, restarts, storage faults, partitions and cuts, transfers,
 * snapshots installed, the AppendEntries that carry that index (where they
 * went and whether they arrived), the answers that acknowledge it, the
 * leader's commit past it, and the violation itself. A line repeated at
 * several ticks is folded into one.
 */
export function story(trace: readonly string[], violationMessage: string): string[] {
  const m = /entry (\d+)@\d+/.exec(violationMessage) ?? /(\d+)@\d+/.exec(violationMessage);
  const index = m ? Number(m[1]) : null;
  const parse = (line: string) => {
    const p = /^t=\s*(\d+)  (.*)$/.exec(line);
    return p ? { at: p[1]!, body: p[2]! } : { at: "?", body: line };
  };
  const carries = (body: string) => {
    if (index === null) return false;
    const es = /AppendEntries\(.*entries ([\d@ ]+),/.exec(body);
    if (es) return es[1]!.split(" ").some((e) => Number(e.split("@")[0]) === index);
    const match = /AppendEntriesResponse\(.*, ok, match (\d+)/.exec(body);
    return match !== null && Number(match[1]) >= index && Number(match[1]) < index + 3;
  };
  // Who voted for whom, and what log each candidate ran with: "n1 -> n3 RequestVoteResponse(term 9, granted)".
  const voters = new Map<string, string[]>();
  const lastOf = new Map<string, string>();
  const won = new Set<string>();
  for (const line of trace) {
    const { body } = parse(line);
    const g = /^n(\d+) -> n(\d+) RequestVoteResponse\(term (\d+), (?:transfer, )?granted\)/.exec(body);
    if (g) {
      const key = `${g[2]}@${g[3]}`;
      const list = voters.get(key) ?? [];
      if (!list.includes(`n${g[1]}`)) list.push(`n${g[1]}`);
      voters.set(key, list);
    }
    const rv = /^n(\d+) -> n\d+ RequestVote\(term (\d+), (?:transfer, )?last (\S+)\)/.exec(body);
    if (rv) lastOf.set(`${rv[1]}@${rv[2]}`, rv[3]!);
    const l = /^n(\d+) candidate -> leader \(term (\d+)\)/.exec(body);
    if (l) won.add(`${l[1]}@${l[2]}`);
  }
  // The story starts where the entry first travels, after the election of the
  // leader that sent it and the partitions and cuts in force at that moment.
  const first = trace.findIndex((line) => carries(parse(line).body));
  let start = 0;
  const before: number[] = [];
  if (first > 0) {
    start = first;
    const sender = /^n(\d+) -> /.exec(parse(trace[first]!).body)?.[1];
    for (let i = first - 1; i >= 0; i--) {
      const body = parse(trace[i]!).body;
      if (/^HEAL /.test(body)) break;
      if (/^(PARTITION|CUT) /.test(body)) before.push(i);
      if (/^PARTITION /.test(body)) break;
    }
    for (let i = first - 1; i >= 0; i--) {
      if (new RegExp(`^n${sender} candidate -> leader `).test(parse(trace[i]!).body)) {
        before.push(i);
        break;
      }
    }
  }
  const prologue = before.sort((a, b) => a - b).map((i) => trace[i]!);
  const out: string[] = [];
  let lost: { node: string; terms: string[] } | null = null;
  const flushLost = () => {
    if (lost) out[out.length - 1] += lost.terms.length > 1 ? ` (and in term${lost.terms.length > 2 ? "s" : ""} ${lost.terms.slice(1).join(", ")})` : "";
    lost = null;
  };
  const committed = new Set<string>();
  // The messages since the last other event: the same message sent again is counted on its first line.
  // A request sent to several followers (or an answer from several) is one line naming them all.
  const burst = new Map<string, { line: number; count: number; last: string; at: string; peers: string[]; sends: Map<string, number>; text: (peers: string) => string }>();
  const flushBurst = () => {
    for (const b of burst.values()) out[b.line] = `t=${b.at.padStart(5)}  ${b.text(b.peers.join(", "))}${b.count > 1 ? `  (x${b.count}, the last at t=${b.last.trim()})` : ""}`;
    burst.clear();
  };
  const say = (at: string, text: string) => out.push(`t=${at.padStart(5)}  ${text}`);
  for (const line of [...prologue, ...trace.slice(start)]) {
    const { at, body } = parse(line);
    let text: string | null = null;
    const cand = /^n(\d+) precandidate -> candidate \(term (\d+)\)/.exec(body);
    if (cand && !won.has(`${cand[1]}@${cand[2]}`)) {
      if (lost && lost.node === cand[1]) {
        lost.terms.push(cand[2]!);
        continue;
      }
      flushLost();
      say(at, `n${cand[1]} stands for election in term ${cand[2]} and does not win`);
      lost = { node: cand[1]!, terms: [cand[2]!] };
      continue;
    }
    const lead = /^n(\d+) candidate -> leader \(term (\d+)\)/.exec(body);
    const c = /^n(\d+) commits through (\d+)/.exec(body);
    if (lead) {
      const key = `${lead[1]}@${lead[2]}`;
      const last = lastOf.get(key);
      text = `n${lead[1]} becomes leader of term ${lead[2]}${last ? ` (its log ends ${last})` : ""}, voted for by ${[`n${lead[1]}`, ...(voters.get(key) ?? [])].join(", ")}`;
    } else if (/^n\d+ leader -> follower/.test(body)) text = body.replace(/leader -> follower \(term (\d+)\)/, "steps down (term $1)");
    else if (c) {
      if (index !== null && Number(c[2]) >= index && !committed.has(c[1]!)) {
        committed.add(c[1]!);
        text = body;
      }
    } else if (/CRASHED|RESTARTED|DISK FAULT|recovered|PARTITION|HEAL|CUT |TRANSFER|TimeoutNow|VIOLATION|FAULTS END|installed snapshot/.test(body)) text = body;
    else if (committed.size === 0 && carries(body)) {
      // Until the entry commits, where it travelled; afterwards only the events that lose it matter.
      flushLost();
      const msg = body.replace(/, commit \d+\)/, ")");
      const p = /^(n\d+) -> (n\d+) (.*)$/.exec(msg)!;
      const answer = /Response\(/.test(p[3]!);
      const peer = answer ? p[1]! : p[2]!;
      const key = answer ? `* -> ${p[2]} ${p[3]}` : `${p[1]} -> * ${p[3]}`;
      const same = burst.get(key);
      if (same) {
        const n = (same.sends.get(peer) ?? 0) + 1;
        same.sends.set(peer, n);
        if (n === 1) same.peers.push(peer);
        same.count = Math.max(same.count, n);
        same.last = at;
      } else {
        say(at, msg);
        const text = answer ? (peers: string) => `${peers} -> ${p[2]} ${p[3]}` : (peers: string) => `${p[1]} -> ${peers} ${p[3]}`;
        burst.set(key, { line: out.length - 1, count: 1, last: at, at, peers: [peer], sends: new Map([[peer, 1]]), text });
      }
      continue;
    }
    if (text === null) continue;
    flushLost();
    flushBurst();
    say(at, text);
  }
  flushLost();
  flushBurst();
  return out;
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
