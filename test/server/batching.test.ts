// Batching on the hot paths (docs/PERFORMANCE.md): commands that arrive
// together share one Ready — here, one read-index round for a pipelined
// burst of GETs — and the replies resolved together leave a connection in
// one socket write.

import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import { encodeCommand } from "../../src/client/commandEncoder.js";
import { ReplyParser } from "../../src/client/replyParser.js";
import { bulkString, type Reply } from "../../src/resp/writer.js";
import { ClientPort } from "../../src/server/clientPort.js";
import { silentLogger } from "../../src/util/log.js";
import { TestCluster } from "../helpers/cluster.js";
import { freePort } from "../transport/support.js";

async function appendEntriesSent(c: TestCluster, id: number): Promise<number> {
  const n = c.node(id);
  const text = await (await fetch(`http://${n.host}:${n.adminPort}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const m = /^raftkv_peer_messages_sent_total\{type="AppendEntries"\} (\d+)$/m.exec(text);
  assert.ok(m, "the metric is there");
  return Number(m[1]);
}

/** Sends `commands` in one write and resolves with their replies. */
function pipeline(host: string, port: number, commands: Buffer[]): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const parser = new ReplyParser();
    const replies: Reply[] = [];
    socket.on("error", reject);
    socket.on("data", (chunk: Buffer) => {
      parser.push(chunk);
      for (let r = parser.next(); r !== null; r = parser.next()) replies.push(r);
      if (replies.length === commands.length) {
        socket.destroy();
        resolve(replies);
      }
    });
    socket.on("connect", () => socket.write(Buffer.concat(commands)));
  });
}

test("a pipelined burst of GETs shares its read-index rounds instead of one round each", async () => {
  const c = await TestCluster.start({ nodes: 3, electionTimeoutMs: [500, 1000] });
  try {
    const leader = await c.waitForLeader(15_000);
    await c.leaderCommand(10_000, "SET", "k", "v");
    const reads = 300;
    const before = await appendEntriesSent(c, leader);
    const n = c.node(leader);
    const replies = await pipeline(n.host, n.clientPort, Array.from({ length: reads }, () => encodeCommand(["GET", "k"])));
    const sent = (await appendEntriesSent(c, leader)) - before;
    assert.ok(replies.every((r) => r.kind === "bulk" && Buffer.from(r.value!).toString() === "v"));
    // One round per read would be 2 × 300 AppendEntries; a heartbeat every 50 ms adds 2 per tick.
    assert.ok(sent < reads, `${sent} AppendEntries for ${reads} reads`);
  } finally {
    await c.stop();
  }
});

test("replies resolved together leave the connection in one write", async () => {
  const host = "127.0.0.121";
  const pending: ((r: Reply) => void)[] = [];
  const listen = { host, port: await freePort(host) };
  const port = new ClientPort({
    listen,
    logger: silentLogger,
    execute: () => new Promise<Reply>((resolve) => pending.push(resolve)),
  });
  await port.listen();
  const client = net.connect(listen);
  const write = net.Socket.prototype.write;
  let serverWrites = 0;
  net.Socket.prototype.write = function (this: net.Socket, ...args: Parameters<net.Socket["write"]>) {
    // The server's end of this connection (the test runner's own output is a socket too).
    if (this !== client && this.remotePort === client.localPort && this.remoteAddress === client.localAddress) serverWrites++;
    return write.apply(this, args);
  } as net.Socket["write"];
  try {
    const parser = new ReplyParser();
    const replies: Reply[] = [];
    const got = new Promise<void>((resolve) =>
      client.on("data", (chunk: Buffer) => {
        parser.push(chunk);
        for (let r = parser.next(); r !== null; r = parser.next()) replies.push(r);
        if (replies.length === 10) resolve();
      }),
    );
    await new Promise<void>((resolve) => client.on("connect", () => resolve()));
    client.write(Buffer.concat(Array.from({ length: 10 }, (_, i) => encodeCommand(["GET", `k${i}`]))));
    while (pending.length < 10) await new Promise((r) => setTimeout(r, 5));
    pending.forEach((resolve, i) => resolve(bulkString(`v${i}`)));
    await got;
    assert.deepEqual(replies.map((r) => (r.kind === "bulk" ? Buffer.from(r.value!).toString() : "?")), Array.from({ length: 10 }, (_, i) => `v${i}`));
    assert.equal(serverWrites, 1);
  } finally {
    net.Socket.prototype.write = write;
    client.destroy();
    await port.close();
  }
});
