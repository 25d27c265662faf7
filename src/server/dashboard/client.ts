// The dashboard's script. It runs in the browser, not in Node: the page
// embeds this function's source text and calls it, so the function must not
// use anything from outside its own body (types are fine: they are erased).
//
// It polls every node's GET /status (cross-origin; the admin port answers
// with access-control-allow-origin: *), keeps the last answer of each node,
// and redraws: a ring of nodes with their votes, one card per node, the
// leader's replication progress, role lanes over the last minute and a
// timeline of elections merged from the nodes' own events and from what the
// page itself saw (term changes, leader changes, nodes going down and up).

import type { StatusJson } from "../../util/status-json.js";

/** A node's place in the configuration (SPEC §10); absent from a node older than membership changes. */
interface Membership {
  state: "voter" | "learner" | "joining" | "leaving" | "removed";
  configIndex: number;
  committed: boolean;
  voters: readonly number[];
  outgoing: readonly number[];
  learners: readonly number[];
  pending: { index: number; voters: readonly number[]; outgoing: readonly number[]; learners: readonly number[] } | null;
}

/** What the page polls: GET /status, as the server writes it. */
type Status = StatusJson & { membership?: Membership };

interface Watched {
  id: number;
  /** host:port of its admin port, as the browser can reach it. */
  admin: string;
  /** The last answer, kept while the node is down so the card can say what it was. */
  last: Status | null;
  /** null until the first poll finishes. */
  reachable: boolean | null;
  lastSeen: number;
  busy: boolean;
  /** What the node was at each poll, for the role lanes. */
  lane: { t: number; state: string; term: number | null }[];
}

type EventKind = "leader" | "stepdown" | "term" | "down" | "up" | "member";

interface TimelineEntry {
  time: number;
  term: number | null;
  kind: EventKind;
  text: string;
  /** Which node reported it, or null when the page saw it. */
  source: number | null;
}

export function dashboardClient(): void {
  const POLL_MS = 300;
  const TIMEOUT_MS = 1000;
  const LANE_MS = 60_000;
  const MAX_TIMELINE = 200;
  const ROLE_COLOR: Record<string, string> = {
    leader: "var(--leader)",
    candidate: "var(--candidate)",
    precandidate: "var(--precandidate)",
    follower: "var(--follower)",
  };
  // The SVG fills need real colours, not CSS variables inside attributes.
  const ROLE_FILL: Record<string, string> = { leader: "#1f9d55", candidate: "#e8890c", precandidate: "#c9a227", follower: "#3b76d8", down: "#c3cad2" };

  const watched: Watched[] = [];
  const timeline: TimelineEntry[] = [];
  const seenEvents = new Set<string>();
  let clusterTerm: number | null = null;
  let leader: { id: number; term: number } | null = null;
  let lastAnswer = 0;
  /** The configuration with the highest index any node reported. */
  let latest: Membership | null = null;
  let renderQueued = false;
  const opened = Date.now();

  const byId = (id: string): HTMLElement => document.getElementById(id)!;
  const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const colorOf = (role: string): string => ROLE_COLOR[role] ?? "var(--down)";

  /** An address the browser can reach: a wildcard listen address means "this host". */
  function reachableAddress(admin: string): string {
    const m = /^(\[[^\]]*\]|[^:]+):(\d+)$/.exec(admin);
    if (!m) return admin;
    const host = m[1] === "0.0.0.0" || m[1] === "[::]" ? location.hostname : m[1];
    return `${host}:${m[2]}`;
  }

  async function fetchStatus(admin: string): Promise<Status> {
    const res = await fetch(`${location.protocol === "https:" ? "https" : "http"}://${admin}/status`, {
      cache: "no-store",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return (await res.json()) as Status;
  }

  async function start(): Promise<void> {
    let first: Status | null = null;
    while (!first) {
      try {
        first = await fetchStatus(location.host);
      } catch {
        byId("fresh").textContent = `waiting for ${location.host} …`;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    const list = first.nodes ?? [{ id: first.id, admin: location.host, client: "" }];
    for (const n of list) watched.push({ id: n.id, admin: reachableAddress(n.admin), last: null, reachable: null, lastSeen: 0, busy: false, lane: [] });
    if (!watched.some((n) => n.id === first!.id)) watched.push({ id: first.id, admin: location.host, last: null, reachable: null, lastSeen: 0, busy: false, lane: [] });
    watched.sort((a, b) => a.id - b.id);
    if (!first.nodes) byId("note").textContent = "This node's /status does not list the other nodes, so only this node is shown.";
    byId("where").textContent = `${watched.length} node${watched.length === 1 ? "" : "s"}, polled every ${POLL_MS} ms`;
    const pollAll = (): void => watched.slice().forEach((n) => void poll(n));
    pollAll();
    setInterval(pollAll, POLL_MS);
    setInterval(queueRender, 1000); // keeps "seen … ago" and the lanes moving while nothing answers
  }

  async function poll(n: Watched): Promise<void> {
    if (n.busy) return;
    n.busy = true;
    let s: Status | null = null;
    try {
      s = await fetchStatus(n.admin);
    } catch {
      s = null;
    }
    n.busy = false;
    observe(n, s, Date.now());
    queueRender();
  }

  function note(time: number, term: number | null, kind: EventKind, text: string, source: number | null): void {
    timeline.push({ time, term, kind, text, source });
    timeline.sort((a, b) => a.time - b.time);
    if (timeline.length > MAX_TIMELINE) timeline.splice(0, timeline.length - MAX_TIMELINE);
  }

  /** Folds one poll result into the picture and notes what changed. */
  function observe(n: Watched, s: Status | null, now: number): void {
    if (s === null) {
      if (n.reachable === true) note(now, n.last?.term ?? null, "down", `node ${n.id} stopped answering`, null);
      n.reachable = false;
    } else {
      if (n.reachable === false) note(now, s.term, "up", `node ${n.id} is back (${s.role}, term ${s.term})`, null);
      n.reachable = true;
      n.last = s;
      n.lastSeen = now;
      lastAnswer = now;
      learnMembers(s, now);
      for (const e of s.events) {
        const key = `${n.id}|${e.time}|${e.event}`;
        if (seenEvents.has(key)) continue;
        seenEvents.add(key);
        note(e.time, e.term, /became leader/.test(e.event) ? "leader" : "stepdown", e.event, n.id);
      }
      if (clusterTerm !== null && s.term > clusterTerm) note(now, s.term, "term", `term ${s.term} began (first seen at node ${n.id}, a ${s.role})`, null);
      if (clusterTerm === null || s.term > clusterTerm) clusterTerm = s.term;
    }
    n.lane.push({ t: now, state: s ? s.role : "down", term: s ? s.term : null });
    while (n.lane.length > 2 && n.lane[1]!.t < now - LANE_MS) n.lane.shift();
    noteLeader(now);
  }

  /**
   * Members a node names that the page does not watch yet (added since it
   * opened) start being polled; the configuration seen with the highest
   * index is the one the page draws.
   */
  function learnMembers(s: Status, now: number): void {
    const m = s.membership;
    if (m && (latest === null || m.configIndex > latest.configIndex || (m.configIndex === latest.configIndex && m.committed && !latest.committed))) {
      if (latest !== null && m.configIndex > latest.configIndex) note(now, s.term, "member", `configuration at index ${m.configIndex}: ${describeConfig(m)}`, s.id);
      latest = m;
    }
    if (!m || m.configIndex < (latest?.configIndex ?? 0)) return;
    let added = false;
    for (const n of s.nodes ?? []) {
      if (watched.some((w) => w.id === n.id)) continue;
      watched.push({ id: n.id, admin: reachableAddress(n.admin), last: null, reachable: null, lastSeen: 0, busy: false, lane: [] });
      added = true;
    }
    if (added) {
      watched.sort((a, b) => a.id - b.id);
      byId("where").textContent = `${watched.length} node${watched.length === 1 ? "" : "s"}, polled every ${POLL_MS} ms`;
    }
  }

  function describeConfig(m: { voters: readonly number[]; outgoing: readonly number[]; learners: readonly number[] }): string {
    const ids = (l: readonly number[]): string => (l.length === 0 ? "none" : l.join(", "));
    return `voters ${ids(m.voters)}${m.outgoing.length > 0 ? ` (joint with ${ids(m.outgoing)})` : ""}, learners ${ids(m.learners)}`;
  }

  /**
   * A node's membership as the latest configuration the page saw says it:
   * what the node itself says when it answers with that configuration,
   * derived from the configuration otherwise (a node that is down).
   */
  function membershipOf(n: Watched): string | null {
    if (latest === null) return null;
    const own = n.last?.membership;
    if (n.reachable && own && own.configIndex === latest.configIndex) return own.state;
    const inNew = latest.voters.includes(n.id);
    const inOld = latest.outgoing.includes(n.id);
    if (inNew && latest.outgoing.length > 0 && !inOld) return "joining";
    if (inNew) return "voter";
    if (inOld) return "leaving";
    if (latest.learners.includes(n.id)) return "learner";
    return "removed";
  }

  /** The cluster's leader: the reachable node that says it leads, in the highest term. */
  function noteLeader(now: number): void {
    let best: Status | null = null;
    for (const n of watched) {
      const s = n.last;
      if (n.reachable && s && s.role === "leader" && (!best || s.term > best.term)) best = s;
    }
    const next = best ? { id: best.id, term: best.term } : null;
    const changed = next !== null && (leader === null || leader.id !== next.id || leader.term !== next.term);
    if (changed) {
      // The leader's own "became leader" event says the same thing, with the leader's own clock.
      const told = timeline.some((e) => e.kind === "leader" && e.term === next.term && e.source === next.id);
      if (!told) note(now, next.term, "leader", `node ${next.id} is leader`, null);
    }
    leader = next;
  }

  function queueRender(): void {
    if (renderQueued) return;
    renderQueued = true;
    setTimeout(() => {
      renderQueued = false;
      render();
    }, 0);
  }

  function render(): void {
    const now = Date.now();
    document.body.dataset.leader = leader ? String(leader.id) : "";
    document.body.dataset.term = clusterTerm === null ? "" : String(clusterTerm);
    byId("fresh").textContent = lastAnswer ? `last answer ${ago(now - lastAnswer)}` : "waiting for the first answer …";
    renderSummary();
    byId("ring").innerHTML = ring();
    byId("nodes").innerHTML = watched.map((n) => card(n, now)).join("");
    byId("lanes").innerHTML = lanes(now);
    byId("events").innerHTML = timeline
      .slice()
      .reverse()
      .map(
        (e) =>
          `<li data-kind="${e.kind}"><span class="when" title="${esc(new Date(e.time).toLocaleString())}">${clock(e.time)}</span>` +
          `<span class="term">${e.term === null ? "" : `term ${e.term}`}</span>` +
          `<span class="what">${esc(e.text)} <span class="src">${e.source === null ? "· seen by this page" : `· reported by node ${e.source}`}</span></span></li>`,
      )
      .join("");
  }

  function renderSummary(): void {
    const up = watched.filter((n) => n.reachable).length;
    const lead = leader ? watched.find((n) => n.id === leader!.id)?.last ?? null : null;
    const stat = (k: string, v: string, bad = false): string => `<div class="stat"><div class="k">${k}</div><div class="v${bad ? " bad" : ""}">${v}</div></div>`;
    byId("summary-stats").innerHTML =
      stat("leader", leader ? `node ${leader.id}` : "none", !leader) +
      stat("term", clusterTerm === null ? "–" : String(clusterTerm)) +
      stat("nodes answering", `${up} / ${watched.length}`, up * 2 <= watched.length) +
      stat("commit index", lead ? String(lead.commitIndex) : "–") +
      stat("keys", lead ? String(lead.keys) : "–");
    const m = latest;
    const box = byId("membership");
    box.dataset.configIndex = m ? String(m.configIndex) : "";
    box.dataset.pending = m?.pending ? String(m.pending.index) : "";
    box.innerHTML = m
      ? `<div class="k">membership</div><div>${esc(describeConfig(m))} <span class="addr">(configuration at index ${m.configIndex}${m.configIndex === 0 ? ", the cluster file's" : ""}${m.committed ? "" : ", not committed yet"})</span></div>` +
        (m.pending
          ? `<div class="warn" data-pending-change>change under way (index ${m.pending.index}): ${esc(describeConfig(m.pending))}${m.pending.outgoing.length > 0 ? "; while joint, decisions need a majority of the old voters and of the new" : ""}</div>`
          : `<div class="addr">no change under way</div>`)
      : "";
  }

  /** RaftScope's picture: nodes on a circle, coloured by role, with the term inside and an arrow for each vote. */
  function ring(): string {
    const cx = 130;
    const cy = 126;
    const R = watched.length === 1 ? 0 : 80;
    const r = 26;
    const pos = new Map(watched.map((n, i) => [n.id, { x: cx + R * Math.sin((2 * Math.PI * i) / watched.length), y: cy - R * Math.cos((2 * Math.PI * i) / watched.length) }]));
    let svg = `<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#6b7785"/></marker></defs>`;
    for (const n of watched) {
      const s = n.last;
      if (!n.reachable || !s || s.votedFor === null || s.votedFor === n.id || !pos.has(s.votedFor)) continue;
      const a = pos.get(n.id)!;
      const b = pos.get(s.votedFor)!;
      const d = Math.hypot(b.x - a.x, b.y - a.y);
      const ux = (b.x - a.x) / d;
      const uy = (b.y - a.y) / d;
      svg += `<line x1="${a.x + ux * (r + 3)}" y1="${a.y + uy * (r + 3)}" x2="${b.x - ux * (r + 5)}" y2="${b.y - uy * (r + 5)}" stroke="#6b7785" stroke-width="1.5" stroke-dasharray="4 3" marker-end="url(#arrow)"><title>node ${n.id} voted for node ${s.votedFor} in term ${s.term}</title></line>`;
    }
    for (const n of watched) {
      const p = pos.get(n.id)!;
      const s = n.last;
      const state = n.reachable && s ? s.role : "down";
      const fill = ROLE_FILL[state] ?? ROLE_FILL.down!;
      const ringStroke = state === "leader" ? `<circle cx="${p.x}" cy="${p.y}" r="${r + 5}" fill="none" stroke="#1f9d55" stroke-width="2.5"/>` : "";
      const inside = n.reachable && s ? String(s.term) : "✕";
      // The name goes above the nodes of the upper part of the ring and below the others, away from the vote arrows.
      const label = { x: p.x, y: R > 0 && p.y < cy - R / 3 ? p.y - r - 8 : p.y + r + 17 };
      svg +=
        `<g data-ring-node="${n.id}">${ringStroke}<circle cx="${p.x}" cy="${p.y}" r="${r}" fill="${fill}"/>` +
        `<text x="${p.x}" y="${p.y + 6}" text-anchor="middle" font-size="18" font-weight="700" fill="#fff">${inside}</text>` +
        `<text x="${label.x}" y="${label.y}" text-anchor="middle" font-size="12" fill="#1d2733">node ${n.id}</text>` +
        `<title>node ${n.id}: ${state}${s && n.reachable ? `, term ${s.term}` : ""}</title></g>`;
    }
    return svg;
  }

  function card(n: Watched, now: number): string {
    const s = n.last;
    const reachable = n.reachable === null ? "unknown" : String(n.reachable);
    const role = n.reachable && s ? s.role : "unknown";
    const member = membershipOf(n);
    const attrs = `data-node-id="${n.id}" data-role="${role}" data-reachable="${reachable}"` + (member === null ? "" : ` data-membership="${member}"`) + (s && n.reachable ? ` data-term="${s.term}" data-commit="${s.commitIndex}" data-leader="${s.leader ?? ""}"` : "");
    const pill = n.reachable === false ? "unreachable" : n.reachable === null ? "asking…" : role;
    let body = "";
    if (s) {
      const dash = (v: number | null): string => (v === null ? "–" : String(v));
      body =
        `<dl>` +
        `<dt>term</dt><dd>${s.term}</dd><dt>voted for</dt><dd>${s.votedFor === null ? "–" : `node ${s.votedFor}`}</dd>` +
        `<dt>leader</dt><dd>${s.leader === null ? "–" : `node ${s.leader}`}</dd><dt>keys</dt><dd>${s.keys}</dd>` +
        `<dt>last log</dt><dd>${s.lastLogIndex} <span class="addr">(term ${s.lastLogTerm})</span></dd><dt>snapshot</dt><dd>${dash(s.snapshotIndex)}</dd>` +
        `<dt>commit</dt><dd>${s.commitIndex}</dd><dt>applied</dt><dd>${s.lastApplied}</dd>` +
        `</dl>`;
      if (!n.reachable) body += `<div class="gone">Not answering. Last seen ${ago(now - n.lastSeen)} as ${s.role} in term ${s.term}.</div>`;
      else if (s.role === "leader" && clusterTerm !== null && s.term < clusterTerm) body += `<div class="warn">Stale: the cluster has moved on to term ${clusterTerm}.</div>`;
      else if (s.role === "leader") body += replication(s);
      else if (leader) {
        const lead = watched.find((w) => w.id === leader!.id)?.last;
        if (lead && lead.lastLogIndex > s.lastLogIndex) body += `<div class="gone">${lead.lastLogIndex - s.lastLogIndex} entries behind the leader</div>`;
      }
    } else if (n.reachable === false) {
      body = `<div class="gone">Has not answered since this page opened.</div>`;
    }
    return (
      `<article class="card" ${attrs} style="--c:${n.reachable ? colorOf(role) : "var(--down)"}">` +
      `<div class="head"><span class="name">Node ${n.id}${member === null || member === "voter" ? "" : `<span class="pill member" data-member-pill>${member}</span>`}</span><span class="pill">${pill}</span><span class="addr">admin ${esc(n.admin)}</span></div>` +
      body +
      `</article>`
    );
  }

  /** The leader's view of each follower: how much of the leader's log it holds. */
  function replication(s: Status): string {
    const rows = s.peers
      .map((p) => {
        const match = p.matchIndex ?? 0;
        const pct = s.lastLogIndex === 0 ? 100 : Math.min(100, (100 * match) / s.lastLogIndex);
        const meta = `${match} / ${s.lastLogIndex}${p.state ? ` · ${p.state}` : ""}${p.reachable ? "" : " · no link"}`;
        return (
          `<div class="peer" data-peer-id="${p.id}" data-match="${match}" data-peer-reachable="${p.reachable}">` +
          `<span>n${p.id}</span><div class="bar"><span style="width:${pct.toFixed(1)}%"></span></div><span class="meta">${meta}</span></div>`
        );
      })
      .join("");
    return `<div class="repl"><h3>Replication (match index / leader's last index)</h3>${rows}</div>`;
  }

  /**
   * One lane per node: its role at each poll, with the timeline's events as
   * ticks. The lanes span the time since the page opened, up to a minute.
   */
  function lanes(now: number): string {
    const span = Math.min(LANE_MS, Math.max(10_000, Math.ceil((now - opened) / 10_000) * 10_000));
    const width = Math.max(400, byId("lanes").clientWidth);
    const left = 56;
    const laneH = 22;
    const gap = 8;
    const top = 6;
    const height = top + watched.length * (laneH + gap) + 18;
    const x = (t: number): number => left + ((t - (now - span)) / span) * (width - left - 8);
    let svg = `<svg viewBox="0 0 ${width} ${height}" height="${height}"><defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#e4e8ed"/><line x1="0" y1="0" x2="0" y2="6" stroke="#b9c1ca" stroke-width="3"/></pattern></defs>`;
    watched.forEach((n, i) => {
      const y = top + i * (laneH + gap);
      svg += `<text class="lbl" x="0" y="${y + 15}">node ${n.id}</text><rect x="${left}" y="${y}" width="${width - left - 8}" height="${laneH}" fill="#f1f3f6" rx="3"/>`;
      for (let k = 0; k < n.lane.length; k++) {
        const seg = n.lane[k]!;
        let end = k + 1;
        while (end < n.lane.length && n.lane[end]!.state === seg.state && n.lane[end]!.term === seg.term) end++;
        const x0 = Math.max(left, x(seg.t));
        const x1 = end < n.lane.length ? x(n.lane[end]!.t) : x(now);
        if (x1 > x0) {
          const fill = seg.state === "down" ? "url(#hatch)" : ROLE_FILL[seg.state] ?? "#c3cad2";
          svg += `<rect x="${x0.toFixed(1)}" y="${y}" width="${(x1 - x0).toFixed(1)}" height="${laneH}" fill="${fill}"><title>node ${n.id}: ${seg.state}${seg.term === null ? "" : `, term ${seg.term}`}</title></rect>`;
          if (seg.state === "leader" && x1 - x0 > 34) svg += `<text class="seglbl" x="${x0 + 5}" y="${y + 15}">T${seg.term}</text>`;
        }
        k = end - 1;
      }
    });
    for (const e of timeline) {
      if (e.time < now - span) continue;
      const color = e.kind === "down" ? "#d64545" : e.kind === "leader" ? "#1f9d55" : "#6b7785";
      svg += `<line x1="${x(e.time).toFixed(1)}" x2="${x(e.time).toFixed(1)}" y1="${top - 4}" y2="${height - 16}" stroke="${color}" stroke-width="1.5" stroke-dasharray="2 2"><title>${esc(e.text)}</title></line>`;
    }
    for (let k = 4; k >= 0; k--) {
      const s = (span / 4000) * k;
      svg += `<text x="${x(now - s * 1000)}" y="${height - 3}" text-anchor="${k === 4 ? "start" : k === 0 ? "end" : "middle"}">${k === 0 ? "now" : `−${Number(s.toFixed(1))} s`}</text>`;
    }
    return svg + `</svg>`;
  }

  function ago(ms: number): string {
    return ms < 1000 ? "just now" : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s ago` : `${Math.round(ms / 60_000)} min ago`;
  }

  function clock(t: number): string {
    const d = new Date(t);
    const two = (v: number): string => String(v).padStart(2, "0");
    return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, "0").slice(0, 1)}`;
  }

  void start();
}
