// Starting a node that is already running (an easy operator mistake) must be
// refused before it touches the running node's data directory.

import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { test } from "node:test";
import { TestCluster } from "../helpers/cluster.js";
import { runRaftkv, waitForAllApplied, writeKeys } from "./support.js";

test("a second process for a running node exits 2 and leaves the running node's data directory alone", async () => {
  const c = await TestCluster.start({ nodes: 3 });
  try {
    await c.waitForLeader(15_000);
    await writeKeys(c, "one", 5);
    const files = readdirSync(c.dataDir(1)).sort();

    const second = await runRaftkv(["server", "--config", c.configPath, "--id", "1", "--data", c.dataDir(1)]);
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, /data directory .* is in use by process \d+ \(is this node already running\?\)/);
    assert.deepEqual(readdirSync(c.dataDir(1)).sort(), files, "the second process wrote nothing");

    // Another data directory, same addresses: refused on the port, exit 2 too.
    const third = await runRaftkv(["server", "--config", c.configPath, "--id", "1", "--data", c.dataDir(1) + "-copy"]);
    assert.equal(third.code, 2, third.stderr);
    assert.match(third.stderr, /the address is in use \(is another node or program running there\?\)/);
    assert.ok(!existsSync(c.dataDir(1) + "-copy"), "refused before its data directory was created");

    await writeKeys(c, "two", 5);
    const commitIndex = await waitForAllApplied(c);
    assert.deepEqual(await c.kill(1, "SIGTERM"), { code: 0, signal: null });
    await c.restart(1);
    assert.ok((await c.status(1))!.lastLogIndex >= commitIndex, "node 1 restarts with its whole log");
  } finally {
    await c.stop();
  }
});
