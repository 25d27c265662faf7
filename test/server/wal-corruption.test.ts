// Damaged write-ahead logs, seen through the `raftkv server` process (SPEC §6):
// a torn record at the end of the log is cut off with a warning; a bad record
// anywhere else stops the node from starting, naming the file and offset.

import assert from "node:assert/strict";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { exitOf, TestCluster } from "../helpers/cluster.js";
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

/** Starts a node that must refuse to start; returns its exit status and the file and offset its message names. */
async function refusedStart(c: TestCluster, id: number) {
  const exit = await exitOf(c.startNode(id));
  const log = await waitForLog(c.logPath(id), /cannot start node/);
  const m = /refusing to start: (\S+) is corrupt at byte (\d+): ([^.]*)/.exec(log);
  assert.ok(m, `the message names a file and offset:\n${log}`);
  return { exit, file: m[1]!, offset: Number(m[2]), reason: m[3]! };
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

test("a flipped byte in the middle of a segment stops the node from starting, naming the file and offset", async () => {
  const { c, written, lastLogIndex } = await stoppedCluster(40);
  try {
    const id = 2;
    const target = segments(c.dataDir(id)).reduce((a, b) => (b.size > a.size ? b : a));
    const original = readFileSync(target.path);
    const at = Math.floor(original.length / 2);
    const damaged = Buffer.from(original);
    damaged[at] = damaged[at]! ^ 0xff;
    writeFileSync(target.path, damaged);

    const refused = await refusedStart(c, id);
    assert.notEqual(refused.exit.code, 0, `exit ${JSON.stringify(refused.exit)}`);
    assert.equal(refused.exit.signal, null);
    assert.equal(refused.file, target.path);
    // The offset is where the damaged record starts: at or a little before the flipped byte.
    assert.ok(refused.offset <= at && at - refused.offset < 200, `offset ${refused.offset} for a flip at ${at}`);
    assert.deepEqual(readFileSync(target.path), damaged, "the refused start left the file as it was");

    // Repaired, the file is accepted again, with everything in it.
    writeFileSync(target.path, original);
    await c.restart(id);
    assert.equal((await c.status(id))!.lastLogIndex, lastLogIndex.get(id));
    for (const n of c.nodes.filter((x) => x.id !== id)) await c.restart(n.id);
    await c.waitForLeader(15_000);
    assert.deepEqual(await missingKeys(c, written), []);
  } finally {
    await c.stop();
  }
});

test("a torn record at the end of a segment that is not the last one is not cut off: the node refuses to start", async () => {
  const { c } = await stoppedCluster(10, 1);
  try {
    const id = 3;
    const all = segments(c.dataDir(id));
    assert.ok(all.length >= 2, `node ${id} has ${all.length} segments`);
    const older = all.at(-2)!;
    appendFileSync(older.path, TORN_RECORD);

    const refused = await refusedStart(c, id);
    assert.notEqual(refused.exit.code, 0);
    assert.equal(refused.file, older.path);
    assert.equal(refused.offset, older.size, "the offset is where the torn record starts");
    assert.equal(readFileSync(older.path).length, older.size + TORN_RECORD.length, "nothing was cut off");
  } finally {
    await c.stop();
  }
});
