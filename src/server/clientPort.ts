// The client port: the Redis protocol (RESP2) over TCP (SPEC §4). Each
// connection parses commands as they arrive (any fragmentation, any
// pipelining), plans each one, and answers strictly in order: a reply that
// is ready early waits for the ones before it.

import { readFileSync } from "node:fs";
import net, { type Server, type Socket } from "node:net";
import tls, { type TLSSocket } from "node:tls";
import { timingSafeEqual, createHash } from "node:crypto";
import type { Plan } from "../kv/plan.js";
import { CommandPlanner } from "../kv/planner.js";
import { ClientConnection } from "../kv/transaction.js";
import { type ParserLimits, ProtocolError, RespParser } from "../resp/parser.js";
import { encodedLength, encodeReplies, errorReply, OK, type Reply } from "../resp/writer.js";
import type { Logger } from "../util/log.js";
import type { Address } from "./config.js";
import type { NodeTls } from "./tls.js";

export interface ClientPortOptions {
  readonly listen: Address;
  readonly logger: Logger;
  /** Runs a command that needs the cluster (a write, or a linearizable read). */
  readonly execute: (plan: Exclude<Plan, { kind: "reply" }>) => Promise<Reply>;
  readonly maxKeyBytes?: number;
  readonly maxValueBytes?: number;
  /** Redis requirepass: clients must AUTH with it first. Null or absent: no password. */
  readonly password?: string | null;
  /**
   * The admin user's password (the cluster file's admin token): AUTH admin
   * <it> may also run FLUSHALL/FLUSHDB, which the default user may not when
   * a password is set (docs/SECURITY.md). Null or absent: no admin user.
   */
  readonly adminPassword?: Buffer | string | null;
  /** Client connections at once (Redis maxclients); lowered to fit the process's file descriptor limit. Default 10000. */
  readonly maxClients?: number;
  /** The largest command (as a log entry) that can be replicated: bigger ones are refused before the log. Default: none. */
  readonly maxEntryBytes?: number;
  /** Unsent reply bytes above which a client's further commands wait (and its socket is not read). Default 16 MiB. */
  readonly outputSoftBytes?: number;
  /** Unsent reply bytes at which a client is disconnected. Default 256 MiB. */
  readonly outputHardBytes?: number;
  /** Received, unparsed bytes of all clients together; above it the client holding the most is disconnected. Default 256 MiB. */
  readonly maxInputBytes?: number;
  /** Request size limits (Redis proto-max-bulk-len; the largest request). Default: the parser's. */
  readonly parserLimits?: Partial<ParserLimits>;
  /** TLS on this port (the cluster file's "tls"); null or absent: plain TCP. */
  readonly tls?: NodeTls | null;
}

interface Pending {
  reply: Reply | null;
  close: boolean;
}

/** File descriptors kept free of client connections: WAL segments, snapshots, peers, admin requests (docs/SECURITY.md). */
export const RESERVED_FDS = 256;
/** With TLS, connections still in their handshake beyond maxclients (they come out of RESERVED_FDS), so that a client at the limit still hears Redis's error. */
export const TLS_HANDSHAKE_SLACK = 32;
const ADMIN_AND_PEER_NOTE = "the admin port takes at most 64 connections and the peer port 64 handshakes plus one connection per peer";

/** Counters for /metrics. */
export interface ClientLimitStats {
  rejectedMaxClients: number;
  closedOutputLimit: number;
  pausedOutputLimit: number;
  closedInputLimit: number;
  refusedTooLarge: number;
  authFailures: number;
  /** TLS handshakes that failed or timed out (a plaintext client, an untrusted certificate, a handshake never finished). */
  tlsHandshakeFailures: number;
}

const UNAUTHENTICATED_INPUT_BYTES = 64 * 1024;
const NOAUTH = errorReply("NOAUTH Authentication required.");
/** Commands only the admin user may run when a password is set. */
const ADMIN_ONLY = new Set(["flushall", "flushdb"]);
/** Redis 7's ACL refusal, for the default user. */
function noPermission(name: string): Reply {
  return errorReply(`NOPERM User default has no permissions to run the '${name}' command`);
}
const WRONGPASS = errorReply("WRONGPASS invalid username-password pair or user is disabled.");
const MAX_CLIENTS = "-ERR max number of clients reached\r\n";

export class ClientPort {
  private readonly server: Server;
  private readonly planner: CommandPlanner;
  private readonly sockets = new Set<Socket>();
  /** Unparsed input bytes per connection, and their sum. */
  private readonly inputBytes = new Map<Socket, number>();
  private totalInputBytes = 0;
  private readonly password: Buffer | null;
  private readonly adminPassword: Buffer | null;
  private readonly maxClients: number;
  private readonly softBytes: number;
  private readonly hardBytes: number;
  connections = 0;
  readonly limitStats: ClientLimitStats = { rejectedMaxClients: 0, closedOutputLimit: 0, pausedOutputLimit: 0, closedInputLimit: 0, refusedTooLarge: 0, authFailures: 0, tlsHandshakeFailures: 0 };
  /** TCP connections open, TLS handshakes included (only counted with TLS). */
  private tcpConnections = 0;

  constructor(private readonly o: ClientPortOptions) {
    this.planner = new CommandPlanner({
      ...(o.maxKeyBytes !== undefined ? { maxKeyBytes: o.maxKeyBytes } : {}),
      ...(o.maxValueBytes !== undefined ? { maxValueBytes: o.maxValueBytes } : {}),
    });
    this.password = o.password ? digest(Buffer.from(o.password)) : null;
    this.adminPassword = o.adminPassword ? digest(Buffer.from(o.adminPassword)) : null;
    this.softBytes = o.outputSoftBytes ?? 16 * 1024 * 1024;
    this.hardBytes = o.outputHardBytes ?? 256 * 1024 * 1024;
    const wanted = o.maxClients ?? 10_000;
    const fdLimit = openFilesLimit();
    this.maxClients = fdLimit === null ? wanted : Math.max(1, Math.min(wanted, fdLimit - RESERVED_FDS));
    if (this.maxClients < wanted) {
      // As Redis does: say so once, and keep the descriptors the node itself needs.
      o.logger.warn("maxclients_lowered", { maxclients: this.maxClients, wanted, openFilesLimit: fdLimit, reserved: RESERVED_FDS, note: ADMIN_AND_PEER_NOTE });
    }
    this.server = o.tls ? this.tlsServer(o.tls) : net.createServer((socket) => this.connection(socket));
  }

  /** Like Redis's tls-port with tls-auth-clients: the handshake first, then the same connection as over TCP. */
  private tlsServer(t: NodeTls): Server {
    const server = tls.createServer(
      {
        cert: t.cert,
        key: t.key,
        ca: t.ca,
        requestCert: t.authClients !== "no",
        rejectUnauthorized: t.authClients === "yes",
        handshakeTimeout: t.handshakeTimeoutMs,
      },
      (socket) => {
        // "optional": a client may show no certificate, but one it shows must be signed by the CA.
        if (t.authClients === "optional" && !socket.authorized && Object.keys(socket.getPeerCertificate()).length > 0) {
          this.limitStats.tlsHandshakeFailures++;
          this.o.logger.debug("client_tls_refused", { remote: `${socket.remoteAddress}:${socket.remotePort}`, error: String(socket.authorizationError) });
          socket.destroy();
          return;
        }
        this.connection(socket);
      },
    );
    // Counted from the TCP accept, handshakes included: connections that never finish theirs hold no more than the slack above maxclients, and only until the timeout.
    server.prependListener("connection", (raw: Socket) => {
      if (this.tcpConnections >= this.maxClients + TLS_HANDSHAKE_SLACK) {
        this.limitStats.rejectedMaxClients++;
        raw.destroy();
        return;
      }
      this.tcpConnections++;
      raw.once("close", () => this.tcpConnections--);
    });
    server.on("tlsClientError", (err: Error, socket: TLSSocket) => {
      this.limitStats.tlsHandshakeFailures++;
      this.o.logger.debug("client_tls_handshake_failed", { remote: `${socket.remoteAddress}:${socket.remotePort}`, error: err.message });
      // With a listener for this event, Node leaves the socket open (a handshake timeout included): close it here.
      socket.destroy();
    });
    return server;
  }

  /** The maxclients in force (after fitting the file descriptor limit). */
  get maxClientsInForce(): number {
    return this.maxClients;
  }

  /**
   * AUTH [username] password (Redis 6): the user is "default" (the
   * password), or "admin" (the admin token; the only user that may run
   * FLUSHALL/FLUSHDB when a password is set).
   */
  private auth(args: readonly Buffer[]): { reply: Reply; ok: boolean; admin: boolean } {
    if (args.length < 2) return { reply: errorReply("ERR wrong number of arguments for 'auth' command"), ok: false, admin: false };
    // As Redis 7's authCommand: more than a user and a password is a syntax error.
    if (args.length > 3) return { reply: errorReply("ERR syntax error"), ok: false, admin: false };
    if (this.password === null && args.length === 2) {
      return { reply: errorReply("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"), ok: false, admin: false };
    }
    const user = args.length === 3 ? args[1]!.toString("latin1") : "default";
    const given = digest(args[args.length - 1]!);
    // No password: Redis's default user is "nopass", so any password is its password.
    if (user === "default" && (this.password === null || timingSafeEqual(given, this.password))) return { reply: OK, ok: true, admin: false };
    if (user === "admin" && this.adminPassword !== null && timingSafeEqual(given, this.adminPassword)) return { reply: OK, ok: true, admin: true };
    this.limitStats.authFailures++;
    return { reply: WRONGPASS, ok: false, admin: false };
  }

  private setInput(socket: Socket, bytes: number): void {
    this.totalInputBytes += bytes - (this.inputBytes.get(socket) ?? 0);
    this.inputBytes.set(socket, bytes);
    if (this.totalInputBytes <= (this.o.maxInputBytes ?? 256 * 1024 * 1024)) return;
    // Like Redis's maxmemory-clients: the client holding the most goes first.
    let biggest: Socket | null = null;
    let most = -1;
    for (const [s, b] of this.inputBytes) if (b > most) [biggest, most] = [s, b];
    if (biggest === null) return;
    this.limitStats.closedInputLimit++;
    this.o.logger.warn("client_input_limit", { remote: `${biggest.remoteAddress}:${biggest.remotePort}`, bufferedBytes: most, totalBytes: this.totalInputBytes });
    this.dropInput(biggest);
    biggest.destroy();
  }

  private dropInput(socket: Socket): void {
    this.totalInputBytes -= this.inputBytes.get(socket) ?? 0;
    this.inputBytes.delete(socket);
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.o.listen.port, this.o.listen.host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  /** Stops accepting; open connections are closed. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private connection(socket: Socket): void {
    socket.on("error", () => {});
    if (this.connections >= this.maxClients) {
      this.limitStats.rejectedMaxClients++;
      socket.end(MAX_CLIENTS);
      socket.destroySoon();
      return;
    }
    this.sockets.add(socket);
    this.connections++;
    socket.setNoDelay(true);
    const parser = new RespParser(this.o.parserLimits);
    // With a password, only the admin user may wipe the keyspace (docs/SECURITY.md).
    let admin = false;
    const client = new ClientConnection(this.planner, (name) => (this.password === null || admin || !ADMIN_ONLY.has(name) ? null : noPermission(name)));
    const queue: Pending[] = [];
    let closing = false;
    let authenticated = this.password === null;
    /** Bytes of replies that are ready but not yet handed to the socket. */
    let readyBytes = 0;
    /** Waiting for the socket to drain before parsing, starting and writing more. */
    let throttled = false;
    let writesIssued = 0;
    let writesDone = 0;
    const backlog = () => socket.writableLength + readyBytes;
    const pushReply = (reply: Reply, close: boolean) => {
      readyBytes += encodedLength(reply);
      queue.push({ reply, close });
    };
    // Redis runs one connection's commands one after another. Writes go into
    // the log in order and reads are ordered among themselves, so a run of
    // writes (or of reads) may be in flight together; but a read must not
    // start before the writes sent ahead of it are applied, nor a write
    // before the reads ahead of it are answered.
    let inFlight = 0;
    let inFlightKind: Exclude<Plan, { kind: "reply" }>["kind"] = "write";
    const held: { plan: Exclude<Plan, { kind: "reply" }>; pending: Pending }[] = [];

    const flush = () => {
      if (socket.destroyed) return;
      // Past the soft limit nothing more is encoded until the client reads: a reply that is ready
      // but not encoded costs little (it points at the stored value); encoded bytes are the real cost.
      if (socket.writableLength >= this.softBytes) return throttle();
      const out: Reply[] = [];
      let outBytes = 0;
      let close = false;
      while (queue.length > 0 && queue[0]!.reply !== null) {
        const n = encodedLength(queue[0]!.reply!);
        if (out.length > 0 && socket.writableLength + outBytes + n > this.softBytes) break;
        if (socket.writableLength + outBytes + n > this.hardBytes) {
          // Redis's client-output-buffer-limit hard limit: the client goes, the node stays well.
          this.limitStats.closedOutputLimit++;
          this.o.logger.warn("client_output_limit", { remote: `${socket.remoteAddress}:${socket.remotePort}`, unsentBytes: socket.writableLength + outBytes + n, hardLimit: this.hardBytes });
          socket.destroy();
          return;
        }
        const p = queue.shift()!;
        readyBytes -= n;
        outBytes += n;
        out.push(p.reply!);
        if (p.close) {
          close = true;
          break;
        }
      }
      if (out.length > 0 && !socket.destroyed) {
        writesIssued++;
        socket.write(encodeReplies(out), () => {
          writesDone++;
          if (throttled && writesDone === writesIssued) unthrottle();
        });
      }
      if (close) {
        queue.length = 0;
        held.length = 0;
        socket.end();
        return;
      }
      // Replies left behind go out once the client has read; input left unparsed while they waited is parsed now.
      if (queue.length > 0 && queue[0]!.reply !== null && socket.writableLength > 0) throttle();
      else if (out.length > 0 && !throttled && !closing && parser.bufferedBytes > 0) setImmediate(readCommands);
    };

    const start = (plan: Exclude<Plan, { kind: "reply" }>, p: Pending) => {
      inFlight++;
      inFlightKind = plan.kind;
      this.o.execute(plan).then(
        (reply) => done(p, reply),
        (err: unknown) => {
          this.o.logger.error("command_failed", { error: err });
          done(p, errorReply("ERR internal error"));
        },
      );
    };

    // Replies that resolve together (a pipelined batch answered by one Ready) leave in one write: the
    // flush waits until the promise callbacks queued with this one have run.
    let flushQueued = false;
    const flushSoon = () => {
      if (flushQueued) return;
      flushQueued = true;
      queueMicrotask(() => {
        flushQueued = false;
        flush();
      });
    };

    // Waits for everything written to reach the kernel (the last write's callback), then carries on.
    const throttle = () => {
      if (throttled || socket.destroyed) return;
      if (writesDone === writesIssued) return void setImmediate(flush);
      throttled = true;
      this.limitStats.pausedOutputLimit++;
      socket.pause();
    };
    const unthrottle = () => {
      throttled = false;
      if (socket.destroyed) return;
      socket.resume();
      flush();
      readCommands();
    };

    const done = (p: Pending, reply: Reply) => {
      p.reply = reply;
      readyBytes += encodedLength(reply);
      inFlight--;
      while (held.length > 0 && (inFlight === 0 || held[0]!.plan.kind === inFlightKind)) {
        const h = held.shift()!;
        start(h.plan, h.pending);
      }
      flushSoon();
    };

    /** Parses and starts the commands received, until the input runs out or the client's unread replies pass the soft limit. */
    const readCommands = () => {
      if (socket.destroyed) return;
      while (!closing && !throttled) {
        if (backlog() >= this.softBytes) {
          // Stop reading from a client that does not read its replies (Redis: client-output-buffer-limit).
          if (socket.writableLength > 0) throttle();
          break;
        }
        let args: Buffer[] | null;
        try {
          args = parser.next();
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          pushReply(err.reply, true);
          closing = true;
          break;
        }
        if (args === null) break;
        if (args.length === 0) continue;
        if (!authenticated) {
          const name = args[0]!.length <= 8 ? args[0]!.toString("latin1").toLowerCase() : "";
          if (name === "auth") {
            const r = this.auth(args);
            authenticated = r.ok;
            admin = r.admin;
            pushReply(r.reply, false);
            continue;
          }
          if (name !== "quit") {
            pushReply(NOAUTH, false);
            continue;
          }
        } else if (args[0]!.length === 4 && args[0]!.toString("latin1").toLowerCase() === "auth") {
          const r = this.auth(args);
          // As in Redis, a failed AUTH leaves an authenticated connection authenticated (as the user it was).
          if (r.ok) admin = r.admin;
          pushReply(r.reply, false);
          continue;
        }
        let plan = client.plan(args);
        if (plan.kind === "write" && this.o.maxEntryBytes !== undefined && plan.command.length > this.o.maxEntryBytes) {
          // It could never reach the other nodes (one peer frame carries it): refused here, never an election.
          this.limitStats.refusedTooLarge++;
          plan = { kind: "reply", close: false, reply: errorReply(`ERR command too large to replicate: ${plan.command.length} bytes, the limit is ${this.o.maxEntryBytes}`) };
        }
        if (plan.kind === "reply") {
          pushReply(plan.reply, plan.close);
          // Redis reads nothing after QUIT.
          if (plan.close) {
            closing = true;
            break;
          }
          continue;
        }
        const p: Pending = { reply: null, close: false };
        queue.push(p);
        if (held.length === 0 && (inFlight === 0 || plan.kind === inFlightKind)) start(plan, p);
        else held.push({ plan, pending: p });
      }
      this.setInput(socket, closing ? 0 : parser.bufferedBytes);
      flush();
    };

    socket.on("data", (chunk: Buffer) => {
      if (closing) return;
      parser.push(chunk);
      if (!authenticated && parser.bufferedBytes > UNAUTHENTICATED_INPUT_BYTES) {
        // A client that has not said the password gets no room for big requests (as Redis since 6.2).
        this.limitStats.closedInputLimit++;
        socket.destroy();
        return;
      }
      this.setInput(socket, parser.bufferedBytes);
      if (socket.destroyed) return;
      readCommands();
    });
    socket.on("close", () => {
      this.sockets.delete(socket);
      this.dropInput(socket);
      this.connections--;
    });
  }
}

function digest(b: Buffer): Buffer {
  return createHash("sha256").update(b).digest();
}

/** The soft limit on open files (Linux: /proc/self/limits), or null where it cannot be read. */
export function openFilesLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return m === null || m[1] === "unlimited" ? null : Number(m[1]);
  } catch {
    return null;
  }
}
