// The dashboard page served at GET / (SPEC §7): one static page with its
// style and script inline and no external resources. The page itself polls
// every node's /status (see dashboard/client.ts for what it draws).

import { dashboardClient } from "./dashboard/client.js";
import { DASHBOARD_CSS } from "./dashboard/style.js";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>raftkv dashboard</title>
<link rel="icon" href="data:,">
<style>${DASHBOARD_CSS}</style>
</head>
<body>
<header><h1>raftkv</h1><span class="where" id="where"></span><span class="fresh" id="fresh"></span></header>
<main>
  <div class="top">
    <section class="panel"><h2>Nodes and votes</h2><svg id="ring" viewBox="0 0 260 240" role="img" aria-label="the nodes, coloured by role, with the term inside; dashed arrows are votes"></svg></section>
    <section class="panel">
      <h2>Cluster</h2>
      <div class="summary" id="summary-stats"></div>
      <div class="membership" id="membership"></div>
      <h2 class="sub">Roles since this page opened (up to a minute)</h2>
      <div class="lanes" id="lanes"></div>
      <div class="legend">
        <span><i style="background:var(--leader)"></i>leader</span><span><i style="background:var(--candidate)"></i>candidate</span>
        <span><i style="background:var(--precandidate)"></i>pre-candidate</span><span><i style="background:var(--follower)"></i>follower</span>
        <span><i class="hatch"></i>not answering</span><span>in a circle: the node's term · dashed arrow: its vote in that term · dotted line: an event below</span>
      </div>
      <div class="note" id="note"></div>
    </section>
  </div>
  <section class="cards" id="nodes"></section>
  <section class="panel"><h2>Elections, leader and membership changes</h2><ol id="events"></ol></section>
</main>
<script>(${dashboardClient.toString()})();</script>
</body>
</html>
`;

export function dashboardHtml(): string {
  return PAGE;
}
