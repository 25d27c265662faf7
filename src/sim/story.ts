// The story of a violation, told for a student: only what the violation
// needs, one item a line, read from the run's typed trace (trace.ts).

import type { Message, NodeId } from "../core/types.js";
import { describeBody, describeDamage, renderEvent, tickLabel, type Loss, type SimEvent } from "./trace.js";

/** What the story needs of the violation: the entry it names, if any (Violation.entry). */
export interface StoryViolation {
  readonly entry?: { readonly index: number; readonly term: number } | undefined;
}

export type StoryItem =
  /** An event told as the trace tells it: crashes, restarts, storage faults, the network, transfers, the commit, the violation. */
  | { readonly kind: "event"; readonly event: SimEvent }
  /** An election won: the candidate's last entry when it asked for votes, and who voted for it (itself first). */
  | { readonly kind: "elected"; readonly at: number; readonly node: NodeId; readonly term: number; readonly last: { readonly index: number; readonly term: number } | null; readonly voters: readonly NodeId[] }
  | { readonly kind: "stepped-down"; readonly at: number; readonly node: NodeId; readonly term: number }
  /** Campaigns lost in a row, by one node or several (`nodes`, in the order they first stood): the first at `at`, in `terms`. */
  | { readonly kind: "lost-campaigns"; readonly at: number; readonly nodes: readonly NodeId[]; readonly terms: readonly number[] }
  /**
   * A node crashed (`at`) and came back (`back`) with nothing else told in
   * between; `times` such outages in a row with the same outcome are one
   * item. `damage`: the storage fault struck at the crash, if any.
   */
  | { readonly kind: "outage"; readonly at: number; readonly node: NodeId; readonly damage: Extract<SimEvent, { kind: "damage" }> | null; readonly back: Extract<SimEvent, { kind: "restart" }>; readonly times: number }
  /** A partition or cut link healed with nothing else told in between: `heal` is the tick of the HEAL (of all links). */
  | { readonly kind: "split"; readonly event: Extract<SimEvent, { kind: "partition" | "cut" }>; readonly heal: number }
  /**
   * One message carrying the entry, sent by one node to several (or an answer
   * from several to one): `peers` are the others. Sent `count` times to the
   * peer it was sent to most often, the last time at `lastAt`. An
   * AppendEntries is shown without its commit index.
   */
  | { readonly kind: "messages"; readonly at: number; readonly message: Message; readonly answer: boolean; readonly loss: Loss | null; readonly peers: readonly NodeId[]; readonly count: number; readonly lastAt: number };

/**
 * From the leader that first sent the entry the violation names: elections
 * won (with the candidate's last entry and who voted for it), campaigns lost
 * (folded), leaders stepping down, crashes, restarts, storage faults,
 * partitions and cuts, transfers, snapshots installed, the AppendEntries
 * that carry that index (where they went and whether they arrived), the
 * answers that acknowledge it, the leader's commit past it, and the
 * violation itself. Folded into one item each: a message repeated at several
 * ticks; campaigns lost in a row (by any nodes); a crash and the restart
 * that follows it (with the storage fault struck between, and repeated
 * outages of one node that end the same way); a partition or cut and the
 * heal that follows it.
 */
export function story(trace: readonly SimEvent[], violation: StoryViolation): StoryItem[] {
  const index = violation.entry?.index ?? null;
  const carries = (e: SimEvent): boolean => {
    if (index === null || (e.kind !== "deliver" && e.kind !== "drop")) return false;
    const m = e.message;
    if (m.type === "AppendEntries") return m.entries.some((x) => x.index === index);
    return m.type === "AppendEntriesResponse" && m.success && m.matchIndex >= index && m.matchIndex < index + 3;
  };
  const key = (node: NodeId, term: number) => `${node}@${term}`;
  // Who voted for whom, and what log each candidate ran with.
  const voters = new Map<string, NodeId[]>();
  const lastOf = new Map<string, { index: number; term: number }>();
  const won = new Set<string>();
  for (const e of trace) {
    if (e.kind === "role" && e.from === "candidate" && e.to === "leader") won.add(key(e.node, e.term));
    if (e.kind !== "deliver") continue;
    const m = e.message;
    if (m.type === "RequestVoteResponse" && !m.preVote && m.voteGranted) {
      const list = voters.get(key(m.to, m.term)) ?? [];
      if (!list.includes(m.from)) list.push(m.from);
      voters.set(key(m.to, m.term), list);
    }
    if (m.type === "RequestVote" && !m.preVote) lastOf.set(key(m.from, m.term), { index: m.lastLogIndex, term: m.lastLogTerm });
  }
  // The story starts where the entry first travels, after the election of the
  // leader that sent it and the partitions and cuts in force at that moment.
  const first = trace.findIndex(carries);
  let start = 0;
  const before: number[] = [];
  if (first > 0) {
    start = first;
    const sender = (trace[first] as Extract<SimEvent, { message: Message }>).message.from;
    for (let i = first - 1; i >= 0; i--) {
      const kind = trace[i]!.kind;
      if (kind === "heal") break;
      if (kind === "partition" || kind === "cut") before.push(i);
      if (kind === "partition") break;
    }
    for (let i = first - 1; i >= 0; i--) {
      const e = trace[i]!;
      if (e.kind === "role" && e.node === sender && e.from === "candidate" && e.to === "leader") {
        before.push(i);
        break;
      }
    }
  }
  const prologue = before.sort((a, b) => a - b).map((i) => trace[i]!);

  const out: StoryItem[] = [];
  // Items still growing are kept as mutable objects in `out` and changed in place.
  type Growing<T> = { -readonly [K in keyof T]: T[K] };
  // Lost campaigns in a row are one item, told where the first one was.
  let lost: { item: Growing<Extract<StoryItem, { kind: "lost-campaigns" }>>; nodes: NodeId[]; terms: number[] } | null = null;
  const flushLost = () => {
    lost = null;
  };
  const committed = new Set<NodeId>();
  // The messages since the last other event: the same message sent again is counted on its first item.
  // A request sent to several followers (or an answer from several) is one item naming them all.
  // A message lost (cut or dropped) is folded into its first item even across other items:
  // a leader cut off sends the same entries again and again.
  const burst = new Map<string, { item: Growing<Extract<StoryItem, { kind: "messages" }>>; peers: NodeId[]; sends: Map<NodeId, number> }>();
  const flushBurst = () => {
    for (const [k, b] of burst) if (b.item.loss === null) burst.delete(k);
  };
  for (const e of [...prologue, ...trace.slice(start)]) {
    let told: StoryItem | null = null;
    if (e.kind === "role") {
      if (e.from === "precandidate" && e.to === "candidate" && !won.has(key(e.node, e.term))) {
        if (lost) {
          if (!lost.nodes.includes(e.node)) lost.nodes.push(e.node);
          if (!lost.terms.includes(e.term)) lost.terms.push(e.term);
          continue;
        }
        const nodes = [e.node];
        const terms = [e.term];
        const item = { kind: "lost-campaigns" as const, at: e.at, nodes, terms };
        out.push(item);
        lost = { item, nodes, terms };
        continue;
      }
      if (e.from === "candidate" && e.to === "leader") {
        const k = key(e.node, e.term);
        told = { kind: "elected", at: e.at, node: e.node, term: e.term, last: lastOf.get(k) ?? null, voters: [e.node, ...(voters.get(k) ?? [])] };
      } else if (e.from === "leader" && e.to === "follower") told = { kind: "stepped-down", at: e.at, node: e.node, term: e.term };
    } else if (e.kind === "commit") {
      if (index !== null && e.index >= index && !committed.has(e.node)) {
        committed.add(e.node);
        told = { kind: "event", event: e };
      }
    } else if (toldAsIs(e)) told = { kind: "event", event: e };
    else if (committed.size === 0 && carries(e)) {
      // Until the entry commits, where it travelled; afterwards only the events that lose it matter.
      flushLost();
      const m = (e as Extract<SimEvent, { message: Message }>).message;
      const loss = e.kind === "drop" ? e.loss : null;
      const answer = m.type !== "AppendEntries";
      const peer = answer ? m.from : m.to;
      const what = `${answer ? `* -> ${m.to}` : `${m.from} -> *`} ${describeBody(m, { commit: false })} ${loss ?? ""}`;
      const same = burst.get(what);
      if (same) {
        const n = (same.sends.get(peer) ?? 0) + 1;
        same.sends.set(peer, n);
        if (n === 1) same.peers.push(peer);
        same.item.count = Math.max(same.item.count, n);
        same.item.lastAt = e.at;
      } else {
        const peers = [peer];
        const item = { kind: "messages" as const, at: e.at, message: m, answer, loss, peers, count: 1, lastAt: e.at };
        out.push(item);
        burst.set(what, { item, peers, sends: new Map([[peer, 1]]) });
      }
      continue;
    }
    if (told === null) continue;
    flushLost();
    flushBurst();
    fold(out, told);
  }
  flushLost();
  flushBurst();
  return out;
}

/**
 * Appends `item`, or folds it into an item before it: a restart into the
 * node's crash (and the storage fault struck with it), wherever that was
 * told; an outage into an identical one of the same node right before it; a
 * heal into the partition or cut right before it.
 */
function fold(out: StoryItem[], item: StoryItem): void {
  const eventAt = (k: number) => {
    const x = out.at(k);
    return x?.kind === "event" ? x.event : null;
  };
  if (item.kind === "event" && item.event.kind === "restart") {
    const back = item.event;
    const node = back.node;
    // The node was down since its last crash: tell the restart with it, wherever that crash was told.
    const i = out.findLastIndex((x) => x.kind === "event" && x.event.kind === "crash" && x.event.node === node);
    if (i < 0) {
      out.push(item);
      return;
    }
    const crash = (out[i] as Extract<StoryItem, { kind: "event" }>).event;
    const next = out[i + 1];
    const damage = next?.kind === "event" && next.event.kind === "damage" && next.event.node === node ? next.event : null;
    out.splice(i, damage ? 2 : 1);
    const prev = out[i - 1];
    if (i === out.length && prev?.kind === "outage" && prev.node === node && damage === null && prev.damage === null && sameRestart(prev.back, back)) {
      out[i - 1] = { ...prev, back, times: prev.times + 1 };
      return;
    }
    out.splice(i, 0, { kind: "outage", at: crash.at, node, damage, back, times: 1 });
    return;
  }
  if (item.kind === "event" && item.event.kind === "heal") {
    const last = eventAt(-1);
    if (last?.kind === "partition" || last?.kind === "cut") {
      out[out.length - 1] = { kind: "split", event: last, heal: item.event.at };
      return;
    }
  }
  out.push(item);
}

function sameRestart(a: Extract<SimEvent, { kind: "restart" }>, b: Extract<SimEvent, { kind: "restart" }>): boolean {
  return a.term === b.term && a.lastIndex === b.lastIndex && a.recovering === b.recovering;
}

/** Events the story tells as they are, wherever they come. */
function toldAsIs(e: SimEvent): boolean {
  switch (e.kind) {
    case "crash":
    case "restart":
    case "damage":
    case "recovered":
    case "partition":
    case "heal":
    case "cut":
    case "transfer":
    case "violation":
    case "faults-end":
    case "snapshot":
      return true;
    case "deliver":
    case "drop":
      return e.message.type === "TimeoutNow";
    default:
      return false;
  }
}

/** The tick an item is told at. */
export function storyAt(item: StoryItem): number {
  return item.kind === "event" || item.kind === "split" ? item.event.at : item.at;
}

/** The story as text, one line an item. */
export function renderStory(items: readonly StoryItem[]): string[] {
  return items.map((item) => `${tickLabel(storyAt(item))}  ${renderItem(item)}`);
}

function renderItem(item: StoryItem): string {
  switch (item.kind) {
    case "event":
      return renderEvent(item.event);
    case "elected":
      return `n${item.node} becomes leader of term ${item.term}${item.last ? ` (its log ends ${item.last.index}@${item.last.term})` : ""}, voted for by ${item.voters.map((v) => `n${v}`).join(", ")}`;
    case "stepped-down":
      return `n${item.node} steps down (term ${item.term})`;
    case "lost-campaigns": {
      if (item.nodes.length > 1) return `${item.nodes.map((n) => `n${n}`).join(", ")} stand for election in term${item.terms.length > 1 ? "s" : ""} ${spans(item.terms)} and none wins`;
      const more = item.terms.slice(1);
      return `n${item.nodes[0]} stands for election in term ${item.terms[0]} and does not win${more.length > 0 ? ` (and in term${more.length > 1 ? "s" : ""} ${spans(more)})` : ""}`;
    }
    case "outage": {
      const b = item.back;
      const state = `term ${b.term}, log ${b.lastIndex}${b.recovering ? ", recovering" : ""}`;
      const disk = item.damage ? ` with a DISK FAULT (${describeDamage(item.damage.damage, item.damage.harmless)})` : "";
      if (item.times > 1) return `n${item.node} CRASHED and RESTARTED ${item.times} times, the last back at t=${b.at} (${state})`;
      return `n${item.node} CRASHED${disk}, RESTARTED at t=${b.at} (${state})`;
    }
    case "split":
      return `${renderEvent(item.event)}, until HEAL all links at t=${item.heal}`;
    case "messages": {
      const m = item.message;
      const peers = item.peers.map((p) => `n${p}`).join(", ");
      const who = item.answer ? `${peers} -> n${m.to}` : `n${m.from} -> ${peers}`;
      return `${who} ${describeBody(m, { commit: false })}${item.loss ? `  [${item.loss}]` : ""}${item.count > 1 ? `  (x${item.count}, the last at t=${item.lastAt})` : item.lastAt > item.at ? `  (the last at t=${item.lastAt})` : ""}`;
    }
  }
}

/** Numbers as a list with runs of three or more written as spans: "2-9, 11". */
function spans(ns: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ns.length; ) {
    let j = i;
    while (j + 1 < ns.length && ns[j + 1] === ns[j]! + 1) j++;
    if (j - i >= 2) parts.push(`${ns[i]}-${ns[j]}`);
    else for (let k = i; k <= j; k++) parts.push(String(ns[k]));
    i = j + 1;
  }
  return parts.join(", ");
}
