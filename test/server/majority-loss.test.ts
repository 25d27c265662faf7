// A 3-node cluster that loses two nodes to kill -9 (SPEC §4): no write may
// succeed without a majority; once the nodes are back, progress resumes and
// every earlier acknowledged write is there.

import assert from "node:assert/strict";
import { test } from "node:test";
import { respCommand, TestCluster } from "../helpers/cluster.js";
import { missingKeys, show, waitForAllApplied, waitUntil, writeKeys } from "./support.js";

/**
 * Sends a write to node `id`, following MOVED. Returns the reply, or "no
 * leader" when the node it points at is down; "no reply" means a node did not
 * answer in time, which the server must never do (it has a 5 s commit timeout).
 */
async function tryWrite(c: TestCluster, id: number, key: string, value: string): Promise<string> {
  let n = c.node(id);
  for (let hops = 0; hops < 3; hops++) {
    let r;
    try {
      r = await respCommand(n.host, n.clientPort, ["SET", key, value], 15_000);
    } catch (err) {
      const message = (err as Error).message;
      return message.startsWith("no reply") ? message : `no leader (${message})`;
    }
    if (r.kind !== "error" || !r.message.startsWith("MOVED ")) return show(r);
    const address = r.message.split(" ")[2];
    n = c.nodes.find((x) => `${x.host}:${x.clientPort}` === address)!;
  }
  return "no leader (MOVED loop)";
}

for (const survivorIsLeader of [true, false]) {
  test(`with a majority down (the survivor ${survivorIsLeader ? "was" : "was not"} the leader) no write succeeds; after a restart every acknowledged write is there`, async (t) => {
    const c = await TestCluster.start({ nodes: 3 });
    try {
      const leader = await c.waitForLeader(15_000);
      const written = await writeKeys(c, "kept", 20);
      // Every node holds the writes, so whichever two come back hold them too.
      await waitForAllApplied(c);

      const survivor = survivorIsLeader ? leader : c.nodes.map((n) => n.id).find((id) => id !== leader)!;
      const victims = c.nodes.map((n) => n.id).filter((id) => id !== survivor);
      await Promise.all(victims.map((id) => c.kill(id)));

      // At once, while a surviving leader may still believe it leads: a read needs a majority too (ReadIndex).
      const [write, read] = await Promise.all([tryWrite(c, survivor, "lost", "maybe"), c.command(survivor, "GET", "kept-0").then(show, (err: Error) => err.message)]);
      t.diagnostic(`right after the crash: SET ${write} | GET ${read}`);
      assert.match(write, /^(-CLUSTERDOWN|-TIMEOUT|no leader)/, `a write without a majority got ${write}`);
      assert.match(read, /^-(CLUSTERDOWN|TIMEOUT|MOVED)/, `a read without a majority got ${read}`);

      // Soon the survivor knows there is no leader (check-quorum, election timeouts), and says so.
      await waitUntil(`node ${survivor} to know it has no leader`, async () => {
        const s = await c.status(survivor);
        return s !== null && s.role !== "leader" && s.leader === null;
      });
      assert.equal(await tryWrite(c, survivor, "lost2", "maybe"), "-CLUSTERDOWN no leader");
      assert.equal(show(await c.command(survivor, "GET", "kept-0")), "-CLUSTERDOWN no leader");

      for (const id of victims) await c.restart(id);
      await c.waitForLeader(15_000);
      const more = await writeKeys(c, "resumed", 5);
      assert.deepEqual(await missingKeys(c, new Map([...written, ...more])), []);
    } finally {
      await c.stop();
    }
  });
}
