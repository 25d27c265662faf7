// Snapshots in the real runtime (SPEC §6: "durable state (term, vote, log,
// snapshots)"): a node takes one every 10,000 applied entries and drops the
// log before it, so a follower that was down for that long catches up by
// InstallSnapshot; every node restarts from its snapshot plus its WAL.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { TestCluster } from "../helpers/cluster.js";
import { pipeline, show, waitForAllApplied, waitForApplied, waitUntil } from "./support.js";

/** The server's default snapshot interval (ServerOptions.snapshotEvery). */
const SNAPSHOT_EVERY = 10_000;
const KEYS = SNAPSHOT_EVERY + 500;
const BATCH = 500;
/** Small chunks, so the snapshot (a few hundred KB) crosses the network in many InstallSnapshot messages. */
const CHUNK = 32 * 1024;

test("a follower that missed a snapshot's worth of writes catches up from the leader's snapshot, and the cluster restarts from snapshots", async (t) => {
  // Wide election timeouts: one leader must take the whole pipelined burst on a loaded machine.
  const c = await TestCluster.start({ nodes: 3, electionTimeoutMs: [500, 1000], snapshotChunkBytes: CHUNK });
  try {
    const leader = await c.waitForLeader(15_000);
    const late = c.nodes.map((n) => n.id).find((id) => id !== leader)!;
    await c.kill(late);

    const l = c.node(leader);
    const started = Date.now();
    for (let from = 0; from < KEYS; from += BATCH) {
      const commands = Array.from({ length: Math.min(BATCH, KEYS - from) }, (_, i) => ["SET", `snap-${from + i}`, `value-${from + i}`]);
      const replies = (await pipeline(l.host, l.clientPort, commands)).map(show);
      assert.deepEqual(replies.filter((r) => r !== "+OK"), [], `writes ${from}..${from + commands.length - 1}`);
    }
    t.diagnostic(`${KEYS} pipelined writes took ${Date.now() - started} ms`);
    const snapshotIndex = (await waitUntil("the leader's snapshot", async () => {
      const s = await c.status(leader);
      return s !== null && s.snapshotIndex >= SNAPSHOT_EVERY ? s : null;
    })).snapshotIndex;

    await c.restart(late);
    const commitIndex = (await c.status(leader))!.commitIndex;
    const caughtUp = await waitForApplied(c, late, commitIndex, 30_000);
    assert.ok(caughtUp.snapshotIndex >= snapshotIndex, `node ${late} installed the leader's snapshot (its snapshotIndex: ${caughtUp.snapshotIndex}, the leader's: ${snapshotIndex})`);
    const installed = readFileSync(c.logPath(late), "utf8")
      .split("\n")
      .filter((l) => l.includes('"snapshot_installed"'))
      .map((l) => JSON.parse(l) as { bytes: number });
    assert.equal(installed.length, 1, "one snapshot installed");
    assert.ok(installed[0]!.bytes > 4 * CHUNK, `the snapshot (${installed[0]!.bytes} bytes) came in many chunks of ${CHUNK}`);
    t.diagnostic(`snapshot of ${installed[0]!.bytes} bytes in chunks of ${CHUNK}`);

    const sample = [0, 1, 4_999, SNAPSHOT_EVERY - 1, SNAPSHOT_EVERY, KEYS - 1];
    const readSample = async () => {
      const keys = sample.map((i) => `snap-${i}`);
      return show(await c.leaderCommand(15_000, "MGET", ...keys));
    };
    const expected = `*[${sample.map((i) => `$value-${i}`).join(", ")}]`;
    assert.equal(await readSample(), expected);
    assert.equal(show(await c.leaderCommand(15_000, "DBSIZE")), `:${KEYS}`);

    // Everyone restarts from a snapshot plus the WAL after it.
    for (const n of c.nodes) assert.deepEqual(await c.kill(n.id, "SIGTERM"), { code: 0, signal: null });
    for (const n of c.nodes) c.startNode(n.id);
    for (const n of c.nodes) await c.waitForPort(n.id);
    for (const n of c.nodes) {
      const s = (await c.status(n.id))!;
      assert.ok(s.snapshotIndex >= SNAPSHOT_EVERY, `node ${n.id} restarted with snapshotIndex ${s.snapshotIndex}`);
    }
    await waitForAllApplied(c, 30_000);
    assert.equal(await readSample(), expected);
    assert.equal(show(await c.leaderCommand(15_000, "DBSIZE")), `:${KEYS}`);

    // A majority that needs the late node (its state came from the snapshot) serves everything.
    const current = await c.waitForLeader(15_000);
    const victim = current !== late ? current : c.nodes.map((n) => n.id).find((id) => id !== late)!;
    await c.kill(victim);
    await c.waitForLeader(15_000, c.nodes.map((n) => n.id).filter((id) => id !== victim));
    assert.equal(await readSample(), expected);
  } finally {
    await c.stop();
  }
});
