// `npm run bench`: SET and GET throughput and latency of a local 3-node
// raftkv cluster at 1, 16 and 64 concurrent clients — and, in the same run,
// of the references that are installed: a durable Redis (appendfsync always,
// one process, no replication) and a 3-member etcd cluster on loopback.
// A benchmark prints numbers; it asserts nothing.
//
//   npm run bench                       # everything installed, 3 s per cell
//   npm run bench -- --seconds 10 --only raftkv,etcd

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeCommand } from "../src/client/commandEncoder.js";
import { ReplyParser } from "../src/client/replyParser.js";
import { TestCluster, sleep } from "../test/helpers/cluster.js";

interface Target {
  readonly name: string;
  /** Opens one client: returns a function doing one request (resolves when answered), and a closer. */
  connect(): Promise<{ set(key: string, value: string): Promise<void>; get(key: string): Promise<void>; close(): void }>;
  stop(): Promise<void>;
}

interface Cell {
  target: string;
  op: "SET" | "GET";
  clients: number;
  ops: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
}

const args = process.argv.slice(2);
const SECONDS = Number(flag("seconds") ?? 3);
const ONLY = flag("only")?.split(",");
const CONCURRENCY = (flag("clients") ?? "1,16,64").split(",").map(Number);
const VALUE = "x".repeat(64);

function flag(name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

// ---------------------------------------------------------------------------
// RESP targets: raftkv and Redis
// ---------------------------------------------------------------------------

function respClient(host: string, port: number): Promise<{ request(args: string[]): Promise<void>; close(): void }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    const parser = new ReplyParser();
    const waiting: { ok: () => void; fail: (e: Error) => void }[] = [];
    socket.on("data", (chunk: Buffer) => {
      parser.push(chunk);
      for (let r = parser.next(); r !== null; r = parser.next()) {
        const w = waiting.shift()!;
        if (r.kind === "error") w.fail(new Error(r.message));
        else w.ok();
      }
    });
    socket.on("error", (e) => {
      for (const w of waiting.splice(0)) w.fail(e);
      reject(e);
    });
    socket.on("connect", () =>
      resolve({
        request: (a) =>
          new Promise<void>((ok, fail) => {
            waiting.push({ ok, fail });
            socket.write(encodeCommand(a));
          }),
        close: () => socket.destroy(),
      }),
    );
  });
}

async function raftkvTarget(): Promise<Target> {
  const cluster = await TestCluster.start({ nodes: 3 });
  const leader = cluster.node(await cluster.waitForLeader(15_000));
  return {
    name: "raftkv (3 nodes)",
    async connect() {
      const c = await respClient(leader.host, leader.clientPort);
      return { set: (k, v) => c.request(["SET", k, v]), get: (k) => c.request(["GET", k]), close: c.close };
    },
    stop: () => cluster.stop(),
  };
}

async function redisTarget(): Promise<Target | null> {
  if (spawnSync("redis-server", ["--version"]).status !== 0) return null;
  const dir = mkdtempSync(join(tmpdir(), "raftkv-bench-redis-"));
  const port = 16379;
  const p = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""], { stdio: "ignore" });
  await waitPort("127.0.0.1", port);
  return {
    name: "redis (1 node, appendfsync always)",
    async connect() {
      const c = await respClient("127.0.0.1", port);
      return { set: (k, v) => c.request(["SET", k, v]), get: (k) => c.request(["GET", k]), close: c.close };
    },
    stop: async () => {
      await kill(p);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------
// etcd: 3 members on loopback, driven through its v3 JSON gateway
// ---------------------------------------------------------------------------

async function etcdTarget(): Promise<Target | null> {
  if (spawnSync("etcd", ["--version"]).status !== 0) return null;
  const dir = mkdtempSync(join(tmpdir(), "raftkv-bench-etcd-"));
  const members = [1, 2, 3].map((i) => ({ name: `e${i}`, client: 12379 + i * 10, peer: 12380 + i * 10 }));
  const initial = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(",");
  const procs = members.map((m) =>
    spawn(
      "etcd",
      [
        "--name", m.name,
        "--data-dir", join(dir, m.name),
        "--listen-client-urls", `http://127.0.0.1:${m.client}`,
        "--advertise-client-urls", `http://127.0.0.1:${m.client}`,
        "--listen-peer-urls", `http://127.0.0.1:${m.peer}`,
        "--initial-advertise-peer-urls", `http://127.0.0.1:${m.peer}`,
        "--initial-cluster", initial,
        "--initial-cluster-state", "new",
        "--log-level", "error",
      ],
      { stdio: "ignore" },
    ),
  );
  await Promise.all(members.map((m) => waitPort("127.0.0.1", m.client)));
  // Find the leader: etcd forwards proposals from followers, but the fair comparison is leader to leader.
  let leaderPort = members[0]!.client;
  for (let i = 0; i < 100; i++) {
    const statuses = await Promise.all(members.map((m) => etcdPost(new http.Agent(), m.client, "/v3/maintenance/status", {}).catch(() => null)));
    const s = statuses.find((x) => x && x.leader && x.header && x.leader === x.header.member_id);
    if (s) {
      leaderPort = members[statuses.indexOf(s)]!.client;
      break;
    }
    await sleep(100);
  }
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  return {
    name: "etcd 3.4 (3 members, JSON gateway)",
    async connect() {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      return {
        set: (k, v) => etcdPost(agent, leaderPort, "/v3/kv/put", { key: b64(k), value: b64(v) }).then(() => undefined),
        get: (k) => etcdPost(agent, leaderPort, "/v3/kv/range", { key: b64(k) }).then(() => undefined),
        close: () => agent.destroy(),
      };
    },
    stop: async () => {
      await Promise.all(procs.map(kill));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function etcdPost(agent: http.Agent, port: number, path: string, body: unknown): Promise<{ leader?: string; header?: { member_id?: string } }> {
  return new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = http.request({ host: "127.0.0.1", port, path, method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        if (res.statusCode !== 200) return reject(new Error(`etcd ${path}: HTTP ${res.statusCode}`));
        resolve(JSON.parse(Buffer.concat(chunks).toString()) as { leader?: string });
      });
    });
    req.on("error", reject);
    req.end(data);
  });
}

// ---------------------------------------------------------------------------
// The load: closed loop, each client one request at a time
// ---------------------------------------------------------------------------

async function measure(t: Target, op: "SET" | "GET", clients: number): Promise<Cell> {
  const conns = await Promise.all(Array.from({ length: clients }, () => t.connect()));
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  const start = performance.now();
  await Promise.all(
    conns.map(async (c, i) => {
      let n = 0;
      while (performance.now() < end) {
        const key = `key:${i}:${n++ % 100}`;
        const t0 = performance.now();
        try {
          await (op === "SET" ? c.set(key, VALUE) : c.get(key));
          latencies.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  for (const c of conns) c.close();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return { target: t.name, op, clients, ops: latencies.length, errors, seconds, p50: pct(0.5), p99: pct(0.99) };
}

async function main(): Promise<void> {
  const makers: [string, () => Promise<Target | null>][] = [
    ["raftkv", raftkvTarget],
    ["redis", redisTarget],
    ["etcd", etcdTarget],
  ];
  const cells: Cell[] = [];
  for (const [key, make] of makers) {
    if (ONLY && !ONLY.includes(key)) continue;
    const t = await make();
    if (!t) {
      console.log(`(${key} is not installed: skipped)`);
      continue;
    }
    try {
      for (const op of ["SET", "GET"] as const) {
        for (const clients of CONCURRENCY) {
          const cell = await measure(t, op, clients);
          cells.push(cell);
          console.log(`${cell.target.padEnd(36)} ${op} c=${String(clients).padEnd(3)} ${Math.round(cell.ops / cell.seconds).toString().padStart(7)} ops/s  p50 ${cell.p50.toFixed(2)} ms  p99 ${cell.p99.toFixed(2)} ms  errors ${cell.errors}`);
        }
      }
    } finally {
      await t.stop();
    }
  }
  printTable(cells);
}

function printTable(cells: Cell[]): void {
  console.log("\n| system | op | clients | ops/s | p50 ms | p99 ms | errors | vs raftkv ops/s |");
  console.log("|---|---|---:|---:|---:|---:|---:|---:|");
  for (const c of cells) {
    const ref = cells.find((x) => x.target.startsWith("raftkv") && x.op === c.op && x.clients === c.clients);
    const ratio = ref && !c.target.startsWith("raftkv") ? `raftkv ${(ref.ops / ref.seconds / (c.ops / c.seconds)).toFixed(2)}x` : "";
    console.log(`| ${c.target} | ${c.op} | ${c.clients} | ${Math.round(c.ops / c.seconds)} | ${c.p50.toFixed(2)} | ${c.p99.toFixed(2)} | ${c.errors} | ${ratio} |`);
  }
}

async function waitPort(host: string, port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect({ host, port }, () => {
        s.destroy();
        r(true);
      });
      s.on("error", () => r(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on ${host}:${port}`);
}

function kill(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return Promise.resolve();
  return new Promise((r) => {
    p.once("exit", () => r());
    p.kill("SIGTERM");
  });
}

await main();
