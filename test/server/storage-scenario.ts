// One storage-fault scenario on a real 3-node cluster (see storage-support.ts).

import assert from "node:assert/strict";
import { RaftKvClient } from "../../src/client/client.js";
import { TestCluster } from "../helpers/cluster.js";
import { readLog } from "./support.js";
import { Workload, assertAllReadable, damage, forgedValue, makeLeader, waitInSync, writeAcknowledged, type StorageFault } from "./storage-support.js";

export async function storageScenario(fault: StorageFault, role: "follower" | "leader"): Promise<void> {
  const c = await TestCluster.start({
    nodes: 3,
    // Small segments, so that there are first, middle and newest ones to lose; snapshots only where the fault needs one.
    walSegmentBytes: 4096,
    snapshotEvery: fault === "snapshot damaged" ? 50 : 1_000_000,
  });
  try {
    const leader = await c.waitForLeader(15_000);
    const target = role === "leader" ? leader : c.nodes.find((n) => n.id !== leader)!.id;
    const written = await writeAcknowledged(c, "before", 200);
    if (fault === "crafted value, then a torn tail") {
      // The last write before the crash: a value that holds a whole valid WAL record.
      const client = new RaftKvClient({ nodes: c.nodes.map((n) => ({ host: n.host, port: n.clientPort })), timeoutMs: 15_000 });
      await client.set("forged", forgedValue());
      client.close();
      written.set("forged", forgedValue());
    }
    // The target has everything on disk before it goes down, so the fault takes acknowledged data.
    await waitInSync(c, target);
    const work = new Workload(c);
    await c.kill(target, "SIGKILL");
    damage(c.dataDir(target), fault);
    for (const [k, v] of await writeAcknowledged(c, "while-down", 30)) written.set(k, v);
    await c.restart(target);
    await waitInSync(c, target);
    for (const [k, v] of await writeAcknowledged(c, "after", 30)) written.set(k, v);
    // Served from the damaged node's own state machine: it holds every acknowledged write again.
    await makeLeader(c, target);
    await assertAllReadable(c, written);
    await work.stopAndCheck();
    assert.ok(work.ops > 10, `the client did work (${work.ops} operations)`);
    const log = readLog(c.logPath(target));
    if (fault === "data directory wiped") assert.match(log, /"recovery":\{"surveying":true/, "a wiped node asks the others before it takes part");
    else assert.match(log, /"event":"storage_damaged"/, "the damage was found and said");
    assert.match(log, /"event":"recovered_from_storage_fault"/);
    assert.doesNotMatch(log, /"event":"fatal"|cannot start/);
  } catch (err) {
    for (const n of c.nodes) console.log(`--- node ${n.id}:\n${c.logTail(n.id, 30)}`);
    throw err;
  } finally {
    await c.stop();
  }
}
