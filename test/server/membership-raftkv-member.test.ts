// `raftkv member` against real processes (SPEC §10), the way an operator
// replaces a node: start node 4 with --join, `member add --learner`,
// `member promote` (refused while behind, then done), `member remove 1`,
// with only the old cluster file (nodes 1-3) in hand. Then the client
// commands, given a cluster file naming only the removed node (still
// running), find the live members through it.

import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join as joinPath } from "node:path";
import { after, before, describe, test } from "node:test";
import { TestCluster } from "../helpers/cluster.js";
import { join, settled, waitForMembers } from "./membership-support.js";
import { runRaftkv, waitUntil } from "./support.js";

describe("raftkv member on a live cluster", { timeout: 180_000 }, () => {
  let c: TestCluster;
  before(async () => {
    c = await TestCluster.start({ nodes: 4, initial: 3 });
    await c.waitForLeader(20_000);
  });
  after(async () => {
    await c?.stop();
  });

  const member = (...args: string[]) => runRaftkv(["member", ...args, "--config", c.configPath], 40_000);

  test("list, add a learner, promote once caught up, remove the old node; clients follow through a removed node", async () => {
    const list = await member("list");
    assert.equal(list.code, 0, list.stderr);
    const rows = list.stdout.split("\n").filter((l) => /^\d/.test(l));
    assert.deepEqual(rows.map((r) => r.split(/\s+/)[4]), ["voter", "voter", "voter"], list.stdout);
    assert.match(list.stdout, /^leader: node \d \(marked \*\); configuration at index 0 \(the cluster file's\), committed$/m);

    for (let i = 0; i < 20; i++) await c.leaderCommand(10_000, "SET", `k${i}`, `v${i}`);
    await join(c, 4);
    const n4 = c.node(4);
    const added = await member("add", "4", "--peer", `${n4.host}:${n4.peerPort}`, "--client", `${n4.host}:${n4.clientPort}`, "--admin", `${n4.host}:${n4.adminPort}`, "--learner");
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /node 4 added as a learner/);
    await waitForMembers(c, 1, "node 4 a learner", settled([1, 2, 3], [4]));

    // Adding it again is refused with the server's reason (exit 2).
    const again = await member("add", "4", "--peer", `${n4.host}:${n4.peerPort}`, "--client", `${n4.host}:${n4.clientPort}`, "--admin", `${n4.host}:${n4.adminPort}`);
    assert.equal(again.code, 2, again.stdout);
    assert.match(again.stderr, /refused: .*4/);

    // Promotion: refused (exit 2, saying how far behind) until the learner caught up, then done.
    await waitUntil("node 4 promoted", async () => {
      const r = await member("promote", "4");
      if (r.code === 0) return true;
      assert.equal(r.code, 2, `promote: ${r.stderr}`);
      return null;
    }, 60_000);
    await waitForMembers(c, 1, "node 4 a voter", settled([1, 2, 3, 4]));

    const listed = await member("list");
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^4\*? +\S+ +\S+ +\S+ +voter +voter +(yes|no) +\d+$/m, listed.stdout);

    const removed = await member("remove", "1");
    assert.equal(removed.code, 0, removed.stderr);
    await waitForMembers(c, 2, "node 1 removed", settled([2, 3, 4]));

    // The cluster file still says 1,2,3: list shows the live members 2,3,4 all the same.
    const after = await member("list");
    assert.equal(after.code, 0, after.stderr);
    assert.deepEqual(after.stdout.split("\n").filter((l) => /^\d/.test(l)).map((l) => Number.parseInt(l, 10)), [2, 3, 4], after.stdout);

    // A cluster file that names only node 1 (removed, still running): the client commands find the cluster through it.
    const n1 = c.node(1);
    const old = joinPath(c.dir, "only-node-1.json");
    writeFileSync(old, JSON.stringify({ nodes: [{ id: 1, peer: `${n1.host}:${n1.peerPort}`, client: `${n1.host}:${n1.clientPort}`, admin: `${n1.host}:${n1.adminPort}` }] }));
    const set = await runRaftkv(["set", "via-old-file", "yes", "--config", old], 30_000);
    assert.equal(set.code, 0, set.stderr);
    const get = await runRaftkv(["get", "via-old-file", "--config", old], 30_000);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout, "yes\n");
    const status = await runRaftkv(["status", "--config", old], 30_000);
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(status.stdout.split("\n").slice(1).filter((l) => l.trim() !== "").map((l) => Number.parseInt(l.trim(), 10)), [1, 2, 3, 4], status.stdout);
  });
});
