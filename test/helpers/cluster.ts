// Real raftkv clusters for black-box tests: `raftkv server` child processes
// on loopback, each node on its own 127.x.y.z address (so iptables rules can
// cut links between nodes), data in a temporary directory.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeCommand } from "../../src/client/commandEncoder.js";
import { ReplyParser } from "../../src/client/replyParser.js";
import type { Reply } from "../../src/resp/writer.js";
import type { StatusJson } from "../../src/util/status-json.js";

export const BIN = fileURLToPath(new URL("../../../bin/raftkv.js", import.meta.url));

export interface TestNode {
  readonly id: number;
  readonly host: string;
  readonly clientPort: number;
  readonly adminPort: number;
  readonly peerPort: number;
  process: ChildProcess | null;
}

/** GET /status, as the server writes it. */
export type NodeStatusJson = StatusJson;

/** How a node's process ended: an exit code, or the signal that killed it. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ClusterOptions {
  nodes?: number;
  electionTimeoutMs?: [number, number];
  heartbeatMs?: number;
  /** Cluster-file snapshot settings (the servers' defaults when left out). */
  snapshotEvery?: number;
  snapshotChunkBytes?: number;
  walSegmentBytes?: number;
  /** Extra environment for the servers. */
  env?: Record<string, string>;
  /** More cluster-file fields (e.g. secretFile, requirepass); may be computed from the cluster's directory. */
  extra?: Record<string, unknown> | ((dir: string, nodes: readonly TestNode[]) => Record<string, unknown>);
  /** More fields of each node's entry in the cluster file (e.g. its own tls certificate). */
  nodeExtra?: (node: TestNode, dir: string) => Record<string, unknown>;
  /** Extra Node options for the servers, before the script (e.g. --cpu-prof for `npm run bench -- --profile`). */
  nodeArgs?: readonly string[];
  /** Another build's bin/raftkv.js to run (`npm run bench -- --baseline DIR` races two builds). */
  bin?: string;
  /**
   * Membership tests: only nodes 1..initial are in cluster.json and started;
   * the others are spare nodes for join() (cluster-all.json names every node).
   */
  initial?: number;
  /** Only these nodes are started as processes (default: all of `initial`); the others are left to the test (a library node). */
  startOnly?: readonly number[];
}

let clusterCount = 0;

/**
 * How long a running node may take to answer on its admin port. On a loaded
 * 2-core machine (a full `npm test` beside other work) Node itself took ~9 s
 * to boot a node before its first log line, and 10 s was once not enough.
 */
const NODE_UP_MS = 30_000;

export class TestCluster {
  readonly dir: string;
  readonly configPath: string;
  /** Every node, spare ones included (the cluster file a joining node is given). */
  readonly allConfigPath: string;
  readonly nodes: TestNode[];

  private constructor(readonly options: ClusterOptions) {
    this.dir = mkdtempSync(join(tmpdir(), "raftkv-test-"));
    this.configPath = join(this.dir, "cluster.json");
    // A fresh 127.a.b.0/24 per cluster: parallel test files cannot collide.
    const a = 10 + ((process.pid + clusterCount * 7) % 240);
    const b = 10 + ((Math.floor(Math.random() * 240) + clusterCount++) % 240);
    this.nodes = Array.from({ length: options.nodes ?? 3 }, (_, i) => ({
      id: i + 1,
      host: `127.${a}.${b}.${i + 1}`,
      clientPort: 6379,
      adminPort: 8080,
      peerPort: 7000,
      process: null,
    }));
    this.allConfigPath = join(this.dir, "cluster-all.json");
    const file = {
      nodes: this.nodes.slice(0, options.initial ?? this.nodes.length).map((n) => ({ id: n.id, peer: `${n.host}:${n.peerPort}`, client: `${n.host}:${n.clientPort}`, admin: `${n.host}:${n.adminPort}`, ...options.nodeExtra?.(n, this.dir) })),
      electionTimeoutMs: options.electionTimeoutMs ?? [150, 300],
      heartbeatMs: options.heartbeatMs ?? 50,
      ...(options.snapshotEvery !== undefined && { snapshotEvery: options.snapshotEvery }),
      ...(options.snapshotChunkBytes !== undefined && { snapshotChunkBytes: options.snapshotChunkBytes }),
      ...(options.walSegmentBytes !== undefined && { walSegmentBytes: options.walSegmentBytes }),
      ...(typeof options.extra === "function" ? options.extra(this.dir, this.nodes) : options.extra),
    };
    writeFileSync(this.configPath, JSON.stringify(file, null, 2));
    const all = { ...file, nodes: this.nodes.map((n) => ({ id: n.id, peer: `${n.host}:${n.peerPort}`, client: `${n.host}:${n.clientPort}`, admin: `${n.host}:${n.adminPort}`, ...options.nodeExtra?.(n, this.dir) })) };
    writeFileSync(this.allConfigPath, JSON.stringify(all, null, 2));
  }

  static async start(options: ClusterOptions = {}): Promise<TestCluster> {
    const c = new TestCluster(options);
    const initial = c.nodes.slice(0, options.initial ?? c.nodes.length).filter((n) => options.startOnly?.includes(n.id) ?? true);
    for (const n of initial) c.startNode(n.id);
    try {
      await Promise.all(initial.map((n) => c.waitForPort(n.id)));
    } catch (err) {
      // The caller gets no cluster to stop: stop the nodes that did start, or they keep the test process alive.
      await c.stop();
      throw err;
    }
    return c;
  }

  node(id: number): TestNode {
    return this.nodes.find((n) => n.id === id)!;
  }

  /** Where node `id` keeps its data (write-ahead log, snapshots). */
  dataDir(id: number): string {
    return join(this.dir, `node-${id}`);
  }

  /** The file that collects node `id`'s stdout and stderr, across restarts. */
  logPath(id: number): string {
    return join(this.dir, `node-${id}.log`);
  }

  /** The last lines node `id` wrote, for error messages. */
  logTail(id: number, lines = 8): string {
    try {
      return readFileSync(this.logPath(id), "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  /** The cluster file each node was last started with (restart() uses it again). */
  private readonly configOf = new Map<number, string>();

  /** From now on restart() starts node `id` with this cluster file (an operator's file that names the members added since). */
  restartWith(id: number, configPath: string): void {
    this.configOf.set(id, configPath);
  }

  /** Starts (or restarts) node `id` from its data directory; returns its process (it may still fail to start). */
  startNode(id: number, extraArgs: readonly string[] = [], configPath = this.configPath): ChildProcess {
    const n = this.node(id);
    if (n.process) throw new Error(`node ${id} is already running`);
    this.configOf.set(id, configPath);
    const log = createWriteStream(this.logPath(id), { flags: "a" });
    log.on("error", () => {}); // the directory may be gone after stop(); the log is best effort
    const child = spawn(process.execPath, [...(this.options.nodeArgs ?? []), this.options.bin ?? BIN, "server", "--config", configPath, "--id", String(id), "--data", this.dataDir(id), ...extraArgs], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...this.options.env },
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    n.process = child;
    child.on("exit", () => {
      if (n.process === child) n.process = null;
    });
    return child;
  }

  /** kill -9 (default) or another signal; resolves with how the process ended (null if it was not running). */
  async kill(id: number, signal: NodeJS.Signals = "SIGKILL"): Promise<ExitStatus | null> {
    const p = this.node(id).process;
    if (!p) return null;
    const gone = exitOf(p);
    p.kill(signal);
    return gone;
  }

  /** Starts node `id` again from its data directory, with the cluster file it was last started with (no extra arguments: not --join). */
  async restart(id: number, timeoutMs = NODE_UP_MS): Promise<void> {
    this.startNode(id, [], this.configOf.get(id));
    await this.waitForPort(id, timeoutMs);
  }

  /**
   * Waits until node `id` answers on its admin port. A node that exits is
   * reported at once; the timeout only guards against one that hangs.
   */
  async waitForPort(id: number, timeoutMs = NODE_UP_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if ((await this.status(id)) !== null) return;
      if (!this.node(id).process) throw new Error(`node ${id} exited before it came up; the end of ${this.logPath(id)}:\n${this.logTail(id)}`);
      await sleep(50);
    }
    throw new Error(`node ${id} did not come up within ${timeoutMs} ms; the end of ${this.logPath(id)}:\n${this.logTail(id)}`);
  }

  /** GET /status of node `id`, or null if it does not answer. */
  async status(id: number): Promise<NodeStatusJson | null> {
    const n = this.node(id);
    try {
      const res = await fetch(`http://${n.host}:${n.adminPort}/status`, { signal: AbortSignal.timeout(1000) });
      return (await res.json()) as NodeStatusJson;
    } catch {
      return null;
    }
  }

  /** Waits until exactly one live node is leader and every other live node follows it; returns its id. */
  async waitForLeader(timeoutMs = 10_000, among: number[] = this.nodes.filter((n) => n.process).map((n) => n.id)): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      const all = await Promise.all(among.map((id) => this.status(id)));
      const live = all.filter((s): s is NodeStatusJson => s !== null);
      const leaders = live.filter((s) => s.role === "leader");
      last = JSON.stringify(live.map((s) => [s.id, s.role, s.term, s.leader]));
      if (leaders.length === 1 && live.length === among.length && live.every((s) => s.leader === leaders[0]!.id && s.term === leaders[0]!.term)) return leaders[0]!.id;
      await sleep(50);
    }
    throw new Error(`no single agreed leader within ${timeoutMs} ms; last seen [id, role, term, leader]: ${last}`);
  }

  /** Sends one command to node `id` over RESP and returns the reply. */
  async command(id: number, ...args: (string | Buffer)[]): Promise<Reply> {
    const n = this.node(id);
    return respCommand(n.host, n.clientPort, args);
  }

  /** Sends a command to the current leader, following MOVED and retrying CLUSTERDOWN until it succeeds. */
  async leaderCommand(timeoutMs: number, ...args: (string | Buffer)[]): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    let id = this.nodes.find((n) => n.process)!.id;
    let last: unknown = null;
    while (Date.now() < deadline) {
      try {
        const r = await this.command(id, ...args);
        if (r.kind === "error" && r.message.startsWith("MOVED ")) {
          const addr = r.message.split(" ")[2]!;
          id = this.nodes.find((n) => `${n.host}:${n.clientPort}` === addr)!.id;
          continue;
        }
        if (r.kind === "error" && (r.message.startsWith("CLUSTERDOWN") || r.message.startsWith("TIMEOUT"))) {
          last = r.message;
          await sleep(100);
          continue;
        }
        return r;
      } catch (err) {
        last = err;
        const live = this.nodes.filter((n) => n.process);
        id = live[(live.findIndex((n) => n.id === id) + 1) % live.length]!.id;
        await sleep(100);
      }
    }
    throw new Error(`command ${args.join(" ")} did not succeed within ${timeoutMs} ms (last: ${String(last)})`);
  }

  /** Stops every node (SIGTERM, then SIGKILL) and removes the data unless `keep`. */
  async stop(keep = false): Promise<void> {
    await Promise.all(
      this.nodes.map(async (n) => {
        const p = n.process;
        if (!p) return;
        const gone = new Promise<void>((r) => p.once("exit", () => r()));
        p.kill("SIGTERM");
        const t = setTimeout(() => p.kill("SIGKILL"), 3000);
        await gone;
        clearTimeout(t);
      }),
    );
    if (!keep && !process.env.RAFTKV_KEEP_TEST_DATA) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Resolves when `child` has exited (at once if it already has). */
export function exitOf(child: ChildProcess): Promise<ExitStatus> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((r) => child.once("exit", (code, signal) => r({ code, signal })));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * One RESP round trip on a fresh connection: the reply is due `timeoutMs`
 * after the request was handed to the kernel. Sending a big request (tens
 * of MiB, read by a node on a loaded machine) is guarded on its own, by a
 * minute: 5 s from the connect once failed for a 64 MiB command.
 */
export function respCommand(host: string, port: number, args: (string | Buffer)[], timeoutMs = 5000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const parser = new ReplyParser();
    const request = encodeCommand(args);
    const noReply = (what: string, ms: number) => () => {
      socket.destroy();
      reject(new Error(`no reply from ${host}:${port} within ${ms} ms ${what}`));
    };
    const sendMs = Math.max(timeoutMs, request.length >= 1 << 20 ? 60_000 : 0);
    let timer = setTimeout(noReply("of the connect", sendMs), sendMs);
    let replied = false;
    socket.on("connect", () =>
      socket.write(request, () => {
        if (replied) return;
        clearTimeout(timer);
        timer = setTimeout(noReply("after the request was sent", timeoutMs), timeoutMs);
      }),
    );
    socket.on("data", (chunk: Buffer) => {
      parser.push(chunk);
      const r = parser.next();
      if (r === undefined || r === null) return;
      replied = true;
      clearTimeout(timer);
      socket.end();
      resolve(r as Reply);
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // A node that dies or stops closes the connection without an error; after a reply this is a no-op.
    socket.on("close", () => {
      clearTimeout(timer);
      reject(new Error(`${host}:${port} closed the connection without a reply`));
    });
  });
}
