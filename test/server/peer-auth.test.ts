// The attacks of issue 11 on the peer port of a real cluster: a stranger who
// can reach a follower's peer port — even from the leader's own host — sends
// a forged AppendEntries (a foreign entry where the next real write goes, and
// one the state machine cannot decode), a TimeoutNow and a transfer
// RequestVote 1000 terms ahead. None may be taken: the follower's term and
// log stay as they were, and after leadership moves to it every acknowledged
// write reads back.

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { EntryType, type Message } from "../../src/core/types.js";
import { encodeCommand } from "../../src/kv/command.js";
import { encodeMessage } from "../../src/transport/codec.js";
import { encodeFrame } from "../../src/transport/framing.js";
import { encodeHello } from "../../src/transport/handshake.js";
import { TestCluster, type TestNode } from "../helpers/cluster.js";
import { waitUntil } from "./support.js";

const clusters: TestCluster[] = [];
after(async () => {
  for (const c of clusters) await c.stop();
});

/** What an attacker sends to `victim`, pretending to be `leader` (and, for the vote, the third node). */
function forgeries(leader: number, victim: number, third: number, term: number, lastIndex: number): Message[] {
  const forgedSet = encodeCommand({ op: "set", key: Buffer.from("realkey"), value: Buffer.from("forged"), condition: "always", get: false });
  const entry = (data: Uint8Array) => ({ index: lastIndex + 1, term, type: EntryType.Normal, data });
  const append = (data: Uint8Array): Message => ({ type: "AppendEntries", from: leader, to: victim, term, prevLogIndex: lastIndex, prevLogTerm: term, leaderCommit: lastIndex, seq: 1, entries: [entry(data)] });
  return [
    append(forgedSet),
    append(Buffer.from([0xff, 0xfe, 0xfd, 0x00])),
    { type: "TimeoutNow", from: leader, to: victim, term },
    { type: "RequestVote", from: third, to: victim, term: term + 1000, preVote: false, transfer: true, lastLogIndex: lastIndex + 1000, lastLogTerm: term + 1000 },
  ];
}

/** Connects from `fromHost` to `victim`'s peer port, says hello as `claim`, sends `m`; resolves when the node closes the connection. */
function attack(fromHost: string, victim: TestNode, claim: number, auth: boolean, m: Message): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: victim.host, port: victim.peerPort, localAddress: fromHost });
    const t = setTimeout(() => {
      socket.destroy();
      reject(new Error(`node ${victim.id} kept a forged connection open`));
    }, 10_000);
    socket.on("error", () => {});
    socket.resume(); // read (and drop) the challenge, or the node's close is never seen
    socket.on("connect", () => socket.write(Buffer.concat([encodeFrame(encodeHello({ from: claim, to: victim.id, auth })), encodeFrame(encodeMessage(m))])));
    socket.on("close", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

async function metric(n: TestNode, name: string): Promise<number> {
  const text = await (await fetch(`http://${n.host}:${n.adminPort}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(name + " "));
  return Number(line?.split(" ")[1] ?? NaN);
}

async function scenario(c: TestCluster, attackerHost: (leader: TestNode) => string, auth: boolean): Promise<void> {
  const leaderId = await c.waitForLeader();
  const leader = c.node(leaderId);
  const [victim, third] = c.nodes.filter((n) => n.id !== leaderId) as [TestNode, TestNode];
  assert.deepEqual(await c.leaderCommand(10_000, "SET", "before", "1"), { kind: "simple", value: "OK" });
  const s = await waitUntil("the victim has caught up", async () => {
    const st = await c.status(victim.id);
    return st !== null && st.lastApplied >= 1 ? st : null;
  });

  const forged = forgeries(leaderId, victim.id, third.id, s.term, s.lastLogIndex);
  for (const m of forged) await attack(attackerHost(leader), victim, m.from, auth, m);

  // The real write that would have met the forged entry at the same index.
  assert.deepEqual(await c.leaderCommand(10_000, "SET", "realkey", "real"), { kind: "simple", value: "OK" });
  const after = await c.status(victim.id);
  assert.equal(after!.term, s.term, "no forged term was taken");
  assert.equal(after!.role, "follower", "no forged TimeoutNow was obeyed");
  assert.ok((await metric(victim, "raftkv_peer_connections_refused_total")) >= forged.length);
  assert.equal(await metric(victim, "raftkv_peer_messages_received_total{type=\"TimeoutNow\"}"), 0);

  // Leadership to the victim: it must hold the real write, not the forged one.
  const res = await fetch(`http://${leader.host}:${leader.adminPort}/transfer-leadership?to=${victim.id}`, { method: "POST", headers: adminHeaders(c) });
  assert.equal(res.status, 200, await res.text());
  assert.equal(await c.waitForLeader(), victim.id);
  assert.deepEqual(await c.command(victim.id, "GET", "realkey"), { kind: "bulk", value: Buffer.from("real") });
  assert.deepEqual(await c.command(victim.id, "GET", "before"), { kind: "bulk", value: Buffer.from("1") });
  for (const n of c.nodes) assert.ok(n.process !== null, `node ${n.id} is still running`);
}

/** The admin token header, when the cluster file names a token file. */
function adminHeaders(c: TestCluster): Record<string, string> {
  const file = (JSON.parse(readFileSync(c.configPath, "utf8")) as { adminTokenFile?: string }).adminTokenFile;
  return file ? { authorization: `Bearer ${readFileSync(file, "utf8").trim()}` } : {};
}

describe("forged peer messages on a real cluster", () => {
  test("with a cluster secret: refused even from the leader's own host", async () => {
    const c = await TestCluster.start({
      extra: (dir) => {
        writeFileSync(join(dir, "secret"), "a cluster secret that is long enough\n", { mode: 0o600 });
        return { secretFile: "secret" };
      },
    });
    clusters.push(c);
    await scenario(c, (leader) => leader.host, true);
    await scenario(c, (leader) => leader.host, false);
    for (const n of c.nodes) assert.ok(!readFileSync(c.logPath(n.id), "utf8").includes("peers_unauthenticated"));
  });

  test("without a secret: refused from any host but the member's own, and the node warns once at start", async () => {
    const c = await TestCluster.start();
    clusters.push(c);
    await scenario(c, () => "127.0.0.1", false);
    for (const n of c.nodes) assert.equal(readFileSync(c.logPath(n.id), "utf8").split("peers_unauthenticated").length - 1, 1, `node ${n.id} warns once`);
  });
});
