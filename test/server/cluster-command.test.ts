// `raftkv cluster` (SPEC §1, §2): supervises three local nodes, prints where
// they are, writes DIR/cluster.json, stops them all on SIGINT or SIGTERM, and a second
// run comes back with the data of the first.

import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { exitOf } from "../helpers/cluster.js";
import { cleanStop, commandAnyLeader, deadline, readLog, runRaftkv, show, startRaftkv, waitUntil } from "./support.js";

const HOST = "127.0.0.1";
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** `raftkv cluster` puts node i's client port at P+i, its peer port at P+620+i and its admin port at P+1700+i. */
const portsOf = (base: number) => [0, 1, 2].flatMap((i) => [base + i, base + 620 + i, base + 1700 + i]);

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, HOST, () => s.close(() => resolve(true)));
  });
}

/** A base port whose nine ports are free, below the ephemeral range, spread by pid so that parallel runs differ. */
async function freeBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 12_000 + ((process.pid * 7 + attempt * 131) % 800) * 20;
    if ((await Promise.all(portsOf(base).map(portFree))).every(Boolean)) return base;
  }
  throw new Error("no free port range for the cluster");
}

/** The ids of `pid`'s child processes (Linux /proc; empty elsewhere). */
function childPids(pid: number): number[] {
  try {
    return readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          // Field 4 of /proc/PID/stat is the parent's pid; the command name before it is in parentheses.
          return Number(readFileSync(`/proc/${d}/stat`, "utf8").replace(/^.*\) /s, "").split(" ")[1]) === pid;
        } catch {
          return false;
        }
      })
      .map(Number);
  } catch {
    return [];
  }
}

/** Starts `raftkv cluster` and waits for its banner; `stop()` sends SIGINT (or `signal`) and resolves with the exit status and the output. */
async function startCluster(dir: string, base: number) {
  const child = startRaftkv(["cluster", "--dir", dir, "--base-port", String(base)]);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = exitOf(child);
  const stop = async (signal: NodeJS.Signals = "SIGINT") => {
    child.kill(signal);
    const exit = await Promise.race([exited, deadline(10_000, null)]);
    if (exit === null) {
      // It did not stop its nodes: stop them, and it, so that nothing outlives the test.
      for (const pid of childPids(child.pid!)) process.kill(pid, "SIGKILL");
      child.kill("SIGKILL");
    }
    return { exit, stdout, stderr };
  };
  try {
    await waitUntil(`the banner of raftkv cluster`, () => {
      if (child.exitCode !== null) throw new Error(`raftkv cluster exited with ${child.exitCode}: ${stderr}`);
      return stdout.includes("Ctrl-C stops every node.");
    });
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\nstdout: ${stdout}\nstderr: ${stderr}`);
  }
  return { banner: stdout, stop };
}

test("raftkv cluster runs three nodes, stops them all on SIGINT (and SIGTERM), and a second run has the first run's data", async () => {
  const dir = mkdtempSync(join(tmpdir(), "raftkv-cluster-"));
  const base = await freeBasePort();
  const clients = [0, 1, 2].map((i) => ({ host: HOST, port: base + i }));
  const admins = [0, 1, 2].map((i) => `http://${HOST}:${base + 1700 + i}/status`);
  const answering = async () => (await Promise.all(admins.map((url) => fetch(url, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false)))).filter(Boolean).length;
  let running: Awaited<ReturnType<typeof startCluster>> | null = null;
  try {
    running = await startCluster(dir, base);
    for (const c of clients) assert.ok(running.banner.includes(`client ${c.host}:${c.port}`), `the banner names ${c.host}:${c.port}:\n${running.banner}`);
    assert.ok(running.banner.includes(`dashboard: http://${HOST}:${base + 1700}/`), `the banner has the dashboard URL:\n${running.banner}`);

    // The banner's hints run as printed, from the project directory, and name this cluster's file (not the default one).
    const hint = /^try: +(.*)$/m.exec(running.banner)![1]!;
    assert.ok(hint.includes(`--config ${join(dir, "cluster.json")}`), hint);
    const hinted = spawnSync("sh", ["-c", hint], { cwd: ROOT, encoding: "utf8", env: { ...process.env, RAFTKV_LOG_LEVEL: "warn" } });
    assert.equal(hinted.status, 0, hinted.stderr);
    assert.equal(hinted.stdout, "ok\nhello\n");

    const file = JSON.parse(readFileSync(join(dir, "cluster.json"), "utf8")) as { nodes: { id: number; client: string }[] };
    assert.deepEqual(file.nodes.map((n) => [n.id, n.client]), clients.map((c, i) => [i + 1, `${c.host}:${c.port}`]));

    assert.equal(show(await commandAnyLeader(clients, ["SET", "first-run", "still here"])), "+OK");
    assert.equal(await waitUntil("all three nodes to answer /status", async () => ((await answering()) === 3 ? 3 : null)), 3);

    const first = await running.stop();
    running = null;
    assert.deepEqual(first.exit, { code: 0, signal: null }, first.stderr);
    assert.equal(await answering(), 0, "no node answers after SIGINT");
    for (const id of [1, 2, 3]) {
      const log = readLog(join(dir, `node-${id}.log`));
      assert.match(log, cleanStop("SIGTERM"), `node ${id} stopped cleanly:\n${log.slice(-500)}`);
    }
    assert.ok(!first.stdout.includes("exited ("), `no node died on its own:\n${first.stdout}`);

    // A different node count for the same directory is refused.
    const other = await runRaftkv(["cluster", "--dir", dir, "--nodes", "5", "--base-port", String(base)]);
    assert.equal(other.code, 2, other.stderr);
    assert.match(other.stderr, /already describes 3 nodes/);
    // So is a different base port: it would be silently ignored otherwise.
    const moved = await runRaftkv(["cluster", "--dir", dir, "--base-port", String(base + 3)]);
    assert.equal(moved.code, 2, moved.stderr);
    assert.match(moved.stderr, new RegExp(`--base-port ${base + 3} disagrees`));

    running = await startCluster(dir, base);
    assert.equal(show(await commandAnyLeader(clients, ["GET", "first-run"])), "$still here");
    const second = await running.stop("SIGTERM");
    running = null;
    assert.deepEqual(second.exit, { code: 0, signal: null }, second.stderr);
    assert.equal(await answering(), 0, "no node answers after SIGTERM");
  } finally {
    await running?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("raftkv node restart|stop|start ID: the supervisor restarts one node and keeps it; strays are refused, by the node commands and at start", async () => {
  const dir = mkdtempSync(join(tmpdir(), "raftkv-cluster-node-"));
  const base = await freeBasePort();
  const admin = (id: number) => `http://${HOST}:${base + 1700 + id - 1}/status`;
  const answers = (id: number) => fetch(admin(id), { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
  const lockPid = (id: number) => Number(readFileSync(join(dir, `node-${id}`, "LOCK"), "utf8").trim());
  let running: Awaited<ReturnType<typeof startCluster>> | null = null;
  let stray: ReturnType<typeof startRaftkv> | null = null;
  try {
    running = await startCluster(dir, base);
    assert.match(running.banner, /npx raftkv node restart 2 --dir /);
    await waitUntil("node 2 to answer", () => answers(2));
    const before = lockPid(2);

    const restarted = await runRaftkv(["node", "restart", "2", "--dir", dir]);
    assert.equal(restarted.code, 0, restarted.stderr);
    const pid = Number(/node 2 restarted \(pid (\d+)\)/.exec(restarted.stdout)![1]);
    assert.notEqual(pid, before, "a new process");
    await waitUntil("the restarted node 2 to answer", () => answers(2));
    assert.equal(lockPid(2), pid, "the restarted node is the supervisor's child, on node 2's data");
    assert.equal(readLog(join(dir, "node-2.log")).match(/"event":"ready"/g)!.length, 2, "its log goes on in node-2.log");

    const again = await runRaftkv(["node", "start", "2", "--dir", dir]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /node 2 is already running/);

    const stopped = await runRaftkv(["node", "stop", "3", "--dir", dir]);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal(await answers(3), false);
    // A node started by hand on node 3's data is a stray: the supervisor will not start a second one there.
    stray = startRaftkv(["server", "--config", join(dir, "cluster.json"), "--id", "3", "--data", join(dir, "node-3")]);
    await waitUntil("the hand-started node 3 to answer", () => answers(3));
    const refused = await runRaftkv(["node", "start", "3", "--dir", dir]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, new RegExp(`node 3's data directory is in use by pid ${stray.pid}`));
    stray.kill("SIGTERM");
    await exitOf(stray);
    stray = null;
    const started = await runRaftkv(["node", "start", "3", "--dir", dir]);
    assert.equal(started.code, 0, started.stderr);
    await waitUntil("node 3 under the supervisor again", () => answers(3));

    const unknown = await runRaftkv(["node", "restart", "9", "--dir", dir]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /node 9 is not in/);

    const first = await running.stop();
    running = null;
    assert.deepEqual(first.exit, { code: 0, signal: null }, first.stderr);
    assert.ok(!first.stdout.includes("exited ("), `an operator's stop or restart is not reported as a crash:\n${first.stdout}`);
    for (const id of [1, 2, 3]) assert.equal(await answers(id), false, `node ${id}, restarted or not, stopped with the cluster`);

    const none = await runRaftkv(["node", "restart", "2", "--dir", dir]);
    assert.equal(none.code, 3);
    assert.match(none.stderr, /no 'raftkv cluster' is running there/);

    // A stray running when the cluster starts: refused before any node starts.
    stray = startRaftkv(["server", "--config", join(dir, "cluster.json"), "--id", "2", "--data", join(dir, "node-2")]);
    await waitUntil("the hand-started node 2 to answer", () => answers(2));
    const clash = await runRaftkv(["cluster", "--dir", dir]);
    assert.equal(clash.code, 2);
    assert.match(clash.stderr, new RegExp(`node 2 is already running \\(pid ${stray.pid}`));
    assert.equal(await answers(1), false, "no node was started");
  } finally {
    stray?.kill("SIGKILL");
    await running?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
