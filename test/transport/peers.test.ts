import assert from "node:assert/strict";
import net from "node:net";
import { after, describe, test } from "node:test";
import { EntryType, type Message, type NodeId } from "../../src/core/types.js";
import { encodeMessage } from "../../src/transport/codec.js";
import { FrameDecoder, encodeFrame } from "../../src/transport/framing.js";
import { decodeHello, encodeHello } from "../../src/transport/handshake.js";
import { PeerTransport, type Address, type PeerTransportOptions } from "../../src/transport/peers.js";
import { addressesFor, eventually, freePort, makePeer, type TestPeer } from "./support.js";

// Each test uses its own loopback addresses, so nodes have distinct network identities.

type Node = TestPeer;

const open: PeerTransport[] = [];
after(async () => {
  for (const t of open) await t.close();
});

function makeNode(id: NodeId, addresses: ReadonlyMap<NodeId, Address>, extra: Partial<PeerTransportOptions> = {}): Node {
  return makePeer(open, id, addresses, extra);
}

function vote(from: NodeId, to: NodeId, term = 1): Message {
  return { type: "RequestVote", from, to, term, preVote: false, transfer: false, lastLogIndex: 0, lastLogTerm: 0 };
}

function append(from: NodeId, to: NodeId, bytes: number): Message {
  const data = Buffer.alloc(bytes, 1);
  return { type: "AppendEntries", from, to, term: 1, prevLogIndex: 0, prevLogTerm: 0, leaderCommit: 0, seq: 1, entries: [{ index: 1, term: 1, type: EntryType.Normal, data }] };
}

/** A plain TCP server standing in for a peer, to see exactly what a transport sends. */
async function rawPeer(host: string, onSocket: (socket: net.Socket) => void): Promise<{ server: net.Server; address: Address }> {
  const server = net.createServer((socket) => {
    socket.on("error", () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return { server, address: { host, port: (server.address() as net.AddressInfo).port } };
}

describe("PeerTransport", () => {
  test("three nodes exchange messages, each from its own address", async () => {
    const addresses = await addressesFor({ 1: "127.0.0.11", 2: "127.0.0.12", 3: "127.0.0.13" });
    const nodes = [1, 2, 3].map((id) => makeNode(id, addresses));
    for (const n of nodes) await n.transport.start();
    for (const a of nodes) for (const b of nodes) if (a !== b) await eventually(() => a.transport.isConnected(b.id), `${a.id} -> ${b.id}`);

    for (const a of nodes) for (const b of nodes) if (a !== b) a.transport.send(vote(a.id, b.id, 10 * a.id + b.id));
    for (const n of nodes) await eventually(() => n.inbox.length === 2, `node ${n.id} receives two messages`);

    for (const n of nodes) {
      const terms = n.inbox.map((m) => m.term).sort();
      const others = nodes.filter((o) => o !== n).map((o) => 10 * o.id + n.id);
      assert.deepEqual(terms, others);
      assert.ok(n.inbox.every((m) => m.to === n.id && m.type === "RequestVote"));
      assert.equal(n.transport.stats.sent.RequestVote, 2);
      assert.equal(n.transport.stats.received.RequestVote, 2);
      assert.equal(n.transport.stats.dropped.RequestVote, 0);
      assert.ok(n.transport.stats.bytesSent > 0 && n.transport.stats.bytesReceived === n.transport.stats.bytesSent);
    }
  });

  test("delivers each peer's messages in order, large ones included", async () => {
    const addresses = await addressesFor({ 1: "127.0.0.14", 2: "127.0.0.15" });
    const [a, b] = [makeNode(1, addresses), makeNode(2, addresses)];
    await a!.transport.start();
    await b!.transport.start();
    await eventually(() => a!.transport.isConnected(2), "1 -> 2");
    const sizes = [0, 10, 5 << 20, 1, 100_000, 0];
    for (const size of sizes) a!.transport.send(append(1, 2, size));
    await eventually(() => b!.inbox.length === sizes.length, "all appends");
    assert.deepEqual(
      b!.inbox.map((m) => (m.type === "AppendEntries" ? m.entries[0]!.data.length : -1)),
      sizes,
    );
  });

  test("binds outgoing connections to the node's own host and opens with a hello", async () => {
    let remoteAddress: string | undefined;
    const hellos: unknown[] = [];
    const peer = await rawPeer("127.0.0.21", (socket) => {
      remoteAddress = socket.remoteAddress;
      const decoder = new FrameDecoder(1 << 20);
      socket.on("data", (chunk) => decoder.push(chunk, (f) => hellos.push(decodeHello(f))));
    });
    const addresses = new Map<NodeId, Address>([
      [1, { host: "127.0.0.22", port: await freePort("127.0.0.22") }],
      [2, peer.address],
    ]);
    const node = makeNode(1, addresses);
    await node.transport.start();
    await eventually(() => hellos.length === 1, "a hello");
    assert.equal(remoteAddress, "127.0.0.22");
    assert.deepEqual(
      hellos.map((h) => ({ ...(h as object), nonce: undefined })),
      [{ from: 1, to: 2, auth: false, nonce: undefined }],
    );
    peer.server.close();
  });

  test("reaches a peer that starts late", async () => {
    const addresses = await addressesFor({ 1: "127.0.0.31", 2: "127.0.0.32" });
    const a = makeNode(1, addresses);
    await a.transport.start();
    a.transport.send(vote(1, 2));
    assert.equal(a.transport.stats.dropped.RequestVote, 1, "nobody to send to yet");

    const b = makeNode(2, addresses);
    await b.transport.start();
    await eventually(() => a.transport.isConnected(2), "1 reconnects to 2");
    a.transport.send(vote(1, 2, 5));
    await eventually(() => b.inbox.length === 1, "the message arrives");
    assert.equal(b.inbox[0]!.term, 5);
  });

  test("reconnects to a peer that closed and came back", async () => {
    const addresses = await addressesFor({ 1: "127.0.0.41", 2: "127.0.0.42" });
    const a = makeNode(1, addresses);
    const b = makeNode(2, addresses);
    await a.transport.start();
    await b.transport.start();
    await eventually(() => a.transport.isConnected(2), "connected");

    await b.transport.close();
    await eventually(() => !a.transport.isConnected(2), "disconnect noticed");
    const b2 = makeNode(2, addresses);
    await b2.transport.start();
    await eventually(() => a.transport.isConnected(2) && b2.transport.isConnected(1), "reconnected both ways");
    a.transport.send(vote(1, 2, 8));
    b2.transport.send(vote(2, 1, 9));
    await eventually(() => b2.inbox.length === 1 && a.inbox.length === 1, "messages after the restart");
    assert.deepEqual([b2.inbox[0]!.term, a.inbox[0]!.term], [8, 9]);
  });

  test("sends to a dead peer neither throw nor block: they are dropped and counted", async () => {
    const addresses = await addressesFor({ 1: "127.0.0.51", 2: "127.0.0.52" });
    const a = makeNode(1, addresses);
    await a.transport.start();
    for (let i = 0; i < 10_000; i++) a.transport.send(vote(1, 2));
    assert.equal(a.transport.stats.dropped.RequestVote, 10_000);
    assert.equal(a.transport.stats.sent.RequestVote, 0);
  });

  test("caps the bytes buffered for a peer that stops reading, then redials it", async () => {
    const peer = await rawPeer("127.0.0.61", (socket) => socket.pause());
    const addresses = new Map<NodeId, Address>([
      [1, { host: "127.0.0.62", port: await freePort("127.0.0.62") }],
      [2, peer.address],
    ]);
    const a = makeNode(1, addresses, { maxBufferedBytes: 4 << 20, timeoutMs: 300 });
    await a.transport.start();
    await eventually(() => a.transport.isConnected(2), "connected");
    // Far more than loopback socket buffers hold: once they are full, the cap must drop the rest.
    for (let i = 0; i < 200; i++) a.transport.send(append(1, 2, 1 << 20));
    const { sent, dropped } = a.transport.stats;
    assert.equal(sent.AppendEntries + dropped.AppendEntries, 200);
    assert.ok(dropped.AppendEntries > 0, "some messages were dropped");
    // Keep writing until the socket buffers are full and the connection makes no progress.
    const stalled = () => a.lines.some((l) => l.event === "peer_connection_stalled");
    await eventually(() => (a.transport.send(append(1, 2, 1 << 20)), stalled()), "the stalled connection is closed");
    await eventually(() => a.transport.isConnected(2), "redialled");
    peer.server.close();
  });

  test("refuses connections that do not introduce themselves properly", async () => {
    const addresses = await addressesFor({ 1: "127.0.0.71", 2: "127.0.0.72" });
    const a = makeNode(1, addresses);
    await a.transport.start();
    const { host, port } = addresses.get(1)!;

    const attempts: Array<[string, Buffer]> = [
      ["garbage", Buffer.from("GET / HTTP/1.1\r\n\r\n")],
      ["hello to the wrong node", encodeFrame(encodeHello({ from: 2, to: 3 }))],
      ["hello from a stranger", encodeFrame(encodeHello({ from: 9, to: 1 }))],
      ["a message that lies about its sender", Buffer.concat([encodeFrame(encodeHello({ from: 2, to: 1 })), encodeFrame(encodeMessage(vote(3, 1)))])],
      ["an undecodable message", Buffer.concat([encodeFrame(encodeHello({ from: 2, to: 1 })), encodeFrame(Buffer.from([42, 0, 0]))])],
    ];
    for (const [what, bytes] of attempts) {
      const socket = net.connect({ host, port, localAddress: "127.0.0.72" });
      socket.on("error", () => {});
      socket.write(bytes);
      await new Promise((resolve) => socket.on("close", resolve));
      assert.equal(a.inbox.length, 0, what);
    }
    // (Node 1's own dialling of the absent node 2 logs too; only the refusals matter here.)
    const events = a.lines.filter((l) => l.level !== "debug" && l.event !== "peer_connection_error").map((l) => l.event);
    assert.deepEqual(events, ["peer_hello_refused", "peer_hello_refused", "peer_hello_refused", "peer_misaddressed_message", "peer_bad_message"]);
    // The garbage (its first bytes read as a huge frame length) is a refused hello, a warning that says so: not an error about frame sizes.
    const garbage = a.lines.find((l) => l.event === "peer_hello_refused")!;
    assert.equal(garbage.level, "warn");
    assert.match(String(garbage.error), /not a raftkv peer hello \(they announce a frame of 1195725856 bytes\)/);
  });

  test("drops a message larger than the frame limit, with an error logged", async () => {
    const addresses = await addressesFor({ 1: "127.0.0.81", 2: "127.0.0.82" });
    const a = makeNode(1, addresses, { maxFrameBytes: 1000 });
    const b = makeNode(2, addresses);
    await a.transport.start();
    await b.transport.start();
    await eventually(() => a.transport.isConnected(2), "connected");
    a.transport.send(append(1, 2, 2000));
    assert.equal(a.transport.stats.dropped.AppendEntries, 1);
    assert.ok(a.lines.some((l) => l.event === "peer_message_too_large" && l.level === "error"));
  });

  test("sendAll: one socket write per peer, each peer's messages in order, an oversized one dropped alone", async () => {
    const addresses = await addressesFor({ 1: "127.0.0.111", 2: "127.0.0.112", 3: "127.0.0.113" });
    const a = makeNode(1, addresses, { maxFrameBytes: 10_000 });
    const [b, c] = [makeNode(2, addresses), makeNode(3, addresses)];
    for (const n of [a, b, c]) await n.transport.start();
    await eventually(() => a.transport.isConnected(2) && a.transport.isConnected(3), "connected");
    const writes = a.transport.stats.writes;
    const batch = [append(1, 2, 10), vote(1, 3, 7), append(1, 2, 20_000), append(1, 3, 30), vote(1, 2, 9), append(1, 2, 40)];
    a.transport.sendAll(batch);
    assert.equal(a.transport.stats.writes - writes, 2, "one write per peer");
    assert.equal(a.transport.stats.dropped.AppendEntries, 1, "the message over the frame limit");
    assert.equal(a.transport.stats.sent.AppendEntries + a.transport.stats.sent.RequestVote, 5);
    await eventually(() => b.inbox.length === 3 && c.inbox.length === 2, "delivered");
    const shape = (m: Message) => (m.type === "AppendEntries" ? `append ${m.entries[0]!.data.length}` : `vote ${m.term}`);
    assert.deepEqual(b.inbox.map(shape), ["append 10", "vote 9", "append 40"]);
    assert.deepEqual(c.inbox.map(shape), ["vote 7", "append 30"]);
    // A message to a node that is not a member (any more) is dropped like one to an unreachable peer.
    const dropped = a.transport.stats.dropped.RequestVote;
    a.transport.sendAll([vote(1, 2), vote(1, 5)]);
    assert.equal(a.transport.stats.dropped.RequestVote, dropped + 1);
    await eventually(() => b.inbox.length === 4, "the member's message still delivered");
  });

  test("refuses to send as another node; drops (and counts) a message to a node that is not a member", async () => {
    const addresses = await addressesFor({ 1: "127.0.0.91", 2: "127.0.0.92" });
    const a = makeNode(1, addresses);
    a.transport.send(vote(1, 5));
    assert.equal(a.transport.stats.dropped.RequestVote, 1);
    assert.throws(() => a.transport.send(vote(2, 1)), /cannot send a message from 2/);
    assert.throws(() => a.transport.sendAll([vote(1, 2), vote(2, 1)]), /cannot send a message from 2/);
  });

  test("setPeers: a new member is dialled and heard; a member that left is hung up on and its hellos refused", async () => {
    const addresses = await addressesFor({ 1: "127.0.0.131", 2: "127.0.0.132", 3: "127.0.0.133" });
    // Node 1 starts knowing only node 2; node 3 (a joiner) knows everybody.
    const a = makeNode(1, new Map([...addresses].filter(([id]) => id !== 3)));
    const b = makeNode(2, addresses);
    const c = makeNode(3, addresses);
    for (const n of [a, b, c]) await n.transport.start();
    await eventually(() => a.transport.isConnected(2), "1 -> 2");
    c.transport.send(vote(3, 1, 7));
    await eventually(() => a.lines.some((l) => l.event === "peer_hello_refused" && /node 3 is not a member/.test(String(l.error))), "node 3 refused while not a member");
    assert.equal(a.inbox.length, 0);

    a.transport.setPeers(addresses);
    assert.deepEqual(a.transport.peerIds.sort(), [2, 3]);
    await eventually(() => a.transport.isConnected(3), "1 -> 3 once a member");
    await eventually(() => {
      if (c.transport.isConnected(1)) c.transport.send(vote(3, 1, 8));
      return a.inbox.some((m) => m.from === 3 && m.term === 8);
    }, "node 3 heard once a member");

    // Node 2 leaves: node 1 hangs up both ways and refuses its hellos.
    a.transport.setPeers(new Map([...addresses].filter(([id]) => id !== 2)));
    assert.deepEqual(a.transport.peerIds, [3]);
    // Node 2 redials (its connection was cut) and is refused.
    await eventually(() => a.lines.some((l) => l.event === "peer_hello_refused" && /node 2 is not a member/.test(String(l.error))), "node 2's hello refused");
    assert.equal(b.transport.isConnected(1), false);
    assert.equal(a.inbox.filter((m) => m.from === 2).length, 0, "nothing from the node that left");
    a.transport.send(vote(1, 2));
    assert.ok(a.transport.stats.dropped.RequestVote >= 1);
  });
});
