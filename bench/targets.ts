// The systems the race runs: raftkv (3 nodes), a durable single Redis, and
// a 3-member etcd — each started only if installed — and a light closed-loop
// client for each: the requests are encoded once, up front, so that the load
// generator (which shares the machine) spends as little CPU as it can.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeCommand } from "../src/client/commandEncoder.js";
import { ReplyParser } from "../src/client/replyParser.js";
import { TestCluster, type ClusterOptions } from "../test/helpers/cluster.js";
import { kill, tryRun, waitPort } from "./lib.js";

export type Op = "SET" | "GET";

/** One connection of the load generator: one request at a time. */
export interface Conn {
  /** Sends request `i` (of the precomputed ones for `op`); resolves when answered, rejects on an error reply. */
  request(op: Op, i: number): Promise<void>;
  close(): void;
}

export interface Target {
  /** raftkv, raftkv-base (another build, --baseline), etcd or redis. */
  readonly key: string;
  readonly name: string;
  readonly version: string;
  /** The processes that serve it (for CPU per operation). */
  pids(): (number | undefined)[];
  connect(): Promise<Conn>;
  /** raftkv: WAL fsyncs so far and their total seconds, all nodes together (from /metrics). */
  fsyncs?(): Promise<{ count: number; seconds: number }>;
  /** Before each cell: e.g. find raftkv's current leader (an election on the loaded machine may have moved it). */
  beforeCell?(): Promise<void>;
  /** host:port for redis-benchmark (RESP targets only). */
  readonly resp?: { host: string; port: number };
  stop(): Promise<void>;
}

export interface Workload {
  /** Keys key:0 .. key:(keys-1). */
  readonly keys: number;
  readonly valueBytes: number;
}

// ---------------------------------------------------------------------------
// RESP: raftkv and Redis
// ---------------------------------------------------------------------------

function respRequests(w: Workload): Record<Op, Buffer[]> {
  const value = Buffer.alloc(w.valueBytes, "x");
  const keys = Array.from({ length: w.keys }, (_, i) => `key:${i}`);
  return { SET: keys.map((k) => encodeCommand(["SET", k, value])), GET: keys.map((k) => encodeCommand(["GET", k])) };
}

export function respConnect(host: string, port: number, requests: Record<Op, Buffer[]>): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    const parser = new ReplyParser();
    let waiting: { ok: () => void; fail: (e: Error) => void } | null = null;
    socket.on("data", (chunk: Buffer) => {
      parser.push(chunk);
      for (let r = parser.next(); r !== null; r = parser.next()) {
        const w = waiting!;
        waiting = null;
        if (r.kind === "error") w.fail(new Error(r.message));
        else w.ok();
      }
    });
    socket.on("error", (e) => {
      waiting?.fail(e);
      waiting = null;
      reject(e);
    });
    socket.on("connect", () =>
      resolve({
        request: (op, i) =>
          new Promise<void>((ok, fail) => {
            waiting = { ok, fail };
            const list = requests[op];
            socket.write(list[i % list.length]!);
          }),
        close: () => socket.destroy(),
      }),
    );
  });
}

export async function raftkvTarget(w: Workload, options: ClusterOptions = {}, key = "raftkv"): Promise<Target> {
  const cluster = await TestCluster.start({ nodes: 3, ...options });
  let leader = cluster.node(await cluster.waitForLeader(15_000));
  const requests = respRequests(w);
  return {
    key,
    name: `raftkv (${cluster.nodes.length} nodes)`,
    version: options.bin ?? "this commit",
    pids: () => cluster.nodes.map((n) => n.process?.pid),
    connect: () => respConnect(leader.host, leader.clientPort, requests),
    get resp() {
      return { host: leader.host, port: leader.clientPort };
    },
    async beforeCell() {
      leader = cluster.node(await cluster.waitForLeader(15_000));
    },
    async fsyncs() {
      let count = 0;
      let seconds = 0;
      for (const n of cluster.nodes) {
        const text = await fetch(`http://${n.host}:${n.adminPort}/metrics`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text(), () => "");
        count += Number(/^raftkv_fsync_duration_seconds_count (\S+)$/m.exec(text)?.[1] ?? 0);
        seconds += Number(/^raftkv_fsync_duration_seconds_sum (\S+)$/m.exec(text)?.[1] ?? 0);
      }
      return { count, seconds };
    },
    stop: () => cluster.stop(),
  };
}

export async function redisTarget(w: Workload): Promise<Target | null> {
  const version = tryRun("redis-server", ["--version"]);
  if (version === null) return null;
  const dir = mkdtempSync(join(tmpdir(), "raftkv-bench-redis-"));
  const port = 16379;
  const p = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""], { stdio: "ignore" });
  await waitPort("127.0.0.1", port);
  const requests = respRequests(w);
  return {
    key: "redis",
    name: "redis (1 node, appendfsync always)",
    version: /v=(\S+)/.exec(version)?.[1] ?? version,
    pids: () => [p.pid],
    connect: () => respConnect("127.0.0.1", port, requests),
    resp: { host: "127.0.0.1", port },
    stop: async () => {
      await kill(p);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------
// etcd: 3 members on loopback, through its v3 JSON gateway at the leader
// ---------------------------------------------------------------------------

export async function etcdTarget(w: Workload): Promise<Target | null> {
  if (spawnSync("etcd", ["--version"]).status !== 0) return null;
  const version = /etcd Version: (\S+)/.exec(tryRun("etcd", ["--version"]) ?? "")?.[1] ?? "?";
  const dir = mkdtempSync(join(tmpdir(), "raftkv-bench-etcd-"));
  const members = [1, 2, 3].map((i) => ({ name: `e${i}`, client: 12379 + i * 10, peer: 12380 + i * 10 }));
  const initial = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(",");
  const procs: ChildProcess[] = members.map((m) =>
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
  const stop = async () => {
    await Promise.all(procs.map(kill));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(members.map((m) => waitPort("127.0.0.1", m.client)));
    // The leader: etcd forwards proposals from followers, but the fair race is leader to leader.
    let leaderPort: number | null = null;
    for (let i = 0; i < 200 && leaderPort === null; i++) {
      for (const m of members) {
        const c = await httpConnect(m.client).catch(() => null);
        if (!c) continue;
        const s = (await c.post("/v3/maintenance/status", "{}").catch(() => null)) as { leader?: string; header?: { member_id?: string } } | null;
        c.close();
        if (s?.leader && s.leader === s.header?.member_id) leaderPort = m.client;
      }
      if (leaderPort === null) await new Promise((r) => setTimeout(r, 100));
    }
    if (leaderPort === null) throw new Error("etcd elected no leader");
    const port = leaderPort;
    const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");
    const value = b64(Buffer.alloc(w.valueBytes, "x"));
    const keys = Array.from({ length: w.keys }, (_, i) => b64(`key:${i}`));
    const bodies: Record<Op, Buffer[]> = {
      SET: keys.map((k) => httpRequest(port, "/v3/kv/put", JSON.stringify({ key: k, value }))),
      GET: keys.map((k) => httpRequest(port, "/v3/kv/range", JSON.stringify({ key: k }))),
    };
    return {
      key: "etcd",
      name: "etcd (3 members, JSON gateway)",
      version,
      pids: () => procs.map((p) => p.pid),
      async connect() {
        const c = await httpConnect(port);
        return {
          request: (op, i) => c.send(bodies[op][i % bodies[op].length]!).then(() => undefined),
          close: c.close,
        };
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function httpRequest(port: number, path: string, body: string): Buffer {
  return Buffer.from(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/**
 * A minimal HTTP/1.1 keep-alive client, one request at a time (the gateway
 * answers with Content-Length). Node's http module would cost the load
 * generator several times the CPU per request.
 */
function httpConnect(port: number): Promise<{ send(req: Buffer): Promise<Buffer>; post(path: string, body: string): Promise<unknown>; close(): void }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    let waiting: { ok: (b: Buffer) => void; fail: (e: Error) => void } | null = null;
    socket.on("data", (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const head = buf.subarray(0, end).toString("latin1");
      const m = /content-length: *(\d+)/i.exec(head);
      const w = waiting;
      if (!m) {
        waiting = null;
        w?.fail(new Error(`etcd answered without Content-Length: ${head.split("\r\n")[0]}`));
        socket.destroy();
        return;
      }
      const total = end + 4 + Number(m[1]);
      if (buf.length < total) return;
      const body = buf.subarray(end + 4, total);
      buf = buf.subarray(total);
      waiting = null;
      if (!head.startsWith("HTTP/1.1 200")) w?.fail(new Error(`etcd: ${head.split("\r\n")[0]}`));
      else w?.ok(body);
    });
    socket.on("error", (e) => {
      waiting?.fail(e);
      waiting = null;
      reject(e);
    });
    const send = (req: Buffer) =>
      new Promise<Buffer>((ok, fail) => {
        waiting = { ok, fail };
        socket.write(req);
      });
    socket.on("connect", () =>
      resolve({
        send,
        post: async (path, body) => JSON.parse((await send(httpRequest(port, path, body))).toString()),
        close: () => socket.destroy(),
      }),
    );
  });
}
