// `raftkv server --config FILE --id ID [--data DIR]`: one node in the foreground.

import net from "node:net";
import { lockHolder } from "./node-control.js";
import { join } from "node:path";
import { parseArgs, stringFlag, UsageError } from "./args.js";
import { EXIT } from "./raftkv.js";
import { createLogger } from "../util/log.js";
import { AdminPort } from "../server/admin.js";
import { ClientPort } from "../server/clientPort.js";
import { DEFAULT_PLAN_LIMITS } from "../kv/plan.js";
import { type Address, type ClusterConfig, DEFAULT_CLIENT_LIMITS, ConfigError, formatAddress, loadClusterFile, nodeById } from "../server/config.js";
import { loadNodeCredentials } from "../server/credentials.js";
import { MAX_REPLICABLE_ENTRY_BYTES } from "../transport/peers.js";
import { RaftServer } from "../server/server.js";
import type { NodeTls } from "../server/tls.js";

const HELP = `raftkv server --config FILE --id ID [--data DIR] [--accept-data-loss]
raftkv server --join --config FILE --id ID [--data DIR]

Runs one raftkv node in the foreground. FILE is the cluster file (SPEC §3);
ID is this node's id in it. Data (write-ahead log, snapshots) goes to DIR,
by default ./data/node-ID. Logs are JSON lines on stderr; set
RAFTKV_LOG_LEVEL=debug for more. SIGINT or SIGTERM stops the node cleanly;
a leader first hands its leadership to the most up-to-date follower.

The cluster file is the bootstrap configuration only: once a node has data,
the members it follows are those of the configuration in its log (SPEC §10),
kept in DIR/members.json. --join starts a new node to be added to a running
cluster (raftkv member add): DIR must be empty, FILE names this node and at
least one current member (the node asks it for the live membership); the
node votes for nobody and waits until the leader adds it, then catches up
from a snapshot and the log. A node removed
from the cluster refuses to start again from its old data directory.

A node whose disk lost or damaged what it had written recovers by itself
from the other nodes (docs/STORAGE.md). Only if a majority of the nodes lost
data does a node stop, saying so; then --accept-data-loss on those nodes
makes each carry on with what its disk holds: the most up-to-date one leads,
and acknowledged writes none of them holds are lost.

A node that cannot listen on its peer, client or admin address (in use, or
a host this machine does not have) exits 2 with one line, before it touches
DIR. The cluster file's secretFile, requirepass(File), adminTokenFile, tls
and maxclients authenticate and encrypt the ports and bound client load
(docs/SECURITY.md).`;

/** How long a clean stop may take before the process exits anyway (SPEC §6: within 2 s). */
const STOP_DEADLINE_MS = 1800;

export async function runServer(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { config: {}, id: {}, data: {}, "accept-data-loss": { boolean: true }, join: { boolean: true }, help: { boolean: true } });
  if (p.flags.has("help")) {
    process.stdout.write(HELP + "\n");
    return EXIT.ok;
  }
  if (p.positional.length > 0) throw new UsageError(`unexpected argument '${p.positional[0]}'`);
  const configPath = stringFlag(p, "config");
  const idText = stringFlag(p, "id");
  if (!configPath) throw new UsageError("--config FILE is required");
  if (!idText) throw new UsageError("--id ID is required");
  if (!/^\d+$/.test(idText)) throw new UsageError(`--id must be a positive integer, got '${idText}'`);
  const id = Number(idText);

  let config;
  let peerSecret: Buffer | null = null;
  let password: string | null = null;
  let adminToken: Buffer | null = null;
  let tls: NodeTls | null = null;
  try {
    config = loadClusterFile(configPath);
    nodeById(config, id);
    ({ peerSecret, password, adminToken, tls } = loadNodeCredentials(config, id));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`raftkv server: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
  const dataDir = stringFlag(p, "data") ?? join("data", `node-${id}`);
  let server: RaftServer | null = null;
  const logger = createLogger({ node: id }, { dynamic: () => ({ term: server?.term ?? null }) });
  if (p.flags.has("join") && p.flags.has("accept-data-loss")) throw new UsageError("--join is for a new, empty node; --accept-data-loss for one with data: not both");
  server = new RaftServer({ config, id, dataDir, logger, acceptDataLoss: p.flags.has("accept-data-loss"), peerSecret, peerTls: tls, join: p.flags.has("join") });
  const self = nodeById(config, id);
  const client = new ClientPort({
    listen: self.client,
    logger,
    execute: (plan) => server.execute(plan),
    password,
    adminPassword: adminToken,
    maxEntryBytes: MAX_REPLICABLE_ENTRY_BYTES,
    tls,
    ...(config.maxclients !== undefined && { maxClients: config.maxclients }),
    ...clientLimits(config),
  });
  const admin = new AdminPort(server, self.admin, logger, () => client.connections, { clientLimits: () => client.limitStats, token: adminToken });

  // Every port must be usable before the data directory is touched: a node that cannot serve is not a member (exit 2, one line).
  const unusable = await firstUnusablePort([
    ["peers", self.peer],
    ["clients", self.client],
    ["admin requests", self.admin],
  ]);
  if (unusable !== null) {
    // The usual reason: this very node is running already (its LOCK says so; reading it changes nothing).
    const holder = lockHolder(dataDir);
    const msg = holder !== null && holder !== process.pid ? `data directory ${dataDir} is in use by process ${holder} (is this node already running?)` : unusable;
    logger.error("start_failed", { error: msg });
    process.stderr.write(`raftkv server: cannot start node ${id}: ${msg}\n`);
    return EXIT.usage;
  }
  try {
    await server.start();
    await client.listen();
    await admin.start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const msg = e.code === "EADDRINUSE" ? `address in use (${e.message.replace(/^listen EADDRINUSE: address already in use /, "")}): is another node running?` : e.message;
    logger.error("start_failed", { error: msg });
    process.stderr.write(`raftkv server: cannot start node ${id}: ${msg}\n`);
    // Whatever did start (peer transport, timers) must not keep this process running as a member.
    process.exit(e.code === "EADDRINUSE" || e.code === "EADDRNOTAVAIL" || e.code === "ENOTFOUND" || e.name === "DataDirInUseError" || e.name === "WalFormatError" || e.name === "MembershipError" ? EXIT.usage : 1);
  }
  logger.info("ready", { client: formatAddress(self.client), admin: formatAddress(self.admin), data: dataDir });

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info("stopping", { signal });
      setTimeout(() => {
        logger.warn("stop_deadline_passed");
        process.exit(0);
      }, STOP_DEADLINE_MS).unref();
      // A leader first hands over its leadership, so clients wait a round trip, not an election.
      // It waits (briefly) for the new leader's first message, so the log says who leads now.
      void server
        .handOffLeadership(600, null, true)
        .catch(() => null)
        .then(() => Promise.allSettled([client.close(), admin.close()]))
        .then(() => server.stop())
        .then(resolve);
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  return EXIT.ok;
}

/** The cluster file's client-port limits, as ClientPort options (a value above 8 MiB is refused however big a bulk string may be). */
function clientLimits(config: ClusterConfig) {
  const l = { ...DEFAULT_CLIENT_LIMITS, ...Object.fromEntries(Object.keys(DEFAULT_CLIENT_LIMITS).filter((k) => config[k as keyof ClusterConfig] !== undefined).map((k) => [k, config[k as keyof ClusterConfig]])) } as typeof DEFAULT_CLIENT_LIMITS;
  return {
    outputSoftBytes: l.clientOutputBufferSoftBytes,
    outputHardBytes: l.clientOutputBufferHardBytes,
    maxInputBytes: l.clientInputTotalBytes,
    parserLimits: { maxBulkBytes: l.protoMaxBulkLen, maxCommandBytes: l.maxCommandBytes },
    maxValueBytes: Math.min(DEFAULT_PLAN_LIMITS.maxValueBytes, l.protoMaxBulkLen),
  };
}

/**
 * Tries to listen on each address (and closes again at once); the first
 * that cannot be used, said in one line, or null. Catches a port another
 * process holds and a host this machine does not have, before anything else.
 */
async function firstUnusablePort(addresses: readonly (readonly [string, Address])[]): Promise<string | null> {
  for (const [what, a] of addresses) {
    const problem = await new Promise<string | null>((resolve) => {
      const probe = net.createServer();
      probe.once("error", (err: NodeJS.ErrnoException) => {
        const where = formatAddress(a);
        if (err.code === "EADDRINUSE") resolve(`cannot listen for ${what} on ${where}: the address is in use (is another node or program running there?)`);
        else if (err.code === "EADDRNOTAVAIL") resolve(`cannot listen for ${what} on ${where}: ${a.host} is not an address of this machine (check the cluster file)`);
        else if (err.code === "ENOTFOUND" || err.code === "EAI_AGAIN") resolve(`cannot listen for ${what} on ${where}: the host name ${a.host} does not resolve (check the cluster file)`);
        else if (err.code === "EACCES") resolve(`cannot listen for ${what} on ${where}: permission denied (ports below 1024 need privileges)`);
        else resolve(`cannot listen for ${what} on ${where}: ${err.message}`);
      });
      probe.listen(a.port, a.host, () => probe.close(() => resolve(null)));
    });
    if (problem !== null) return problem;
  }
  return null;
}
