// ioredis (a common Node.js Redis client), unchanged and with its default
// options, against a real 3-node cluster (SPEC §4): commands, pipelines and
// multi-key commands at the leader; MOVED as a ReplyError from a follower.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Redis, ReplyError } from "ioredis";
import { TestCluster, type TestNode } from "../helpers/cluster.js";
import { clientAddress, roles } from "./support.js";

/** A leader change refuses a command with MOVED or CLUSTERDOWN: nothing was executed. */
function refusedByNonLeader(err: unknown): boolean {
  return err instanceof ReplyError && /^(MOVED|CLUSTERDOWN) /.test((err as Error).message);
}

function connect(n: TestNode): Redis {
  const redis = new Redis({ host: n.host, port: n.clientPort });
  // Connection trouble is also thrown from the commands; the event must not crash the test.
  redis.on("error", () => {});
  return redis;
}

/**
 * Runs `body` with an ioredis client connected to the leader. Leadership
 * can move on a shared machine: if a command is refused for that reason,
 * the body runs again on fresh keys (`ns`) at the new leader.
 */
async function atLeader(c: TestCluster, body: (redis: Redis, ns: string) => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const redis = connect(c.node((await roles(c)).leader));
    try {
      await body(redis, `try${attempt}:`);
      return;
    } catch (err) {
      if (!refusedByNonLeader(err) || attempt === 3) throw err;
      console.error(`leadership moved (${(err as Error).message}); running again`);
    } finally {
      redis.disconnect();
    }
  }
}

describe("ioredis, unchanged, against a 3-node cluster", () => {
  let c: TestCluster;

  before(async () => {
    c = await TestCluster.start({ nodes: 3 });
  });

  after(async () => {
    await c?.stop();
  });

  test("string and multi-key commands at the leader", async () => {
    await atLeader(c, async (redis, ns) => {
      const k = (name: string) => ns + name;
      assert.equal(await redis.ping(), "PONG");
      assert.equal(await redis.set(k("s"), "hello"), "OK");
      assert.equal(await redis.get(k("s")), "hello");
      assert.equal(await redis.get(k("missing")), null);
      assert.equal(await redis.append(k("s"), " world"), 11);
      assert.equal(await redis.strlen(k("s")), 11);
      assert.equal(await redis.set(k("s"), "x", "NX"), null);
      assert.equal(await redis.set(k("s"), "bye", "XX", "GET"), "hello world");
      assert.equal(await redis.incr(k("n")), 1);
      assert.equal(await redis.incrby(k("n"), 41), 42);
      assert.equal(await redis.decr(k("n")), 41);
      assert.equal(await redis.decrby(k("n"), 40), 1);
      await assert.rejects(redis.incr(k("s")), (err: Error) => err instanceof ReplyError && err.message === "ERR value is not an integer or out of range");
      assert.equal(await redis.get(k("s")), "bye");

      // Binary-safe values.
      const bytes = Buffer.from([0, 1, 2, 0x0d, 0x0a, 0xff, 0xfe]);
      assert.equal(await redis.set(k("bin"), bytes), "OK");
      assert.deepEqual(await redis.getBuffer(k("bin")), bytes);

      // Multi-key commands.
      assert.equal(await redis.mset(k("a"), "1", k("b"), "2", k("c"), "3"), "OK");
      assert.deepEqual(await redis.mget(k("a"), k("b"), k("missing"), k("c")), ["1", "2", null, "3"]);
      assert.equal(await redis.exists(k("a"), k("b"), k("missing")), 2);
      assert.equal(await redis.del(k("a"), k("b"), k("missing")), 2);
      assert.deepEqual(await redis.mget(k("a"), k("b"), k("c")), [null, null, "3"]);
      assert.ok((await redis.dbsize()) >= 4);

      // Many concurrent commands on one connection (ioredis pipelines them automatically).
      const incrs = await Promise.all(Array.from({ length: 200 }, () => redis.incr(k("many"))));
      assert.deepEqual(
        [...incrs].sort((x, y) => x - y),
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
      assert.equal(await redis.get(k("many")), "200");
    });
  });

  test("a pipeline's commands take effect in order, as in Redis", async () => {
    await atLeader(c, async (redis, ns) => {
      const k = (name: string) => ns + name;
      // One socket write; Redis runs them one after the other, so MGET sees
      // the SET and INCRs before it and not the DEL after it.
      const results = await redis
        .pipeline()
        .set(k("p"), "v1")
        .incr(k("pn"))
        .incr(k("pn"))
        .mget(k("p"), k("pn"))
        .del(k("p"))
        .exists(k("p"), k("pn"))
        .get(k("pn"))
        .exec();
      assert.deepEqual(results, [
        [null, "OK"],
        [null, 1],
        [null, 2],
        [null, ["v1", "2"]],
        [null, 1],
        [null, 1],
        [null, "2"],
      ]);
    });
  });

  test("a follower refuses with a ReplyError: MOVED 0 and the leader's client address", async () => {
    for (let attempt = 1; ; attempt++) {
      const { leader, followers } = await roles(c);
      const redis = connect(c.node(followers[0]!));
      try {
        const err = await redis.get("s").then(
          () => assert.fail("a follower answered GET"),
          (e: unknown) => e as Error,
        );
        assert.ok(err instanceof ReplyError, `a ReplyError, got ${String(err)}`);
        assert.match(err.message, /^MOVED 0 /);
        if ((await roles(c)).leader !== leader && attempt < 5) continue; // leadership moved meanwhile
        assert.equal(err.message, `MOVED 0 ${clientAddress(c.node(leader))}`);
        break;
      } finally {
        redis.disconnect();
      }
    }
  });
});
