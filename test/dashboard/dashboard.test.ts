// The live dashboard (SPEC §7) in a real headless browser, against a real
// 3-node cluster: it shows every node and the one leader, then, after the
// leader is killed with SIGKILL, the dead node as unreachable and the new
// leader. Screenshots go to test-output/.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { TestCluster } from "../helpers/cluster.js";
import { launchBrowser, screenshotPath } from "./browser.js";

interface CardView {
  id: number;
  role: string | null;
  reachable: string | null;
  term: number | null;
}

interface PageView {
  /** The page-wide leader (body data-leader), drawn in the same render as the cards. */
  leader: string | null;
  cards: CardView[];
}

/** What the page shows, read from its data attributes in one go (one render). */
function readView(page: Page): Promise<PageView> {
  return page.evaluate(() => ({
    leader: document.body.getAttribute("data-leader"),
    cards: Array.from(document.querySelectorAll("#nodes [data-node-id]")).map((e) => ({
      id: Number(e.getAttribute("data-node-id")),
      role: e.getAttribute("data-role"),
      reachable: e.getAttribute("data-reachable"),
      term: e.hasAttribute("data-term") ? Number(e.getAttribute("data-term")) : null,
    })),
  }));
}

/** Polls the page until `ok` holds; fails with what the page showed last. */
async function waitForView(page: Page, what: string, ok: (view: PageView) => boolean, timeoutMs = 15_000): Promise<PageView> {
  const deadline = Date.now() + timeoutMs;
  let view: PageView = { leader: null, cards: [] };
  while (Date.now() < deadline) {
    view = await readView(page);
    if (ok(view)) return view;
    await page.waitForTimeout(100);
  }
  throw new Error(`the dashboard did not show ${what} within ${timeoutMs} ms; it showed ${JSON.stringify(view)}`);
}

const reachableLeaders = (cards: CardView[]): CardView[] => cards.filter((c) => c.reachable === "true" && c.role === "leader");

describe("dashboard in a headless browser", () => {
  let cluster: TestCluster;
  let browser: Browser;

  before(async () => {
    browser = await launchBrowser();
    // Long election timeouts: Chromium shares the machine's two cores with the
    // cluster, and short timeouts let leadership wander while the page is read.
    cluster = await TestCluster.start({ electionTimeoutMs: [1000, 2000], heartbeatMs: 100 });
  });

  after(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  test("shows three nodes and one leader, then the killed leader as unreachable and its successor", async (t) => {
    const asked = await cluster.waitForLeader();
    for (let i = 0; i < 10; i++) await cluster.leaderCommand(10_000, "SET", `key${i}`, `value${i}`);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    // The page's view of the leader is the one the test follows: on a loaded machine
    // leadership may move while the page loads. It is watched from a node that
    // survives the kill, so the page is reopened elsewhere if the viewer became leader.
    let viewer = cluster.nodes.find((n) => n.id !== asked)!;
    let first: CardView[] = [];
    let leader = asked;
    for (let attempt = 0; ; attempt++) {
      await page.goto(`http://${viewer.host}:${viewer.adminPort}/`);
      first = (
        await waitForView(
          page,
          "three answering nodes, one of them the only leader, named as the page's leader",
          (v) => v.cards.length === 3 && v.cards.every((c) => c.reachable === "true") && reachableLeaders(v.cards).length === 1 && v.leader === String(reachableLeaders(v.cards)[0]!.id),
        )
      ).cards;
      leader = reachableLeaders(first)[0]!.id;
      if (leader !== asked) t.diagnostic(`leadership moved from node ${asked} to node ${leader} while the page loaded`);
      if (leader !== viewer.id || attempt === 3) break;
      viewer = cluster.nodes.find((n) => n.id !== leader)!;
    }
    assert.notEqual(leader, viewer.id, "the page is served by a node that is not the leader");
    assert.deepEqual(first.map((c) => c.id), [1, 2, 3]);
    // The leader's card shows how far each follower has replicated its log.
    const peers = await page.$$eval(`#nodes [data-node-id="${leader}"] [data-peer-id]`, (els) => els.map((e) => Number(e.getAttribute("data-peer-id"))));
    assert.deepEqual(peers.sort(), cluster.nodes.filter((n) => n.id !== leader).map((n) => n.id));
    // The ring draws every node.
    assert.equal(await page.locator("#ring [data-ring-node]").count(), 3);
    await page.screenshot({ path: screenshotPath("dashboard-before.png"), fullPage: true });

    await cluster.kill(leader, "SIGKILL");
    const successor = await cluster.waitForLeader(15_000);
    assert.notEqual(successor, leader);
    const afterKill = await waitForView(
      page,
      `node ${leader} unreachable and node ${successor} the only leader`,
      (v) => v.cards.find((c) => c.id === leader)?.reachable === "false" && reachableLeaders(v.cards).map((c) => c.id).join() === String(successor) && v.leader === String(successor),
    ).then((v) => v.cards);
    assert.equal(afterKill.find((c) => c.id === leader)!.role, "unknown", "a node that does not answer has no known role");
    assert.ok(afterKill.find((c) => c.id === successor)!.term! > first.find((c) => c.id === leader)!.term!, "the new leader is in a later term");

    // The timeline: the node going down (seen by the page) and the new leader (reported by it).
    const events = await page.$$eval("#events li", (els) => els.map((e) => `${e.getAttribute("data-kind")}: ${e.textContent}`));
    assert.ok(events.some((e) => e.startsWith("down:") && e.includes(`node ${leader} `)), `no 'down' event for node ${leader} in ${JSON.stringify(events)}`);
    assert.ok(events.some((e) => e.startsWith("leader:") && e.includes(`node ${successor} `)), `no 'leader' event for node ${successor} in ${JSON.stringify(events)}`);
    await page.screenshot({ path: screenshotPath("dashboard.png"), fullPage: true });
    assert.deepEqual(errors, [], "the page's script threw");
    await page.close();
  });
});
