// Peer authentication (docs/SECURITY.md): with a cluster secret, a connection
// speaks for a node only after proving it holds the secret; without one, only
// from that node's own host. Each attack here was found against a real
// cluster (issue 11) and must stay refused.

import assert from "node:assert/strict";
import net from "node:net";
import { after, describe, test } from "node:test";
import type { Message, NodeId } from "../../src/core/types.js";
import { encodeMessage } from "../../src/transport/codec.js";
import { FrameDecoder, encodeFrame } from "../../src/transport/framing.js";
import { PeerSecret, decodeHello, encodeHello, freshNonce } from "../../src/transport/handshake.js";
import { PeerTransport, sameHost, type Address, type PeerTransportOptions } from "../../src/transport/peers.js";
import { addressesFor, eventually, makePeer, timeoutNow, type TestPeer } from "./support.js";

const SECRET = Buffer.from("correct horse battery staple 42");

type Node = TestPeer;

const open: PeerTransport[] = [];
const sockets: net.Socket[] = [];
after(async () => {
  for (const s of sockets) s.destroy();
  for (const t of open) await t.close();
});

function makeNode(id: NodeId, addresses: ReadonlyMap<NodeId, Address>, extra: Partial<PeerTransportOptions> = {}): Node {
  return makePeer(open, id, addresses, extra);
}

function transferVote(from: NodeId, to: NodeId, term: number): Message {
  return { type: "RequestVote", from, to, term, preVote: false, transfer: true, lastLogIndex: 1_000_000, lastLogTerm: term };
}

/** A raw connection to `to`, from `localAddress`; collects the frames it gets back. */
async function dial(to: Address, localAddress: string): Promise<{ socket: net.Socket; frames: Buffer[]; closed: Promise<void> }> {
  const socket = net.connect({ host: to.host, port: to.port, localAddress });
  sockets.push(socket);
  socket.on("error", () => {});
  const frames: Buffer[] = [];
  const decoder = new FrameDecoder(1 << 20);
  socket.on("data", (chunk) => decoder.push(chunk, (f) => frames.push(Buffer.from(f))));
  // A liveness guard, not a timing check: a connection that should be refused must not be kept.
  const closed = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("the connection was not closed (was it accepted?)")), 10_000);
    socket.on("close", () => {
      clearTimeout(t);
      resolve();
    });
  });
  closed.catch(() => {});
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { socket, frames, closed };
}

describe("peer authentication with a cluster secret", () => {
  test("nodes with the same secret connect both ways and exchange messages", async () => {
    const addresses = await addressesFor({ 1: "127.0.1.11", 2: "127.0.1.12", 3: "127.0.1.13" });
    const nodes = [1, 2, 3].map((id) => makeNode(id, addresses, { secret: SECRET }));
    for (const n of nodes) await n.transport.start();
    for (const a of nodes) for (const b of nodes) if (a !== b) await eventually(() => a.transport.isConnected(b.id), `${a.id} -> ${b.id}`);
    for (const a of nodes) for (const b of nodes) if (a !== b) a.transport.send(timeoutNow(a.id, b.id, 10 * a.id + b.id));
    for (const n of nodes) await eventually(() => n.inbox.length === 2, `node ${n.id} receives two messages`);
    for (const n of nodes) assert.equal(n.transport.stats.refusedConnections, 0);
  });

  test("a node with another secret is never connected to, and says so", async () => {
    const addresses = await addressesFor({ 1: "127.0.1.21", 2: "127.0.1.22" });
    const a = makeNode(1, addresses, { secret: SECRET });
    const b = makeNode(2, addresses, { secret: Buffer.from("a different secret of some length") });
    await a.transport.start();
    await b.transport.start();
    await eventually(() => a.lines.some((l) => l.event === "peer_auth_failed") && b.lines.some((l) => l.event === "peer_auth_failed"), "both dialers notice");
    await eventually(() => a.transport.stats.refusedConnections > 0 && b.transport.stats.refusedConnections > 0, "both listeners refuse");
    assert.ok(!a.transport.isConnected(2) && !b.transport.isConnected(1));
    a.transport.send(timeoutNow(1, 2));
    assert.equal(a.transport.stats.dropped.TimeoutNow, 1, "nothing is sent to a node that did not prove the secret");
    assert.equal(b.inbox.length + a.inbox.length, 0);
  });

  test("a node without the secret is refused, with a message that names the mismatch", async () => {
    const addresses = await addressesFor({ 1: "127.0.1.31", 2: "127.0.1.32" });
    const a = makeNode(1, addresses, { secret: SECRET });
    const b = makeNode(2, addresses);
    await a.transport.start();
    await b.transport.start();
    await eventually(() => a.lines.some((l) => l.event === "peer_hello_refused" && String(l.error).includes("has no cluster secret")), "node 1 refuses node 2");
    await eventually(() => b.lines.some((l) => l.event === "peer_hello_refused" && String(l.error).includes("has a cluster secret")), "node 2 refuses node 1");
    b.transport.send(timeoutNow(2, 1));
    await eventually(() => a.transport.stats.refusedConnections >= 2, "redials keep being refused");
    assert.equal(a.inbox.length, 0);
  });

  test("forged messages without the secret are refused: AppendEntries, TimeoutNow, a transfer RequestVote", async () => {
    const addresses = await addressesFor({ 1: "127.0.1.41", 2: "127.0.1.42" });
    const a = makeNode(1, addresses, { secret: SECRET });
    await a.transport.start();
    const forged: Message[] = [
      { type: "AppendEntries", from: 2, to: 1, term: 5, prevLogIndex: 0, prevLogTerm: 0, leaderCommit: 0, seq: 1, entries: [{ index: 1, term: 5, type: 0, data: Buffer.from("forged") }] },
      timeoutNow(2, 1, 5),
      transferVote(2, 1, 1000),
    ];
    // From node 2's own address, claiming to be node 2: the address proves nothing once there is a secret.
    for (const m of forged) {
      for (const proof of [Buffer.alloc(32), null]) {
        const { socket, frames, closed } = await dial(addresses.get(1)!, "127.0.1.42");
        socket.write(encodeFrame(encodeHello({ from: 2, to: 1, auth: true })));
        await eventually(() => frames.length === 1, "the challenge");
        // A wrong proof, or none at all: the message goes right after the hello.
        if (proof !== null) socket.write(encodeFrame(proof));
        socket.write(encodeFrame(encodeMessage(m)));
        await closed;
      }
      // And claiming to have no secret.
      const { socket, closed } = await dial(addresses.get(1)!, "127.0.1.42");
      socket.write(Buffer.concat([encodeFrame(encodeHello({ from: 2, to: 1, auth: false })), encodeFrame(encodeMessage(m))]));
      await closed;
    }
    assert.equal(a.inbox.length, 0);
    assert.equal(a.transport.stats.refusedConnections, 9);
    const received = a.transport.stats.received;
    assert.equal(received.AppendEntries + received.TimeoutNow + received.RequestVote, 0);
  });

  test("a refused hello followed at once by a large message is logged for what it was, not as a stranger's bytes", async () => {
    const addresses = await addressesFor({ 1: "127.0.1.61", 2: "127.0.1.62" });
    const a = makeNode(1, addresses);
    await a.transport.start();
    // Node 9 is no member here; a leader that does not know that writes its hello and an AppendEntries together.
    const big: Message = { type: "AppendEntries", from: 9, to: 1, term: 5, prevLogIndex: 0, prevLogTerm: 0, leaderCommit: 0, seq: 1, entries: [{ index: 1, term: 5, type: 0, data: Buffer.alloc(10_000) }] };
    for (let i = 0; i < 2; i++) {
      const { socket, closed } = await dial(addresses.get(1)!, "127.0.1.63");
      socket.write(Buffer.concat([encodeFrame(encodeHello({ from: 9, to: 1, auth: false })), encodeFrame(encodeMessage(big))]));
      await closed;
    }
    const refusals = a.lines.filter((l) => l.event === "peer_hello_refused").map((l) => String(l.error));
    assert.equal(refusals.length, 2, JSON.stringify(refusals));
    assert.ok(refusals.every((e) => e === "node 9 is not a member of this node's cluster configuration"), JSON.stringify(refusals));
    assert.equal(a.inbox.length, 0);
  });

  test("an authenticated connection speaks only for the node it proved to be", async () => {
    const addresses = await addressesFor({ 1: "127.0.1.51", 2: "127.0.1.52", 3: "127.0.1.53" });
    const a = makeNode(1, addresses, { secret: SECRET });
    await a.transport.start();
    const secret = new PeerSecret(SECRET);
    const { socket, frames, closed } = await dial(addresses.get(1)!, "127.0.1.52");
    const helloBytes = encodeHello({ from: 2, to: 1, auth: true });
    socket.write(encodeFrame(helloBytes));
    await eventually(() => frames.length === 1, "the challenge");
    const proof = secret.answer(decodeHello(helloBytes), frames[0]!);
    assert.ok(proof !== null, "node 1 proved it holds the secret");
    socket.write(encodeFrame(proof));
    socket.write(encodeFrame(encodeMessage(timeoutNow(2, 1, 7))));
    await eventually(() => a.inbox.length === 1, "node 2's own message is taken");
    // Now as node 3, on node 2's connection.
    socket.write(encodeFrame(encodeMessage(transferVote(3, 1, 1000))));
    await closed;
    assert.equal(a.inbox.length, 1);
    assert.equal(a.transport.stats.rejectedMessages, 1);
  });

  test("a recorded proof cannot be replayed, and the listener's proof cannot be reflected", () => {
    const secret = new PeerSecret(SECRET);
    const hello = decodeHello(encodeHello({ from: 2, to: 1, auth: true }));
    const n1 = freshNonce();
    const challenge = secret.challenge(hello, n1);
    const proof = secret.answer(hello, challenge)!;
    assert.ok(secret.verify(hello, n1, proof));
    assert.ok(!secret.verify(hello, freshNonce(), proof), "another connection's nonce");
    assert.ok(!secret.verify(hello, n1, challenge.subarray(32)), "the listener's own proof sent back");
    assert.ok(!secret.verify({ ...hello, from: 3 }, n1, proof), "another sender");
    assert.equal(new PeerSecret(Buffer.from("wrong")).answer(hello, challenge), null, "a dialer with another secret refuses the challenge");
    const tampered = Buffer.from(challenge);
    tampered[40]! ^= 1;
    assert.equal(secret.answer(hello, tampered), null);
  });

  test("hello spam claiming a member neither replaces its connection nor holds sockets", async () => {
    const addresses = await addressesFor({ 1: "127.0.1.61", 2: "127.0.1.62" });
    const a = makeNode(1, addresses, { secret: SECRET, maxHandshakes: 8 });
    const b = makeNode(2, addresses, { secret: SECRET });
    await a.transport.start();
    await b.transport.start();
    await eventually(() => b.transport.isConnected(1), "2 -> 1");
    // 40 connections claiming node 2 that never finish the handshake.
    const spam = await Promise.all(Array.from({ length: 40 }, () => dial(addresses.get(1)!, "127.0.1.62")));
    for (const s of spam) s.socket.write(encodeFrame(encodeHello({ from: 2, to: 1, auth: true })));
    await eventually(() => a.transport.stats.refusedConnections >= 32, "connections past the handshake cap are closed at once");
    b.transport.send(timeoutNow(2, 1, 3));
    await eventually(() => a.inbox.length === 1, "node 2's message arrives");
    assert.ok(!b.lines.some((l) => l.event === "peer_disconnected"), "node 2's connection was never replaced");
  });
});

describe("peers without a cluster secret", () => {
  test("a hello claiming a member from another host is refused", async () => {
    const addresses = await addressesFor({ 1: "127.0.1.71", 2: "127.0.1.72" });
    const a = makeNode(1, addresses);
    await a.transport.start();
    const { socket, closed } = await dial(addresses.get(1)!, "127.0.0.1");
    socket.write(Buffer.concat([encodeFrame(encodeHello({ from: 2, to: 1 })), encodeFrame(encodeMessage(timeoutNow(2, 1)))]));
    await closed;
    assert.equal(a.inbox.length, 0);
    assert.ok(a.lines.some((l) => l.event === "peer_hello_refused" && String(l.error).includes("came from 127.0.0.1")));
  });

  test("hello spam from the member's host does not cut the member off", async () => {
    const addresses = await addressesFor({ 1: "127.0.1.81", 2: "127.0.1.82" });
    const a = makeNode(1, addresses);
    const b = makeNode(2, addresses);
    await a.transport.start();
    await b.transport.start();
    await eventually(() => b.transport.isConnected(1), "2 -> 1");
    for (let i = 0; i < 20; i++) {
      const { socket, closed } = await dial(addresses.get(1)!, "127.0.0.1");
      socket.write(encodeFrame(encodeHello({ from: 2, to: 1 })));
      await closed;
    }
    b.transport.send(timeoutNow(2, 1, 3));
    await eventually(() => a.inbox.length === 1, "node 2's message arrives");
    assert.ok(!b.lines.some((l) => l.event === "peer_disconnected"));
  });

  test("sameHost compares IP addresses, IPv4-mapped forms included, and cannot check names", () => {
    assert.ok(sameHost("::ffff:127.0.0.5", "127.0.0.5"));
    assert.ok(sameHost("127.0.0.5", "127.0.0.5"));
    assert.ok(!sameHost("127.0.0.1", "127.0.0.5"));
    assert.ok(!sameHost(undefined, "127.0.0.5"));
    assert.ok(sameHost("10.1.2.3", "node2.example"));
    assert.ok(sameHost("10.1.2.3", "0.0.0.0"));
  });
});
