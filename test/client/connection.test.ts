import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { Connection } from "../../src/client/connection.js";
import { ConnectError, ConnectionLostError, ReplyParseError, RequestTimeoutError } from "../../src/client/errors.js";
import { bulk, bulkString, integer, simple } from "../../src/resp/writer.js";
import { closedPort, FakeNode, type Handler } from "./fakes.js";

const nodes: FakeNode[] = [];
const connections: Connection[] = [];

async function fake(handler: Handler): Promise<FakeNode> {
  const node = await FakeNode.start(handler);
  nodes.push(node);
  return node;
}

async function connect(node: FakeNode): Promise<Connection> {
  const connection = await Connection.connect(node.address, { connectTimeoutMs: 5_000 });
  connections.push(connection);
  return connection;
}

afterEach(async () => {
  for (const c of connections.splice(0)) c.close();
  for (const n of nodes.splice(0)) await n.close();
});

/** A raw TCP server that answers every connection with `bytes`, whatever it receives. */
async function rawServer(bytes: string): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("data", () => socket.write(bytes));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("Connection", () => {
  test("pipelined requests get their own replies, in order", async () => {
    const node = await fake((args) => bulkString(args.slice(1).join(" ")));
    const connection = await connect(node);
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => connection.send(["ECHO", `message ${i}`], 10_000)));
    assert.deepEqual(
      replies,
      Array.from({ length: 200 }, (_, i) => bulkString(`message ${i}`)),
    );
    assert.equal(connection.inFlight, 0);
    assert.ok(connection.isOpen);
  });

  test("arguments go out as bulk strings: UTF-8 text and raw bytes", async () => {
    const node = await fake(() => simple("OK"));
    const connection = await connect(node);
    await connection.send(["SET", "clé", Buffer.from([0, 13, 10, 255])], 10_000);
    assert.deepEqual(node.received, [["SET", Buffer.from("clé", "utf8").toString("latin1"), "\x00\r\n\xff"]]);
  });

  test("a large value comes back whole", async () => {
    const value = Buffer.alloc(3 * 1024 * 1024, 0x61);
    const node = await fake((args) => (args[0] === "GET" ? bulk(value) : integer(0)));
    const connection = await connect(node);
    const reply = await connection.send(["GET", "big"], 30_000);
    assert.ok(reply.kind === "bulk" && reply.value !== null && Buffer.from(reply.value).equals(value));
  });

  test("a request with no reply in time fails with RequestTimeoutError; the others pending fail as lost after sending", async () => {
    const node = await fake((args) => (args[0] === "HANG" ? "hang" : simple("OK")));
    const connection = await connect(node);
    assert.deepEqual(await connection.send(["PING"], 10_000), simple("OK"));
    const stuck = connection.send(["HANG"], 50);
    const behind = connection.send(["PING"], 10_000);
    await assert.rejects(stuck, (err: unknown) => err instanceof RequestTimeoutError && err.timeoutMs === 50);
    await assert.rejects(behind, (err: unknown) => err instanceof ConnectionLostError && err.written);
    assert.equal(connection.isOpen, false);
    await assert.rejects(connection.send(["PING"], 10_000), (err: unknown) => err instanceof ConnectionLostError && !err.written);
  });

  test("an answered request's timeout does not end the connection while a slower one waits", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const node = await fake(async (args) => {
      if (args[0] === "SLOW") await gate;
      return simple("OK");
    });
    const connection = await connect(node);
    // The timer is set for the quick request's deadline; when it fires, only the slow one is pending.
    assert.deepEqual(await connection.send(["QUICK"], 2_000), simple("OK"));
    const slow = connection.send(["SLOW"], 60_000);
    setTimeout(release, 2_500);
    assert.deepEqual(await slow, simple("OK"));
    assert.ok(connection.isOpen);
  });

  test("the server closing the connection fails pending requests as lost after sending", async () => {
    const node = await fake((args) => (args[0] === "QUIT" ? "close" : simple("OK")));
    const connection = await connect(node);
    const quit = connection.send(["QUIT"], 10_000);
    await assert.rejects(quit, (err: unknown) => err instanceof ConnectionLostError && err.written && /outcome is unknown/.test(err.message));
    assert.equal(connection.isOpen, false);
  });

  test("close() fails pending requests and later sends", async () => {
    const node = await fake(() => "hang");
    const connection = await connect(node);
    const pending = connection.send(["GET", "k"], 10_000);
    connection.close();
    await assert.rejects(pending, (err: unknown) => err instanceof ConnectionLostError && /closed by the client/.test(err.message));
    await assert.rejects(connection.send(["GET", "k"], 10_000), (err: unknown) => err instanceof ConnectionLostError && !err.written);
  });

  test("a malformed reply ends the connection, with the parse error as the cause", async () => {
    const server = await rawServer("+OK\r\n?garbage\r\n");
    try {
      const connection = await Connection.connect({ host: "127.0.0.1", port: server.port }, { connectTimeoutMs: 5_000 });
      const first = connection.send(["PING"], 10_000);
      const second = connection.send(["PING"], 10_000);
      assert.deepEqual(await first, simple("OK"));
      await assert.rejects(second, (err: unknown) => err instanceof ConnectionLostError && err.cause instanceof ReplyParseError);
      assert.equal(connection.isOpen, false);
    } finally {
      await server.close();
    }
  });

  test("a reply nobody asked for ends the connection", async () => {
    const server = await rawServer("+OK\r\n+EXTRA\r\n");
    try {
      let closed = false;
      const connection = await Connection.connect({ host: "127.0.0.1", port: server.port }, { connectTimeoutMs: 5_000, onClose: () => (closed = true) });
      assert.deepEqual(await connection.send(["PING"], 10_000), simple("OK"));
      await new Promise<void>((resolve) => {
        const poll = () => (closed ? resolve() : setTimeout(poll, 5));
        poll();
      });
      assert.equal(connection.isOpen, false);
    } finally {
      await server.close();
    }
  });

  test("connecting to a port nobody listens on fails with ConnectError ECONNREFUSED", async () => {
    const port = await closedPort();
    await assert.rejects(
      Connection.connect({ host: "127.0.0.1", port }, { connectTimeoutMs: 5_000 }),
      (err: unknown) => err instanceof ConnectError && err.code === "ECONNREFUSED" && err.address === `127.0.0.1:${port}`,
    );
  });
});
