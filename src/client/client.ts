// RaftKvClient: talks to a raftkv cluster as if it were one server.
//
// - Leader discovery: start at any node; a follower answers -MOVED with the
//   leader's address, which the client follows and remembers.
// - Retries: "not executed" answers (-MOVED, -CLUSTERDOWN, refused or lost
//   connections) are retried, with jittered exponential backoff while no
//   leader is known, until the operation's overall timeout; then
//   UnavailableError.
// - Exactly-once writes: every write goes out as RAFTKV.SESSION id seq ...
//   under a session registered on first use. When an attempt's outcome is
//   unknown (-TIMEOUT, no reply, connection lost after sending), the retry
//   carries the same seq, and the server answers a write it already applied
//   with the reply it gave the first time instead of applying it again.
// - Reads are sent as they are: re-sending a read is harmless.
// - Transactions (transaction()): WATCH, reads, MULTI, the commands, EXEC on
//   a connection of their own, EXEC under a session (RAFTKV.SESSION id seq
//   EXEC). When EXEC's outcome is unknown, the client asks the leader what
//   became of it (the same words outside MULTI): its reply if it was
//   applied, else -NOTAPPLIED (and it never will be), and then it starts
//   the transaction over. So a transaction applies exactly once.

import { setTimeout as sleep } from "node:timers/promises";
import { performance } from "node:perf_hooks";
import type { Reply } from "../resp/writer.js";
import { silentLogger, type Logger } from "../util/log.js";
import { type NodeAddress, formatHostPort, parseHostPort } from "./address.js";
import { backoffDelay, DEFAULT_BACKOFF } from "./backoff.js";
import type { Arg } from "./commandEncoder.js";
import { isWriteCommand } from "./commandKinds.js";
import { Connection, type TlsClientOptions } from "./connection.js";
import {
  ClientClosedError,
  ConnectError,
  ConnectionLostError,
  isTrustFailure,
  NoNodeReachableError,
  RequestTimeoutError,
  ServerError,
  UnavailableError,
  UnexpectedReplyError,
  UnknownOutcomeError,
} from "./errors.js";
import { SessionPool } from "./sessions.js";

export interface RaftKvClientOptions {
  /** The client (RESP) addresses of the cluster's nodes. Any one finds the leader; all of them ride out failures. */
  readonly nodes: readonly NodeAddress[];
  /** Time budget of one operation, retries included. Default 10 s. */
  readonly timeoutMs?: number;
  /**
   * How long one attempt waits for its reply before its connection is given
   * up. Default 6 s: longer than the server's commit timeout (5 s), so that
   * a live server answers -TIMEOUT first.
   */
  readonly requestTimeoutMs?: number;
  /** Default 1 s. */
  readonly connectTimeoutMs?: number;
  /**
   * When every node has refused connections (ECONNREFUSED) or failed the
   * TLS handshake (isTrustFailure: a certificate this client does not trust)
   * for this long within one operation, it fails at once with
   * NoNodeReachableError instead of retrying until `timeoutMs`: nothing
   * there will answer. Default 1 s;
   * Infinity rides out even a cluster that is down (say, restarting).
   */
  readonly unreachableAfterMs?: number;
  /** Most writes in flight at once, each under its own session. Default 8. */
  readonly maxConcurrentWrites?: number;
  /** Retries and redirects are logged at debug level. */
  readonly logger?: Logger;
  /** The cluster's requirepass: each connection opens with AUTH (docs/SECURITY.md). */
  readonly password?: string | null;
  /** TLS to every node (the cluster file's "tls"; docs/SECURITY.md); null or absent: plain TCP. */
  readonly tls?: TlsClientOptions | null;
  /**
   * Where to learn the live membership (SPEC §10) when every node known has
   * failed in turn: returns the client addresses of the cluster's current
   * members (membersDiscovery() asks the admin ports' GET /members). They
   * join the list, so a `nodes` list from an old membership still finds the
   * cluster through any member it names. Addresses a -MOVED reply names join
   * it too, with or without this.
   */
  readonly discover?: () => Promise<readonly NodeAddress[]>;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
/** A retry is not started with less time than this left before the deadline. */
const MIN_ATTEMPT_MS = 10;
const DEFAULT_REQUEST_TIMEOUT_MS = 6_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 1_000;
const DEFAULT_UNREACHABLE_AFTER_MS = 1_000;
const DEFAULT_MAX_CONCURRENT_WRITES = 8;

/** The commands a transaction queues between MULTI and EXEC. */
export type TransactionCommands = readonly (readonly Arg[])[];

/** The attempt cannot go on (not executed, or a watched key changed): start it over. */
class StartOver extends Error {
  constructor(
    /** What said so; null for a WATCH abort or a resolved -NOTAPPLIED. */
    readonly why: Error | null,
    /** Wait before the next attempt (no leader, say); false: at once (a WATCH abort). */
    readonly backoff: boolean,
  ) {
    super("start the transaction over");
  }
}

/** One operation's retry state. */
class Attempts {
  retries = 0;
  /** Consecutive -MOVED answers; a few in a row are followed at once, a loop of them backs off. */
  redirects = 0;
  lastError: Error | null = null;
  /** Some attempt of this write may have been applied. */
  mayHaveExecuted = false;
  /** Each node's refusal since the last time any node did anything else, and when that streak began. */
  readonly refused = new Map<string, ConnectError>();
  refusedSince = 0;

  constructor(
    readonly deadline: number,
    readonly isWrite: boolean,
  ) {}
}

export class RaftKvClient {
  private nodes: NodeAddress[];
  private readonly timeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly password: string | null;
  private readonly tls: TlsClientOptions | null;
  private readonly unreachableAfterMs: number;
  private readonly logger: Logger;
  private readonly sessions: SessionPool;
  private readonly connections = new Map<string, Connection | Promise<Connection>>();
  /** The node believed to lead, if any. */
  private leader: NodeAddress | null = null;
  /** The node of `nodes` to try next while no leader is known. */
  private cursor = 0;
  private closed = false;
  private readonly discover: (() => Promise<readonly NodeAddress[]>) | null;
  /** Nodes that failed since the last discovery; a whole list's worth starts one. */
  private failuresSinceDiscovery = 0;

  constructor(options: RaftKvClientOptions) {
    if (options.nodes.length === 0) throw new RangeError("RaftKvClient needs the address of at least one node");
    this.nodes = [...options.nodes];
    this.timeoutMs = positive(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, "timeoutMs");
    this.requestTimeoutMs = positive(options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, "requestTimeoutMs");
    this.password = options.password ?? null;
    this.tls = options.tls ?? null;
    this.connectTimeoutMs = positive(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, "connectTimeoutMs");
    this.unreachableAfterMs = options.unreachableAfterMs === Infinity ? Infinity : positive(options.unreachableAfterMs ?? DEFAULT_UNREACHABLE_AFTER_MS, "unreachableAfterMs");
    this.sessions = new SessionPool(options.maxConcurrentWrites ?? DEFAULT_MAX_CONCURRENT_WRITES);
    this.logger = options.logger ?? silentLogger;
    this.discover = options.discover ?? null;
  }

  /** The client addresses this client knows: the ones it was given, and those it learned since (MOVED, discovery). */
  get knownNodes(): readonly NodeAddress[] {
    return this.nodes;
  }

  /** The value of `key`, or null when it does not exist. */
  async get(key: Arg): Promise<Buffer | null> {
    const reply = await this.command(["GET", key]);
    if (reply.kind !== "bulk") throw new UnexpectedReplyError("GET", "a bulk string", reply.kind);
    const value = reply.value;
    if (value === null || Buffer.isBuffer(value)) return value;
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }

  async set(key: Arg, value: Arg): Promise<void> {
    const reply = await this.command(["SET", key, value]);
    if (reply.kind !== "simple") throw new UnexpectedReplyError("SET", "+OK", reply.kind);
  }

  /** Deletes the keys; returns how many existed. */
  async del(key: Arg, ...moreKeys: Arg[]): Promise<number> {
    const reply = await this.command(["DEL", key, ...moreKeys]);
    if (reply.kind !== "integer") throw new UnexpectedReplyError("DEL", "an integer", reply.kind);
    return Number(reply.value);
  }

  /** Adds 1 to the integer stored at `key` (missing counts as 0); returns the new value. */
  async incr(key: Arg): Promise<bigint> {
    const reply = await this.command(["INCR", key]);
    if (reply.kind !== "integer") throw new UnexpectedReplyError("INCR", "an integer", reply.kind);
    return BigInt(reply.value);
  }

  /**
   * Any command, e.g. ["MSET", "a", "1", "b", "2"]. Writes go through a
   * session, like set(). An error reply is thrown as ServerError, so the
   * reply returned is never of kind "error".
   */
  async command(args: readonly Arg[]): Promise<Reply> {
    if (args.length === 0) throw new RangeError("a command needs at least its name");
    const reply = isWriteCommand(args) ? await this.write(args) : await this.exchange(args, this.attempts(false));
    if (reply.kind === "error") throw new ServerError(reply.message);
    return reply;
  }

  /**
   * An optimistic transaction, applied exactly once: WATCH `watch` (none if
   * empty), call `body` with a `read` that runs commands on the same
   * connection after the WATCH, queue the commands it returns between MULTI
   * and EXEC, and EXEC them under a client session. Returns EXEC's replies
   * (an error among them is that command's reply, as Redis gives it), or
   * null when `body` returns null (nothing is executed).
   *
   * When a watched key changed (EXEC answered nil), or the attempt was
   * certainly not executed (no leader, a leader change), it starts over:
   * `body` runs again on fresh reads, so it must only compute commands, not
   * act on the world. When EXEC's outcome is unknown (timeout, connection
   * lost after sending), it asks the leader what became of it first, so a
   * transaction is never applied twice. Throws UnavailableError when the
   * time budget runs out (`outcomeUnknown` if the last EXEC may have
   * applied), ServerError when the server refused a queued command.
   */
  async transaction(watch: readonly Arg[], body: (read: (args: readonly Arg[]) => Promise<Reply>) => Promise<TransactionCommands | null>): Promise<Reply[] | null> {
    const deadline = performance.now() + this.timeoutMs;
    const session = await this.sessions.acquire();
    let lastError: Error | null = null;
    let retries = 0;
    try {
      for (;;) {
        if (this.closed) throw new ClientClosedError();
        const remaining = deadline - performance.now();
        if (remaining <= MIN_ATTEMPT_MS) throw new UnavailableError(this.timeoutMs, false, lastError);
        if (session.id === null) {
          session.id = await this.register(deadline);
          session.seq = 0;
        }
        const node = this.leader ?? this.nodes[this.cursor]!;
        try {
          const connection = await this.dedicatedConnection(node, remaining);
          try {
            return await this.transactionAttempt(connection, node, session as { id: number; seq: number }, watch, body, deadline);
          } finally {
            connection.close();
          }
        } catch (err) {
          if (this.closed) throw new ClientClosedError();
          let startOver: StartOver;
          if (err instanceof StartOver) startOver = err;
          else if (err instanceof ConnectError || err instanceof ConnectionLostError || err instanceof RequestTimeoutError) {
            // Before EXEC was sent (after it, transactionAttempt resolves): nothing was executed.
            this.nodeFailed(node);
            startOver = new StartOver(err, true);
          } else throw err;
          lastError = startOver.why ?? lastError;
          if (startOver.backoff) {
            const delay = Math.min(backoffDelay(retries++, DEFAULT_BACKOFF), deadline - performance.now());
            this.logger.debug("transaction retrying", { node: formatHostPort(node), error: lastError?.message ?? null, delayMs: Math.round(delay) });
            if (delay > 0) await sleep(delay);
          }
        }
      }
    } finally {
      this.sessions.release(session);
    }
  }

  private async transactionAttempt(
    connection: Connection,
    node: NodeAddress,
    session: { id: number; seq: number },
    watch: readonly Arg[],
    body: (read: (args: readonly Arg[]) => Promise<Reply>) => Promise<TransactionCommands | null>,
    deadline: number,
  ): Promise<Reply[] | null> {
    const send = (args: readonly Arg[]) => connection.send(args, Math.max(1, Math.min(this.requestTimeoutMs, deadline - performance.now())));
    /** Replies that mean "not executed here": start over (at the leader, if it is known). */
    const notExecuted = (reply: Reply): StartOver | null => {
      if (reply.kind !== "error") return null;
      const code = errorCode(reply.message);
      if (code === "MOVED") {
        const leader = parseMoved(reply.message);
        if (leader !== null) this.leader = leader;
        return new StartOver(new ServerError(reply.message), false);
      }
      if (code === "CLUSTERDOWN" || code === "TIMEOUT") {
        this.nodeFailed(node);
        return new StartOver(new ServerError(reply.message), true);
      }
      return null;
    };
    const read = async (args: readonly Arg[]): Promise<Reply> => {
      const reply = await send(args);
      const again = notExecuted(reply);
      if (again !== null) throw again;
      return reply;
    };
    if (watch.length > 0) {
      const reply = await read(["WATCH", ...watch]);
      if (reply.kind === "error") throw new ServerError(reply.message);
    }
    const commands = await body(read);
    if (commands === null) {
      if (watch.length > 0) await send(["UNWATCH"]);
      return null;
    }
    for (const args of [["MULTI"], ...commands]) {
      const reply = await send(args);
      if (reply.kind === "error") {
        await send(["DISCARD"]).catch(() => undefined);
        throw new ServerError(reply.message);
      }
    }
    const { id } = session;
    const seq = ++session.seq;
    const exec = ["RAFTKV.SESSION", String(id), String(seq), "EXEC"];
    let reply: Reply;
    try {
      reply = await send(exec);
    } catch (err) {
      if (!(err instanceof ConnectionLostError || err instanceof RequestTimeoutError)) throw err;
      if (err instanceof ConnectionLostError && !err.written) throw err; // never sent: not executed
      reply = await this.resolve(exec, session, deadline, err);
    }
    if (reply.kind === "error" && errorCode(reply.message) === "TIMEOUT") reply = await this.resolve(exec, session, deadline, new ServerError(reply.message));
    return this.execOutcome(reply, notExecuted, session);
  }

  /** EXEC's outcome is unknown: ask the leader what became of it (which also makes sure it never applies later). */
  private async resolve(exec: readonly Arg[], session: { id: number | null }, deadline: number, cause: Error): Promise<Reply> {
    this.logger.debug("transaction outcome unknown, resolving", { clientId: session.id, error: cause.message });
    const attempts = new Attempts(deadline, true);
    attempts.mayHaveExecuted = true;
    attempts.lastError = cause;
    const reply = await this.exchange(exec, attempts);
    if (reply.kind === "error" && errorCode(reply.message) === "SESSIONEXPIRED") {
      session.id = null;
      throw new UnknownOutcomeError(`a transaction's EXEC got no clear answer, and then the server had forgotten the session (${String(exec[1])})`);
    }
    return reply;
  }

  private execOutcome(reply: Reply, notExecuted: (reply: Reply) => StartOver | null, session: { id: number | null }): Reply[] {
    if (reply.kind === "array") {
      if (reply.items !== null) return [...reply.items];
      throw new StartOver(null, false); // a watched key changed: nothing was applied
    }
    const again = notExecuted(reply);
    if (again !== null) throw again;
    if (reply.kind === "error") {
      const code = errorCode(reply.message);
      if (code === "NOTAPPLIED") throw new StartOver(null, false);
      if (code === "SESSIONEXPIRED") {
        // Refused, not applied: register again and start over.
        session.id = null;
        throw new StartOver(new ServerError(reply.message), false);
      }
      throw new ServerError(reply.message);
    }
    throw new UnexpectedReplyError("EXEC", "an array", reply.kind);
  }

  /** A connection of its own (MULTI and WATCH are per connection), authenticated if need be. */
  private async dedicatedConnection(node: NodeAddress, remainingMs: number): Promise<Connection> {
    const connection = await Connection.connect(node, { connectTimeoutMs: Math.min(this.connectTimeoutMs, remainingMs), tls: this.tls });
    if (this.password !== null) {
      const r = await connection.send(["AUTH", this.password], Math.min(this.requestTimeoutMs, remainingMs));
      if (r.kind === "error") {
        connection.close();
        throw new ServerError(r.message);
      }
    }
    return connection;
  }

  /** Closes every connection. Operations still running fail with ClientClosedError. */
  close(): void {
    this.closed = true;
    for (const connection of this.connections.values()) {
      if (connection instanceof Connection) connection.close();
      else connection.then((c) => c.close(), () => {});
    }
    this.connections.clear();
  }

  private attempts(isWrite: boolean): Attempts {
    return new Attempts(performance.now() + this.timeoutMs, isWrite);
  }

  /** A write under a session; a retry after an unknown outcome reuses the seq. */
  private async write(args: readonly Arg[]): Promise<Reply> {
    const attempts = this.attempts(true);
    const session = await this.sessions.acquire();
    try {
      for (;;) {
        if (session.id === null) {
          session.id = await this.register(attempts.deadline);
          session.seq = 0;
        }
        const { id } = session;
        const seq = ++session.seq;
        const reply = await this.exchange(["RAFTKV.SESSION", String(id), String(seq), ...args], attempts);
        if (reply.kind !== "error" || errorCode(reply.message) !== "SESSIONEXPIRED") return reply;
        // The server forgot the session (evicted as least recently used).
        // This attempt was refused, not applied; whether an earlier one was is what matters.
        session.id = null;
        if (attempts.mayHaveExecuted) {
          throw new UnknownOutcomeError(`an attempt got no clear answer, and then the server had forgotten the session (client id ${id})`);
        }
        this.logger.debug("session expired", { clientId: id, seq });
      }
    } finally {
      this.sessions.release(session);
    }
  }

  private async register(deadline: number): Promise<number> {
    const reply = await this.exchange(["RAFTKV.REGISTER"], new Attempts(deadline, false));
    if (reply.kind === "error") throw new ServerError(reply.message);
    const id = reply.kind === "integer" ? Number(reply.value) : NaN;
    if (!Number.isSafeInteger(id) || id < 1) throw new UnexpectedReplyError("RAFTKV.REGISTER", "a positive integer", reply.kind);
    this.logger.debug("registered", { clientId: id });
    return id;
  }

  /**
   * Sends `args` to the leader until an attempt gets an answer that is
   * final: a success, or an error reply other than the retryable ones
   * (returned, for the caller to interpret).
   */
  private async exchange(args: readonly Arg[], attempts: Attempts): Promise<Reply> {
    for (;;) {
      if (this.closed) throw new ClientClosedError();
      const remaining = attempts.deadline - performance.now();
      // A retry with a sliver of time left cannot finish; worse, its timeout would
      // make a write's outcome unknown. Give up with what the last attempt said.
      if (remaining <= 0 || (attempts.retries > 0 && remaining < MIN_ATTEMPT_MS))
        throw new UnavailableError(this.timeoutMs, attempts.isWrite && attempts.mayHaveExecuted, attempts.lastError);
      const node = this.leader ?? this.nodes[this.cursor]!;
      let reply: Reply;
      try {
        const connection = await this.connectionTo(node, remaining);
        reply = await connection.send(args, Math.min(this.requestTimeoutMs, remaining));
      } catch (err) {
        if (this.closed) throw new ClientClosedError();
        if (!(err instanceof ConnectError || err instanceof ConnectionLostError || err instanceof RequestTimeoutError)) throw err;
        // The request may have reached the server unless it never left this process.
        if (err instanceof RequestTimeoutError || (err instanceof ConnectionLostError && err.written)) attempts.mayHaveExecuted = true;
        if (this.noteRefusal(attempts, err) && !(await this.rediscover())) {
          throw new NoNodeReachableError(
            this.nodes.map((n) => attempts.refused.get(formatHostPort(n))!),
            this.timeoutMs,
            attempts.isWrite && attempts.mayHaveExecuted,
          );
        }
        this.nodeFailed(node);
        if (this.failuresSinceDiscovery >= this.nodes.length) await this.rediscover();
        await this.retryLater(attempts, node, err);
        continue;
      }
      attempts.refused.clear();
      if (reply.kind !== "error") return reply;
      const code = errorCode(reply.message);
      if (code === "MOVED") {
        const leader = parseMoved(reply.message);
        if (leader === null) return reply;
        this.logger.debug("redirected", { from: formatHostPort(node), to: formatHostPort(leader) });
        this.leader = leader;
        this.learn([leader]);
        attempts.lastError = new ServerError(reply.message);
        if (++attempts.redirects > this.nodes.length) await this.retryLater(attempts, node, attempts.lastError);
      } else if (code === "CLUSTERDOWN") {
        this.nodeFailed(node);
        if (this.failuresSinceDiscovery >= this.nodes.length) await this.rediscover();
        await this.retryLater(attempts, node, new ServerError(reply.message));
      } else if (code === "TIMEOUT") {
        // The node had the command in its log: retry there (if it lost leadership, it will redirect).
        attempts.mayHaveExecuted = true;
        await this.retryLater(attempts, node, new ServerError(reply.message));
      } else {
        return reply;
      }
    }
  }

  /**
   * Counts a refused connection (or one whose TLS handshake failed: see
   * isTrustFailure); true once every node of the list has refused, and for
   * `unreachableAfterMs`: the operation ends with
   * NoNodeReachableError, unless discovery finds nodes it did not know.
   */
  private noteRefusal(attempts: Attempts, err: Error): boolean {
    if (!(err instanceof ConnectError && (err.code === "ECONNREFUSED" || isTrustFailure(err.code)))) {
      attempts.refused.clear();
      return false;
    }
    if (attempts.refused.size === 0) attempts.refusedSince = performance.now();
    attempts.refused.set(err.address, err);
    const all = this.nodes.every((n) => attempts.refused.has(formatHostPort(n)));
    return all && performance.now() - attempts.refusedSince >= this.unreachableAfterMs;
  }

  /**
   * Asks `discover` for the live membership; true when it named a node this
   * client did not know. The live members go first in the list, so they are
   * tried before the rest of an old one.
   */
  private async rediscover(): Promise<boolean> {
    this.failuresSinceDiscovery = 0;
    if (this.discover === null) return false;
    let found: readonly NodeAddress[];
    try {
      found = await this.discover();
    } catch (err) {
      this.logger.debug("discovery failed", { error: (err as Error).message });
      return false;
    }
    if (this.closed) throw new ClientClosedError();
    const known = new Set(this.nodes.map(formatHostPort));
    const fresh = found.filter((a) => !known.has(formatHostPort(a)));
    if (found.length > 0) {
      const live = new Set(found.map(formatHostPort));
      this.nodes = [...found, ...this.nodes.filter((n) => !live.has(formatHostPort(n)))];
      this.cursor = 0;
    }
    this.logger.debug("discovered members", { members: found.map(formatHostPort), new: fresh.map(formatHostPort) });
    return fresh.length > 0;
  }

  /** Adds addresses it did not know to the end of the list. */
  private learn(addresses: readonly NodeAddress[]): void {
    for (const a of addresses) if (!this.nodes.some((n) => n.host === a.host && n.port === a.port)) this.nodes.push(a);
  }

  /** `node` cannot serve now: stop assuming it leads, and try the next node. */
  private nodeFailed(node: NodeAddress): void {
    this.failuresSinceDiscovery++;
    if (this.leader === node) this.leader = null;
    const i = this.nodes.findIndex((n) => n.host === node.host && n.port === node.port);
    if (i >= 0) this.cursor = (i + 1) % this.nodes.length;
  }

  private async retryLater(attempts: Attempts, node: NodeAddress, error: Error): Promise<void> {
    attempts.lastError = error;
    attempts.redirects = 0;
    const delay = Math.min(backoffDelay(attempts.retries++, DEFAULT_BACKOFF), attempts.deadline - performance.now());
    this.logger.debug("retrying", { node: formatHostPort(node), error: error.message, retry: attempts.retries, delayMs: Math.round(delay) });
    if (delay > 0) await sleep(delay);
  }

  private connectionTo(node: NodeAddress, remainingMs: number): Connection | Promise<Connection> {
    const key = formatHostPort(node);
    const existing = this.connections.get(key);
    if (existing !== undefined && (!(existing instanceof Connection) || existing.isOpen)) return existing;
    const forget = () => {
      const current = this.connections.get(key);
      if (current === connecting || (current instanceof Connection && !current.isOpen)) this.connections.delete(key);
    };
    const opened = Connection.connect(node, { connectTimeoutMs: Math.min(this.connectTimeoutMs, remainingMs), onClose: forget, tls: this.tls });
    const password = this.password;
    const connecting =
      password === null
        ? opened
        : opened.then(async (c) => {
            const r = await c.send(["AUTH", password], Math.min(this.requestTimeoutMs, remainingMs));
            if (r.kind !== "error") return c;
            c.close();
            throw new ServerError(r.message);
          });
    this.connections.set(key, connecting);
    connecting.then((c) => {
      if (this.connections.get(key) === connecting) this.connections.set(key, c);
    }, forget);
    return connecting;
  }
}

/** The first word of an error reply: "MOVED", "ERR", ... */
function errorCode(message: string): string {
  const space = message.indexOf(" ");
  return space < 0 ? message : message.slice(0, space);
}

/** The leader's address in "MOVED 0 HOST:PORT", or null if the reply is not of that form. */
function parseMoved(message: string): NodeAddress | null {
  const parts = message.split(" ");
  return parts.length === 3 ? parseHostPort(parts[2]!) : null;
}

function positive(value: number, name: string): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a positive number of milliseconds, got ${value}`);
  return value;
}
