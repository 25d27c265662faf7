import { readFileSync } from "node:fs";
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { RaftKvClient, type RaftKvClientOptions } from "../../src/client/client.js";
import { isWriteCommand } from "../../src/client/commandKinds.js";
import {
  ClientClosedError,
  ConnectError,
  NoNodeReachableError,
  ServerError,
  UnavailableError,
  UnknownOutcomeError,
} from "../../src/client/errors.js";
import { COMMANDS } from "../../src/kv/commandTable.js";
import { bulkString, errorReply, integer, simple } from "../../src/resp/writer.js";
import { CLUSTERDOWN, closedPort, untrustedTlsPort, FakeNode, FakeStore, type Handler, moved, TIMEOUT } from "./fakes.js";

const nodes: FakeNode[] = [];
const clients: RaftKvClient[] = [];

async function fake(handler: Handler): Promise<FakeNode> {
  const node = await FakeNode.start(handler);
  nodes.push(node);
  return node;
}

function client(options: Partial<RaftKvClientOptions> & Pick<RaftKvClientOptions, "nodes">): RaftKvClient {
  const c = new RaftKvClient(options);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const n of nodes.splice(0)) await n.close();
});

/** The (id, seq) of each RAFTKV.SESSION a node received. */
function sessionIds(node: FakeNode): string[] {
  return node.commands("RAFTKV.SESSION").map((args) => `${args[1]}/${args[2]}`);
}

describe("RaftKvClient: leader discovery", () => {
  test("follows MOVED to the named node and keeps using it", async () => {
    const store = new FakeStore();
    const leader = await fake((args) => store.apply(args));
    const follower = await fake(() => moved(leader));
    const c = client({ nodes: [follower.address, leader.address] });

    await c.set("greeting", "hello");
    assert.deepEqual(await c.get("greeting"), Buffer.from("hello"));
    assert.equal(await c.get("missing"), null);

    // The follower was asked once (the first command, RAFTKV.REGISTER); everything after went straight to the leader.
    assert.deepEqual(follower.received, [["RAFTKV.REGISTER"]]);
    assert.deepEqual(leader.received, [
      ["RAFTKV.REGISTER"],
      ["RAFTKV.SESSION", "1", "1", "SET", "greeting", "hello"],
      ["GET", "greeting"],
      ["GET", "missing"],
    ]);
  });

  test("a redirect to a node outside the list is followed too", async () => {
    const store = new FakeStore();
    const leader = await fake((args) => store.apply(args));
    const follower = await fake(() => moved(leader));
    const c = client({ nodes: [follower.address] });
    assert.equal(await c.incr("n"), 1n);
    assert.equal(store.data.get("n"), "1");
  });

  test("retries CLUSTERDOWN (an election) and then succeeds", async () => {
    const store = new FakeStore();
    let elections = 3;
    const node = await fake((args) => (elections-- > 0 ? CLUSTERDOWN : store.apply(args)));
    const c = client({ nodes: [node.address] });
    assert.equal(await c.incr("counter"), 1n);
    assert.equal(node.received.length, 3 + 2); // three refusals, then REGISTER and the INCR
    assert.equal(store.applied.get("1/1"), 1);
  });

  test("after CLUSTERDOWN, the next node is tried; a node that is down is skipped", async () => {
    const store = new FakeStore();
    const down = await closedPort();
    const noLeader = await fake(() => CLUSTERDOWN);
    const leader = await fake((args) => store.apply(args));
    const c = client({ nodes: [noLeader.address, { host: "127.0.0.1", port: down }, leader.address] });
    await c.set("k", "v");
    assert.equal(store.data.get("k"), "v");
    assert.ok(noLeader.received.length >= 1);
  });

  test("a leader change: the old leader redirects, the client follows", async () => {
    const store = new FakeStore();
    let current: FakeNode | null = null;
    const a = await fake((args) => (current === a ? store.apply(args) : moved(current!)));
    const b = await fake((args) => (current === b ? store.apply(args) : moved(current!)));
    current = a;
    const c = client({ nodes: [a.address, b.address] });
    await c.set("x", "1");
    current = b;
    await c.set("x", "2");
    assert.equal(store.data.get("x"), "2");
    assert.deepEqual(sessionIds(a), ["1/1", "1/2"]);
    assert.deepEqual(sessionIds(b), ["1/2"]);
  });

  test("a node that stops answering is given up after the request timeout, and another node is tried", async () => {
    const store = new FakeStore();
    const stuck = await fake(() => "hang");
    const leader = await fake((args) => store.apply(args));
    store.data.set("k", "v");
    const c = client({ nodes: [stuck.address, leader.address], requestTimeoutMs: 200 });
    assert.deepEqual(await c.get("k"), Buffer.from("v"));
    assert.deepEqual(stuck.received, [["GET", "k"]]);
  });

  test("gives up with UnavailableError after the timeout when no leader appears", async () => {
    const node = await fake(() => CLUSTERDOWN);
    const c = client({ nodes: [node.address], timeoutMs: 300 });
    await assert.rejects(c.get("k"), (err: unknown) => {
      assert.ok(err instanceof UnavailableError);
      assert.equal(err.outcomeUnknown, false);
      assert.match(err.message, /within 300 ms.*CLUSTERDOWN no leader/);
      return true;
    });
    assert.ok(node.received.length >= 2, "it retried before giving up");
    // A write refused every time was never executed: its outcome is known, however the last backoff met the deadline.
    for (let i = 0; i < 5; i++) {
      await assert.rejects(c.set("k", "v"), (err: unknown) => err instanceof UnavailableError && err.outcomeUnknown === false && /CLUSTERDOWN no leader/.test(err.message));
    }
  });

  test("gives up with UnavailableError when no node accepts connections", async () => {
    const ports = [await closedPort(), await closedPort()];
    const c = client({ nodes: ports.map((port) => ({ host: "127.0.0.1", port })), timeoutMs: 300 });
    await assert.rejects(c.set("k", "v"), (err: unknown) => {
      assert.ok(err instanceof UnavailableError);
      assert.ok(err.lastError instanceof ConnectError);
      assert.equal(err.outcomeUnknown, false, "nothing was ever sent");
      assert.match(err.message, /connection refused/);
      return true;
    });
  });
});

describe("RaftKvClient: a cluster that is not there", () => {
  test("fails with NoNodeReachableError once every node has refused for unreachableAfterMs, long before timeoutMs", { timeout: 30_000 }, async () => {
    const ports = [await closedPort(), await closedPort(), await closedPort()];
    const c = client({ nodes: ports.map((port) => ({ host: "127.0.0.1", port })), timeoutMs: 600_000, unreachableAfterMs: 200 });
    await assert.rejects(c.get("k"), (err: unknown) => {
      assert.ok(err instanceof NoNodeReachableError);
      assert.ok(err instanceof UnavailableError, "a kind of unavailable: callers that handle that handle this");
      assert.equal(err.refusals.length, 3);
      assert.equal(err.outcomeUnknown, false);
      assert.match(err.message, new RegExp(`^no node is reachable: ${ports.map((p) => `127\\.0\\.0\\.1:${p}`).join(", ")} all refuse connections$`));
      return true;
    });
  });

  test("a node whose certificate this client does not trust counts as refusing: NoNodeReachableError long before timeoutMs, with the reason", { timeout: 30_000 }, async (t) => {
    const { port: tlsPort, wrongCa } = await untrustedTlsPort(t);
    const downPort = await closedPort();
    const c = client({ nodes: [{ host: "127.0.0.1", port: tlsPort }, { host: "127.0.0.1", port: downPort }], tls: { ca: readFileSync(wrongCa) }, timeoutMs: 600_000, unreachableAfterMs: 200 });
    await assert.rejects(c.get("k"), (err: unknown) => {
      assert.ok(err instanceof NoNodeReachableError, String(err));
      assert.equal(err.nothingListens, false);
      assert.deepEqual(err.refusals.map((r) => r.code).sort(), ["ECONNREFUSED", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"]);
      assert.match(err.message, new RegExp(`^no node is reachable: .*127\\.0\\.0\\.1:${tlsPort}: TLS: the node's certificate is not accepted \\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\\); is --cacert the CA that signed it\\?`));
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${downPort}: connection refused`));
      return true;
    });
  });

  test("TLS spoken to a plain port counts as refusing too, and the message says the port does not speak TLS", { timeout: 30_000 }, async () => {
    const plain = await fake(() => CLUSTERDOWN);
    const c = client({ nodes: [plain.address], tls: {}, timeoutMs: 600_000, unreachableAfterMs: 200 });
    await assert.rejects(c.get("k"), (err: unknown) => {
      assert.ok(err instanceof NoNodeReachableError, String(err));
      assert.equal(err.nothingListens, false);
      assert.match(err.message, /^no node is reachable: 127\.0\.0\.1:\d+: TLS: the node does not speak TLS on this port \(ERR_SSL_WRONG_VERSION_NUMBER\); leave out --tls/);
      return true;
    });
  });

  test("a node that answers, even with CLUSTERDOWN, restarts the count: the operation waits for its timeout", async () => {
    const alive = await fake(() => CLUSTERDOWN);
    const c = client({ nodes: [alive.address, { host: "127.0.0.1", port: await closedPort() }], timeoutMs: 500, unreachableAfterMs: 1 });
    await assert.rejects(c.get("k"), (err: unknown) => err instanceof UnavailableError && !(err instanceof NoNodeReachableError));
  });

  test("unreachableAfterMs: Infinity rides out a cluster that is down until timeoutMs", async () => {
    const c = client({ nodes: [{ host: "127.0.0.1", port: await closedPort() }], timeoutMs: 300, unreachableAfterMs: Infinity });
    await assert.rejects(c.get("k"), (err: unknown) => err instanceof UnavailableError && !(err instanceof NoNodeReachableError) && /within 300 ms/.test(err.message));
  });
});

describe("RaftKvClient: exactly-once writes", () => {
  test("a write whose first attempt answers TIMEOUT is retried with the same session seq and applied once", async () => {
    const store = new FakeStore();
    let timeouts = 1;
    const node = await fake((args) => {
      const reply = store.apply(args);
      // The first attempt is applied, but its commit is "not seen in time".
      return args[0] === "RAFTKV.SESSION" && timeouts-- > 0 ? TIMEOUT : reply;
    });
    const c = client({ nodes: [node.address] });
    assert.equal(await c.incr("counter"), 1n);
    assert.deepEqual(sessionIds(node), ["1/1", "1/1"]);
    assert.equal(store.data.get("counter"), "1");
    assert.equal(store.applied.get("1/1"), 1);
    // The next write moves on to the next seq.
    assert.equal(await c.incr("counter"), 2n);
    assert.deepEqual(sessionIds(node), ["1/1", "1/1", "1/2"]);
  });

  test("a write whose connection is lost after sending is retried with the same seq, on the new leader", async () => {
    const store = new FakeStore();
    let leader: FakeNode | null = null;
    const old = await fake((args) => {
      if (args[0] !== "RAFTKV.SESSION") return store.apply(args);
      // Applied (the entry was committed), then the old leader died before answering.
      store.apply(args);
      leader = fresh;
      return "close";
    });
    const fresh = await fake((args) => (leader === fresh ? store.apply(args) : moved(old)));
    const c = client({ nodes: [old.address, fresh.address] });
    assert.equal(await c.incr("n"), 1n);
    assert.deepEqual(sessionIds(old), ["1/1"]);
    assert.deepEqual(sessionIds(fresh), ["1/1"]);
    assert.equal(store.applied.get("1/1"), 1);
    assert.equal(store.data.get("n"), "1");
  });

  test("a write that never gets a clear answer ends in UnavailableError with outcomeUnknown", async () => {
    const store = new FakeStore();
    const node = await fake((args) => (args[0] === "RAFTKV.SESSION" ? TIMEOUT : store.apply(args)));
    const c = client({ nodes: [node.address], timeoutMs: 300 });
    await assert.rejects(c.set("k", "v"), (err: unknown) => err instanceof UnavailableError && err.outcomeUnknown && /may or may not have been applied/.test(err.message));
    // Every attempt carried the same seq.
    assert.ok(sessionIds(node).length >= 2);
    assert.ok(sessionIds(node).every((id) => id === "1/1"));
  });

  test("SESSIONEXPIRED on a first attempt: the write was refused, so the client registers again and retries", async () => {
    const store = new FakeStore();
    const node = await fake((args) => store.apply(args));
    const c = client({ nodes: [node.address] });
    await c.set("a", "1");
    store.expire(1);
    await c.set("b", "2");
    assert.equal(node.commands("RAFTKV.REGISTER").length, 2);
    assert.deepEqual(sessionIds(node), ["1/1", "1/2", "2/1"]);
    assert.equal(store.data.get("b"), "2");
  });

  test("SESSIONEXPIRED after an attempt that may have applied: UnknownOutcomeError, and the next write registers again", async () => {
    const store = new FakeStore();
    let attempts = 0;
    const node = await fake((args) => {
      if (args[0] !== "RAFTKV.SESSION") return store.apply(args);
      attempts++;
      if (attempts === 1) {
        // Applied, answer lost; then the session is evicted before the retry arrives.
        store.apply(args);
        store.expire(Number(args[1]));
        return TIMEOUT;
      }
      return store.apply(args);
    });
    const c = client({ nodes: [node.address] });
    await assert.rejects(c.incr("n"), (err: unknown) => err instanceof UnknownOutcomeError && /may or may not have been applied/.test(err.message));
    assert.equal(store.data.get("n"), "1");
    assert.equal(await c.incr("n"), 2n);
    assert.deepEqual(sessionIds(node), ["1/1", "1/1", "2/1"]);
  });

  test("concurrent writes each use their own session, one write in flight per session", async () => {
    const store = new FakeStore();
    // A session is busy from the moment one of its writes arrives until that write is answered.
    const busy = new Set<string>();
    const overlaps: string[] = [];
    const node = await fake(async (args) => {
      if (args[0] !== "RAFTKV.SESSION") return store.apply(args);
      await new Promise((resolve) => setImmediate(resolve));
      busy.delete(args[1]!);
      return store.apply(args);
    });
    node.onArrival = (args) => {
      if (args[0] !== "RAFTKV.SESSION") return;
      if (busy.has(args[1]!)) overlaps.push(args[1]!);
      busy.add(args[1]!);
    };
    const c = client({ nodes: [node.address], maxConcurrentWrites: 3 });
    const results = await Promise.all(Array.from({ length: 30 }, () => c.incr("n")));
    assert.deepEqual(
      results.map(Number).sort((x, y) => x - y),
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    assert.deepEqual(overlaps, [], "two writes in flight in one session");
    assert.equal(node.commands("RAFTKV.REGISTER").length, 3);
    // Within each session, seqs run 1, 2, 3... with no gaps or repeats.
    const bySession = new Map<string, number[]>();
    for (const [, id, seq] of node.commands("RAFTKV.SESSION")) bySession.set(id!, [...(bySession.get(id!) ?? []), Number(seq)]);
    for (const [id, seqs] of bySession) assert.deepEqual(seqs, seqs.map((_, i) => i + 1), `session ${id}`);
  });
});

describe("RaftKvClient: replies and errors", () => {
  test("an -ERR reply surfaces as ServerError and is not retried", async () => {
    const store = new FakeStore();
    store.data.set("name", "alice");
    const node = await fake((args) => store.apply(args));
    const c = client({ nodes: [node.address] });
    await assert.rejects(c.incr("name"), (err: unknown) => err instanceof ServerError && err.code === "ERR" && err.message === "ERR value is not an integer or out of range");
    assert.equal(node.commands("RAFTKV.SESSION").length, 1);
  });

  test("del counts the keys that existed; command() sends anything, writes under the session", async () => {
    const store = new FakeStore();
    const node = await fake((args) => store.apply(args));
    const c = client({ nodes: [node.address] });
    await c.set("a", "1");
    await c.set("b", Buffer.from([0xff, 0x00]));
    assert.deepEqual(await c.get("b"), Buffer.from([0xff, 0x00]));
    assert.deepEqual(await c.command(["EXISTS", "a", "b", "c"]), integer(2));
    assert.equal(await c.del("a", "c"), 1);
    assert.deepEqual(await c.command(["set", "c", "3"]), simple("OK"));
    assert.deepEqual(sessionIds(node), ["1/1", "1/2", "1/3", "1/4"]);
    assert.deepEqual(node.commands("EXISTS"), [["EXISTS", "a", "b", "c"]]);
  });

  test("a reply of the wrong type is reported, not misread", async () => {
    const node = await fake(() => integer(5));
    const c = client({ nodes: [node.address] });
    await assert.rejects(c.get("k"), /GET: expected a bulk string from the server, got integer/);
  });

  test("a malformed MOVED is a ServerError, not a retry", async () => {
    const node = await fake(() => errorReply("MOVED somewhere"));
    const c = client({ nodes: [node.address] });
    await assert.rejects(c.get("k"), (err: unknown) => err instanceof ServerError && err.code === "MOVED");
    assert.equal(node.received.length, 1);
  });

  test("close() ends running operations with ClientClosedError, and later ones too", async () => {
    const node = await fake(() => "hang");
    const c = client({ nodes: [node.address] });
    const running = c.get("k");
    while (node.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    c.close();
    await assert.rejects(running, ClientClosedError);
    await assert.rejects(c.get("k"), ClientClosedError);
  });

  test("options are checked", () => {
    assert.throws(() => new RaftKvClient({ nodes: [] }), /at least one node/);
    assert.throws(() => new RaftKvClient({ nodes: [{ host: "127.0.0.1", port: 1 }], timeoutMs: 0 }), /timeoutMs must be a positive number/);
  });

  test("every command the state machine flags as a write goes through a session; no other does", () => {
    for (const [name, spec] of COMMANDS) {
      if (name.startsWith("raftkv.")) continue;
      assert.equal(isWriteCommand([name.toUpperCase()]), spec.flags.includes("write"), name);
    }
    assert.equal(isWriteCommand([Buffer.from("Incr")]), true);
  });

  test("reads and echoes pass through unchanged", async () => {
    const node = await fake((args) => bulkString(args.join(",")));
    const c = client({ nodes: [node.address] });
    assert.deepEqual(await c.command(["ECHO", "hi"]), bulkString("ECHO,hi"));
  });
});
