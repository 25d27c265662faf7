// `raftkv set | get | delete | incr | status` (SPEC §2) and `move-leader`: the client commands.
// They read the cluster file for the nodes' addresses, find the leader
// themselves and ride out elections (RaftKvClient), and print like the
// course's kvclient.

import { existsSync, readFileSync } from "node:fs";
import { DEFAULT_TIMEOUT_MS, RaftKvClient } from "../client/client.js";
import type { TlsClientOptions } from "../client/connection.js";
import { NoNodeReachableError, ServerError, UnavailableError, UnexpectedReplyError, UnknownOutcomeError } from "../client/errors.js";
import { type NodeAddress, parseHostPort } from "../client/address.js";
import { membersDiscovery, surveyMembers } from "../client/members.js";
import { adminRequest, fetchStatus } from "../client/status.js";
import { formatStatusTable, type StatusRow } from "../client/statusTable.js";
import { type ClusterConfig, ConfigError, clientPassword, formatAddress, loadClusterFile, readSecretFile } from "../server/config.js";
import { createLogger } from "../util/log.js";
import { type Parsed, UsageError, intFlag, parseArgs, stringFlag } from "./args.js";
import { EXIT } from "./raftkv.js";

const DEFAULT_CONFIG = "./data/cluster.json";
const DEFAULT_STATUS_TIMEOUT_MS = 2_000;

const FLAGS = { config: {}, timeout: {}, help: { boolean: true } } as const;
/** The client commands also take redis-cli's TLS flags. */
const CLIENT_FLAGS = { ...FLAGS, tls: { boolean: true }, cacert: {}, cert: {}, key: {}, sni: {} } as const;

const OPTIONS = `options:
  --config FILE   the cluster file (default ${DEFAULT_CONFIG}, which \`npm start\` writes)
  --timeout MS    give up after MS milliseconds, retries included (default ${DEFAULT_TIMEOUT_MS})
  --help          this help`;

const TLS_OPTIONS = `TLS (as redis-cli's flags; on by itself when the cluster file has "tls"):
  --tls           connect with TLS even if the cluster file has no "tls"
  --cacert FILE   the CA that signed the nodes' certificates (default: the cluster file's tls.ca)
  --cert FILE     a client certificate, for nodes whose tls.authClients asks for one
  --key FILE      its private key (default for both, when authClients is "yes": the cluster file's tls.cert and tls.key)
  --sni NAME      the server name to send and check the certificates against`;

const EXIT_CODES = `exit codes: 0 success, 1 (get) no such key, 2 usage or configuration error,
or a command the server refuses, 3 cluster unavailable or timed out`;

const FINDS_THE_LEADER = `Any node of the cluster file will do: the command finds the leader itself
and retries through elections; when every node refuses connections it gives
up after about a second.`;

const IS_IT_RUNNING = "is the cluster running? (`npm start` runs a local one)";

interface ClientCommand {
  readonly name: string;
  readonly usage: string;
  readonly positionals: readonly string[];
  run(client: RaftKvClient, args: readonly string[]): Promise<number>;
}

export const set = clientCommand({
  name: "set",
  usage: `usage: raftkv set KEY VALUE [--config FILE] [--timeout MS] [--tls ...]

Stores VALUE under KEY and prints "ok" once the write is committed (stored
on a majority of the nodes). Retried writes are applied exactly once.
${FINDS_THE_LEADER} A VALUE that starts with "--" goes after "--":
raftkv set KEY -- --VALUE.`,
  positionals: ["KEY", "VALUE"],
  async run(client, [key, value]) {
    await client.set(key!, value!);
    process.stdout.write("ok\n");
    return EXIT.ok;
  },
});

export const get = clientCommand({
  name: "get",
  usage: `usage: raftkv get KEY [--config FILE] [--timeout MS] [--tls ...]

Prints the value of KEY. When KEY does not exist, prints nothing and exits 1.
The read is linearizable: it sees every write committed before it began.
${FINDS_THE_LEADER}`,
  positionals: ["KEY"],
  async run(client, [key]) {
    const value = await client.get(key!);
    if (value === null) return EXIT.notFound;
    process.stdout.write(Buffer.concat([value, NEWLINE]));
    return EXIT.ok;
  },
});

export const del = clientCommand({
  name: "delete",
  usage: `usage: raftkv delete KEY [--config FILE] [--timeout MS] [--tls ...]

Deletes KEY and prints "ok" once the delete is committed (also when KEY did
not exist). ${FINDS_THE_LEADER}`,
  positionals: ["KEY"],
  async run(client, [key]) {
    await client.del(key!);
    process.stdout.write("ok\n");
    return EXIT.ok;
  },
});

export const incr = clientCommand({
  name: "incr",
  usage: `usage: raftkv incr KEY [--config FILE] [--timeout MS] [--tls ...]

Adds 1 to the integer stored at KEY (a missing KEY counts as 0) and prints the
new value. Retried increments are applied exactly once. ${FINDS_THE_LEADER}`,
  positionals: ["KEY"],
  async run(client, [key]) {
    process.stdout.write(`${await client.incr(key!)}\n`);
    return EXIT.ok;
  },
});

const STATUS_USAGE = `usage: raftkv status [--config FILE] [--timeout MS]

Prints one line per node: the live configuration's members (learned from
any node of the cluster file that answers GET /members), and any node of the
cluster file that is no longer one. For each: its id, client address, role,
term, the leader it knows, commit index, applied index, and whether its admin
port answered (GET /status).

options:
  --config FILE   the cluster file (default ${DEFAULT_CONFIG}, which \`npm start\` writes)
  --timeout MS    how long to wait for each node (default ${DEFAULT_STATUS_TIMEOUT_MS})
  --help          this help

exit codes: 0 at least one node answered, 2 usage or configuration error,
3 no node answered`;

export async function status(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv, FLAGS);
  if (parsed.flags.has("help")) return help(STATUS_USAGE);
  expectPositionals(parsed, []);
  const timeoutMs = intFlag(parsed, "timeout", DEFAULT_STATUS_TIMEOUT_MS, 1);
  const config = readConfig("status", parsed);
  if (config === null) return EXIT.usage;
  const rows = await Promise.all(
    (await liveNodes(config, timeoutMs)).map(async (node): Promise<StatusRow> => {
      const address = formatAddress(node.client);
      try {
        return { id: node.id, address, answer: { ok: true, status: await fetchStatus(node.admin, timeoutMs) } };
      } catch (err) {
        return { id: node.id, address, answer: { ok: false, reason: (err as Error).message } };
      }
    }),
  );
  process.stdout.write(formatStatusTable(rows));
  if (rows.some((row) => row.answer.ok)) return EXIT.ok;
  process.stderr.write(`raftkv status: no node answered; ${IS_IT_RUNNING}\n`);
  return EXIT.unavailable;
}

const MOVE_LEADER_USAGE = `usage: raftkv move-leader [ID] [--config FILE] [--timeout MS]

Asks the current leader to hand its leadership to node ID (thesis §3.10; like
etcdctl move-leader), or to its most up-to-date follower when no ID is given.
The leader stops taking writes, brings the target up to date and tells it to
start an election, which it wins at once. Prints the new leader and term.

options:
  --config FILE   the cluster file (default ${DEFAULT_CONFIG}, which \`npm start\` writes)
  --timeout MS    how long to wait for each node's answer (default ${DEFAULT_STATUS_TIMEOUT_MS})
  --help          this help

exit codes: 0 done (or node ID already leads), 2 usage or configuration error,
3 no leader, or the transfer did not finish`;

export async function moveLeader(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv, FLAGS);
  if (parsed.flags.has("help")) return help(MOVE_LEADER_USAGE);
  if (parsed.positional.length > 1) throw new UsageError(`expects at most one argument (ID), got ${parsed.positional.length}`);
  const timeoutMs = intFlag(parsed, "timeout", DEFAULT_STATUS_TIMEOUT_MS, 1);
  const config = readConfig("move-leader", parsed);
  if (config === null) return EXIT.usage;
  const idText = parsed.positional[0];
  if (idText !== undefined && !/^\d+$/.test(idText)) throw new UsageError(`ID must be a node id (a positive integer), got '${idText}'`);
  const to = idText === undefined ? null : Number(idText);
  if (to !== null && !config.nodes.some((n) => n.id === to)) {
    process.stderr.write(`raftkv move-leader: node ${idText} is not in the cluster file (ids: ${config.nodes.map((n) => n.id).join(", ")})\n`);
    return EXIT.usage;
  }
  const answers = await Promise.all(config.nodes.map((n) => fetchStatus(n.admin, timeoutMs).then((status) => ({ status, error: null }), (error: Error) => ({ status: null, error }))));
  const statuses = answers.map((a) => a.status);
  if (statuses.every((s) => s === null)) {
    process.stderr.write(
      `raftkv move-leader: no node is reachable: ${config.nodes.map((n, i) => `node ${n.id} (${formatAddress(n.admin)}: ${answers[i]!.error!.message})`).join(", ")}; ${IS_IT_RUNNING}\n`,
    );
    return EXIT.unavailable;
  }
  const leader = statuses.filter((s) => s?.role === "leader").sort((a, b) => b!.term - a!.term)[0];
  if (!leader) {
    const up = config.nodes.filter((_, i) => statuses[i] !== null).map((n) => n.id);
    process.stderr.write(
      `raftkv move-leader: no node leads right now (node${up.length === 1 ? "" : "s"} ${up.join(", ")} answered, none as leader; an election may be under way); try again in a moment (\`raftkv status\` shows the nodes)\n`,
    );
    return EXIT.unavailable;
  }
  if (leader.id === to) {
    process.stdout.write(`node ${to} already leads (term ${leader.term})\n`);
    return EXIT.ok;
  }
  const admin = config.nodes.find((n) => n.id === leader.id)!.admin;
  const token = process.env.RAFTKV_ADMIN_TOKEN ?? (config.adminTokenFile === undefined ? null : readSecretFile(config.adminTokenFile, "admin token").toString("utf8"));
  const answer = await postTransfer(admin, to, timeoutMs + 2000, token).catch((err: Error) => ({ code: 0, body: { error: err.message } as Record<string, unknown> }));
  if (answer.code === 200) {
    process.stdout.write(`node ${String(answer.body.leader)} now leads (term ${String(answer.body.term)}), was node ${leader.id}\n`);
    return EXIT.ok;
  }
  process.stderr.write(`raftkv move-leader: node ${leader.id} did not hand over its leadership: ${String(answer.body.error ?? `HTTP ${answer.code}`)}\n`);
  return answer.code === 400 ? EXIT.usage : EXIT.unavailable;
}

/** POST /transfer-leadership to the leader's admin port; the JSON answer, or {} if it was not JSON. */
async function postTransfer(admin: NodeAddress, to: number | null, timeoutMs: number, token: string | null): Promise<{ code: number; body: Record<string, unknown> }> {
  const { code, body } = await adminRequest(admin, "POST", `/transfer-leadership${to === null ? "" : `?to=${to}`}`, timeoutMs, token);
  try {
    return { code, body: JSON.parse(body) as Record<string, unknown> };
  } catch {
    return { code, body: {} };
  }
}

const NEWLINE = Buffer.from("\n");

function clientCommand(command: ClientCommand): (argv: string[]) => Promise<number> {
  return async (argv) => {
    const parsed = parseArgs(argv, CLIENT_FLAGS);
    if (parsed.flags.has("help")) return help(`${command.usage}\n\n${OPTIONS}\n\n${TLS_OPTIONS}\n\n${EXIT_CODES}`);
    expectPositionals(parsed, command.positionals);
    const timeoutMs = intFlag(parsed, "timeout", DEFAULT_TIMEOUT_MS, 1);
    const config = readConfig(command.name, parsed);
    if (config === null) return EXIT.usage;
    let tls: TlsClientOptions | null;
    try {
      tls = clientTls(config, parsed);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`raftkv ${command.name}: ${err.message}\n`);
      return EXIT.usage;
    }
    const client = new RaftKvClient({
      nodes: config.nodes.map((node) => node.client),
      timeoutMs,
      logger: createLogger({ program: `raftkv ${command.name}` }),
      password: process.env.RAFTKV_PASSWORD ?? clientPassword(config),
      tls,
      discover: membersDiscovery(config.nodes.map((node) => node.admin)),
    });
    try {
      return await command.run(client, parsed.positional);
    } catch (err) {
      if (err instanceof UnavailableError || err instanceof UnknownOutcomeError) {
        process.stderr.write(`raftkv ${command.name}: ${err.message}${err instanceof NoNodeReachableError && err.nothingListens ? `; ${IS_IT_RUNNING}` : ""}\n`);
        return EXIT.unavailable;
      }
      if (err instanceof ServerError || err instanceof UnexpectedReplyError) {
        process.stderr.write(`raftkv ${command.name}: the server refused the command: ${err.message}\n`);
        return EXIT.usage;
      }
      throw err;
    } finally {
      client.close();
    }
  };
}

function help(text: string): number {
  process.stdout.write(text + "\n");
  return EXIT.ok;
}

function expectPositionals(parsed: Parsed, names: readonly string[]): void {
  const got = parsed.positional.length;
  if (got !== names.length) {
    const expected = names.length === 0 ? "no arguments" : names.join(" ");
    throw new UsageError(`expects ${expected} (got ${got} argument${got === 1 ? "" : "s"})`);
  }
}

/**
 * The nodes to show: the live configuration's members (SPEC §10, GET
 * /members of any node the cluster file names that answers), then any node
 * of the cluster file that is no longer a member. Just the cluster file's
 * when no node serves /members.
 */
async function liveNodes(config: ClusterConfig, timeoutMs: number): Promise<{ id: number; client: NodeAddress; admin: NodeAddress }[]> {
  const { answers } = await surveyMembers(config.nodes.map((n) => n.admin), timeoutMs);
  const best = answers[0];
  if (best === undefined) return [...config.nodes];
  const live = best.members.members.map((m) => ({ id: m.id, client: parseHostPort(m.client)!, admin: parseHostPort(m.admin)! }));
  return [...live, ...config.nodes.filter((n) => !live.some((m) => m.id === n.id))].sort((a, b) => a.id - b.id);
}

/** The cluster file, or null after printing why it cannot be used. */
/** TLS for the client commands: the flags, else the cluster file's "tls"; null for plain TCP. */
function clientTls(config: ClusterConfig, parsed: Parsed): TlsClientOptions | null {
  const t = config.tls;
  if (!parsed.flags.has("tls") && t === undefined) {
    for (const f of ["cacert", "cert", "key", "sni"]) if (stringFlag(parsed, f) !== undefined) throw new ConfigError(`--${f} needs --tls (or "tls" in the cluster file)`);
    return null;
  }
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(`cannot read the TLS ${what} ${path}: ${(err as Error).message}`);
    }
  };
  const caPath = stringFlag(parsed, "cacert") ?? t?.ca;
  let certPath = stringFlag(parsed, "cert");
  let keyPath = stringFlag(parsed, "key");
  if ((certPath === undefined) !== (keyPath === undefined)) throw new ConfigError("--cert and --key go together");
  if (certPath === undefined && t?.authClients === "yes") {
    // An operator with the cluster file: the nodes' shared certificate, or the first node's own.
    const own = config.nodes.find((n) => n.tls !== undefined)?.tls;
    [certPath, keyPath] = t.cert !== undefined ? [t.cert, t.key] : [own?.cert, own?.key];
  }
  const sni = stringFlag(parsed, "sni");
  return {
    ...(caPath !== undefined && { ca: read(caPath, "CA certificate") }),
    ...(certPath !== undefined && { cert: read(certPath, "certificate"), key: read(keyPath!, "private key") }),
    ...(sni !== undefined && { servername: sni }),
  };
}

function readConfig(command: string, parsed: Parsed): ClusterConfig | null {
  const path = stringFlag(parsed, "config") ?? DEFAULT_CONFIG;
  if (!existsSync(path)) {
    process.stderr.write(
      `raftkv ${command}: cluster file ${path} does not exist.\n` +
        "Start a local cluster with `npm start` (or `raftkv cluster`), which writes it,\n" +
        "or give the cluster's file with --config FILE.\n",
    );
    return null;
  }
  try {
    return loadClusterFile(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`raftkv ${command}: ${err.message}\n`);
    return null;
  }
}
