// kill -9 of the leader of a real cluster (SPEC §4 "survives kill -9 of any
// minority", §6): a new leader takes over, nothing acknowledged is lost, and
// the old leader comes back from its data directory and catches up.

import assert from "node:assert/strict";
import { test } from "node:test";
import { TestCluster } from "../helpers/cluster.js";
import { missingKeys, waitForApplied, waitUntil, writeKeys } from "./support.js";

test("after kill -9 of the leader a new one is elected, no acknowledged write is lost, and the old leader catches up", async () => {
  const c = await TestCluster.start({ nodes: 3 });
  try {
    const oldLeader = await c.waitForLeader(15_000);
    const oldTerm = (await c.status(oldLeader))!.term;
    const before = await writeKeys(c, "before", 30);

    const exit = await c.kill(oldLeader);
    assert.equal(exit?.signal, "SIGKILL");
    const survivors = c.nodes.map((n) => n.id).filter((id) => id !== oldLeader);
    const newLeader = await c.waitForLeader(10_000, survivors);
    assert.notEqual(newLeader, oldLeader);
    const newTerm = (await c.status(newLeader))!.term;
    assert.ok(newTerm > oldTerm, `the new leader's term ${newTerm} is after ${oldTerm}`);

    assert.deepEqual(await missingKeys(c, before), [], "every write acknowledged before the crash is readable");
    const after = await writeKeys(c, "after", 10);

    await c.restart(oldLeader);
    const commitIndex = (await c.status(newLeader))!.commitIndex;
    await waitForApplied(c, oldLeader, commitIndex);
    const s = await waitUntil(`node ${oldLeader} to follow a leader`, async () => {
      const st = await c.status(oldLeader);
      return st && st.role === "follower" && st.leader !== null ? st : null;
    });
    assert.ok(s.lastLogIndex >= commitIndex, `the restarted node holds the log up to ${commitIndex} (has ${s.lastLogIndex})`);
    await c.waitForLeader(10_000); // all three agree
    assert.deepEqual(await missingKeys(c, new Map([...before, ...after])), []);
  } finally {
    await c.stop();
  }
});
