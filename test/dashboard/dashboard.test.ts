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

/** What the page shows, read from its data attributes. */
function readCards(page: Page): Promise<CardView[]> {
  return page.$$eval("#nodes [data-node-id]", (els) =>
    els.map((e) => ({
      id: Number(e.getAttribute("data-node-id")),
      role: e.getAttribute("data-role"),
      reachable: e.getAttribute("data-reachable"),
      term: e.hasAttribute("data-term") ? Number(e.getAttribute("data-term")) : null,
    })),
  );
}

/** Polls the page until `ok` holds; fails with what the page showed last. */
async function waitForCards(page: Page, what: string, ok: (cards: CardView[]) => boolean, timeoutMs = 15_000): Promise<CardView[]> {
  const deadline = Date.now() + timeoutMs;
  let cards: CardView[] = [];
  while (Date.now() < deadline) {
    cards = await readCards(page);
    if (ok(cards)) return cards;
    await page.waitForTimeout(100);
  }
  throw new Error(`the dashboard did not show ${what} within ${timeoutMs} ms; it showed ${JSON.stringify(cards)}`);
}

const reachableLeaders = (cards: CardView[]): CardView[] => cards.filter((c) => c.reachable === "true" && c.role === "leader");

describe("dashboard in a headless browser", () => {
  let cluster: TestCluster;
  let browser: Browser;

  before(async () => {
    browser = await launchBrowser();
    cluster = await TestCluster.start();
  });

  after(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  test("shows three nodes and one leader, then the killed leader as unreachable and its successor", async () => {
    const leader = await cluster.waitForLeader();
    for (let i = 0; i < 10; i++) await cluster.leaderCommand(10_000, "SET", `key${i}`, `value${i}`);
    // Watch from a node that survives the kill.
    const viewer = cluster.nodes.find((n) => n.id !== leader)!;
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`http://${viewer.host}:${viewer.adminPort}/`);

    const first = await waitForCards(
      page,
      `three answering nodes with node ${leader} the only leader`,
      (cards) => cards.length === 3 && cards.every((c) => c.reachable === "true") && reachableLeaders(cards).map((c) => c.id).join() === String(leader),
    );
    assert.deepEqual(first.map((c) => c.id), [1, 2, 3]);
    assert.equal(await page.getAttribute("body", "data-leader"), String(leader));
    // The leader's card shows how far each follower has replicated its log.
    const peers = await page.$$eval(`#nodes [data-node-id="${leader}"] [data-peer-id]`, (els) => els.map((e) => Number(e.getAttribute("data-peer-id"))));
    assert.deepEqual(peers.sort(), cluster.nodes.filter((n) => n.id !== leader).map((n) => n.id));
    // The ring draws every node.
    assert.equal(await page.locator("#ring [data-ring-node]").count(), 3);
    await page.screenshot({ path: screenshotPath("dashboard-before.png"), fullPage: true });

    await cluster.kill(leader, "SIGKILL");
    const successor = await cluster.waitForLeader(15_000);
    assert.notEqual(successor, leader);
    const afterKill = await waitForCards(
      page,
      `node ${leader} unreachable and node ${successor} the only leader`,
      (cards) => cards.find((c) => c.id === leader)?.reachable === "false" && reachableLeaders(cards).map((c) => c.id).join() === String(successor),
    );
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
