// The examples in examples/ run as a reader would run them, from the
// repository (importing "raftkv" and "raftkv/server" by the package's own
// name): the core in an in-memory transport, and a replicated counter service
// with its own state machine, through a leader's crash and a full restart.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { exitOf } from "../helpers/cluster.js";
import { waitUntil } from "../server/support.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

test("examples/in-memory-cluster.mjs: three cores over an array 'network' elect, replicate, fail over and agree", () => {
  const r = spawnSync(process.execPath, ["examples/in-memory-cluster.mjs"], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  for (const id of [1, 2, 3]) assert.match(r.stdout, new RegExp(`^node ${id} applied: x=1 y=2 x=3 z=4$`, "m"));
  assert.match(r.stdout, /is cut off\nnode \d leads now/);
  assert.match(r.stdout, /all three nodes applied the same commands in the same order/);
});

test("examples/counter-service.mjs: a replicated counter on raftkv/server counts on through a leader's kill -9 and a full restart", async () => {
  const dir = mkdtempSync(join(tmpdir(), "raftkv-counter-"));
  // Its own 127.a.b.0/24 (b above the range TestCluster uses).
  const net = `127.${10 + (process.pid % 240)}.${250 + Math.floor(Math.random() * 5)}`;
  const ids = [1, 2, 3];
  const config = join(dir, "cluster.json");
  writeFileSync(
    config,
    JSON.stringify({
      nodes: ids.map((id) => ({ id, peer: `${net}.${id}:7000`, client: `${net}.${id}:6379`, admin: `${net}.${id}:8080` })),
      snapshotEvery: 3, // snapshots (and restoring from them) are part of the run
    }),
  );
  const procs = new Map<number, ChildProcess>();
  const start = async (id: number) => {
    const child = spawn(process.execPath, ["examples/counter-service.mjs", "--config", config, "--id", String(id), "--data", join(dir, `node-${id}`)], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    procs.set(id, child);
    let out = "";
    child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
    await waitUntil(`counter node ${id} to listen`, () => {
      if (child.exitCode !== null) throw new Error(`counter node ${id} exited with ${child.exitCode}`);
      return out.includes("listening on");
    }, 20_000);
  };
  const url = (id: number, name: string) => `http://${net}.${id}:6379/${name}`;
  /** A request to node `id` that follows the redirect to the leader; retried while no leader answers. */
  const ask = (id: number, method: "GET" | "POST", name: string) =>
    waitUntil(`${method} /${name} via node ${id}`, async () => {
      const r = await fetch(url(id, name), { method, signal: AbortSignal.timeout(3000) }).catch(() => null);
      return r !== null && r.status === 200 ? Number(await r.text()) : null;
    }, 20_000);
  const leaderId = () =>
    waitUntil("a leader", async () => {
      for (const id of procs.keys()) {
        const s = (await fetch(`http://${net}.${id}:8080/status`).then((r) => r.json(), () => null)) as { role: string } | null;
        if (s?.role === "leader") return id;
      }
      return null;
    }, 20_000);
  try {
    for (const id of ids) await start(id);
    for (let i = 1; i <= 5; i++) assert.equal(await ask(1 + (i % 3), "POST", "visits"), i);
    assert.equal(await ask(2, "GET", "visits"), 5);

    const leader = await leaderId();
    procs.get(leader)!.kill("SIGKILL");
    await exitOf(procs.get(leader)!);
    procs.delete(leader);
    const survivor = ids.find((id) => id !== leader)!;
    assert.equal(await ask(survivor, "POST", "visits"), 6, "a new leader took over with every acknowledged count");
    await start(leader);

    for (const [, p] of procs) p.kill("SIGTERM");
    for (const [, p] of procs) assert.deepEqual(await exitOf(p), { code: 0, signal: null });
    procs.clear();
    for (const id of ids) await start(id);
    assert.equal(await ask(3, "GET", "visits"), 6, "the counts survive a restart of the whole cluster");
    assert.equal(await ask(3, "POST", "other"), 1);
  } finally {
    for (const [, p] of procs) p.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
