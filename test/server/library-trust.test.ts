// The library's ReplicatedNode reads the cluster file's secretFile, tls and
// adminTokenFile as `raftkv server` does (one code path:
// src/server/credentials.ts): a library node is a member of a cluster of
// raftkv servers that speak mutual TLS and prove the cluster secret, and it
// refuses a peer that does not (issue 11).

import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Message } from "../../src/core/types.js";
import { RaftKvClient } from "../../src/client/client.js";
import { ConfigError } from "../../src/server/config.js";
import { startNode, type StateMachine } from "../../src/server/service.js";
import { encodeMessage } from "../../src/transport/codec.js";
import { MAX_REPLICABLE_ENTRY_BYTES } from "../../src/transport/peers.js";
import { encodeFrame } from "../../src/transport/framing.js";
import { encodeHello } from "../../src/transport/handshake.js";
import { TestCa } from "../helpers/certs.js";
import { TestCluster, type TestNode } from "../helpers/cluster.js";
import { waitUntil } from "./support.js";

let ca: TestCa;
const clusters: TestCluster[] = [];
const nodes: { stop(): Promise<void> }[] = [];
before(() => {
  ca = TestCa.create("raftkv cluster CA");
});
after(async () => {
  for (const n of nodes) await n.stop().catch(() => {});
  for (const c of clusters) await c.stop();
  ca.dispose();
});

/** Keeps the commands it applies (whatever the other nodes' state machine put in them). */
class Recorder implements StateMachine<number> {
  readonly applied: Buffer[] = [];
  apply(command: Buffer): number {
    this.applied.push(Buffer.from(command));
    return this.applied.length;
  }
  snapshot(): Uint8Array {
    return new Uint8Array();
  }
  restore(): void {}
}

/** Nodes 1 and 2 as `raftkv server` processes; node 3 is left for the library. Mutual TLS, a cluster secret, an admin token. */
function secureCluster(): Promise<TestCluster> {
  return TestCluster.start({
    nodes: 3,
    startOnly: [1, 2],
    electionTimeoutMs: [500, 1000],
    heartbeatMs: 100,
    nodeExtra: (n) => ({ tls: ca.issue(`node-${n.host}`, [`IP:${n.host}`]) }),
    extra: (dir) => {
      writeFileSync(join(dir, "secret"), "a cluster secret of enough bytes\n");
      writeFileSync(join(dir, "admin-token"), "an admin token of enough bytes\n");
      return { secretFile: join(dir, "secret"), adminTokenFile: join(dir, "admin-token"), tls: { ca: ca.pem } };
    },
  });
}

/** Sends `m` to `victim`'s peer port over `socket` after a hello claiming `claim`; resolves when the node closes the connection. */
function forge(socket: net.Socket, victim: TestNode, claim: number, m: Message, connectEvent: "connect" | "secureConnect"): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      socket.destroy();
      reject(new Error(`node ${victim.id} kept a forged connection open`));
    }, 10_000);
    socket.on("error", () => {});
    socket.resume();
    socket.once(connectEvent, () => socket.write(Buffer.concat([encodeFrame(encodeHello({ from: claim, to: victim.id, auth: false })), encodeFrame(encodeMessage(m))])));
    socket.once("close", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

describe("the library's ReplicatedNode and the cluster file's trust settings", () => {
  test("a library node is a member of a cluster with mutual TLS and a secret, and refuses peers that prove neither", async (t) => {
    const c = await secureCluster();
    clusters.push(c);
    const sm = new Recorder();
    const lib = await startNode({ cluster: c.configPath, id: 3, dataDir: c.dataDir(3), stateMachine: sm });
    nodes.push(lib);

    // All three agree on one leader and term: node 3 hears the servers and they hear it (over TLS, with the secret).
    let leader = await c.waitForLeader(20_000, [1, 2, 3]);
    if (leader === 3) {
      await lib.transferLeadership();
      leader = await c.waitForLeader(20_000, [1, 2, 3]);
    }
    // The servers' client ports speak TLS only.
    const client = new RaftKvClient({ nodes: [1, 2].map((id) => ({ host: c.node(id).host, port: c.node(id).clientPort })), tls: { ca: readFileSync(ca.pem) }, timeoutMs: 20_000 });
    t.after(() => client.close());
    await client.set("through-tls", "yes");
    await waitUntil("node 3 applies the write", () => sm.applied.some((b) => b.includes("through-tls")), 15_000);

    // Strangers, each as the leader: plain TCP; TLS with the cluster's CA but no certificate; and a node's
    // own certificate (as if stolen) without the secret. Each sends a TimeoutNow and a vote 1000 terms ahead.
    const victim = c.node(3);
    const term = lib.term;
    const attacker = c.node(leader).host;
    const stolen = c.node(leader);
    const own = ca.issue(`stolen-${stolen.host}`, [`IP:${stolen.host}`]);
    const forged: Message[] = [
      { type: "TimeoutNow", from: leader, to: 3, term },
      { type: "RequestVote", from: leader, to: 3, term: term + 1000, preVote: false, transfer: true, lastLogIndex: 1e6, lastLogTerm: term + 1000 },
    ];
    const tcp = () => net.connect({ host: victim.host, port: victim.peerPort, localAddress: attacker });
    for (const m of forged) {
      await forge(tcp(), victim, leader, m, "connect");
      await forge(tls.connect({ socket: tcp(), ca: readFileSync(ca.pem), checkServerIdentity: () => undefined }), victim, leader, m, "secureConnect");
      await forge(
        tls.connect({ socket: tcp(), ca: readFileSync(ca.pem), cert: readFileSync(own.cert), key: readFileSync(own.key), checkServerIdentity: () => undefined }),
        victim,
        leader,
        m,
        "secureConnect",
      );
    }
    const text = await (await fetch(`http://${victim.host}:${victim.adminPort}/metrics`)).text();
    assert.ok(Number(/^raftkv_peer_connections_refused_total (\d+)/m.exec(text)?.[1]) >= forged.length * 3, "every forged connection was refused");
    assert.equal(lib.term, term, "no forged term or TimeoutNow was taken");
    assert.equal(lib.role, "follower");

    // The admin token of the cluster file guards the library node's admin port too.
    const post = await fetch(`http://${victim.host}:${victim.adminPort}/transfer-leadership`, { method: "POST" });
    assert.equal(post.status, 401);

    // And the cluster still works with node 3 in it.
    await client.set("after", "yes");
    await waitUntil("node 3 applies the second write", () => sm.applied.some((b) => b.includes("after")), 15_000);
  });

  test("a secret file that cannot be read, or is too short, is a ConfigError at start, before the data directory", async () => {
    const c = await TestCluster.start({ nodes: 1, startOnly: [], extra: (dir) => ({ secretFile: join(dir, "missing-secret") }) });
    clusters.push(c);
    // A node that does start (the test failing) is stopped, or it would keep the test process alive.
    const start = () => startNode({ cluster: c.configPath, id: 1, dataDir: c.dataDir(1), stateMachine: new Recorder(), admin: false }).then((n) => (nodes.push(n), n));
    await assert.rejects(start(), (err: Error) => err instanceof ConfigError && /cannot read cluster secret file .*missing-secret/.test(err.message));
    writeFileSync(join(c.dir, "missing-secret"), "short\n");
    await assert.rejects(start(), (err: Error) => err instanceof ConfigError && /must hold at least 16 bytes/.test(err.message));
    assert.ok(!existsSync(c.dataDir(1)), "nothing was written to the data directory");
  });

  test("propose() of a command too large for one peer frame is refused before the log", async () => {
    const c = await TestCluster.start({ nodes: 1, startOnly: [] });
    clusters.push(c);
    const sm = new Recorder();
    const lib = await startNode({ cluster: c.configPath, id: 1, dataDir: c.dataDir(1), stateMachine: sm, admin: false });
    nodes.push(lib);
    await waitUntil("node 1 leads", () => lib.role === "leader");
    assert.equal(await lib.propose("small"), 1);
    const before = lib.status().lastLogIndex;
    await assert.rejects(lib.propose(Buffer.alloc(MAX_REPLICABLE_ENTRY_BYTES + 1)), /^Error: ERR command too large to replicate: \d+ bytes, the limit is \d+$/);
    assert.equal(lib.status().lastLogIndex, before, "nothing reached the log");
    assert.equal(await lib.propose("small again"), 2);
  });
});
