// `raftkv sim --replay SEED --html FILE` (SPEC §9): the file is a
// self-contained page with the run embedded; in a real browser it shows the
// state the simulator had at each tick, and stepping moves it forward.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { recordReplay, replayPage, ReplayDivergedError, type ReplayData } from "../../src/sim/html.js";
import { DEFAULT_FAULTS, generatePlan, type SimPlan } from "../../src/sim/plan.js";
import { runPlan, type RunResult } from "../../src/sim/run.js";
import type { World } from "../../src/sim/world.js";
import { findBug, type Bug } from "../../src/sim/zoo.js";
import { BIN } from "../helpers/cluster.js";
import { launchBrowser, screenshotPath } from "./browser.js";

const STEPS = 300;

function plan(seed: number): SimPlan {
  return generatePlan({ seed, nodes: 3, steps: STEPS, faults: new Set(DEFAULT_FAULTS) });
}

function embedded(html: string): ReplayData {
  const m = /<script type="application\/json" id="replay-data">([^<]*)<\/script>/.exec(html);
  assert.ok(m, "the page embeds the run as JSON");
  return JSON.parse(m[1]!) as ReplayData;
}

interface NodeSeen {
  role: string;
  term: number;
  commit: number | null;
  lastIndex: number;
}

/** What the world's nodes were at the end of tick `at` (the last tick if never reached). */
function worldAt(p: SimPlan, at: number, bug?: Bug): NodeSeen[] {
  let seen: NodeSeen[] = [];
  const look = (w: World): void => {
    seen = w.ids.map((id) => {
      const n = w.nodes.get(id)!;
      if (!n.raft) return { role: "down", term: n.disk.hardState?.currentTerm ?? 0, commit: null, lastIndex: (n.disk.snapshot?.lastIncludedIndex ?? 0) + n.disk.entries.length };
      return { role: n.raft.role, term: n.raft.currentTerm, commit: n.raft.commitIndex, lastIndex: n.raft.log.lastIndex() };
    });
  };
  runPlan(p, { ...(bug ? { bug } : {}), onTick: (w) => w.now <= at && look(w) });
  return seen;
}

/** What the page shows for each node: the ring's and the logs' data attributes. */
function pageNodes(page: Page): Promise<NodeSeen[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll("#ring [data-node-id]")].map((g) => {
      const id = g.getAttribute("data-node-id");
      const log = document.querySelector(`#logs [data-log-node="${id}"]`)!;
      const commit = g.getAttribute("data-commit");
      return { role: g.getAttribute("data-role")!, term: Number(g.getAttribute("data-term")), commit: commit === "" ? null : Number(commit), lastIndex: Number(log.getAttribute("data-last-index")) };
    }),
  );
}

async function seek(page: Page, frame: number): Promise<void> {
  await page.evaluate((f) => {
    const s = document.getElementById("slider") as HTMLInputElement;
    s.value = String(f);
    s.dispatchEvent(new Event("input"));
  }, frame);
}

const frameOf = async (page: Page): Promise<number> => Number(await page.getAttribute("body", "data-frame"));

describe("simulator replay page", () => {
  let browser: Browser;
  let dir: string;

  before(async () => {
    browser = await launchBrowser();
    dir = mkdtempSync(join(tmpdir(), "raftkv-replay-"));
  });

  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("raftkv sim --replay --html writes a self-contained page with the run embedded", async () => {
    const file = join(dir, "seed7.html");
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [BIN, "sim", "--replay", "7", "--nodes", "3", "--steps", String(STEPS), "--html", file], (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    assert.match(out, new RegExp(`replay page written to ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    const html = readFileSync(file, "utf8");
    assert.match(html, /^<!doctype html>\n<html lang="en">/);
    assert.match(html, /<\/html>\n$/);
    assert.doesNotMatch(html, /\b(src|href)\s*=\s*["']?(https?:)?\/\//i, "the page loads nothing from elsewhere");
    const data = embedded(html);
    assert.deepEqual(data.ids, [1, 2, 3]);
    assert.equal(data.violation, null);
    // One frame before the first tick, then one per tick: the faults, then 400 ticks of healing.
    assert.equal(data.start.t, -1);
    assert.equal(data.deltas.length, STEPS + 400);
    assert.deepEqual(data.deltas.map((d) => d.t), Array.from({ length: STEPS + 400 }, (_, i) => i));
    assert.ok(html.length < 400_000, `a short run makes a small page (${html.length} bytes)`);
  });

  test("in the browser, every tick shows the state the simulator had", async () => {
    const p = plan(7);
    const r = runPlan(p, { trace: true });
    const file = join(dir, "check.html");
    writeFileSync(file, replayPage(r));
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(pathToFileURL(file).href);
    assert.equal(await page.getAttribute("body", "data-tick"), "-1");
    assert.deepEqual(await pageNodes(page), [1, 2, 3].map(() => ({ role: "follower", term: 0, commit: 0, lastIndex: 0 })));
    for (const tick of [40, 150, STEPS - 1, STEPS + 399]) {
      await seek(page, tick + 1);
      assert.equal(await page.getAttribute("body", "data-tick"), String(tick));
      assert.deepEqual(await pageNodes(page), worldAt(p, tick), `state at t=${tick}`);
    }
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("stepping and playing move the picture forward", async () => {
    const file = join(dir, "step.html");
    writeFileSync(file, replayPage(runPlan(plan(7), { trace: true })));
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(pathToFileURL(file).href);
    const startRing = await page.innerHTML("#ring");
    await page.click("#step");
    assert.equal(await frameOf(page), 1);
    assert.equal(await page.getAttribute("body", "data-tick"), "0");
    // "next event" stops where something happens: here, the first node to time out and campaign.
    await page.click("#next");
    const roles = (await pageNodes(page)).map((n) => n.role);
    assert.ok(roles.some((r) => r !== "follower"), `after 'next event' some node campaigns: ${roles}`);
    assert.notEqual(await page.innerHTML("#ring"), startRing);
    const trace = await page.textContent("#trace .now");
    assert.match(trace ?? "", /precandidate|candidate/);
    // Go on to the first tick with a leader.
    for (let i = 0; i < 50 && !(await pageNodes(page)).some((n) => n.role === "leader"); i++) await page.click("#next");
    assert.ok((await pageNodes(page)).some((n) => n.role === "leader"), "an election ends with a leader");
    assert.ok(Number(await page.getAttribute("#ring", "data-messages")) >= 0);
    const before = await frameOf(page);
    await page.click("#play");
    await page.waitForFunction((f) => Number(document.body.dataset.frame) > f + 2, before);
    await page.click("#play");
    await page.keyboard.press("End");
    assert.equal(await page.getAttribute("body", "data-tick"), String(STEPS + 399));
    await page.close();
  });

  test("a run with a violation opens on it", async () => {
    const bug = findBug("truncate-matching")!;
    let found: RunResult | null = null;
    for (let seed = 1; seed <= 100 && !found; seed++) {
      const r = runPlan(plan(seed), { bug, trace: true });
      if (r.violation) found = r;
    }
    assert.ok(found, "the truncate-matching bug is found within 100 seeds");
    const data = recordReplay(found, { bug });
    assert.ok(data.violation);
    assert.equal(data.deltas.at(-1)!.t, data.violation.at, "the last frame is the tick of the violation");
    assert.ok(data.deltas.at(-1)!.x.some((l) => l.tag === "bad" && l.text === `VIOLATION ${data.violation!.invariant}: ${data.violation!.message}`));
    const file = join(dir, "violation.html");
    writeFileSync(file, replayPage(found, { bug }));
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(pathToFileURL(file).href);
    assert.match((await page.textContent("#violation")) ?? "", new RegExp(`VIOLATION of ${data.violation.invariant}`));
    await page.click("#violation button");
    assert.equal(await page.getAttribute("body", "data-tick"), String(data.violation.at));
    assert.match((await page.textContent("#trace .now .bad")) ?? "", /^VIOLATION/);
    await page.screenshot({ path: screenshotPath("sim-replay.png"), fullPage: false });
    await page.close();
  });

  test("a long run keeps its last ticks", () => {
    const r = runPlan(plan(7), { trace: true });
    const data = recordReplay(r, { maxTicks: 100 });
    assert.equal(data.deltas.length, 99);
    assert.equal(data.deltas.at(-1)!.t, STEPS + 399);
    assert.equal(data.start.t, STEPS + 400 - 100);
    assert.equal(data.omitted, STEPS + 400 - 100, "ticks 0 .. start.t - 1 are left out");
  });

  test("a run that does not replay the same way is refused", () => {
    const r = runPlan(plan(7), { trace: true });
    assert.throws(() => replayPage({ ...r, trace: [...r.trace.slice(0, 10), { at: 1, kind: "heal" }] }), ReplayDivergedError);
  });
});
