// Fake cluster nodes for the client tests: a RESP server on 127.0.0.1 whose
// answers the test scripts (MOVED, CLUSTERDOWN, TIMEOUT, a closed
// connection, silence), a tiny key-value store with client sessions to stand
// behind a fake leader, and a fake admin port serving /status.

import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import type { TestContext } from "node:test";
import { TestCa } from "../helpers/certs.js";
import { RespParser } from "../../src/resp/parser.js";
import { bulk, encodeReply, errorReply, integer, NIL, OK, type Reply } from "../../src/resp/writer.js";
import type { NodeAddress } from "../../src/client/address.js";

/** What a fake node does with one command: answer it, close the connection without answering, or never answer. */
export type Action = Reply | "close" | "hang";
export type Handler = (args: string[]) => Action | Promise<Action>;

export class FakeNode {
  /** Every command received, in order, as latin1 strings. */
  readonly received: string[][] = [];
  /** Called for each command as soon as it is read off the socket, before earlier ones are answered. */
  onArrival: ((args: string[]) => void) | null = null;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly address: NodeAddress,
    public handler: Handler,
  ) {}

  static async start(handler: Handler): Promise<FakeNode> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    const { port } = server.address() as net.AddressInfo;
    const node = new FakeNode(server, { host: "127.0.0.1", port }, handler);
    server.on("connection", (socket) => node.serve(socket));
    return node;
  }

  get addressText(): string {
    return `${this.address.host}:${this.address.port}`;
  }

  /** Commands received whose name is `name` (case-insensitive). */
  commands(name: string): string[][] {
    return this.received.filter((args) => args[0]!.toUpperCase() === name.toUpperCase());
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => {});
    const parser = new RespParser();
    // Commands are handled one at a time, so that replies go out in order even when a handler is slow.
    let queue = Promise.resolve();
    socket.on("data", (chunk: Buffer) => {
      parser.push(chunk);
      for (let args = parser.next(); args !== null; args = parser.next()) {
        const command = args.map((a) => a.toString("latin1"));
        this.onArrival?.(command);
        queue = queue.then(async () => {
          if (socket.destroyed) return;
          this.received.push(command);
          const action = await this.handler(command);
          if (action === "close") socket.destroy();
          else if (action === "hang") await new Promise(() => {});
          else socket.write(encodeReply(action));
        });
      }
    });
  }
}

export function moved(to: FakeNode): Reply {
  return errorReply(`MOVED 0 ${to.addressText}`);
}

export const CLUSTERDOWN = errorReply("CLUSTERDOWN no leader");
export const TIMEOUT = errorReply("TIMEOUT commit not seen within 5000 ms");

/**
 * The leader's state machine, reduced to what the client uses: GET, SET,
 * DEL, INCR, EXISTS, PING, and sessions with the server's rules (a write is
 * applied at most once per client id and seq; an unknown id is refused with
 * SESSIONEXPIRED).
 */
export class FakeStore {
  readonly data = new Map<string, string>();
  private readonly sessions = new Map<number, { lastSeq: number; lastReply: Reply | null }>();
  private nextClientId = 1;
  /** How many times each write was really applied, by "id/seq". */
  readonly applied = new Map<string, number>();

  apply(args: readonly string[]): Reply {
    const name = args[0]!.toUpperCase();
    if (name === "RAFTKV.REGISTER") {
      const id = this.nextClientId++;
      this.sessions.set(id, { lastSeq: 0, lastReply: null });
      return integer(id);
    }
    if (name === "RAFTKV.SESSION") {
      const id = Number(args[1]);
      const seq = Number(args[2]);
      const session = this.sessions.get(id);
      if (session === undefined) return errorReply(`SESSIONEXPIRED client ${id} has no session: the outcome of this write is unknown`);
      if (seq === session.lastSeq && session.lastReply !== null) return session.lastReply;
      if (seq <= session.lastSeq) return errorReply(`ERR seq ${seq} is older than ${session.lastSeq}`);
      const reply = this.execute(args.slice(3));
      session.lastSeq = seq;
      session.lastReply = reply;
      this.applied.set(`${id}/${seq}`, (this.applied.get(`${id}/${seq}`) ?? 0) + 1);
      return reply;
    }
    return this.execute(args);
  }

  /** Forgets a session, as the server does when it evicts the least recently used. */
  expire(clientId: number): void {
    this.sessions.delete(clientId);
  }

  private execute(args: readonly string[]): Reply {
    const [name, key, value] = [args[0]!.toUpperCase(), args[1]!, args[2]];
    switch (name) {
      case "GET": {
        const v = this.data.get(key);
        return v === undefined ? NIL : bulk(Buffer.from(v, "latin1"));
      }
      case "SET":
        this.data.set(key, value!);
        return OK;
      case "DEL":
        return integer(args.slice(1).filter((k) => this.data.delete(k)).length);
      case "EXISTS":
        return integer(args.slice(1).filter((k) => this.data.has(k)).length);
      case "INCR": {
        const current = this.data.get(key) ?? "0";
        if (!/^-?\d+$/.test(current)) return errorReply("ERR value is not an integer or out of range");
        const next = BigInt(current) + 1n;
        this.data.set(key, String(next));
        return integer(next);
      }
      default:
        return errorReply(`ERR unknown command '${args[0]}'`);
    }
  }
}

/** A fake admin port answering GET /status with `body` (JSON-encoded unless it is a string). */
export async function startAdmin(body: unknown): Promise<{ address: NodeAddress; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    if (request.url !== "/status") {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "application/json" });
    response.end(typeof body === "string" ? body : JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    address: { host: "127.0.0.1", port },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port with nothing listening on it (free a moment ago: the OS picked it). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A TLS port whose certificate comes from a CA of its own, and the PEM path
 * of another CA for the client to trust (wrongly): every handshake fails
 * verification (UNABLE_TO_VERIFY_LEAF_SIGNATURE). Closed and removed when
 * the test ends.
 */
export async function untrustedTlsPort(t: TestContext): Promise<{ port: number; wrongCa: string }> {
  const ours = TestCa.create("the client's CA");
  const theirs = TestCa.create("the nodes' CA");
  const cert = theirs.issue("node", ["IP:127.0.0.1"]);
  const server = tls.createServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key) }, (s) => s.destroy());
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.close();
    ours.dispose();
    theirs.dispose();
  });
  return { port: (server.address() as net.AddressInfo).port, wrongCa: ours.pem };
}

export interface AdminRequest {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | undefined;
  /** The body, parsed as JSON when it is not empty. */
  readonly body: unknown;
}

/** A fake admin port whose every answer the test scripts: `handle` gets the request and returns a status code and a JSON body. */
export async function startScriptedAdmin(
  handle: (request: AdminRequest) => { code: number; body: unknown } | Promise<{ code: number; body: unknown }>,
): Promise<{ address: NodeAddress; text: string; requests: AdminRequest[]; close(): Promise<void> }> {
  const requests: AdminRequest[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const req: AdminRequest = { method: request.method ?? "", url: request.url ?? "", authorization: request.headers.authorization, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
      requests.push(req);
      void Promise.resolve(handle(req)).then(({ code, body }) => {
        response.writeHead(code, { "content-type": "application/json" });
        response.end(JSON.stringify(body));
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    address: { host: "127.0.0.1", port },
    text: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
