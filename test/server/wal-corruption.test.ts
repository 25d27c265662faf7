// Torn writes, seen through the `raftkv server` process: bytes past what the
// newest header vouches for (a write a crash interrupted) are cut off with a
// warning, and are not damage. Real damage — a bad record before that point,
// a lost file — is recovered through the protocol: storage-follower.test.ts,
// storage-leader.test.ts and docs/STORAGE.md.

import assert from "node:assert/strict";
import { appendFileSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { TestCluster } from "../helpers/cluster.js";
import { missingKeys, readLog, segments, waitForAllApplied, waitForLog, waitUntil, writeKeys } from "./support.js";

/** The start of a record whose write the crash cut short: a header promising 100 payload bytes, and 3 of them. */
const TORN_RECORD = Buffer.from([0x12, 0x34, 0x56, 0x78, 0, 0, 0, 100, 2, 1, 2, 3]);

/**
 * A cluster that wrote `keys` keys (in each of 1 + `restarts` runs) and was
 * stopped cleanly; returns it with the keys and each node's lastLogIndex.
 */
async function stoppedCluster(keys: number, restarts = 0) {
  const c = await TestCluster.start({ nodes: 3 });
  const written = new Map<string, string>();
  const lastLogIndex = new Map<number, number>();
  for (let round = 0; round <= restarts; round++) {
    if (round > 0) for (const n of c.nodes) await c.restart(n.id);
    await c.waitForLeader(15_000);
    for (const [k, v] of await writeKeys(c, `round${round}`, keys)) written.set(k, v);
    await waitForAllApplied(c);
    for (const n of c.nodes) lastLogIndex.set(n.id, (await c.status(n.id))!.lastLogIndex);
    // Followers first: a stopping leader hands its leadership over, and the
    // new leader's no-op would reach the logs after they were measured.
    const leader = await c.waitForLeader(15_000);
    const order = [...c.nodes.map((n) => n.id).filter((id) => id !== leader), leader];
    for (const id of order) assert.deepEqual(await c.kill(id, "SIGTERM"), { code: 0, signal: null });
  }
  return { c, written, lastLogIndex };
}

/** The torn-tail warnings in node `id`'s log so far. */
function warnings(c: TestCluster, id: number): string[] {
  return readLog(c.logPath(id))
    .split("\n")
    .filter((l) => l.includes("torn"));
}

test("a torn tail on the last segment is cut off with a warning, and the node keeps its log", async () => {
  const { c, written, lastLogIndex } = await stoppedCluster(20);
  try {
    const id = 1;
    // A record whose write was cut short; then a tail of zeros, as a file system may leave after a crash.
    for (const tail of [TORN_RECORD, Buffer.alloc(4096)]) {
      const last = segments(c.dataDir(id)).at(-1)!;
      appendFileSync(last.path, tail);
      const warningsBefore = warnings(c, id).length;

      await c.restart(id);
      const warning = await waitUntil("a new torn-tail warning", () => warnings(c, id)[warningsBefore]);
      assert.match(warning, /"level":"warn"/);
      assert.ok(warning.includes(last.path), `the warning names ${last.path}: ${warning}`);
      // Alone (the others are down), the node knows only what its own disk holds.
      assert.equal((await c.status(id))!.lastLogIndex, lastLogIndex.get(id));
      assert.equal(readFileSync(last.path).length, last.size, "the torn bytes were cut off");
      assert.deepEqual(await c.kill(id, "SIGTERM"), { code: 0, signal: null });
    }

    for (const n of c.nodes) await c.restart(n.id);
    await c.waitForLeader(15_000);
    assert.deepEqual(await missingKeys(c, written), []);
  } finally {
    await c.stop();
  }
});

test("bytes past the end of a closed segment were never part of the log: ignored with a warning, nothing lost", async () => {
  const { c, written, lastLogIndex } = await stoppedCluster(10, 1);
  try {
    const id = 3;
    const all = segments(c.dataDir(id));
    assert.ok(all.length >= 2, `node ${id} has ${all.length} segments`);
    const older = all.at(-2)!;
    appendFileSync(older.path, TORN_RECORD);
    await c.restart(id);
    await waitForLog(c.logPath(id), /wal_unvouched_bytes_ignored/);
    assert.equal((await c.status(id))!.lastLogIndex, lastLogIndex.get(id));
    const status = (await c.status(id)) as unknown as { recovery: unknown };
    assert.equal(status.recovery, null, "no damage: nothing to recover from");
    for (const n of c.nodes.filter((x) => x.id !== id)) await c.restart(n.id);
    await c.waitForLeader(15_000);
    assert.deepEqual(await missingKeys(c, written), []);
  } finally {
    await c.stop();
  }
});
