// One raw RESP connection for the fault tests' clients (test/e2e/*fault*):
// one attempt per command, each outcome sorted as a history checker needs it.

import { Connection } from "../../src/client/connection.js";
import { ConnectError, ConnectionLostError, RequestTimeoutError } from "../../src/client/errors.js";
import type { Reply } from "../../src/resp/writer.js";
import { sleep } from "./cluster.js";

/** A command's outcome: a reply, unknown (it may take effect later), or not executed. */
export type Settled = { kind: "returned"; reply: Reply } | { kind: "unknown" } | { kind: "discarded" };

/**
 * One raw RESP connection that follows the leader: each command is one
 * attempt; MOVED, CLUSTERDOWN and refused connections mean "not executed",
 * a timeout or a connection lost after writing means "unknown". Any outcome
 * but a reply ends the connection (and with it a WATCH or a MULTI).
 */
export class RawClient {
  private connection: Connection | null = null;
  private target: number;

  constructor(
    private readonly nodes: readonly { host: string; port: number }[],
    readonly id: number,
    /** The jitter of the pause after CLUSTERDOWN (a client's seeded generator, or Math.random). */
    private readonly rand: () => number = Math.random,
  ) {
    this.target = id % nodes.length;
  }

  reset(): void {
    this.connection?.close();
    this.connection = null;
  }

  async send(args: readonly string[]): Promise<Settled> {
    try {
      this.connection ??= await Connection.connect(this.nodes[this.target]!, { connectTimeoutMs: 1000 });
    } catch (err) {
      if (!(err instanceof ConnectError)) throw err;
      this.moveOn();
      await sleep(50);
      return { kind: "discarded" };
    }
    let reply: Reply;
    try {
      reply = await this.connection.send(args, 8000);
    } catch (err) {
      if (!(err instanceof ConnectionLostError) && !(err instanceof RequestTimeoutError)) throw err;
      this.moveOn();
      return err instanceof ConnectionLostError && !err.written ? { kind: "discarded" } : { kind: "unknown" };
    }
    if (reply.kind === "error" && reply.message.startsWith("MOVED ")) {
      const address = reply.message.split(" ")[2]!;
      const leader = this.nodes.findIndex((n) => `${n.host}:${n.port}` === address);
      if (leader < 0) throw new Error(`MOVED to an unknown address: ${reply.message}`);
      this.reset();
      this.target = leader;
      return { kind: "discarded" };
    }
    if (reply.kind === "error" && reply.message.startsWith("CLUSTERDOWN")) {
      this.moveOn();
      await sleep(50 + this.rand() * 100);
      return { kind: "discarded" };
    }
    if (reply.kind === "error" && reply.message.startsWith("TIMEOUT")) {
      this.reset();
      return { kind: "unknown" };
    }
    return { kind: "returned", reply };
  }

  private moveOn(): void {
    this.reset();
    this.target = (this.target + 1) % this.nodes.length;
  }
}
