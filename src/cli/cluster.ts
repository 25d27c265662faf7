// `raftkv cluster`: a local cluster of N `raftkv server` processes (SPEC §2).
// It writes DIR/cluster.json (or reuses the one there, so a second run comes
// back with the same data), starts one child per node with its log in
// DIR/node-ID.log, restarts nothing by itself, and stops them all on
// SIGINT/SIGTERM.

import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { intFlag, parseArgs, stringFlag, UsageError } from "./args.js";
import { EXIT } from "./raftkv.js";
import { controlSocketPath, lockHolder, serveControl, supervisorRunning } from "./node-control.js";
import { clusterConfigToJson, ConfigError, formatAddress, loadClusterFile, localClusterConfig, type ClusterConfig } from "../server/config.js";

const HELP = `raftkv cluster [--nodes N] [--dir DIR] [--base-port P]

Runs a local N-node cluster (default 3) on 127.0.0.1, each node a
'raftkv server' child process. Writes DIR/cluster.json (default DIR: ./data)
and keeps each node's data in DIR/node-ID and its log in DIR/node-ID.log.
Ports: client (Redis protocol) P, P+1, ...; peer P+620, ...; admin (HTTP) P+1700, ...
with P = 6381 by default (so 6381-6383, 7001-7003, 8081-8083).
If DIR/cluster.json exists it is reused, with its data (--nodes and
--base-port must then agree with it). Ctrl-C stops every node.
If no node starts, it exits non-zero (2 for configuration problems such as
a port in use) and prints each node's reason.

It restarts nothing by itself; 'raftkv node start|stop|restart ID [--dir DIR]'
asks it to (over DIR/supervisor.sock), and the node stays under it. A node
already running on one of the data directories (say, started by hand) is
refused at start: stop it first.`;

const BIN = fileURLToPath(new URL("../../../bin/raftkv.js", import.meta.url));

export async function runCluster(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { nodes: {}, dir: {}, "base-port": {}, help: { boolean: true } });
  if (p.flags.has("help")) {
    process.stdout.write(HELP + "\n");
    return EXIT.ok;
  }
  if (p.positional.length > 0) throw new UsageError(`unexpected argument '${p.positional[0]}'`);
  const dir = resolve(stringFlag(p, "dir") ?? "data");
  const file = join(dir, "cluster.json");
  const wanted = p.flags.has("nodes") ? intFlag(p, "nodes", 3, 1, 99) : null;
  const basePort = intFlag(p, "base-port", 6381, 1, 65535 - 1800);
  const wantedBase = p.flags.has("base-port") ? basePort : null;

  let config: ClusterConfig;
  if (existsSync(file)) {
    try {
      config = loadClusterFile(file);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`raftkv cluster: ${err.message}\n`);
      return EXIT.usage;
    }
    if (wanted !== null && wanted !== config.nodes.length) {
      process.stderr.write(`raftkv cluster: ${file} already describes ${config.nodes.length} nodes; remove ${dir} to start a ${wanted}-node cluster\n`);
      return EXIT.usage;
    }
    const fileBase = config.nodes[0]!.client.port;
    if (wantedBase !== null && wantedBase !== fileBase) {
      process.stderr.write(
        `raftkv cluster: ${file} already has its ports (client ${formatAddress(config.nodes[0]!.client)}, ...); --base-port ${wantedBase} disagrees.\n` +
          `Leave out --base-port to run that cluster, or give another --dir (or remove ${dir}) for a new one\n`,
      );
      return EXIT.usage;
    }
  } else {
    config = localClusterConfig(wanted ?? 3, basePort);
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, clusterConfigToJson(config));
  }

  if (await supervisorRunning(controlSocketPath(dir))) {
    process.stderr.write(`raftkv cluster: another 'raftkv cluster' is running on ${dir}; stop it first (Ctrl-C in its terminal)\n`);
    return EXIT.usage;
  }
  // Strays: a node already running on one of these data directories (started by hand, or left over) is refused, not fought over.
  const strays = config.nodes.map((n) => ({ id: n.id, pid: lockHolder(join(dir, `node-${n.id}`)) })).filter((x) => x.pid !== null);
  if (strays.length > 0) {
    process.stderr.write(
      strays.map((x) => `raftkv cluster: node ${x.id} is already running (pid ${x.pid}, which holds ${join(dir, `node-${x.id}`, "LOCK")})\n`).join("") +
        `Stop ${strays.length === 1 ? "it" : "them"} first (kill ${strays.map((x) => x.pid).join(" ")}), then run the cluster again; under the cluster, \`npx raftkv node restart ID\` restarts a node.\n`,
    );
    return EXIT.usage;
  }

  let stopping = false;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  const children = new Map<number, ChildProcess>();
  /** Nodes the operator stopped (`raftkv node stop`): their exit is expected, and the cluster runs on without them. */
  const stoppedOnPurpose = new Set<number>();
  /** Per node: resolves true once it is ready, false if it exited first. */
  const startups = new Map<number, Promise<boolean>>();
  /** Nodes that exited without being asked to, with their reason. */
  const failures = new Map<number, { code: number | null; reason: string | null }>();
  const startNode = (id: number): ChildProcess => {
    const logFile = join(dir, `node-${id}.log`);
    const out = createWriteStream(logFile, { flags: "a" });
    const child = spawn(process.execPath, [BIN, "server", "--config", file, "--id", String(id), "--data", join(dir, `node-${id}`)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    // The node's own one-line reason when it cannot start ("raftkv server: ..."), and whether it came up.
    let reason: string | null = null;
    let ready = false;
    let markReady: () => void = () => {};
    const up = new Promise<boolean>((r) => (markReady = () => r(true)));
    child.stderr!.on("data", (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.startsWith("raftkv server: ")) reason = line.slice("raftkv server: ".length);
        else if (!ready && line.includes('"event":"ready"')) {
          ready = true;
          markReady();
        }
      }
    });
    startups.set(id, Promise.race([up, new Promise<boolean>((r) => child.once("exit", () => r(false)))]));
    children.set(id, child);
    child.on("exit", (code, signal) => {
      if (children.get(id) === child) children.delete(id);
      if (!stopping && !stoppedOnPurpose.has(id)) {
        failures.set(id, { code, reason });
        process.stdout.write(`node ${id} exited (${signal ?? `code ${code}`})${reason === null ? "" : `: ${reason}`}; see ${logFile}; \`npx raftkv node start ${id}${dirFlag}\` starts it again\n`);
      }
      if (children.size === 0 && (stopping || stoppedOnPurpose.size === 0)) done();
    });
    return child;
  };
  const dirFlag = resolve(dir) === resolve("data") ? "" : ` --dir ${relativeOrAbsolute(dir)}`;
  for (const n of config.nodes) startNode(n.id);

  const stopChild = (child: ChildProcess): Promise<void> =>
    new Promise((resolveStop) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolveStop();
      child.once("exit", () => resolveStop());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 3000).unref();
    });
  const control = await serveControl(controlSocketPath(dir), async ({ op, id }) => {
    if (stopping) return { ok: false, message: "the cluster is stopping" };
    if (!config.nodes.some((n) => n.id === id)) return { ok: false, message: `node ${id} is not in ${file} (ids: ${config.nodes.map((n) => n.id).join(", ")})` };
    const running = children.get(id);
    if (op === "stop" || op === "restart") {
      if (running === undefined && op === "stop") return { ok: false, message: `node ${id} is not running` };
      stoppedOnPurpose.add(id);
      if (running) await stopChild(running);
    }
    if (op === "start" && running !== undefined) return { ok: false, message: `node ${id} is already running (pid ${running.pid})` };
    if (op === "stop") {
      process.stdout.write(`node ${id} stopped (raftkv node stop)\n`);
      return { ok: true, message: `node ${id} stopped` };
    }
    const stray = lockHolder(join(dir, `node-${id}`));
    if (stray !== null) return { ok: false, message: `node ${id}'s data directory is in use by pid ${stray}, not started by this cluster; stop it first (kill ${stray})` };
    stoppedOnPurpose.delete(id);
    const child = startNode(id);
    process.stdout.write(`node ${id} ${op === "restart" ? "restarted" : "started"} (pid ${child.pid})\n`);
    return { ok: true, message: `node ${id} ${op === "restart" ? "restarted" : "started"} (pid ${child.pid}); its log: ${join(dir, `node-${id}.log`)}` };
  }).catch((err: Error) => {
    process.stderr.write(`raftkv cluster: no control socket (${err.message}); \`raftkv node\` will not reach this cluster\n`);
    return null;
  });

  // Wait for each node to be ready or gone: a cluster none of whose nodes started says so and fails.
  const started = await Promise.all(config.nodes.map((n) => Promise.race([startups.get(n.id)!, new Promise<boolean>((r) => setTimeout(() => r(true), 15_000).unref())])));
  if (started.every((ok) => !ok)) {
    process.stderr.write(`raftkv cluster: no node started:\n` + config.nodes.map((n) => `  node ${n.id}: ${failures.get(n.id)?.reason ?? `exited (code ${failures.get(n.id)?.code ?? "?"}); see ${join(dir, `node-${n.id}.log`)}`}\n`).join(""));
    control?.close();
    return [...failures.values()].every((f) => f.code === EXIT.usage) ? EXIT.usage : 1;
  }

  const first = config.nodes[0]!;
  // The hints must work as printed: name the cluster file unless it is the one the client commands read by default.
  const configFlag = resolve(file) === resolve("data", "cluster.json") ? "" : ` --config ${relativeOrAbsolute(file)}`;
  process.stdout.write(
    `raftkv: ${config.nodes.length}-node cluster, data in ${dir}\n` +
      config.nodes.map((n) => `  node ${n.id}: client ${formatAddress(n.client)}  admin http://${formatAddress(n.admin)}/  log ${join(dir, `node-${n.id}.log`)}\n`).join("") +
      `dashboard: http://${formatAddress(first.admin)}/\n` +
      `try:  npx raftkv set greeting hello${configFlag} && npx raftkv get greeting${configFlag}\n` +
      `      redis-cli -c -h ${first.client.host} -p ${first.client.port} set foo bar\n` +
      `      npx raftkv status${configFlag}\n` +
      `      npx raftkv node restart 2${dirFlag}      (also: node stop ID, node start ID)\n` +
      `Ctrl-C stops every node.\n`,
  );

  const stop = () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write("stopping all nodes...\n");
    for (const c of children.values()) c.kill("SIGTERM");
    setTimeout(() => {
      for (const c of children.values()) c.kill("SIGKILL");
    }, 3000).unref();
    if (children.size === 0) done();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  await finished;
  control?.close();
  // Nodes that died on their own make the cluster's run a failure, whatever happened after.
  return failures.size > 0 && !stopping ? 1 : EXIT.ok;
}

/** `path` relative to the working directory when it lies below it, else absolute. */
function relativeOrAbsolute(path: string): string {
  const r = relative(process.cwd(), path);
  return r !== "" && !r.startsWith("..") && !isAbsolute(r) ? r : path;
}
