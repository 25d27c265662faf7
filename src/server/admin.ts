// The admin port (SPEC §5), on node:http with no framework:
//   GET /status   this node's Raft state as JSON
//   GET /metrics  Prometheus text format
//   GET /         the live dashboard
//   POST /transfer-leadership[?to=ID]  the leader hands its leadership to ID
//                 (or to its most up-to-date follower); answers when done
//   GET /members, POST /members, POST /members/ID/promote, DELETE /members/ID
//                 membership (SPEC §10, src/server/membership.ts)

import { createHash, timingSafeEqual } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { ClientLimitStats } from "./clientPort.js";
import type { Logger } from "../util/log.js";
import type { Address } from "./config.js";
import { MetricsText } from "./metrics.js";
import type { RaftServer } from "./server.js";
import { dashboardHtml } from "./dashboard.js";

/** What the admin port reads of a node: the same for any state machine it runs. */
export type AdminView = Pick<RaftServer, "id" | "role" | "term" | "leaderId" | "memberIds" | "metrics" | "status" | "raftGauges" | "transportStats" | "handOffLeadership" | "members" | "changeMembers">;

/** The largest request body the admin port reads (a membership change is a few hundred bytes). */
const MAX_BODY_BYTES = 16 * 1024;

const ROLES = ["follower", "precandidate", "candidate", "leader"] as const;

export class AdminPort {
  private readonly server: http.Server;

  constructor(
    private readonly node: AdminView,
    private readonly listen: Address,
    private readonly logger: Logger,
    private readonly clientConnections: () => number,
    private readonly extra: {
      /** Counters of the client port's limits, for /metrics. */
      readonly clientLimits?: () => ClientLimitStats;
      /** The bearer token state-changing requests need (adminTokenFile); null: none configured. */
      readonly token?: Buffer | null;
    } = {},
  ) {
    this.server = http.createServer((req, res) => this.handle(req, res));
    // Its share of the file descriptors the node keeps from client load (clientPort.ts RESERVED_FDS).
    this.server.maxConnections = 64;
    this.tokenDigest = extra.token ? sha256(extra.token) : null;
  }

  private readonly tokenDigest: Buffer | null;

  /**
   * May this request change state? With a token configured it must carry
   * `Authorization: Bearer TOKEN` (else 401); with or without one, a request
   * a browser sent from another origin is refused (403): a web page must not
   * be able to move leadership (CSRF). Answers the refusal itself.
   */
  private mayChangeState(req: IncomingMessage, res: ServerResponse): boolean {
    const json = (code: number, body: object, headers: Record<string, string> = {}) => {
      res.writeHead(code, { "content-type": "application/json", "cache-control": "no-store", ...headers });
      res.end(JSON.stringify(body) + "\n");
    };
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host ?? ""}`) {
      json(403, { error: "state-changing requests from a web page of another origin are refused" });
      return false;
    }
    if (this.tokenDigest === null) return true;
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? "");
    if (m === null || !timingSafeEqual(sha256(Buffer.from(m[1]!.trim())), this.tokenDigest)) {
      json(401, { error: "this request needs the admin token: Authorization: Bearer TOKEN (adminTokenFile in the cluster file)" }, { "www-authenticate": 'Bearer realm="raftkv"' });
      return false;
    }
    return true;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.listen.port, this.listen.host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const [path, query] = (req.url ?? "/").split("?") as [string, string | undefined];
    if (path === "/transfer-leadership") return void this.transfer(req, res, new URLSearchParams(query ?? ""));
    if (path === "/members" || path.startsWith("/members/")) return void this.membersRequest(req, res, path, new URLSearchParams(query ?? ""));
    if (req.method !== "GET" && req.method !== "HEAD") return this.send(res, 405, "text/plain", "only GET\n");
    try {
      switch (path) {
        case "/status":
          return this.send(res, 200, "application/json", JSON.stringify(this.node.status()) + "\n");
        case "/metrics":
          return this.send(res, 200, "text/plain; version=0.0.4; charset=utf-8", this.metrics());
        case "/":
        case "/index.html":
          return this.send(res, 200, "text/html; charset=utf-8", dashboardHtml());
        default:
          return this.send(res, 404, "text/plain", `no such page: ${path} (try /, /status or /metrics)\n`);
      }
    } catch (err) {
      this.logger.error("admin_request_failed", { path, error: err });
      this.send(res, 500, "text/plain", "internal error\n");
    }
  }

  /** POST /transfer-leadership[?to=ID]: 200 {leader, term} once another node leads; 409 if this node does not lead; 400 for a bad id; 504 if it did not happen in time. */
  private async transfer(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const json = (code: number, body: object) => this.send(res, code, "application/json", JSON.stringify(body) + "\n");
    if (req.method !== "POST") return json(405, { error: "use POST" });
    if (!this.mayChangeState(req, res)) return;
    const toText = query.get("to");
    const to = toText === null ? null : Number(toText);
    if (to !== null && (!Number.isInteger(to) || to === this.node.id || !this.node.memberIds.includes(to)))
      return json(400, { error: `'to' must be the id of another node of the cluster, got ${JSON.stringify(toText)}` });
    if (this.node.role !== "leader") return json(409, { error: "this node is not the leader", leader: this.node.leaderId });
    try {
      const leader = await this.node.handOffLeadership(2000, to, true);
      if (leader === null) return json(504, { error: "the transfer did not finish within 2000 ms" });
      json(200, { leader, term: this.node.term });
    } catch (err) {
      this.logger.error("admin_request_failed", { path: "/transfer-leadership", error: err });
      json(500, { error: "internal error" });
    }
  }

  /**
   * Membership (SPEC §10): GET /members (any node, what it knows); POST
   * /members, POST /members/ID/promote and DELETE /members/ID[?force=1] on
   * the leader, under the admin token. 421 with the leader's admin address
   * from a node that does not lead.
   */
  private async membersRequest(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    const json = (code: number, body: object) => this.send(res, code, "application/json", JSON.stringify(body) + "\n");
    try {
      if (path === "/members") {
        if (req.method === "GET" || req.method === "HEAD") return json(200, this.node.members());
        if (req.method !== "POST") return json(405, { error: "use GET (list) or POST (add)" });
        if (!this.mayChangeState(req, res)) return;
        const text = await readBody(req, MAX_BODY_BYTES);
        if (text === null) return json(413, { error: `the body must be at most ${MAX_BODY_BYTES} bytes` });
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          return json(400, { error: 'the body must be JSON: {"id":N,"peer":"host:port","client":"host:port","admin":"host:port","learner":false}' });
        }
        const a = await this.node.changeMembers({ kind: "add", body });
        return json(a.status, a.body);
      }
      const m = /^\/members\/(\d+)(\/promote)?$/.exec(path);
      if (m === null) return json(404, { error: `no such page: ${path} (try /members, /members/ID or /members/ID/promote)` });
      const id = Number(m[1]);
      if (!Number.isSafeInteger(id) || id < 1) return json(400, { error: `bad node id ${m[1]}` });
      const force = ["1", "true", "yes"].includes(query.get("force") ?? "");
      const kind = m[2] !== undefined ? "promote" : "remove";
      if (kind === "promote" ? req.method !== "POST" : req.method !== "DELETE") return json(405, { error: kind === "promote" ? "use POST" : "use DELETE" });
      if (!this.mayChangeState(req, res)) return;
      const a = await this.node.changeMembers({ kind, id, force });
      json(a.status, a.body);
    } catch (err) {
      this.logger.error("admin_request_failed", { path, error: err });
      json(500, { error: "internal error" });
    }
  }

  /** Reads are open to any origin (the dashboard reads every node's /status); nothing that changes state is. */
  private send(res: ServerResponse, code: number, type: string, body: string, cors = res.req.method === "GET" || res.req.method === "HEAD"): void {
    res.writeHead(code, { "content-type": type, "cache-control": "no-store", ...(cors && { "access-control-allow-origin": "*" }) });
    res.end(body);
  }

  private metrics(): string {
    const m = this.node.metrics;
    const g = this.node.raftGauges();
    const t = this.node.transportStats();
    const types = Object.keys(t.sent) as (keyof typeof t.sent)[];
    return new MetricsText()
      .metric("raftkv_term", "gauge", "Current Raft term.", [[{}, g.term]])
      .metric("raftkv_role", "gauge", "1 for this node's current role, 0 for the others.", ROLES.map((r) => [{ role: r }, r === g.role ? 1 : 0]))
      .metric("raftkv_commit_index", "gauge", "Highest log index known to be committed.", [[{}, g.commitIndex]])
      .metric("raftkv_applied_index", "gauge", "Highest log index applied to the state machine.", [[{}, g.lastApplied]])
      .metric("raftkv_last_log_index", "gauge", "Index of the last entry in this node's log.", [[{}, g.lastLogIndex]])
      .metric("raftkv_proposals_total", "counter", "Client writes proposed to the Raft log by this node as leader.", [[{}, m.proposals.value]])
      .metric("raftkv_elections_total", "counter", "Elections this node started as a candidate.", [[{}, m.elections.value]])
      .metric("raftkv_applied_entries_total", "counter", "Log entries applied to the state machine.", [[{}, m.applied.value]])
      .metric("raftkv_append_entries_sent_total", "counter", "AppendEntries requests sent to peers.", [[{}, t.sent.AppendEntries]])
      .metric("raftkv_append_entries_received_total", "counter", "AppendEntries requests received from peers.", [[{}, t.received.AppendEntries]])
      .metric("raftkv_peer_messages_sent_total", "counter", "Peer messages sent, by type.", types.map((k) => [{ type: k }, t.sent[k]]))
      .metric("raftkv_peer_messages_received_total", "counter", "Peer messages received, by type.", types.map((k) => [{ type: k }, t.received[k]]))
      .metric("raftkv_peer_messages_dropped_total", "counter", "Peer messages dropped (peer unreachable or too slow), by type.", types.map((k) => [{ type: k }, t.dropped[k]]))
      .metric("raftkv_peer_connections_refused_total", "counter", "Incoming peer connections closed before they proved who they are (stranger, wrong host, failed proof, handshake cap).", [[{}, t.refusedConnections]])
      .metric("raftkv_peer_messages_rejected_total", "counter", "Peer messages refused on an authenticated connection (undecodable, or not from the node it authenticated as).", [[{}, t.rejectedMessages]])
      .metric("raftkv_client_limit_events_total", "counter", "Client-port limits applied (docs/SECURITY.md): rejected at maxclients, paused or closed at the output buffer limits, closed at the input cap, commands too large to replicate, failed AUTH.", Object.entries(this.extra.clientLimits?.() ?? {}).map(([k, v]) => [{ limit: k }, v as number]))
      .metric("raftkv_client_connections", "gauge", "Open client (RESP) connections.", [[{}, this.clientConnections()]])
      .histogram("raftkv_fsync_duration_seconds", "Duration of write-ahead log fsyncs.", m.fsyncSeconds)
      .histogram("raftkv_request_duration_seconds", "Client request latency, from arrival to reply (writes and linearizable reads).", m.requestSeconds)
      .toString();
  }
}

/** The request's body as text, or null when it is longer than `max` bytes. */
function readBody(req: IncomingMessage, max: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) over = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(over ? null : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sha256(b: Buffer): Buffer {
  return createHash("sha256").update(b).digest();
}
