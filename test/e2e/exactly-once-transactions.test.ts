// Exactly-once transactions across leader crashes (issue 16): EXEC under a
// client session (RAFTKV.SESSION id seq EXEC) is applied at most once per
// seq; asking again outside MULTI returns its reply, or -NOTAPPLIED, after
// which it can never apply. RaftKvClient.transaction() uses both, so a
// transaction whose EXEC reply was lost with the leader is neither lost nor
// applied twice.

import assert from "node:assert/strict";
import { test } from "node:test";
import { RaftKvClient } from "../../src/client/client.js";
import { Connection } from "../../src/client/connection.js";
import type { Reply } from "../../src/resp/writer.js";
import { silentLogger, type Logger } from "../../src/util/log.js";
import { sleep, type TestCluster } from "../helpers/cluster.js";
import { show } from "../server/support.js";
import { withCluster } from "./support.js";

const PAIRS = 400;
const WATCHED = 150;

/** Runs `commands` on one connection to the leader (following MOVED). */
async function atLeader(c: TestCluster, ...commands: string[][]): Promise<string[]> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const leader = c.node(await c.waitForLeader(30_000));
    const conn = await Connection.connect({ host: leader.host, port: leader.clientPort }, { connectTimeoutMs: 2000 });
    try {
      const replies: Reply[] = [];
      for (const args of commands) replies.push(await conn.send(args, 10_000));
      const last = replies.at(-1)!;
      if (last.kind === "error" && /^(MOVED|CLUSTERDOWN|TIMEOUT)/.test(last.message)) {
        await sleep(100);
        continue;
      }
      return replies.map(show);
    } finally {
      conn.close();
    }
  }
  throw new Error(`no leader answered ${JSON.stringify(commands)}`);
}

test("EXEC under a session: a retry on a new leader, and after a whole-cluster restart, gets the first reply; an EXEC resolved as not applied never applies", { timeout: 120_000 }, async () => {
  await withCluster({ nodes: 3 }, async (c, leader) => {
    const [registered] = await atLeader(c, ["RAFTKV.REGISTER"]);
    const id = registered!.slice(1);
    const pair = (seq: string) => [["MULTI"], ["INCR", "n"], ["INCR", "m"], ["RAFTKV.SESSION", id, seq, "EXEC"]];
    assert.deepEqual(await atLeader(c, ...pair("1")), ["+OK", "+QUEUED", "+QUEUED", "*[:1, :1]"]);

    await c.kill(leader);
    await c.waitForLeader(30_000, c.nodes.map((n) => n.id).filter((x) => x !== leader));
    // The retry of the whole transaction, and the question "what became of seq 1?", on the new leader.
    assert.deepEqual((await atLeader(c, ...pair("1"))).at(-1), "*[:1, :1]");
    assert.deepEqual(await atLeader(c, ["RAFTKV.SESSION", id, "1", "EXEC"]), ["*[:1, :1]"]);
    assert.deepEqual(await atLeader(c, ["MGET", "n", "m"]), ["*[$1, $1]"]);
    // Seq 2 was never sent: resolving it uses it up, and the transaction arriving later is not applied.
    const notApplied = `-NOTAPPLIED write 2 of client ${id} was not applied, and now never will be`;
    assert.deepEqual(await atLeader(c, ["RAFTKV.SESSION", id, "2", "EXEC"]), [notApplied]);
    assert.deepEqual((await atLeader(c, ...pair("2"))).at(-1), notApplied);
    await c.restart(leader);

    await Promise.all(c.nodes.map((n) => c.kill(n.id)));
    for (const n of c.nodes) c.startNode(n.id);
    for (const n of c.nodes) await c.waitForPort(n.id, 20_000);
    assert.deepEqual(await atLeader(c, ["RAFTKV.SESSION", id, "2", "EXEC"]), [notApplied]);
    assert.deepEqual(await atLeader(c, ["MGET", "n", "m"]), ["*[$1, $1]"]);
    assert.deepEqual((await atLeader(c, ...pair("3"))).at(-1), "*[:2, :2]");
  });
});

test("RaftKvClient.transaction(), with the leader killed -9 three times meanwhile: every transaction applied exactly once", { timeout: 300_000 }, async () => {
  await withCluster({ nodes: 3 }, async (c) => {
    let resolves = 0;
    let startOvers = 0;
    const logger: Logger = {
      ...silentLogger,
      debug(event) {
        if (event === "transaction outcome unknown, resolving") resolves++;
        if (event === "transaction retrying") startOvers++;
      },
      child: () => logger,
    };
    const client = new RaftKvClient({ nodes: c.nodes.map((n) => ({ host: n.host, port: n.clientPort })), timeoutMs: 60_000, logger });
    const pairReplies: string[] = [];
    let pairsSent = 0;
    let watchedDone = 0;
    let watchedSent = 0;
    let done = false;
    // n and m go up together; x goes up by optimistic read-modify-write (WATCH x, GET x, SET x x+1).
    const pairWorker = async () => {
      while (pairsSent < PAIRS) {
        pairsSent++;
        const replies = await client.transaction([], async () => [["INCR", "n"], ["INCR", "m"]]);
        pairReplies.push(replies!.map(show).join(" "));
      }
    };
    const watchedWorker = async () => {
      while (watchedSent < WATCHED) {
        watchedSent++;
        const replies = await client.transaction(["x"], async (read) => {
          const x = await read(["GET", "x"]);
          const value = x.kind === "bulk" && x.value !== null ? Number(Buffer.from(x.value).toString()) : 0;
          return [["SET", "x", String(value + 1)]];
        });
        assert.deepEqual(replies!.map(show), ["+OK"]);
        watchedDone++;
      }
    };
    const kills: string[] = [];
    const killer = async () => {
      for (let k = 1; k <= 3; k++) {
        while (pairReplies.length < (k * PAIRS) / 4) {
          if (done) return;
          await sleep(10);
        }
        const leader = await c.waitForLeader(30_000);
        await c.kill(leader);
        kills.push(`node ${leader} at ${pairReplies.length} transactions`);
        await sleep(500);
        await c.restart(leader);
      }
    };
    try {
      await Promise.all([pairWorker(), pairWorker(), pairWorker(), watchedWorker(), watchedWorker(), killer()]);
    } finally {
      done = true;
      client.close();
    }
    console.log(`${PAIRS} paired INCR transactions and ${WATCHED} WATCHed increments; leader killed: ${kills.join(", ")}; ${resolves} EXECs of unknown outcome resolved, ${startOvers} attempts started over after a failure`);

    const [n, m, x] = await atLeader(c, ["GET", "n"], ["GET", "m"], ["GET", "x"]);
    assert.equal(n, `$${PAIRS}`, "every paired transaction applied once: none lost, none twice");
    assert.equal(m, `$${PAIRS}`);
    // Each transaction saw its own values.
    assert.deepEqual(
      [...pairReplies].sort((a, b) => Number(a.split(" ")[0]!.slice(1)) - Number(b.split(" ")[0]!.slice(1))),
      Array.from({ length: PAIRS }, (_, i) => `:${i + 1} :${i + 1}`),
    );
    assert.equal(watchedDone, WATCHED);
    assert.equal(x, `$${WATCHED}`, "no WATCHed increment lost or applied twice");
    assert.ok(resolves + startOvers > 0, "the kills did interrupt transactions (else this test tests nothing)");
  });
});
