// Bad input never crashes a node (SPEC §4 "Bad input"): malformed RESP gets
// "-ERR Protocol error: ..." and the connection is closed, random garbage
// gets errors, an oversized key or value gets -ERR and writes nothing; all
// the while the node keeps serving other clients and its admin port.

import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { encodeCommand } from "../../src/client/commandEncoder.js";
import { respCommand, TestCluster, type TestNode } from "../helpers/cluster.js";
import { show } from "../server/support.js";
import { parseReplies, rawExchange, roles } from "./support.js";
import { prng } from "../helpers/prng.js";

/** Malformed frames, each with the reply Redis gives (networking.c); the connection must close after it. */
const MALFORMED: [string, string | Buffer, RegExp][] = [
  ["a multibulk count that is not a number", "*abc\r\n", /^-ERR Protocol error: invalid multibulk length$/],
  ["a multibulk count over 1M", "*1048577\r\n", /^-ERR Protocol error: invalid multibulk length$/],
  ["a bulk header without $", "*1\r\n:3\r\nGET\r\n", /^-ERR Protocol error: expected '\$', got ':'$/],
  ["a negative bulk length", "*2\r\n$3\r\nGET\r\n$-5\r\n", /^-ERR Protocol error: invalid bulk length$/],
  ["a bulk length that is not a number", "*1\r\n$x\r\n", /^-ERR Protocol error: invalid bulk length$/],
  ["a bulk length beyond 512 MB", "*1\r\n$9999999999\r\n", /^-ERR Protocol error: invalid bulk length$/],
  ["an inline request with unbalanced quotes", 'SET "k v\r\n', /^-ERR Protocol error: unbalanced quotes in request$/],
  ["an inline request over 64 KiB", Buffer.alloc(70 * 1024, "a"), /^-ERR Protocol error: too big inline request$/],
  ["a multibulk count line over 64 KiB", Buffer.concat([Buffer.from("*"), Buffer.alloc(70 * 1024, "1")]), /^-ERR Protocol error: too big mbulk count string$/],
];


describe("bad input on the client port", () => {
  let c: TestCluster;
  let leader: TestNode;
  let follower: TestNode;

  before(async () => {
    // Long election timeouts: these tests talk to "the leader" across several
    // exchanges and push tens of MiB through one node; on a loaded 2-core
    // machine the default 150–300 ms would let leadership move in between.
    c = await TestCluster.start({ nodes: 3, electionTimeoutMs: [1000, 2000], heartbeatMs: 100 });
    assert.equal(show(await c.leaderCommand(15_000, "SET", "canary", "alive")), "+OK");
  });

  beforeEach(async () => {
    const r = await roles(c);
    leader = c.node(r.leader);
    follower = c.node(r.followers[0]!);
  });

  after(async () => {
    await c?.stop();
  });

  /** Every node process is still running, answers PING on a new connection and /status, and the canary key is intact. */
  async function assertHealthy(): Promise<void> {
    for (const n of c.nodes) {
      assert.ok(n.process !== null && n.process.exitCode === null && n.process.signalCode === null, `node ${n.id} is running\n${c.logTail(n.id)}`);
      assert.equal(show(await respCommand(n.host, n.clientPort, ["PING"])), "+PONG", `node ${n.id} answers PING`);
      assert.equal((await c.status(n.id))?.id, n.id, `node ${n.id} answers /status`);
    }
    assert.equal(show(await c.leaderCommand(15_000, "GET", "canary")), "$alive");
  }

  test("each malformed frame gets its -ERR Protocol error and the connection is closed, at the leader and at a follower", async () => {
    for (const n of [leader, follower]) {
      for (const [what, frame, expected] of MALFORMED) {
        // A good command first: its reply must come before the error.
        const got = await rawExchange(n, [encodeCommand(["PING"]), Buffer.from(frame)]);
        const replies = parseReplies(got.received);
        assert.equal(replies[0], "+PONG", `${what}: the PING before it is answered`);
        assert.match(replies[1] ?? "(nothing)", expected, `${what} at node ${n.id}`);
        assert.equal(replies.length, 2, `${what}: nothing after the error (got ${JSON.stringify(replies)})`);
        assert.ok(got.closedByServer, `${what}: node ${n.id} closes the connection`);
      }
    }
    await assertHealthy();
  });

  test("the same frames split into single bytes get the same answers", async () => {
    for (const [what, frame, expected] of MALFORMED.slice(0, 7)) {
      const bytes = Buffer.from(frame);
      const chunks = Array.from(bytes, (b) => Buffer.from([b]));
      const got = await rawExchange(leader, chunks);
      assert.match(parseReplies(got.received)[0] ?? "(nothing)", expected, what);
      assert.ok(got.closedByServer, what);
    }
    await assertHealthy();
  });

  test("random garbage gets only error replies, and the node keeps serving", async () => {
    const rand = prng(20240611);
    let replies = 0;
    let closed = 0;
    for (let round = 0; round < 60; round++) {
      const length = 1 + Math.floor(rand() * 4096);
      const garbage = Buffer.alloc(length);
      for (let i = 0; i < length; i++) {
        // Mostly random bytes, with RESP's own punctuation mixed in to reach deeper into the parser.
        const r = rand();
        garbage[i] = r < 0.1 ? 0x2a : r < 0.2 ? 0x24 : r < 0.3 ? 0x0d : r < 0.4 ? 0x0a : r < 0.45 ? 0x22 : Math.floor(rand() * 256);
      }
      const got = await rawExchange(round % 2 === 0 ? leader : follower, [garbage], 500);
      const parsed = parseReplies(got.received);
      replies += parsed.length;
      if (got.closedByServer) closed++;
      // Garbage names no command, so every reply is an error (unknown command, protocol error, arity).
      for (const r of parsed) assert.match(r, /^-ERR /, `reply to garbage round ${round}: ${r}`);
    }
    console.log(`random garbage: 60 connections, ${replies} error replies, ${closed} closed by the node`);
    await assertHealthy();
  });

  test("a connection dropped halfway through a frame leaves the node serving, and nothing of the frame is written", async () => {
    const half = Buffer.from("*3\r\n$3\r\nSET\r\n$6\r\ncanary\r\n$100\r\nabc");
    const got = await rawExchange(leader, [half], 200); // the client gives up and closes mid-frame
    assert.equal(got.received.length, 0);
    await assertHealthy();
  });

  test("QUIT is answered +OK and closes the connection; commands pipelined after it do not run, as in Redis", async () => {
    // One write, so that the node reads all three commands at once.
    const quit = await rawExchange(leader, [Buffer.concat([encodeCommand(["GET", "canary"]), encodeCommand(["QUIT"]), encodeCommand(["SET", "after-quit", "ran"])])]);
    assert.deepEqual(parseReplies(quit.received), ["$alive", "+OK"], "GET and QUIT are answered, nothing after");
    assert.ok(quit.closedByServer);
    assert.equal(show(await c.leaderCommand(15_000, "EXISTS", "after-quit")), ":0", "the SET sent after QUIT was not executed");
    await assertHealthy();
  });

  test("an oversized key or value gets -ERR and nothing is written; the connection goes on", async () => {
    const bigValue = Buffer.alloc(8 * 1024 * 1024 + 1, "v");
    const bigKey = Buffer.alloc(64 * 1024 + 1, "k");
    const frames = [
      encodeCommand(["SET", "big", bigValue]),
      encodeCommand(["APPEND", "canary", bigValue]),
      encodeCommand(["MSET", "small", "1", "big2", bigValue]),
      encodeCommand(["SET", bigKey, "v"]),
      encodeCommand(["EXISTS", "big", "big2", "small"]),
      encodeCommand(["GET", "canary"]),
      encodeCommand(["PING"]),
    ];
    const got = await rawExchange(leader, frames, 3000);
    const replies = parseReplies(got.received);
    assert.equal(replies.length, 7, `every command answered: ${JSON.stringify(replies.map((r) => r.slice(0, 80)))}`);
    for (const r of replies.slice(0, 4)) assert.match(r, /^-ERR /, "the oversized command is refused");
    assert.deepEqual(replies.slice(4), [":0", "$alive", "+PONG"], "nothing was written and the connection still serves");
    assert.ok(!got.closedByServer);
    // A value just under the limit is fine.
    const justUnder = Buffer.alloc(8 * 1024 * 1024 - 64, "u");
    assert.equal(show(await c.leaderCommand(30_000, "SET", "under", justUnder)), "+OK");
    assert.equal(show(await c.leaderCommand(30_000, "STRLEN", "under")), `:${justUnder.length}`);
    await assertHealthy();
  });
});
