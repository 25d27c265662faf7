// The Redis data model on a real 3-node cluster (raftkv server processes):
// the differential sequences over TCP against the leader, and expiry
// through the log: keys vanish from reads at their time, are removed from
// every replica by the leader's TICK without any other write, keep their
// time across a kill -9 of the leader, and the replicas' states are the same
// bytes afterwards (each node's log and snapshot replayed offline).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { sleep, TestCluster } from "../helpers/cluster.js";
import { Rng } from "../helpers/prng.js";
import { eventually, keyCounts, replayedStates, sameAppliedIndex } from "../e2e/support.js";
import { FAMILIES, generateSequence, KEYS, showCommand } from "./generator.js";
import { RawConnection, startRedis, type RedisServer } from "./resp.js";
import { sameReply } from "./compare.js";
import { ClientConnection } from "../../src/kv/transaction.js";
import { CommandPlanner } from "../../src/kv/planner.js";

const b = (s: string) => Buffer.from(s, "latin1");

/** Follows MOVED and CLUSTERDOWN until a node answers for itself. */
async function leaderConnection(c: TestCluster): Promise<RawConnection> {
  const id = await c.waitForLeader(20_000);
  const n = c.node(id);
  return RawConnection.connect(n.host, n.clientPort);
}

describe("the Redis data model on a 3-node cluster", () => {
  let c: TestCluster;
  let server: RedisServer;
  before(async () => {
    c = await TestCluster.start({ nodes: 3, snapshotEvery: 200 });
    server = await startRedis("127.0.16.3");
  });
  after(async () => {
    await c?.stop();
    await server?.stop();
  });

  test("random sequences over TCP: the leader answers as redis-server does", async () => {
    const redis = await RawConnection.connect(server.host, server.port);
    let ours = await leaderConnection(c);
    try {
      for (let seed = 50_001; seed <= 50_040; seed++) {
        for (const conn of [redis, ours]) {
          await conn.command([b("DISCARD")]);
          await conn.command([b("UNWATCH")]);
        }
        assert.equal((await redis.command([b("FLUSHALL")])).toString(), "+OK\r\n");
        for (;;) {
          const flushed = (await ours.command([b("FLUSHALL")])).toString();
          if (flushed === "+OK\r\n") break;
          // Leadership moved (a loaded machine): find the new leader.
          ours.close();
          ours = await leaderConnection(c);
        }
        const done: string[] = [];
        // Which connection state the commands leave (our own connection mirrors it), so the touch below is never queued.
        const mirror = new ClientConnection(new CommandPlanner());
        for (const cmd of generateSequence(new Rng(seed), FAMILIES, 25)) {
          const name = cmd.args[0]!.toString("latin1").toUpperCase();
          if (mirror.inTransaction && name === "DBSIZE") continue;
          if (!mirror.inTransaction && (name === "DBSIZE" || name === "SCAN" || name === "KEYS")) await redis.command([b("EXISTS"), ...KEYS]);
          mirror.plan(cmd.args);
          const theirs = (await redis.command(cmd.args)).toString("latin1");
          const mine = (await ours.command(cmd.args)).toString("latin1");
          done.push(showCommand(cmd.args));
          if (/^-(MOVED|CLUSTERDOWN)/.test(mine)) break; // not executed: the sequence ends here (the next one starts over)
          assert.ok(sameReply(cmd.compare, mine, theirs), `seed ${seed}:\n  ${done.join("\n  ")}\nredis: ${JSON.stringify(theirs)}\nraftkv: ${JSON.stringify(mine)}`);
        }
      }
    } finally {
      redis.close();
      ours.close();
    }
  });

  test("AUTH with no password set answers as redis-server does", async () => {
    const redis = await RawConnection.connect(server.host, server.port);
    const ours = await leaderConnection(c);
    try {
      for (const args of [["AUTH"], ["AUTH", "x"], ["AUTH", "default", "x"], ["auth", "default", ""], ["AUTH", "bob", "x"], ["AUTH", "admin", "x"], ["AUTH", "a", "b", "c"], ["GET", "k"]]) {
        const theirs = (await redis.command(args.map(b))).toString("latin1");
        const mine = (await ours.command(args.map(b))).toString("latin1");
        assert.equal(mine, theirs, args.join(" "));
      }
    } finally {
      redis.close();
      ours.close();
    }
  });

  test("expired keys vanish from reads at their time, and from every replica with no other write; across a kill -9 of the leader; replicas end identical", async () => {
    const conn = await leaderConnection(c);
    const sets: { key: string; dueBy: number }[] = [];
    try {
      assert.equal((await conn.command([b("FLUSHALL")])).toString(), "+OK\r\n");
      for (let i = 0; i < 20; i++) {
        const key = `ttl-${i}`;
        const ms = 300 + 100 * i;
        const reply = (await conn.command([b("SET"), b(key), b("v"), b("PX"), b(String(ms))])).toString();
        assert.equal(reply, "+OK\r\n");
        // The leader stamped the entry before this reply came: the key is due by now + ms.
        sets.push({ key, dueBy: Date.now() + ms });
        const h = `hash-${i}`;
        assert.equal((await conn.command([b("HSET"), b(h), b("f"), b("v")])).toString(), ":1\r\n");
        assert.equal((await conn.command([b("PEXPIRE"), b(h), b(String(ms))])).toString(), ":1\r\n");
        sets.push({ key: h, dueBy: Date.now() + ms });
      }
      assert.equal((await conn.command([b("SET"), b("forever"), b("v")])).toString(), "+OK\r\n");
    } finally {
      conn.close();
    }
    // Kill the leader while most keys are still alive.
    const old = await c.waitForLeader(20_000);
    await c.kill(old, "SIGKILL");
    const survivors = c.nodes.filter((n) => n.id !== old).map((n) => n.id);
    await c.waitForLeader(20_000, survivors);
    // Reads: none returns a key after its time; each key is seen gone at last.
    const gone = new Set<string>();
    const deadline = Date.now() + 60_000;
    while (gone.size < sets.length) {
      assert.ok(Date.now() < deadline, `keys still readable a minute after their time: ${sets.filter((s) => !gone.has(s.key)).map((s) => s.key).join(" ")}`);
      for (const { key, dueBy } of sets) {
        if (gone.has(key)) continue;
        const sentAt = Date.now();
        const r = await c.leaderCommand(20_000, "EXISTS", key);
        assert.equal(r.kind, "integer");
        const exists = (r as { value: number }).value === 1;
        if (exists) assert.ok(sentAt < dueBy, `${key} returned ${sentAt - dueBy} ms after its time`);
        else gone.add(key);
      }
      await sleep(50);
    }
    assert.deepEqual(await c.leaderCommand(20_000, "DBSIZE"), { kind: "integer", value: 1 });
    // Active expiry: with no write since, the surviving replicas removed the keys themselves.
    await eventually("every live replica holding only 'forever'", async () => {
      const counts = await keyCounts(c);
      return survivors.every((id) => counts[id - 1] === 1);
    });
    // The old leader comes back and catches up; then all three agree on every byte.
    await c.restart(old);
    await c.waitForLeader(20_000);
    assert.equal((await c.leaderCommand(20_000, "SET", "last", "write")).kind, "simple");
    const index = await sameAppliedIndex(c);
    assert.deepEqual(await keyCounts(c), [2, 2, 2]);
    await c.stop(true);
    const states = await replayedStates(c, index);
    assert.equal(new Set(states).size, 1, "the replicas' states differ");
  });
});
