// One RESP connection to one node. Requests are pipelined: each is written
// at once and its reply is the next one to arrive, since the server answers
// in order. Commands sent in the same tick leave in one socket write.
//
// A request that gets no reply within its timeout ends the connection:
// replies are matched by position, so after a missing one nothing that
// arrives can be trusted. Every request pending then fails, the late one
// with RequestTimeoutError and the others with ConnectionLostError; both
// mean "sent, outcome unknown". A request that never reached the socket
// fails with ConnectionLostError { written: false }: safe to send elsewhere.

import net from "node:net";
import tls from "node:tls";
import { performance } from "node:perf_hooks";
import type { Reply } from "../resp/writer.js";
import { type NodeAddress, formatHostPort } from "./address.js";
import { type Arg, encodeCommand } from "./commandEncoder.js";
import { ConnectError, ConnectionLostError, ReplyParseError, RequestTimeoutError } from "./errors.js";
import { ReplyParser } from "./replyParser.js";

export interface ConnectOptions {
  /** Give up connecting after this long (a silently dropped SYN would otherwise wait minutes). */
  readonly connectTimeoutMs: number;
  /** Called once when the connection has closed, for whatever reason. */
  readonly onClose?: () => void;
  /** Speak TLS (the server's certificate checked against `ca`, and naming the host dialled); null or absent: plain TCP. */
  readonly tls?: TlsClientOptions | null;
}

/** TLS for a client connection, like redis-cli's --tls --cacert --cert --key --sni. */
export interface TlsClientOptions {
  /** PEM of the CA(s) to trust; absent: Node's default CAs. */
  readonly ca?: string | Buffer;
  /** A client certificate and key, for a server that asks for one (the cluster file's tls.authClients). */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** The name to send (SNI) and check the certificate against, when it differs from the host dialled. */
  readonly servername?: string;
}

interface Request {
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: Error) => void;
  /** performance.now() by which the reply must have arrived. */
  readonly deadline: number;
  readonly timeoutMs: number;
}

export class Connection {
  /** Opens a connection; rejects with ConnectError. */
  static connect(address: NodeAddress, options: ConnectOptions): Promise<Connection> {
    const name = formatHostPort(address);
    return new Promise((resolve, reject) => {
      const t = options.tls;
      const socket: net.Socket = t
        ? tls.connect({
            host: address.host,
            port: address.port,
            ...(t.ca !== undefined && { ca: t.ca }),
            ...(t.cert !== undefined && { cert: t.cert }),
            ...(t.key !== undefined && { key: t.key }),
            ...(t.servername !== undefined ? { servername: t.servername } : net.isIP(address.host) === 0 && { servername: address.host }),
          })
        : net.connect({ host: address.host, port: address.port, noDelay: true });
      if (t) socket.setNoDelay(true);
      const fail = (error: ConnectError) => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(() => fail(new ConnectError(name, "ETIMEDOUT")), options.connectTimeoutMs);
      const onError = (err: NodeJS.ErrnoException) => fail(new ConnectError(name, err.code ?? err.message, { cause: err }));
      socket.once("error", onError);
      socket.once(t ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        socket.removeListener("error", onError);
        resolve(new Connection(socket, name, options.onClose));
      });
    });
  }

  /** "host:port", for messages. */
  readonly address: string;

  private readonly socket: net.Socket;
  private readonly parser = new ReplyParser();
  /** Requests awaiting replies, oldest at `head`. */
  private pending: (Request | undefined)[] = [];
  private head = 0;
  private corked = false;
  /** Why the connection is closed, once it is. */
  private closedBecause: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerDeadline = Infinity;

  private constructor(socket: net.Socket, address: string, onClose: (() => void) | undefined) {
    this.socket = socket;
    this.address = address;
    // An idle connection does not keep the process alive; one with requests in flight does.
    socket.unref();
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", (err: NodeJS.ErrnoException) => this.end(err.code ?? err.message, err));
    // The server's FIN: stop sending at once rather than when the socket is finally closed.
    socket.on("end", () => this.end("closed by the server"));
    socket.on("close", () => {
      this.end("closed by the server");
      onClose?.();
    });
  }

  get isOpen(): boolean {
    return this.closedBecause === null;
  }

  get inFlight(): number {
    return this.pending.length - this.head;
  }

  /** Sends a command; resolves with its reply (error replies included), rejects with ConnectionLostError or RequestTimeoutError. */
  send(args: readonly Arg[], timeoutMs: number): Promise<Reply> {
    if (this.closedBecause !== null) return Promise.reject(new ConnectionLostError(this.address, false, this.closedBecause));
    const frame = encodeCommand(args);
    return new Promise((resolve, reject) => {
      const deadline = performance.now() + timeoutMs;
      if (this.inFlight === 0) this.socket.ref();
      this.pending.push({ resolve, reject, deadline, timeoutMs });
      if (!this.corked) {
        this.corked = true;
        this.socket.cork();
        process.nextTick(this.uncork);
      }
      this.socket.write(frame);
      if (deadline < this.timerDeadline) this.armTimer(deadline);
    });
  }

  /** Closes the connection; pending requests fail with ConnectionLostError. */
  close(): void {
    this.end("closed by the client");
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  private receive(chunk: Buffer): void {
    this.parser.push(chunk);
    for (;;) {
      let reply: Reply | null;
      try {
        reply = this.parser.next();
      } catch (err) {
        this.end("malformed reply", err as Error);
        return;
      }
      if (reply === null) return;
      const request = this.pending[this.head];
      if (request === undefined) {
        this.end("unexpected reply", new ReplyParseError("a reply arrived with no request waiting for it"));
        return;
      }
      this.pending[this.head++] = undefined;
      if (this.head === this.pending.length) {
        this.pending.length = 0;
        this.head = 0;
        this.socket.unref();
      } else if (this.head >= 1024 && this.head * 2 >= this.pending.length) {
        this.pending = this.pending.slice(this.head);
        this.head = 0;
      }
      request.resolve(reply);
    }
  }

  private armTimer(deadline: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerDeadline = deadline;
    this.timer = setTimeout(this.checkDeadlines, Math.max(0, deadline - performance.now()));
    this.timer.unref();
  }

  /** Ends the connection if a request is overdue; otherwise waits for the next deadline. */
  private readonly checkDeadlines = (): void => {
    this.timer = null;
    this.timerDeadline = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (let i = this.head; i < this.pending.length; i++) {
      const request = this.pending[i]!;
      if (request.deadline <= now) {
        this.pending[i] = undefined;
        request.reject(new RequestTimeoutError(this.address, request.timeoutMs));
        this.end(`a request got no reply within ${request.timeoutMs} ms`);
        return;
      }
      next = Math.min(next, request.deadline);
    }
    if (next < Infinity) this.armTimer(next);
  };

  /** Closes the socket (once) and fails every pending request. */
  private end(reason: string, cause?: Error): void {
    if (this.closedBecause !== null) return;
    this.closedBecause = reason;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const pending = this.pending;
    const head = this.head;
    this.pending = [];
    this.head = 0;
    for (let i = head; i < pending.length; i++) {
      pending[i]?.reject(new ConnectionLostError(this.address, true, reason, cause && { cause }));
    }
    this.socket.destroy();
  }
}
