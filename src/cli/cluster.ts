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
import { clusterConfigToJson, ConfigError, formatAddress, loadClusterFile, localClusterConfig, type ClusterConfig } from "../server/config.js";

const HELP = `raftkv cluster [--nodes N] [--dir DIR] [--base-port P]

Runs a local N-node cluster (default 3) on 127.0.0.1, each node a
'raftkv server' child process. Writes DIR/cluster.json (default DIR: ./data)
and keeps each node's data in DIR/node-ID and its log in DIR/node-ID.log.
Ports: client (Redis protocol) P, P+1, ...; peer P+620, ...; admin (HTTP) P+1700, ...
with P = 6381 by default (so 6381-6383, 7001-7003, 8081-8083).
If DIR/cluster.json exists it is reused, with its data (--nodes and
--base-port must then agree with it). Ctrl-C stops every node.`;

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

  let stopping = false;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  const children = new Map<number, ChildProcess>();
  for (const n of config.nodes) {
    const logFile = join(dir, `node-${n.id}.log`);
    const out = createWriteStream(logFile, { flags: "a" });
    const child = spawn(process.execPath, [BIN, "server", "--config", file, "--id", String(n.id), "--data", join(dir, `node-${n.id}`)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.pipe(out);
    child.stderr!.pipe(out);
    children.set(n.id, child);
    child.on("exit", (code, signal) => {
      children.delete(n.id);
      if (!stopping) process.stdout.write(`node ${n.id} exited (${signal ?? `code ${code}`}); see ${logFile}\n`);
      if (children.size === 0) done();
    });
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
  return EXIT.ok;
}

/** `path` relative to the working directory when it lies below it, else absolute. */
function relativeOrAbsolute(path: string): string {
  const r = relative(process.cwd(), path);
  return r !== "" && !r.startsWith("..") && !isAbsolute(r) ? r : path;
}
