// kill -9 of the leader in the middle of a burst of concurrent writes
// (SPEC §4: "+OK to a write means it is committed ... It survives kill -9
// of any minority").

import assert from "node:assert/strict";
import { test } from "node:test";
import { respCommand, TestCluster } from "../helpers/cluster.js";
import { show, waitForApplied } from "./support.js";

const TOTAL = 400;
const WORKERS = 16;
const KILL_AFTER = 80;

test("every write acknowledged before the leader's kill -9 is readable from the next leader, and from the one after", async (t) => {
  // Wide election timeouts: the burst must reach the leader it started on, even on a loaded machine.
  const c = await TestCluster.start({ nodes: 3, electionTimeoutMs: [500, 1000] });
  try {
    const leader = await c.waitForLeader(15_000);
    const l = c.node(leader);
    const acknowledged = new Set<number>();
    const otherReplies = new Map<string, number>();
    let next = 0;
    let killed: Promise<unknown> | null = null;

    const worker = async () => {
      while (next < TOTAL) {
        const i = next++;
        let reply: string;
        try {
          reply = show(await respCommand(l.host, l.clientPort, ["SET", `burst-${i}`, `value-${i}`], 15_000));
        } catch {
          return; // the leader is gone; this write's outcome is unknown
        }
        if (reply === "+OK") acknowledged.add(i);
        else otherReplies.set(reply, (otherReplies.get(reply) ?? 0) + 1);
        if (acknowledged.size >= KILL_AFTER) killed ??= c.kill(leader);
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    await killed;
    t.diagnostic(`${acknowledged.size} of ${TOTAL} writes acknowledged before the crash; other replies: ${JSON.stringify([...otherReplies])}`);
    assert.ok(killed, "the leader was killed during the burst");
    assert.ok(acknowledged.size < TOTAL, "the crash interrupted the burst");

    /** Reads every key through the current leader: nothing acknowledged is lost, nothing unacknowledged is garbled. */
    const checkReads = async (when: string) => {
      const lost: string[] = [];
      const wrong: string[] = [];
      for (let i = 0; i < TOTAL; i++) {
        const got = show(await c.leaderCommand(15_000, "GET", `burst-${i}`));
        if (acknowledged.has(i) && got !== `$value-${i}`) lost.push(`burst-${i}: ${got}`);
        // An unacknowledged write may or may not have happened, but never as anything else.
        if (!acknowledged.has(i) && got !== "$nil" && got !== `$value-${i}`) wrong.push(`burst-${i}: ${got}`);
      }
      assert.deepEqual(lost, [], `acknowledged writes lost (${when})`);
      assert.deepEqual(wrong, [], `unacknowledged keys with a value nobody wrote (${when})`);
    };

    const survivors = c.nodes.map((n) => n.id).filter((id) => id !== leader);
    const second = await c.waitForLeader(10_000, survivors);
    await checkReads("after the crash");

    // The old leader comes back, drops whatever uncommitted tail it had, and catches up;
    // a clean restart replays that from its WAL.
    await c.restart(leader);
    await waitForApplied(c, leader, (await c.status(second))!.commitIndex);
    assert.deepEqual(await c.kill(leader, "SIGTERM"), { code: 0, signal: null });
    await c.restart(leader);
    await waitForApplied(c, leader, (await c.status(second))!.commitIndex);

    // Without the second leader, the old one is needed for every majority.
    await c.kill(second);
    await c.waitForLeader(10_000, c.nodes.map((n) => n.id).filter((id) => id !== second));
    await checkReads("after the second leader's crash");
  } finally {
    await c.stop();
  }
});
