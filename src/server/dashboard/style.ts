// The dashboard's stylesheet, inlined into the page (no external resources).
// Role colours are shared with the ring, the cards and the role lanes.

export const DASHBOARD_CSS = `
:root {
  --leader: #1f9d55; --candidate: #e8890c; --precandidate: #c9a227; --follower: #3b76d8; --down: #9aa3ad;
  --ink: #1d2733; --muted: #6b7785; --line: #e3e8ee; --bg: #f4f6f9; --card: #fff; --bad: #d64545;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 16px; padding: 12px 24px; background: #17202b; color: #fff; }
header h1 { margin: 0; font-size: 18px; font-weight: 600; letter-spacing: .2px; }
header .where { color: #aab6c3; font-size: 13px; }
header .fresh { margin-left: auto; color: #aab6c3; font-size: 12px; font-variant-numeric: tabular-nums; }
main { max-width: 1400px; margin: 0 auto; padding: 16px 24px 32px; display: grid; gap: 16px; }
section.panel { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
h2 { margin: 0 0 10px; font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: .6px; color: var(--muted); }
.top { display: grid; grid-template-columns: 260px 1fr; gap: 16px; align-items: stretch; }
#ring { width: 100%; height: 240px; display: block; }
.summary { display: flex; flex-wrap: wrap; gap: 10px 32px; }
h2.sub { margin-top: 14px; }
.stat .k { font-size: 12px; color: var(--muted); }
.stat .v { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
.stat .v.bad { color: var(--bad); }
.legend { display: flex; flex-wrap: wrap; gap: 6px 14px; margin-top: 6px; font-size: 12px; color: var(--muted); }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 5px; vertical-align: -1px; }
.legend i.hatch { border-radius: 2px; background: repeating-linear-gradient(45deg, #e4e8ed 0 3px, #b9c1ca 3px 5px); }
.note { margin-top: 6px; font-size: 12px; color: var(--bad); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-left: 6px solid var(--c); border-radius: 10px; padding: 12px 14px; }
.card[data-reachable="false"], .card[data-reachable="unknown"] { background: #f7f8fa; color: var(--muted); }
.card .head { display: grid; grid-template-columns: 1fr auto; align-items: center; column-gap: 10px; margin-bottom: 8px; }
.card .name { font-size: 17px; font-weight: 600; white-space: nowrap; }
.card .addr { font-size: 12px; color: var(--muted); font-weight: 400; }
.card .head .addr { grid-column: 1 / -1; }
.pill { padding: 2px 9px; border-radius: 999px; font-size: 11px; font-weight: 700; letter-spacing: .5px; text-transform: uppercase; color: #fff; background: var(--c); }
.card dl { display: grid; grid-template-columns: 70px 1fr 70px 1fr; gap: 2px 10px; margin: 0; font-variant-numeric: tabular-nums; }
.card dt { color: var(--muted); font-size: 12px; align-self: center; }
.card dd { margin: 0; font-weight: 600; white-space: nowrap; }
.card[data-reachable="false"] dd { font-weight: 400; }
.card .gone { margin-top: 8px; font-size: 12px; }
.card .warn { margin-top: 8px; font-size: 12px; color: var(--bad); }
.pill.member { background: #6b7785; margin-left: 8px; vertical-align: middle; }
.membership { margin: 10px 0 4px; font-size: 13px; }
.membership .k { font-size: 11px; text-transform: uppercase; letter-spacing: .5px; color: #6b7785; }
.membership .warn { margin-top: 4px; color: var(--candidate); font-weight: 600; }
.repl { margin-top: 10px; border-top: 1px solid var(--line); padding-top: 8px; }
.repl h3 { margin: 0 0 6px; font-size: 11px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .5px; }
.peer { display: grid; grid-template-columns: 28px 1fr auto; gap: 8px; align-items: center; font-size: 12px; margin: 3px 0; font-variant-numeric: tabular-nums; }
.bar { height: 10px; background: #e9edf2; border-radius: 5px; overflow: hidden; }
.bar > span { display: block; height: 100%; background: var(--leader); border-radius: 5px; transition: width .25s; }
.peer[data-peer-reachable="false"] .bar > span { background: var(--down); }
.peer .meta { color: var(--muted); white-space: nowrap; }
.lanes svg { width: 100%; display: block; }
.lanes text { font-size: 11px; fill: var(--muted); }
.lanes .lbl { font-size: 12px; font-weight: 600; fill: var(--ink); }
.lanes .seglbl { fill: #fff; font-weight: 600; font-size: 10px; }
#events { list-style: none; margin: 10px 0 0; padding: 0; max-height: 260px; overflow: auto; font-size: 13px; }
#events li { display: grid; grid-template-columns: 90px 64px 1fr; gap: 10px; padding: 3px 0; border-bottom: 1px solid #f0f2f5; }
#events .when { color: var(--muted); font-variant-numeric: tabular-nums; }
#events .term { font-variant-numeric: tabular-nums; }
#events li[data-kind="down"] .what { color: var(--bad); }
#events li[data-kind="leader"] .what { color: var(--leader); font-weight: 600; }
#events .src { color: var(--muted); font-size: 12px; }
@media (max-width: 760px) { .top { grid-template-columns: 1fr; } }
`;
