// Exactly-once writes across leader crashes (SPEC §4 "-TIMEOUT: the outcome
// is unknown"; RaftKvClient's sessions): an INCR whose reply is lost when the
// leader dies is retried under the same session seq, and the cluster applies
// it once, whichever node answers the retry.

import assert from "node:assert/strict";
import { test } from "node:test";
import { RaftKvClient } from "../../src/client/client.js";
import { sleep, type TestCluster } from "../helpers/cluster.js";
import { show } from "../server/support.js";
import { withCluster } from "./support.js";

const INCREMENTS = 2000;
const WORKERS = 4;

/** Sends `args` to whichever node leads, until a reply that is not MOVED/CLUSTERDOWN/TIMEOUT. */
function atLeader(c: TestCluster, ...args: string[]): Promise<string> {
  return c.leaderCommand(30_000, ...args).then(show);
}

test("RaftKvClient's INCRs, with the leader killed -9 three times meanwhile, are each applied exactly once", { timeout: 300_000 }, async () => {
  await withCluster({ nodes: 3 }, async (c) => {
    const client = new RaftKvClient({ nodes: c.nodes.map((n) => ({ host: n.host, port: n.clientPort })), timeoutMs: 60_000 });
    const replies: bigint[] = [];
    let sent = 0;
    let done = false;
    const worker = async () => {
      while (sent < INCREMENTS) {
        sent++;
        replies.push(await client.incr("counter"));
      }
    };
    const kills: string[] = [];
    const killer = async () => {
      for (let k = 1; k <= 3; k++) {
        // Kill while increments are in flight, at a quarter, half and three quarters.
        while (replies.length < (k * INCREMENTS) / 4) {
          if (done) return;
          await sleep(10);
        }
        const leader = await c.waitForLeader(30_000);
        await c.kill(leader);
        kills.push(`node ${leader} at ${replies.length} replies`);
        await sleep(500);
        await c.restart(leader);
      }
    };
    try {
      await Promise.all([...Array.from({ length: WORKERS }, worker), killer()]);
    } finally {
      done = true;
      client.close();
    }
    console.log(`${INCREMENTS} INCRs by ${WORKERS} concurrent callers; leader killed: ${kills.join(", ")}`);

    assert.equal(await atLeader(c, "GET", "counter"), `$${INCREMENTS}`, "the counter counts every INCR once");
    // Each INCR saw its own value: none was applied twice (a retry answered with the first reply).
    const sorted = replies.map(Number).sort((a, b) => a - b);
    assert.deepEqual(sorted, Array.from({ length: INCREMENTS }, (_, i) => i + 1));
  });
});

test("an INCR retried under the same session seq after the leader died, and after a whole-cluster restart, is answered from the session, not applied again", async () => {
  await withCluster({ nodes: 3 }, async (c, leader) => {
    const idReply = await atLeader(c, "RAFTKV.REGISTER");
    assert.match(idReply, /^:\d+$/);
    const id = idReply.slice(1);
    assert.equal(await atLeader(c, "RAFTKV.SESSION", id, "1", "INCR", "n"), ":1");
    assert.equal(await atLeader(c, "RAFTKV.SESSION", id, "2", "INCRBY", "n", "10"), ":11");

    // The leader dies; the new one must know the session.
    await c.kill(leader);
    await c.waitForLeader(30_000, c.nodes.map((n) => n.id).filter((x) => x !== leader));
    assert.equal(await atLeader(c, "RAFTKV.SESSION", id, "2", "INCRBY", "n", "10"), ":11", "the retry gets the first reply");
    assert.equal(await atLeader(c, "GET", "n"), "$11");
    await c.restart(leader);

    // Every node crashes at once; the sessions come back from disk.
    await Promise.all(c.nodes.map((n) => c.kill(n.id)));
    for (const n of c.nodes) c.startNode(n.id);
    for (const n of c.nodes) await c.waitForPort(n.id, 20_000);
    assert.equal(await atLeader(c, "RAFTKV.SESSION", id, "2", "INCRBY", "n", "10"), ":11");
    assert.equal(await atLeader(c, "GET", "n"), "$11");
    // The next seq is applied.
    assert.equal(await atLeader(c, "RAFTKV.SESSION", id, "3", "INCR", "n"), ":12");
  });
});
