// Mutual TLS on the peer port (docs/SECURITY.md): both ends show a
// certificate signed by the cluster's CA that names the peer host the
// cluster file gives them; alone or together with the cluster secret.
// Certificates are made by openssl for this file (test/helpers/certs.ts).

import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { NodeId } from "../../src/core/types.js";
import { encodeFrame } from "../../src/transport/framing.js";
import { encodeHello } from "../../src/transport/handshake.js";
import { PeerTransport, type Address, type PeerTls, type PeerTransportOptions } from "../../src/transport/peers.js";
import { TestCa } from "../helpers/certs.js";
import { addressesFor, eventually, makePeer, timeoutNow, type TestPeer } from "./support.js";

const SECRET = Buffer.from("correct horse battery staple 42");
const HOSTS = ["127.0.2.11", "127.0.2.12", "127.0.2.13", "127.0.2.21", "127.0.2.22", "127.0.2.31", "127.0.2.32", "127.0.2.41", "127.0.2.42", "127.0.2.51", "127.0.2.52", "127.0.2.61"];

let ca: TestCa;
let otherCa: TestCa;
/** A certificate for each host, signed by the cluster's CA. */
const material = new Map<string, PeerTls>();
let caPem: Buffer;

before(() => {
  ca = TestCa.create("raftkv cluster CA");
  otherCa = TestCa.create("some other CA");
  caPem = readFileSync(ca.pem);
  for (const h of HOSTS) material.set(h, load(ca.issue(`node-${h}`, [`IP:${h}`]), caPem));
});

const open: PeerTransport[] = [];
const sockets: net.Socket[] = [];
after(async () => {
  for (const s of sockets) s.destroy();
  for (const t of open) await t.close();
  ca?.dispose();
  otherCa?.dispose();
});

function load(c: { cert: string; key: string }, caBytes: Buffer): PeerTls {
  return { cert: readFileSync(c.cert), key: readFileSync(c.key), ca: caBytes };
}

type Node = TestPeer;

function makeNode(id: NodeId, addresses: ReadonlyMap<NodeId, Address>, extra: Partial<PeerTransportOptions> = {}): Node {
  return makePeer(open, id, addresses, { tls: material.get(addresses.get(id)!.host)!, ...extra });
}

async function allConnected(nodes: readonly Node[]): Promise<void> {
  for (const a of nodes) for (const b of nodes) if (a !== b) await eventually(() => a.transport.isConnected(b.id), `${a.id} -> ${b.id}`);
}

/** Resolves when the server closes `socket`; fails the test if it is still open after 10 s (a liveness guard). */
function closedByServer(socket: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve();
    const t = setTimeout(() => reject(new Error("the connection was not closed")), 10_000);
    socket.on("close", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

describe("peer TLS", () => {
  for (const withSecret of [false, true]) {
    test(`nodes with certificates from the cluster's CA connect and exchange messages (${withSecret ? "with" : "without"} the cluster secret)`, async () => {
      const addresses = await addressesFor(withSecret ? { 1: "127.0.2.21", 2: "127.0.2.22" } : { 1: "127.0.2.11", 2: "127.0.2.12", 3: "127.0.2.13" });
      const nodes = [...addresses.keys()].map((id) => makeNode(id, addresses, withSecret ? { secret: SECRET } : {}));
      for (const n of nodes) await n.transport.start();
      await allConnected(nodes);
      for (const a of nodes) for (const b of nodes) if (a !== b) a.transport.send(timeoutNow(a.id, b.id, 10 * a.id + b.id));
      for (const n of nodes) await eventually(() => n.inbox.length === nodes.length - 1, `node ${n.id} receives its messages`);
      for (const n of nodes) assert.equal(n.transport.stats.refusedConnections, 0);
    });
  }

  test("a node whose certificate comes from another CA is refused both ways", async () => {
    const addresses = await addressesFor({ 1: "127.0.2.31", 2: "127.0.2.32" });
    const a = makeNode(1, addresses);
    // The right host in it, the right CA to check others with, but signed by someone else.
    const b = makeNode(2, addresses, { tls: { ...load(otherCa.issue("impostor-32", ["IP:127.0.2.32"]), caPem) } });
    await a.transport.start();
    await b.transport.start();
    await eventually(() => a.transport.stats.refusedConnections >= 2, "node 1 refuses node 2's connections");
    await eventually(() => b.transport.stats.refusedConnections >= 1 || b.lines.some((l) => l.event === "peer_tls_refused"), "node 2 refuses node 1 (it trusts only its own CA)");
    await eventually(() => a.lines.some((l) => l.event === "peer_connection_error"), "node 1 does not trust node 2's certificate");
    // Node 1 checks node 2's certificate before it counts as connected. (Node 2 may count its link as up for a moment:
    // in TLS 1.3 the listener refuses a client certificate after the dialler's handshake is done; what it sends then is never read.)
    assert.ok(!a.transport.isConnected(2));
    // Node 2 keeps sending (each poll), so it keeps redialling: no fixed pause, the condition is waited for.
    await eventually(() => (b.transport.send(timeoutNow(2, 1)), a.transport.stats.refusedConnections >= 4), "node 2's redials refused too");
    assert.equal(a.inbox.length + b.inbox.length, 0);
  });

  test("a certificate from the CA for another node's host cannot speak for this node", async () => {
    // Node 2 holds a valid certificate, but it names node 3's host: the hello "I am node 2" does not match it.
    const addresses = await addressesFor({ 1: "127.0.2.41", 2: "127.0.2.42", 3: "127.0.2.13" });
    const a = makeNode(1, new Map([...addresses].filter(([id]) => id !== 3)));
    const b = makeNode(2, new Map([...addresses].filter(([id]) => id !== 3)), { tls: material.get("127.0.2.13")! });
    await a.transport.start();
    await b.transport.start();
    await eventually(() => a.lines.some((l) => l.event === "peer_hello_refused" && String(l.error).includes("not for node 2's peer host 127.0.2.42")), "node 1 refuses the hello");
    // Dialling node 2, node 1 finds a certificate that does not name the host it dialled.
    await eventually(() => a.lines.some((l) => l.event === "peer_connection_error" && /127\.0\.2\.42/.test(String(l.error))), "node 1 does not accept node 2's certificate");
    assert.ok(!a.transport.isConnected(2));
    b.transport.send(timeoutNow(2, 1));
    await eventually(() => a.transport.stats.refusedConnections >= 2, "refused again and again");
    assert.equal(a.inbox.length, 0);
  });

  test("plain TCP to a TLS peer port, and a handshake that never finishes, are closed; the real peers carry on", async () => {
    const addresses = await addressesFor({ 1: "127.0.2.51", 2: "127.0.2.52" });
    const nodes = [1, 2].map((id) => makeNode(id, addresses, { timeoutMs: 500, maxHandshakes: 4 }));
    for (const n of nodes) await n.transport.start();
    await allConnected(nodes);
    const to = addresses.get(1)!;
    // A raftkv hello in the clear: not TLS.
    const plain = net.connect({ host: to.host, port: to.port, localAddress: "127.0.2.52" });
    sockets.push(plain);
    plain.on("error", () => {});
    plain.on("connect", () => plain.write(encodeFrame(encodeHello({ from: 2, to: 1, auth: false }))));
    // Slowloris: TCP connections that never start their TLS handshake, more than the handshakes allowed.
    const idle = Array.from({ length: 12 }, () => {
      const s = net.connect({ host: to.host, port: to.port });
      s.on("error", () => {});
      sockets.push(s);
      return s;
    });
    await closedByServer(plain);
    await Promise.all(idle.map(closedByServer));
    // The node still takes its real peer: a fresh connection after the old one is cut.
    const before = nodes[0]!.inbox.length;
    nodes[1]!.transport.send(timeoutNow(2, 1, 7));
    await eventually(() => nodes[0]!.inbox.length === before + 1, "a message from the real peer after the attack");
    assert.ok(nodes[0]!.transport.stats.refusedConnections >= 13);
  });

  test("a client of the peer port without a certificate is refused", async () => {
    const addresses = await addressesFor({ 1: "127.0.2.61" });
    const a = makeNode(1, addresses);
    await a.transport.start();
    const to = addresses.get(1)!;
    const s = tls.connect({ host: to.host, port: to.port, ca: caPem });
    sockets.push(s);
    s.on("error", () => {});
    await closedByServer(s);
    await eventually(() => a.transport.stats.refusedConnections >= 1 && a.lines.some((l) => l.event === "peer_tls_refused"), "refused and logged");
  });
});
