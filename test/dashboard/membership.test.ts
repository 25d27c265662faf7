// The dashboard's membership view (SPEC §10, §7) in a headless browser,
// against scripted admin ports whose /status the test changes: a learner
// added while the page is open gets its own card, each card says the node's
// membership (voter, learner, joining, leaving; derived from the latest
// configuration for a node that is down), and the change under way is shown.

import assert from "node:assert/strict";
import http from "node:http";
import type net from "node:net";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { dashboardHtml } from "../../src/server/dashboard.js";
import { launchBrowser, screenshotPath } from "./browser.js";

interface FakeAdmin {
  id: number;
  text: string;
  /** What GET /status answers; null: the node is down (connection closed). */
  status: unknown;
  close(): Promise<void>;
}

async function fakeAdmin(id: number): Promise<FakeAdmin> {
  const fake: FakeAdmin = { id, text: "", status: null, close: async () => {} };
  const server = http.createServer((req, res) => {
    if (req.url === "/") {
      res.writeHead(200, { "content-type": "text/html" }).end(dashboardHtml());
      return;
    }
    if (req.url === "/status" && fake.status !== null) {
      res.writeHead(200, { "content-type": "application/json", "access-control-allow-origin": "*" }).end(JSON.stringify(fake.status));
      return;
    }
    req.socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake.text = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

interface Config {
  configIndex: number;
  committed: boolean;
  voters: number[];
  outgoing: number[];
  learners: number[];
}

describe("dashboard: membership", () => {
  let browser: Browser;
  const admins: FakeAdmin[] = [];

  before(async () => {
    browser = await launchBrowser();
    for (const id of [1, 2, 3, 4]) admins.push(await fakeAdmin(id));
  });
  after(async () => {
    await browser?.close();
    await Promise.all(admins.map((a) => a.close()));
  });

  /** Every node in `up` answers /status with this configuration; node 1 leads. */
  function serve(up: number[], cfg: Config, states: Record<number, string>): void {
    const members = [...new Set([...cfg.voters, ...cfg.outgoing, ...cfg.learners])].sort();
    const pending = !cfg.committed || cfg.outgoing.length > 0 ? { index: cfg.configIndex, voters: cfg.voters, outgoing: cfg.outgoing, learners: cfg.learners } : null;
    for (const a of admins) {
      a.status = !up.includes(a.id)
        ? null
        : {
            id: a.id,
            role: a.id === 1 ? "leader" : "follower",
            term: 2,
            votedFor: 1,
            leader: 1,
            commitIndex: 20,
            lastApplied: 20,
            lastLogIndex: 20,
            lastLogTerm: 2,
            snapshotIndex: null,
            keys: 0,
            peers: [],
            events: [],
            nodes: members.map((id) => ({ id, admin: admins[id - 1]!.text, client: `127.0.0.1:${6000 + id}` })),
            membership: { state: states[a.id] ?? "removed", ...cfg, pending },
          };
    }
  }

  function view(page: Page): Promise<{ cards: Record<string, string | null>; pending: string | null; text: string }> {
    return page.evaluate(() => ({
      cards: Object.fromEntries(Array.from(document.querySelectorAll("#nodes [data-node-id]")).map((e) => [e.getAttribute("data-node-id")!, e.getAttribute("data-membership")])),
      pending: document.getElementById("membership")!.getAttribute("data-pending"),
      text: document.getElementById("membership")!.textContent ?? "",
    }));
  }

  async function waitFor(page: Page, what: string, ok: (v: Awaited<ReturnType<typeof view>>) => boolean): Promise<Awaited<ReturnType<typeof view>>> {
    const deadline = Date.now() + 15_000;
    let v = await view(page);
    while (Date.now() < deadline) {
      v = await view(page);
      if (ok(v)) return v;
      await page.waitForTimeout(100);
    }
    throw new Error(`the dashboard did not show ${what}; it showed ${JSON.stringify(v)}`);
  }

  test("a learner added while the page is open appears; joining, leaving and a down node's membership are shown; the pending change is named", async () => {
    serve([1, 2, 3], { configIndex: 0, committed: true, voters: [1, 2, 3], outgoing: [], learners: [] }, { 1: "voter", 2: "voter", 3: "voter" });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`http://${admins[1]!.text}/`);
    await waitFor(page, "three voters", (v) => JSON.stringify(v.cards) === JSON.stringify({ 1: "voter", 2: "voter", 3: "voter" }) && v.pending === "");

    // Node 4 is added as a learner (not committed yet): a card for it, and the change under way.
    serve([1, 2, 3, 4], { configIndex: 21, committed: false, voters: [1, 2, 3], outgoing: [], learners: [4] }, { 1: "voter", 2: "voter", 3: "voter", 4: "learner" });
    const added = await waitFor(page, "node 4 as a learner with a pending change", (v) => v.cards["4"] === "learner" && v.pending === "21");
    assert.match(added.text, /learners 4/);

    // Node 4 replaces node 3 (joint: 1,2,4 with old voters 1,2,3); node 3 is down.
    serve([1, 2, 4], { configIndex: 23, committed: false, voters: [1, 2, 4], outgoing: [1, 2, 3], learners: [] }, { 1: "voter", 2: "voter", 4: "joining" });
    const joint = await waitFor(page, "node 4 joining and node 3 (down) leaving", (v) => v.cards["4"] === "joining" && v.cards["3"] === "leaving" && v.pending === "23");
    assert.match(joint.text, /joint with 1, 2, 3/);
    await page.screenshot({ path: screenshotPath("dashboard-membership.png"), fullPage: true });

    // The final configuration commits: node 3 is out.
    serve([1, 2, 4], { configIndex: 24, committed: true, voters: [1, 2, 4], outgoing: [], learners: [] }, { 1: "voter", 2: "voter", 4: "voter" });
    await waitFor(page, "node 3 removed, no change under way", (v) => v.cards["3"] === "removed" && v.cards["4"] === "voter" && v.pending === "");
    const events = await page.$$eval("#events li", (els) => els.map((e) => `${e.getAttribute("data-kind")}: ${e.textContent}`));
    assert.ok(events.some((e) => e.startsWith("member:") && e.includes("index 24")), JSON.stringify(events));
    assert.deepEqual(errors, []);
    await page.close();
  });
});
