// The fencing-token lock recipe of docs/REDIS.md, under kill -9 of leaders:
//
//   WATCH lock; GET lock (must be nil); MULTI; SET lock ME PX ttl; INCR fence; EXEC
//
// Taking the lock and drawing its token are one log entry, so each token
// goes to exactly one holder, tokens grow in the order locks are taken, and
// a resource that refuses a token lower than one it has seen turns away a
// holder whose lock expired and was taken over. Clients retry through
// MOVED, CLUSTERDOWN, lost connections and TIMEOUT (a TIMEOUT'd EXEC may have
// taken the lock: the client does not act on it, and the lock expires).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sleep, TestCluster } from "../helpers/cluster.js";
import { RawConnection } from "./resp.js";

const b = (s: string) => Buffer.from(s, "latin1");

/** Waits for `done`, or fails naming `what` after `ms` (a cluster that never recovers fails the test, never hangs it). */
async function until(what: string, done: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A resource guarded by fencing tokens: it refuses a token lower than the highest it has accepted. */
class FencedResource {
  highest = 0;
  readonly accepted: { token: number; holder: string }[] = [];
  refused = 0;

  write(token: number, holder: string): boolean {
    if (token < this.highest) {
      this.refused++;
      return false;
    }
    this.highest = token;
    this.accepted.push({ token, holder });
    return true;
  }
}

describe("fencing-token lock under leader kills", () => {
  let c: TestCluster;
  before(async () => {
    c = await TestCluster.start({ nodes: 3 });
  });
  after(async () => {
    await c?.stop();
  });

  test("every token goes to one holder; the resource sees tokens in order; locks keep being taken across kills", async () => {
    await c.waitForLeader(20_000);
    const resource = new FencedResource();
    const granted = new Map<number, string>();
    let stop = false;

    /** One client's loop: take the lock, act with the token, repeat. */
    async function client(name: string): Promise<void> {
      let conn: RawConnection | null = null;
      let nodeIndex = 0;
      while (!stop) {
        try {
          if (conn === null) {
            const n = c.nodes[nodeIndex++ % c.nodes.length]!;
            conn = await RawConnection.connect(n.host, n.clientPort);
          }
          const send = async (...args: string[]) => (await conn!.command(args.map(b))).toString("latin1");
          const watched = await send("WATCH", "lock");
          if (watched !== "+OK\r\n") throw new Error(watched);
          const holder = await send("GET", "lock");
          if (holder.startsWith("-")) throw new Error(holder);
          if (holder !== "$-1\r\n") {
            await send("UNWATCH");
            await sleep(20);
            continue;
          }
          await send("MULTI");
          await send("SET", "lock", name, "PX", "300");
          await send("INCR", "fence");
          const reply = await send("EXEC");
          if (reply === "*-1\r\n") continue; // someone else took it first
          const m = /^\*2\r\n\+OK\r\n:(\d+)\r\n$/.exec(reply);
          if (m === null) throw new Error(reply);
          const token = Number(m[1]);
          assert.ok(!granted.has(token), `token ${token} granted to ${granted.get(token)} and to ${name}`);
          granted.set(token, name);
          resource.write(token, name);
          await sleep(10);
        } catch {
          // MOVED, CLUSTERDOWN, TIMEOUT, a closed connection: start over on another node.
          conn?.close();
          conn = null;
          await sleep(50);
        }
      }
      conn?.close();
    }

    const clients = ["a", "b", "c"].map((name) => client(name));
    try {
      for (let kill = 0; kill < 2; kill++) {
        const before = granted.size;
        await until("5 more locks taken", () => granted.size >= before + 5);
        const leader = await c.waitForLeader(20_000);
        await c.kill(leader, "SIGKILL");
        await c.waitForLeader(20_000, c.nodes.filter((n) => n.id !== leader).map((n) => n.id));
        await c.restart(leader);
      }
      const before = granted.size;
      await until("5 more locks taken after the kills", () => granted.size >= before + 5);
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    // Tokens are the fence counter's values: unique (checked as granted) and each one acted on once, in order.
    const tokens = resource.accepted.map((x) => x.token);
    assert.deepEqual(tokens, [...tokens].sort((x, y) => x - y));
    assert.equal(new Set(tokens).size, tokens.length);
    for (const { token, holder } of resource.accepted) assert.equal(granted.get(token), holder);
    assert.ok(granted.size >= 15, `locks taken: ${granted.size}`);
  });

  test("transactions stay all or nothing and isolated across a kill -9 of the leader", async () => {
    await c.waitForLeader(20_000);
    let stop = false;
    let committed = 0;
    let snapshots = 0;
    const violations: string[] = [];

    /** MULTI INCR a INCR b EXEC, and MULTI GET a GET b EXEC, on one connection, starting over on any failure. */
    async function client(id: number): Promise<void> {
      let conn: RawConnection | null = null;
      let nodeIndex = id;
      while (!stop) {
        try {
          if (conn === null) {
            const n = c.nodes[nodeIndex++ % c.nodes.length]!;
            conn = await RawConnection.connect(n.host, n.clientPort);
          }
          const send = async (...args: string[]) => (await conn!.command(args.map(b))).toString("latin1");
          if ((await send("MULTI")) !== "+OK\r\n") throw new Error("MULTI");
          const read = Math.random() < 0.5;
          if (read) {
            await send("GET", "tx:a");
            await send("GET", "tx:b");
          } else {
            await send("INCR", "tx:a");
            await send("INCR", "tx:b");
          }
          const reply = await send("EXEC");
          if (reply.startsWith("-")) {
            await send("DISCARD").catch(() => "");
            throw new Error(reply);
          }
          const values = [...reply.matchAll(/(?::|\$\d+\r\n)(\d+)\r\n/g)].map((m) => m[1]);
          if (read) {
            snapshots++;
            if (reply !== "*2\r\n$-1\r\n$-1\r\n" && values[0] !== values[1]) violations.push(`a transaction read ${reply.replace(/\r\n/g, " ")}`);
          } else {
            committed++;
            if (values[0] !== values[1]) violations.push(`a transaction's INCRs gave ${values.join(" and ")}`);
          }
        } catch {
          conn?.close();
          conn = null;
          await sleep(50);
        }
      }
      conn?.close();
    }

    const clients = [0, 1, 2].map((id) => client(id));
    try {
      await until("20 transactions", () => committed >= 20);
      const leader = await c.waitForLeader(20_000);
      await c.kill(leader, "SIGKILL");
      await c.waitForLeader(20_000, c.nodes.filter((n) => n.id !== leader).map((n) => n.id));
      const before = committed;
      await until("20 more transactions and 20 reads after the kill", () => committed >= before + 20 && snapshots >= 20);
      await c.restart(leader);
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    assert.deepEqual(violations, []);
    // Every transaction, including any whose EXEC lost its answer, moved both counters together.
    const a = await c.leaderCommand(20_000, "GET", "tx:a");
    const bValue = await c.leaderCommand(20_000, "GET", "tx:b");
    assert.deepEqual(a, bValue);
  });
});
