// The replay page itself: its HTML, its style, and the script that plays the
// recorded run in the browser (html.ts records the run; this renders it).
// The script is serialized with Function.prototype.toString, so it uses
// nothing from this module's scope.

import type { ReplayData } from "./replay-data.js";

export function renderPage(data: ReplayData): string {
  // "<" escaped so that no string in the data can close the script element.
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>raftkv sim: ${escapeHtml(data.title)}</title>
<link rel="icon" href="data:,">
<style>${REPLAY_CSS}</style>
</head>
<body>
<header><h1>raftkv sim replay</h1><span class="where">${escapeHtml(data.title)}</span><code class="cmd">${escapeHtml(data.replay)}</code></header>
<div id="violation" class="violation" hidden></div>
<nav class="controls">
  <button id="first" title="first tick (Home)">|◀</button>
  <button id="back" title="one tick back (←)">◀</button>
  <button id="play" title="play / pause (space)">▶ play</button>
  <button id="step" title="one tick forward (→)">▶|</button>
  <button id="next" title="next election, crash, restart or network change (n)">next event ▶▶</button>
  <label>speed <select id="speed"><option value="2">2</option><option value="5">5</option><option value="10" selected>10</option><option value="30">30</option><option value="100">100</option></select> ticks/s</label>
  <input id="slider" type="range" min="0" value="0">
  <span id="tick" class="tick"></span>
</nav>
<section class="panel"><h2>Roles over the whole run <span class="hint">(click to jump)</span></h2><svg id="overview"></svg></section>
<main>
  <section class="panel"><h2>Nodes, links and this tick's messages</h2><svg id="ring" viewBox="0 0 420 400"></svg><div id="net" class="net"></div></section>
  <section class="panel">
    <h2>Logs <span class="hint">(box = entry, colour and number = its term; solid = committed, faded = not yet; ▲ = leader's match index)</span></h2>
    <svg id="logs"></svg>
    <div class="scroll"><table id="table"></table></div>
    <h2 class="sub">Trace <span class="hint">(this tick highlighted)</span> <label class="hint"><input type="checkbox" id="quiet" checked> hide heartbeats</label></h2>
    <div id="trace" class="trace"></div>
  </section>
</main>
<script type="application/json" id="replay-data">${json}</script>
<script>(${replayClient.toString()})();</script>
</body>
</html>
`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const REPLAY_CSS = `
:root { --leader: #1f9d55; --candidate: #e8890c; --precandidate: #c9a227; --follower: #3b76d8; --down: #9aa3ad; --ink: #1d2733; --muted: #6b7785; --line: #e3e8ee; --bad: #d64545; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f4f6f9; }
header { display: flex; align-items: baseline; gap: 16px; padding: 12px 24px; background: #17202b; color: #fff; flex-wrap: wrap; }
header h1 { margin: 0; font-size: 18px; font-weight: 600; }
header .where { color: #cfd8e2; }
header .cmd { margin-left: auto; color: #aab6c3; font-size: 12px; overflow-wrap: anywhere; }
.violation { margin: 12px 24px 0; padding: 10px 14px; border-radius: 8px; background: #fdecec; border: 1px solid #f3b7b7; color: #8b1f1f; white-space: pre-wrap; font-size: 13px; }
.violation button { margin-left: 10px; }
.controls { position: sticky; top: 0; z-index: 2; display: flex; align-items: center; gap: 8px; padding: 10px 24px; background: #fff; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
.controls button { font: inherit; padding: 4px 10px; border: 1px solid #cfd6de; background: #f8fafc; border-radius: 6px; cursor: pointer; }
.controls button:hover { background: #eef2f6; }
.controls label { color: var(--muted); font-size: 13px; }
#slider { flex: 1; min-width: 200px; }
.tick { font-variant-numeric: tabular-nums; font-weight: 600; min-width: 150px; text-align: right; }
main { display: grid; grid-template-columns: 440px minmax(0, 1fr); gap: 16px; padding: 0 24px 24px; align-items: start; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; margin: 16px 24px 0; }
main .panel { margin: 16px 0 0; min-width: 0; }
h2.sub { margin-top: 14px; }
h2 { margin: 0 0 8px; font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: .6px; color: var(--muted); }
.hint { text-transform: none; letter-spacing: 0; font-weight: 400; }
#overview { width: 100%; display: block; cursor: pointer; }
#ring { width: 100%; display: block; }
#logs { width: 100%; display: block; }
.net { font-size: 12px; color: var(--muted); text-align: center; }
svg text { font-family: inherit; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin-top: 10px; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #f0f2f5; white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
td .role { display: inline-block; padding: 0 8px; border-radius: 999px; color: #fff; font-size: 11px; font-weight: 700; text-transform: uppercase; }
.trace { position: relative; font: 12px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; max-height: 320px; overflow: auto; white-space: pre; border: 1px solid #f0f2f5; border-radius: 6px; }
.trace div { padding: 0 6px; }
.trace .now { background: #fff6d6; }
.trace .t { color: var(--muted); }
.trace .ev { font-weight: 700; }
.trace .bad { color: var(--bad); font-weight: 700; }
@media (max-width: 1000px) { main { grid-template-columns: 1fr; } }
`;

/**
 * The page's script. It runs in the browser: the page embeds this
 * function's source and calls it, so it uses nothing from outside its body.
 */
function replayClient(): void {
  type Tuple = [number, number, number | null, number | null, number | null, number | null];
  interface Data {
    title: string;
    ids: number[];
    roles: string[];
    violation: { invariant: string; message: string; at: number } | null;
    omitted: number;
    start: { t: number; n: Tuple[]; l: number[][]; m: (number[] | null)[]; c: string[]; w: string; x: Line[] };
    deltas: { t: number; x: Line[]; n?: Record<number, Tuple>; l?: Record<number, number[]>; m?: Record<number, number[] | null>; c?: string[]; w?: string }[];
  }
  /** One trace event (replay-data.ts TraceLine). */
  interface Line {
    text: string;
    tag: "bad" | "event" | "chatter" | "";
    msg?: { from: number; to: number; label: string; color: string; lost: boolean };
  }
  interface Log {
    base: number;
    baseTerm: number;
    terms: number[];
  }
  interface State {
    t: number;
    n: Tuple[];
    logs: Log[];
    match: (number[] | null)[];
    cut: string[];
    net: string;
    lines: Line[];
  }
  interface Msg {
    from: number;
    to: number;
    label: string;
    color: string;
    lost: boolean;
    text: string;
    /** How many identical messages (same link, same kind) this arrow stands for. */
    count: number;
  }

  const ROLE_FILL: Record<string, string> = { leader: "#1f9d55", candidate: "#e8890c", precandidate: "#c9a227", follower: "#3b76d8", down: "#aab2bb" };
  /** Centre and radius of the ring of nodes, in the 420×400 viewBox. */
  const RING = { x: 210, y: 205, r: 145 };

  const data = JSON.parse(document.getElementById("replay-data")!.textContent!) as Data;
  const byId = <T extends Element = HTMLElement>(id: string): T => document.getElementById(id) as unknown as T;
  const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const roleOf = (tuple: Tuple): string => data.roles[tuple[0]]!;
  const termColor = (term: number): string => `hsl(${(term * 67) % 360} 62% ${term % 2 ? 46 : 56}%)`;

  // Every tick's full state, rebuilt from the first one and the deltas.
  const states: State[] = [{ t: data.start.t, n: data.start.n, logs: data.start.l.map((l) => ({ base: l[0]!, baseTerm: l[1]!, terms: l.slice(2) })), match: data.start.m, cut: data.start.c, net: data.start.w, lines: data.start.x }];
  for (const d of data.deltas) {
    const p = states[states.length - 1]!;
    const s: State = { t: d.t, n: p.n, logs: p.logs, match: p.match, cut: d.c ?? p.cut, net: d.w ?? p.net, lines: d.x };
    if (d.n) {
      s.n = p.n.slice();
      for (const k in d.n) s.n[Number(k)] = d.n[k]!;
    }
    if (d.l) {
      s.logs = p.logs.slice();
      for (const k in d.l) {
        const [base, baseTerm, keep, ...rest] = d.l[k]!;
        const old = p.logs[Number(k)]!;
        const kept = keep! > base! ? old.terms.slice(base! - old.base, keep! - old.base) : [];
        s.logs[Number(k)] = { base: base!, baseTerm: baseTerm!, terms: kept.concat(rest) };
      }
    }
    if (d.m) {
      s.match = p.match.slice();
      for (const k in d.m) s.match[Number(k)] = d.m[k]!;
    }
    states.push(s);
  }
  // Frames worth stopping at: a role changes, a node crashes or restarts, the network changes, a violation.
  const notable = states.map((s, k) => k > 0 && (s.lines.some((l) => l.tag === "event" || l.tag === "bad") || s.cut !== states[k - 1]!.cut));

  let frame = 0;
  let timer: ReturnType<typeof setInterval> | null = null;
  const slider = byId<HTMLInputElement>("slider");
  slider.max = String(states.length - 1);

  if (data.violation) {
    const v = data.violation;
    const box = byId("violation");
    box.hidden = false;
    box.innerHTML = `<b>VIOLATION of ${esc(v.invariant)}</b> at t=${v.at}: ${esc(v.message)}`;
    const target = states.findIndex((s) => s.t >= v.at);
    if (target >= 0) {
      const go = document.createElement("button");
      go.textContent = "go there";
      go.onclick = () => show(target);
      box.append(go);
    }
  }

  function label(s: State): string {
    return s.t < 0 ? "start" : `t = ${s.t}`;
  }

  function show(k: number): void {
    frame = Math.max(0, Math.min(states.length - 1, k));
    const s = states[frame]!;
    slider.value = String(frame);
    byId("tick").textContent = `${label(s)}  (${frame + 1} / ${states.length})`;
    document.body.dataset.frame = String(frame);
    document.body.dataset.tick = String(s.t);
    const msgs = messages(s);
    byId("ring").innerHTML = ring(s, msgs);
    byId("ring").setAttribute("data-messages", String(msgs.length));
    byId("net").textContent = s.net + (s.cut.length ? ` · ${s.cut.length} link${s.cut.length === 1 ? "" : "s"} cut` : "");
    renderLogs(s);
    renderTable(s);
    renderTrace();
    const cursor = document.getElementById("cursor");
    if (cursor) cursor.setAttribute("x", String(overviewX(frame) - 1));
  }

  function messages(s: State): Msg[] {
    const out: Msg[] = [];
    for (const line of s.lines) {
      const m = line.msg;
      if (!m) continue;
      const same = out.find((o) => o.from === m.from && o.to === m.to && o.label === m.label && o.lost === m.lost);
      if (same) {
        same.count++;
        same.text += `\n${line.text}`;
      } else out.push({ from: m.from, to: m.to, label: m.label, color: m.color, lost: m.lost, text: line.text, count: 1 });
    }
    return out;
  }

  function ringPos(): Map<number, { x: number; y: number }> {
    const N = data.ids.length;
    return new Map(data.ids.map((id, i) => [id, { x: RING.x + RING.r * Math.sin((2 * Math.PI * i) / N), y: RING.y - RING.r * Math.cos((2 * Math.PI * i) / N) }]));
  }

  /** Nodes on a circle (RaftScope's picture), links between them, and this tick's messages as arrows. */
  function ring(s: State, msgs: Msg[]): string {
    const pos = ringPos();
    const r = 30;
    const cut = new Set(s.cut);
    let svg = `<defs>` + ["#3b76d8", "#8e44ad", "#b07cc6", "#7fa6e6", "#a0522d", "#c08a6b", "#d64545"].map((c) => `<marker id="m${c.slice(1)}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="${c}"/></marker>`).join("") + `</defs>`;
    for (const a of data.ids)
      for (const b of data.ids) {
        if (a >= b) continue;
        const p = pos.get(a)!;
        const q = pos.get(b)!;
        const ab = cut.has(`${a}>${b}`);
        const ba = cut.has(`${b}>${a}`);
        const style = ab && ba ? `stroke="#d64545" stroke-dasharray="6 5" stroke-width="2"` : ab || ba ? `stroke="#e08a8a" stroke-dasharray="2 4" stroke-width="2"` : `stroke="#e3e8ee" stroke-width="2"`;
        const what = ab && ba ? "cut both ways" : ab ? `n${a} → n${b} cut` : ba ? `n${b} → n${a} cut` : "up";
        svg += `<line x1="${p.x}" y1="${p.y}" x2="${q.x}" y2="${q.y}" ${style}><title>link n${a}–n${b}: ${what}</title></line>`;
      }
    const perPair = new Map<string, number>();
    for (const m of msgs) {
      const a = pos.get(m.from)!;
      const b = pos.get(m.to)!;
      const key = `${m.from}>${m.to}`;
      const k = perPair.get(key) ?? 0;
      perPair.set(key, k + 1);
      const d = Math.hypot(b.x - a.x, b.y - a.y);
      const ux = (b.x - a.x) / d;
      const uy = (b.y - a.y) / d;
      // Bend to the left of the direction of travel: the two directions of a link never overlap.
      const bend = 18 + 30 * k;
      const sx = a.x + ux * (r + 2);
      const sy = a.y + uy * (r + 2);
      const ex = b.x - ux * (r + 4);
      const ey = b.y - uy * (r + 4);
      const cx = (sx + ex) / 2 + uy * bend;
      const cy = (sy + ey) / 2 - ux * bend;
      const lx = (sx + ex) / 4 + cx / 2;
      const ly = (sy + ey) / 4 + cy / 2 + 12 * k;
      svg +=
        `<g class="msg"><path d="M${sx},${sy} Q${cx},${cy} ${ex},${ey}" fill="none" stroke="${m.color}" stroke-width="2"${m.lost ? ` stroke-dasharray="4 3"` : ""} marker-end="url(#m${m.color.slice(1)})"/>` +
        `<text x="${lx}" y="${ly + 4}" text-anchor="middle" font-size="11" fill="${m.color}" stroke="#fff" stroke-width="3" paint-order="stroke">${esc(m.label)}${m.count > 1 ? ` ×${m.count}` : ""}${m.lost ? " ✕" : ""}</text><title>${esc(m.text)}</title></g>`;
    }
    data.ids.forEach((id, i) => {
      const p = pos.get(id)!;
      const tuple = s.n[i]!;
      const role = roleOf(tuple);
      const up = role !== "down";
      const crown = role === "leader" ? `<circle cx="${p.x}" cy="${p.y}" r="${r + 5}" fill="none" stroke="#1f9d55" stroke-width="3"/>` : "";
      const outward = { x: (p.x - RING.x) / RING.r, y: (p.y - RING.y) / RING.r };
      const lx = p.x + outward.x * (r + 24);
      const ly = p.y + outward.y * (r + 20) + 4;
      svg +=
        `<g data-node-id="${id}" data-role="${role}" data-term="${tuple[1]}" data-commit="${tuple[4] ?? ""}">${crown}` +
        `<circle cx="${p.x}" cy="${p.y}" r="${r}" fill="${ROLE_FILL[role]}"${up ? "" : ` stroke="#6b7785" stroke-dasharray="4 3" stroke-width="2"`}/>` +
        `<text x="${p.x}" y="${p.y + 7}" text-anchor="middle" font-size="20" font-weight="700" fill="#fff">${up ? tuple[1] : "✕"}</text>` +
        `<text x="${lx}" y="${ly}" text-anchor="middle" font-size="13" font-weight="600" fill="#1d2733">n${id}</text>` +
        `<title>n${id}: ${role}, term ${tuple[1]}</title></g>`;
    });
    return svg;
  }

  function renderLogs(s: State): void {
    const svg = byId("logs");
    const width = Math.max(360, svg.clientWidth || 700);
    const left = 96;
    const cell = 22;
    const rowH = 34;
    const cells = Math.max(5, Math.floor((width - left - 8) / cell));
    const last = Math.max(1, ...s.logs.map((l) => l.base + l.terms.length));
    // Nothing but snapshot before the smallest snapshot index: start there (one hatched box says "snapshot").
    const from = Math.max(1, Math.min(...s.logs.map((l) => l.base)), last - cells + 1);
    const lead = s.n.findIndex((t) => roleOf(t) === "leader");
    const match = lead >= 0 ? s.match[lead] : null;
    const height = 18 + data.ids.length * rowH;
    let out = `<defs><pattern id="snap" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="5" height="5" fill="#eef1f4"/><line x1="0" y1="0" x2="0" y2="5" stroke="#c6cdd5" stroke-width="2"/></pattern></defs>`;
    for (let i = from; i <= Math.min(last, from + cells - 1); i++) if (i === from || i % 5 === 0) out += `<text x="${left + (i - from) * cell + cell / 2}" y="11" text-anchor="middle" font-size="10" fill="#6b7785">${i}</text>`;
    data.ids.forEach((id, k) => {
      const y = 16 + k * rowH;
      const tuple = s.n[k]!;
      const role = roleOf(tuple);
      const log = s.logs[k]!;
      const commit = tuple[4] ?? 0;
      const lastIndex = log.base + log.terms.length;
      out += `<g data-log-node="${id}" data-last-index="${lastIndex}" data-commit="${tuple[4] ?? ""}">`;
      out += `<rect x="0" y="${y + 2}" width="10" height="20" rx="2" fill="${ROLE_FILL[role]}"/><text x="16" y="${y + 17}" font-size="13" font-weight="600" fill="#1d2733">n${id}</text><text x="42" y="${y + 17}" font-size="11" fill="#6b7785">${role === "down" ? "crashed" : role === "precandidate" ? "pre-cand." : role}</text>`;
      for (let i = from; i <= Math.min(lastIndex, from + cells - 1); i++) {
        const x = left + (i - from) * cell;
        if (i <= log.base) {
          out += `<rect x="${x}" y="${y}" width="${cell - 3}" height="${cell}" rx="3" fill="url(#snap)"><title>index ${i}: in the snapshot (up to ${log.base}, term ${log.baseTerm})</title></rect>`;
          continue;
        }
        const term = log.terms[i - log.base - 1]!;
        const committed = role !== "down" && i <= commit;
        out +=
          `<g opacity="${role === "down" ? 0.45 : committed ? 1 : 0.5}"><rect x="${x}" y="${y}" width="${cell - 3}" height="${cell}" rx="3" fill="${termColor(term)}"${committed ? "" : ` stroke="#1d2733" stroke-dasharray="2 2"`}/>` +
          `<text x="${x + (cell - 3) / 2}" y="${y + 15}" text-anchor="middle" font-size="11" font-weight="600" fill="#fff">${term}</text><title>n${id} index ${i}, term ${term}${committed ? ", committed" : ""}</title></g>`;
      }
      if (match && k !== lead) {
        const mi = match[k]!;
        if (mi >= from && mi < from + cells) out += `<path d="M${left + (mi - from) * cell + (cell - 3) / 2},${y + cell + 1} l-4,7 h8 z" fill="#1f9d55"><title>leader's match index for n${id}: ${mi}</title></path>`;
      }
      out += `</g>`;
    });
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("height", String(height));
    svg.innerHTML = out;
  }

  function renderTable(s: State): void {
    const dash = (v: number | null): string => (v === null ? "–" : String(v));
    let rows = `<tr><th>node</th><th>role</th><th>term</th><th>voted for</th><th>leader</th><th>last log</th><th>commit</th><th>applied</th><th>snapshot</th><th>match</th></tr>`;
    data.ids.forEach((id, k) => {
      const t = s.n[k]!;
      const role = roleOf(t);
      const log = s.logs[k]!;
      const lastIndex = log.base + log.terms.length;
      const lastTerm = log.terms.length ? log.terms[log.terms.length - 1]! : log.baseTerm;
      const match = s.match[k];
      rows +=
        `<tr data-node-id="${id}"><td>n${id}</td><td><span class="role" style="background:${ROLE_FILL[role]}">${role}</span></td><td>${t[1]}</td>` +
        `<td>${t[2] === null ? "–" : `n${t[2]}`}</td><td>${t[3] === null ? "–" : `n${t[3]}`}</td><td>${lastIndex} (term ${lastTerm})</td>` +
        `<td>${dash(t[4])}</td><td>${dash(t[5])}</td><td>${log.base || "–"}</td>` +
        `<td>${match ? data.ids.filter((_, j) => j !== k).map((o) => `n${o}:${match[data.ids.indexOf(o)]}`).join(" ") : ""}</td></tr>`;
    });
    byId("table").innerHTML = rows;
  }

  function renderTrace(): void {
    const quiet = byId<HTMLInputElement>("quiet").checked;
    let html = "";
    for (let k = Math.max(0, frame - 40); k <= Math.min(states.length - 1, frame + 10); k++) {
      const s = states[k]!;
      const shown = s.lines.filter((line) => !quiet || line.tag !== "chatter");
      for (const line of shown) {
        const cls = line.tag === "bad" ? "bad" : line.tag === "event" ? "ev" : "";
        html += `<div class="${k === frame ? "now" : ""}"><span class="t">t=${String(s.t).padStart(5)}  </span><span class="${cls}">${esc(line.text)}</span></div>`;
      }
      if (k === frame && shown.length === 0)
        html += `<div class="now t">${s.t < 0 ? "start" : `t=${String(s.t).padStart(5)}`}  ${s.lines.length ? "(heartbeats only)" : "(nothing happened)"}</div>`;
    }
    const box = byId("trace");
    box.innerHTML = html;
    const now = box.querySelector(".now") as HTMLElement | null;
    if (now) box.scrollTop = now.offsetTop - box.clientHeight / 2;
  }

  function overviewX(k: number): number {
    const w = Math.max(400, byId("overview").clientWidth || 1000);
    return 50 + (k / Math.max(1, states.length - 1)) * (w - 58);
  }

  /** One lane per node over the whole run, coloured by role: elections and crashes at a glance. */
  function drawOverview(): void {
    const svg = byId("overview");
    const w = Math.max(400, svg.clientWidth || 1000);
    const laneH = 12;
    const h = data.ids.length * (laneH + 4) + 16;
    let out = "";
    data.ids.forEach((id, i) => {
      const y = i * (laneH + 4);
      out += `<text x="0" y="${y + 10}" font-size="11" fill="#1d2733">n${id}</text>`;
      let k = 0;
      while (k < states.length) {
        const role = roleOf(states[k]!.n[i]!);
        let end = k + 1;
        while (end < states.length && roleOf(states[end]!.n[i]!) === role) end++;
        const x0 = overviewX(k);
        const x1 = end < states.length ? overviewX(end) : w - 8;
        out += `<rect x="${x0.toFixed(1)}" y="${y}" width="${Math.max(0.8, x1 - x0).toFixed(1)}" height="${laneH}" fill="${ROLE_FILL[role]}"><title>n${id} ${role} from ${label(states[k]!)}</title></rect>`;
        k = end;
      }
    });
    const axisY = h - 3;
    out += `<text x="50" y="${axisY}" font-size="10" fill="#6b7785">${esc(label(states[0]!))}${data.omitted ? ` (${data.omitted} earlier ticks left out)` : ""}</text><text x="${w - 8}" y="${axisY}" font-size="10" fill="#6b7785" text-anchor="end">${esc(label(states[states.length - 1]!))}</text>`;
    if (data.violation) {
      const k = states.findIndex((s) => s.t >= data.violation!.at);
      if (k >= 0) out += `<line x1="${overviewX(k)}" x2="${overviewX(k)}" y1="0" y2="${h - 14}" stroke="#d64545" stroke-width="2"><title>violation</title></line>`;
    }
    out += `<rect id="cursor" x="${overviewX(frame) - 1}" y="0" width="2" height="${h - 14}" fill="#17202b"/>`;
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    svg.setAttribute("height", String(h));
    svg.innerHTML = out;
  }

  function play(on: boolean): void {
    if (timer) clearInterval(timer);
    timer = null;
    byId("play").textContent = on ? "❚❚ pause" : "▶ play";
    if (!on) return;
    timer = setInterval(() => {
      if (frame >= states.length - 1) return play(false);
      show(frame + 1);
    }, 1000 / Number(byId<HTMLSelectElement>("speed").value));
  }

  function nextNotable(): void {
    let k = frame + 1;
    while (k < states.length - 1 && !notable[k]) k++;
    show(k);
  }

  byId("first").onclick = () => show(0);
  byId("back").onclick = () => show(frame - 1);
  byId("step").onclick = () => show(frame + 1);
  byId("next").onclick = nextNotable;
  byId("play").onclick = () => play(timer === null);
  byId("speed").onchange = () => timer && play(true);
  byId("quiet").onchange = renderTrace;
  slider.oninput = () => show(Number(slider.value));
  byId("overview").onclick = (e: MouseEvent) => {
    const svg = byId("overview");
    const w = Math.max(400, svg.clientWidth || 1000);
    const x = ((e.clientX - svg.getBoundingClientRect().left) / svg.clientWidth) * w;
    show(Math.round(((x - 50) / (w - 58)) * (states.length - 1)));
  };
  document.addEventListener("keydown", (e) => {
    if ((e.target as HTMLElement).tagName === "INPUT" && (e.target as HTMLInputElement).type !== "range") return;
    if (e.key === "ArrowRight") show(frame + 1);
    else if (e.key === "ArrowLeft") show(frame - 1);
    else if (e.key === "Home") show(0);
    else if (e.key === "End") show(states.length - 1);
    else if (e.key === "n") nextNotable();
    else if (e.key === " ") play(timer === null);
    else return;
    e.preventDefault();
  });
  window.addEventListener("resize", () => {
    drawOverview();
    show(frame);
  });
  drawOverview();
  show(0);
}
