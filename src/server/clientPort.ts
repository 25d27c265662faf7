// The client port: the Redis protocol (RESP2) over TCP (SPEC §4). Each
// connection parses commands as they arrive (any fragmentation, any
// pipelining), plans each one, and answers strictly in order: a reply that
// is ready early waits for the ones before it.

import net, { type Server, type Socket } from "node:net";
import type { Plan } from "../kv/plan.js";
import { CommandPlanner } from "../kv/planner.js";
import { ClientConnection } from "../kv/transaction.js";
import { ProtocolError, RespParser } from "../resp/parser.js";
import { encodeReplies, errorReply, type Reply } from "../resp/writer.js";
import type { Logger } from "../util/log.js";
import type { Address } from "./config.js";

export interface ClientPortOptions {
  readonly listen: Address;
  readonly logger: Logger;
  /** Runs a command that needs the cluster (a write, or a linearizable read). */
  readonly execute: (plan: Exclude<Plan, { kind: "reply" }>) => Promise<Reply>;
  readonly maxKeyBytes?: number;
  readonly maxValueBytes?: number;
}

interface Pending {
  reply: Reply | null;
  close: boolean;
}

export class ClientPort {
  private readonly server: Server;
  private readonly planner: CommandPlanner;
  private readonly sockets = new Set<Socket>();
  connections = 0;

  constructor(private readonly o: ClientPortOptions) {
    this.planner = new CommandPlanner({
      ...(o.maxKeyBytes !== undefined ? { maxKeyBytes: o.maxKeyBytes } : {}),
      ...(o.maxValueBytes !== undefined ? { maxValueBytes: o.maxValueBytes } : {}),
    });
    this.server = net.createServer((socket) => this.connection(socket));
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
    this.sockets.add(socket);
    this.connections++;
    socket.setNoDelay(true);
    const parser = new RespParser();
    const client = new ClientConnection(this.planner);
    const queue: Pending[] = [];
    let closing = false;
    // Redis runs one connection's commands one after another. Writes go into
    // the log in order and reads are ordered among themselves, so a run of
    // writes (or of reads) may be in flight together; but a read must not
    // start before the writes sent ahead of it are applied, nor a write
    // before the reads ahead of it are answered.
    let inFlight = 0;
    let inFlightKind: Exclude<Plan, { kind: "reply" }>["kind"] = "write";
    const held: { plan: Exclude<Plan, { kind: "reply" }>; pending: Pending }[] = [];

    const flush = () => {
      const out: Reply[] = [];
      let close = false;
      while (queue.length > 0 && queue[0]!.reply !== null) {
        const p = queue.shift()!;
        out.push(p.reply!);
        if (p.close) {
          close = true;
          break;
        }
      }
      if (out.length > 0 && !socket.destroyed) socket.write(encodeReplies(out));
      if (close) {
        queue.length = 0;
        held.length = 0;
        socket.end();
      }
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

    const done = (p: Pending, reply: Reply) => {
      p.reply = reply;
      inFlight--;
      while (held.length > 0 && (inFlight === 0 || held[0]!.plan.kind === inFlightKind)) {
        const h = held.shift()!;
        start(h.plan, h.pending);
      }
      flushSoon();
    };

    socket.on("data", (chunk: Buffer) => {
      if (closing) return;
      parser.push(chunk);
      for (;;) {
        let args: Buffer[] | null;
        try {
          args = parser.next();
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          queue.push({ reply: err.reply, close: true });
          closing = true;
          break;
        }
        if (args === null) break;
        if (args.length === 0) continue;
        const plan = client.plan(args);
        if (plan.kind === "reply") {
          queue.push({ reply: plan.reply, close: plan.close });
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
      flush();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      this.sockets.delete(socket);
      this.connections--;
    });
  }
}
