// The cluster file (SPEC §3): which nodes exist and where each listens.
// Every mistake is refused with a message that names it (exit code 2).

import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import type { NodeId } from "../core/types.js";
import { DEFAULT_MAX_FRAME_BYTES } from "../transport/peers.js";

export interface Address {
  readonly host: string;
  readonly port: number;
}

export interface NodeAddresses {
  readonly id: NodeId;
  /** Where the node listens for other nodes; also the source address of its outgoing peer connections. */
  readonly peer: Address;
  /** The Redis-protocol port. */
  readonly client: Address;
  /** The HTTP port: /status, /metrics, the dashboard. */
  readonly admin: Address;
  /** This node's own certificate and key (absolute paths), instead of the cluster file's tls.cert and tls.key. */
  readonly tls?: { readonly cert: string; readonly key: string };
}

/** Redis's tls-auth-clients: whether clients must show a certificate signed by the CA. */
export type TlsAuthClients = "no" | "optional" | "yes";

/** TLS on the client and peer ports (SPEC §11, docs/SECURITY.md); paths are absolute once loaded. */
export interface TlsConfig {
  /** The node's certificate (PEM) and its private key; a node's own "tls" in "nodes" replaces them for that node (absent when every node has its own). */
  readonly cert?: string;
  readonly key?: string;
  /** The CA (PEM) that signed every node's certificate (and, with authClients, the clients'). */
  readonly ca: string;
  /** Client certificates on the client port: "no" (default), "optional" (checked if shown), "yes" (required). */
  readonly authClients: TlsAuthClients;
  /** A client whose TLS handshake has not finished after this long is disconnected (default 10000). */
  readonly handshakeTimeoutMs?: number;
}

export interface ClusterConfig {
  readonly nodes: readonly NodeAddresses[];
  readonly electionTimeoutMs: readonly [number, number];
  readonly heartbeatMs: number;
  /** Take a snapshot every this many applied entries (optional; default 10,000). */
  readonly snapshotEvery?: number;
  /** Snapshot bytes per InstallSnapshot chunk (optional; default 1 MiB). */
  readonly snapshotChunkBytes?: number;
  /** Bytes of records per WAL segment before a new one starts (optional; default 64 MiB). */
  readonly walSegmentBytes?: number;
  // Security (SPEC §11, docs/SECURITY.md). File paths are absolute once loaded (relative ones are taken from the cluster file's directory).
  /** A file holding the cluster secret that peers prove to each other. */
  readonly secretFile?: string;
  /** The password clients give with AUTH (Redis requirepass); or a file holding it. */
  readonly requirepass?: string;
  readonly requirepassFile?: string;
  /** A file holding the bearer token that state-changing admin requests need. */
  readonly adminTokenFile?: string;
  /** Client connections a node takes at once (Redis maxclients; default 10000). */
  readonly maxclients?: number;
  /** TLS on the client and peer ports. */
  readonly tls?: TlsConfig;
  // Client-port limits like Redis's (docs/SECURITY.md); bytes.
  /** Unsent replies past which a client is no longer read (Redis client-output-buffer-limit soft); default 16 MiB. */
  readonly clientOutputBufferSoftBytes?: number;
  /** Unsent replies at which a client is closed (hard limit); default 256 MiB. */
  readonly clientOutputBufferHardBytes?: number;
  /** Unparsed input of all clients together; past it the client holding the most is closed; default 256 MiB. */
  readonly clientInputTotalBytes?: number;
  /** Largest bulk string in a request (Redis proto-max-bulk-len); default 16 MiB. Values above 8 MiB are refused anyway. */
  readonly protoMaxBulkLen?: number;
  /** Largest request (the sum of its arguments); default 16 MiB (bigger writes cost the leader on a loaded machine: docs/PERFORMANCE.md). */
  readonly maxCommandBytes?: number;
}

/** The client-port limits' defaults (docs/SECURITY.md). */
export const DEFAULT_CLIENT_LIMITS = {
  clientOutputBufferSoftBytes: 16 * 1024 * 1024,
  clientOutputBufferHardBytes: 256 * 1024 * 1024,
  clientInputTotalBytes: 256 * 1024 * 1024,
  protoMaxBulkLen: 16 * 1024 * 1024,
  // Measured (docs/PERFORMANCE.md, "Leadership under load"): writes of 16 MiB keep the leader, of 32 MiB and more they
  // stall the nodes past an election timeout. Redis's client-query-buffer-limit is 1 GiB; raftkv replicates every write.
  maxCommandBytes: 16 * 1024 * 1024,
} as const;

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

// Chosen from measurements (docs/PERFORMANCE.md, "Leadership under load"): 150–300 / 50 lost the leader to every
// 16 MiB write next to two busy processes; 400–800 / 80 kept it, and a kill -9 of the leader is still
// followed by a new leader within a second (median 0.6 s, p99 0.8 s over 20 kills).
export const DEFAULT_ELECTION_TIMEOUT_MS: readonly [number, number] = [400, 800];
export const DEFAULT_HEARTBEAT_MS = 80;
/** Half the peer transport's frame limit (64 MiB), leaving room for the message around the chunk. */
export const MAX_SNAPSHOT_CHUNK_BYTES = 32 * 1024 * 1024;

export function formatAddress(a: Address): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export function parseAddress(text: unknown, what: string): Address {
  if (typeof text !== "string") throw new ConfigError(`${what} must be a "host:port" string`);
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  if (!m) throw new ConfigError(`${what} "${text}" is not of the form host:port`);
  const port = Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError(`${what} "${text}" has port ${m[3]}, which is not between 1 and 65535`);
  return { host: (m[1] ?? m[2])!, port };
}

/** Reads and checks a cluster file. */
export function loadClusterFile(path: string): ClusterConfig {
  const baseDir = dirname(resolve(path));
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(code === "ENOENT" ? `cluster file ${path} does not exist` : `cannot read cluster file ${path}: ${(err as Error).message}`);
  }
  try {
    return parseClusterConfig(text, baseDir);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${path}: ${err.message}`);
    throw err;
  }
}

/** `baseDir`: where relative file paths in it start (the cluster file's directory). */
export function parseClusterConfig(text: string, baseDir = "."): ClusterConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ConfigError("must be a JSON object with a \"nodes\" list");
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!(KNOWN_FIELDS as readonly string[]).includes(k)) throw new ConfigError(`unknown field "${k}"`);
  if (!Array.isArray(o.nodes) || o.nodes.length === 0) throw new ConfigError("\"nodes\" must be a non-empty list");

  const nodes = o.nodes.map((n: unknown, i: number): NodeAddresses => {
    const where = `nodes[${i}]`;
    if (typeof n !== "object" || n === null) throw new ConfigError(`${where} must be an object with id, peer, client and admin`);
    const r = n as Record<string, unknown>;
    for (const k of Object.keys(r)) if (!["id", "peer", "client", "admin", "tls"].includes(k)) throw new ConfigError(`${where} has an unknown field "${k}"`);
    if (typeof r.id !== "number" || !Number.isInteger(r.id) || r.id < 1 || r.id > 0xffffffff) throw new ConfigError(`${where}.id must be a positive integer`);
    return {
      id: r.id,
      peer: parseAddress(r.peer, `${where}.peer`),
      client: parseAddress(r.client, `${where}.client`),
      admin: parseAddress(r.admin, `${where}.admin`),
      ...(r.tls !== undefined && { tls: parseTlsPaths(r.tls, `${where}.tls`, ["cert", "key"], baseDir) as { cert: string; key: string } }),
    };
  });

  const ids = new Set<number>();
  const addresses = new Map<string, string>();
  nodes.forEach((n, i) => {
    if (ids.has(n.id)) throw new ConfigError(`node id ${n.id} appears twice`);
    ids.add(n.id);
    for (const kind of ["peer", "client", "admin"] as const) {
      const a = formatAddress(n[kind]);
      const other = addresses.get(a);
      if (other) throw new ConfigError(`address ${a} is used twice (${other} and nodes[${i}].${kind})`);
      addresses.set(a, `nodes[${i}].${kind}`);
    }
  });

  const election = o.electionTimeoutMs ?? DEFAULT_ELECTION_TIMEOUT_MS;
  if (!Array.isArray(election) || election.length !== 2 || !election.every((x) => typeof x === "number" && Number.isFinite(x) && x > 0))
    throw new ConfigError("\"electionTimeoutMs\" must be [min, max] in milliseconds");
  const [lo, hi] = election as [number, number];
  if (!(lo < hi)) throw new ConfigError(`"electionTimeoutMs" [${lo}, ${hi}]: min must be below max`);
  const heartbeat = o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  if (typeof heartbeat !== "number" || !(heartbeat > 0)) throw new ConfigError("\"heartbeatMs\" must be a positive number of milliseconds");
  if (!(heartbeat < lo)) throw new ConfigError(`"heartbeatMs" (${heartbeat}) must be below the minimum election timeout (${lo})`);
  const config: ClusterConfig = { nodes, electionTimeoutMs: [lo, hi], heartbeatMs: heartbeat };
  for (const k of ["snapshotEvery", "snapshotChunkBytes", "walSegmentBytes"] as const) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) throw new ConfigError(`"${k}" must be a positive whole number, got ${JSON.stringify(v)}`);
    if (k === "snapshotChunkBytes" && v > MAX_SNAPSHOT_CHUNK_BYTES) throw new ConfigError(`"snapshotChunkBytes" must be at most ${MAX_SNAPSHOT_CHUNK_BYTES} (a chunk travels in one peer frame)`);
    Object.assign(config, { [k]: v });
  }
  for (const k of ["secretFile", "requirepassFile", "adminTokenFile"] as const) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== "string" || v === "") throw new ConfigError(`"${k}" must be the path of a file`);
    Object.assign(config, { [k]: isAbsolute(v) ? v : resolve(baseDir, v) });
  }
  if (o.requirepass !== undefined) {
    if (typeof o.requirepass !== "string" || o.requirepass === "") throw new ConfigError(`"requirepass" must be a non-empty string`);
    if (o.requirepassFile !== undefined) throw new ConfigError(`give "requirepass" or "requirepassFile", not both`);
    Object.assign(config, { requirepass: o.requirepass });
  }
  if (o.maxclients !== undefined) {
    const v = o.maxclients;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) throw new ConfigError(`"maxclients" must be a positive whole number, got ${JSON.stringify(v)}`);
    Object.assign(config, { maxclients: v });
  }
  for (const k of Object.keys(DEFAULT_CLIENT_LIMITS) as (keyof typeof DEFAULT_CLIENT_LIMITS)[]) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) throw new ConfigError(`"${k}" must be a positive whole number of bytes, got ${JSON.stringify(v)}`);
    Object.assign(config, { [k]: v });
  }
  const limit = (k: keyof typeof DEFAULT_CLIENT_LIMITS): number => config[k] ?? DEFAULT_CLIENT_LIMITS[k];
  if (limit("clientOutputBufferHardBytes") < limit("clientOutputBufferSoftBytes")) {
    throw new ConfigError(`"clientOutputBufferHardBytes" (${limit("clientOutputBufferHardBytes")}) must not be below "clientOutputBufferSoftBytes" (${limit("clientOutputBufferSoftBytes")})`);
  }
  if (limit("maxCommandBytes") > DEFAULT_MAX_FRAME_BYTES) {
    throw new ConfigError(`"maxCommandBytes" (${limit("maxCommandBytes")}) must be at most ${DEFAULT_MAX_FRAME_BYTES} (64 MiB): a write reaches the other nodes in one peer frame of at most that size`);
  }
  if (limit("maxCommandBytes") < limit("protoMaxBulkLen")) {
    throw new ConfigError(`"maxCommandBytes" (${limit("maxCommandBytes")}) must not be below "protoMaxBulkLen" (${limit("protoMaxBulkLen")})`);
  }
  if (limit("clientInputTotalBytes") < limit("maxCommandBytes")) {
    throw new ConfigError(`"clientInputTotalBytes" (${limit("clientInputTotalBytes")}) must not be below "maxCommandBytes" (${limit("maxCommandBytes")}): one client's request must fit`);
  }
  if (o.tls !== undefined) {
    // cert and key may be left out when every node names its own.
    const raw = (typeof o.tls === "object" && o.tls !== null ? o.tls : {}) as Record<string, unknown>;
    const shared = raw.cert !== undefined || raw.key !== undefined || nodes.some((n) => n.tls === undefined);
    const t = parseTlsPaths(o.tls, `"tls"`, shared ? ["cert", "key", "ca"] : ["ca"], baseDir, ["authClients", "handshakeTimeoutMs", "cert", "key"]);
    const auth = raw.authClients ?? "no";
    if (auth !== "no" && auth !== "optional" && auth !== "yes") throw new ConfigError(`"tls".authClients must be "no", "optional" or "yes", got ${JSON.stringify(auth)}`);
    const hs = raw.handshakeTimeoutMs;
    if (hs !== undefined && (typeof hs !== "number" || !Number.isSafeInteger(hs) || hs < 1)) throw new ConfigError(`"tls".handshakeTimeoutMs must be a positive whole number of milliseconds, got ${JSON.stringify(hs)}`);
    Object.assign(config, { tls: { ...t, authClients: auth, ...(hs !== undefined && { handshakeTimeoutMs: hs }) } });
  } else {
    const i = nodes.findIndex((n) => n.tls !== undefined);
    if (i >= 0) throw new ConfigError(`nodes[${i}].tls gives a certificate, but there is no top-level "tls" (with the "ca")`);
  }
  return config;
}

/** An object of file paths (each field required), made absolute. */
function parseTlsPaths(v: unknown, where: string, fields: readonly string[], baseDir: string, others: readonly string[] = []): Record<string, string> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ConfigError(`${where} must be an object with ${fields.map((f) => `"${f}"`).join(", ")} (file paths)`);
  const r = v as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!fields.includes(k) && !others.includes(k)) throw new ConfigError(`${where} has an unknown field "${k}"`);
  const out: Record<string, string> = {};
  for (const f of fields) {
    const p = r[f];
    if (typeof p !== "string" || p === "") throw new ConfigError(`${where}.${f} must be the path of a PEM file`);
    out[f] = isAbsolute(p) ? p : resolve(baseDir, p);
  }
  return out;
}

const KNOWN_FIELDS = [
  "nodes", "electionTimeoutMs", "heartbeatMs", "snapshotEvery", "snapshotChunkBytes", "walSegmentBytes",
  "secretFile", "requirepass", "requirepassFile", "adminTokenFile", "maxclients", "tls",
  "clientOutputBufferSoftBytes", "clientOutputBufferHardBytes", "clientInputTotalBytes", "protoMaxBulkLen", "maxCommandBytes",
] as const;

/**
 * The contents of a secret file (cluster secret, password, admin token),
 * without the line end an editor adds. Refused (ConfigError) if missing,
 * empty, or shorter than `minBytes`.
 */
export function readSecretFile(path: string, what: string, minBytes = 1): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new ConfigError(`cannot read ${what} file ${path}: ${(err as Error).message}`);
  }
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
  const secret = bytes.subarray(0, end);
  if (secret.length < minBytes) throw new ConfigError(`${what} file ${path} must hold at least ${minBytes} bytes (it holds ${secret.length})`);
  return secret;
}

/** The client password the cluster file sets (requirepass or requirepassFile), or null. */
export function clientPassword(config: ClusterConfig): string | null {
  if (config.requirepass !== undefined) return config.requirepass;
  if (config.requirepassFile !== undefined) return readSecretFile(config.requirepassFile, "requirepass").toString("utf8");
  return null;
}

/** The node with this id, or a ConfigError naming the ids there are. */
export function nodeById(config: ClusterConfig, id: NodeId): NodeAddresses {
  const n = config.nodes.find((x) => x.id === id);
  if (!n) throw new ConfigError(`node id ${id} is not in the cluster file (ids: ${config.nodes.map((x) => x.id).join(", ")})`);
  return n;
}

/** The cluster file `raftkv cluster` writes: client 6381+, peer 7001+, admin 8081+ for the default base port 6381. */
export function localClusterConfig(count: number, basePort = 6381, host = "127.0.0.1"): ClusterConfig {
  const nodes: NodeAddresses[] = [];
  for (let i = 0; i < count; i++) {
    nodes.push({ id: i + 1, peer: { host, port: basePort + 620 + i }, client: { host, port: basePort + i }, admin: { host, port: basePort + 1700 + i } });
  }
  return { nodes, electionTimeoutMs: DEFAULT_ELECTION_TIMEOUT_MS, heartbeatMs: DEFAULT_HEARTBEAT_MS };
}

/** The file's JSON form, as in SPEC §3. */
export function clusterConfigToJson(c: ClusterConfig): string {
  const nodes = c.nodes.map((n) => ({ id: n.id, peer: formatAddress(n.peer), client: formatAddress(n.client), admin: formatAddress(n.admin), ...(n.tls && { tls: n.tls }) }));
  const optional = Object.fromEntries(KNOWN_FIELDS.filter((k) => !(["nodes", "electionTimeoutMs", "heartbeatMs"] as string[]).includes(k) && c[k as keyof ClusterConfig] !== undefined).map((k) => [k, c[k as keyof ClusterConfig]]));
  return JSON.stringify({ nodes, electionTimeoutMs: c.electionTimeoutMs, heartbeatMs: c.heartbeatMs, ...optional }, null, 2) + "\n";
}
