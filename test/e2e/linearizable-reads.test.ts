// Linearizable reads (SPEC §4: "a read is never answered from a node that is
// not, or no longer, the leader"). A network partition is emulated with
// SIGSTOP: a stopped process is cut off from everyone, yet its kernel still
// accepts connections and buffers requests, which it reads when SIGCONT
// wakes it up still believing it leads.

import assert from "node:assert/strict";
import { test } from "node:test";
import { Connection } from "../../src/client/connection.js";
import type { Reply } from "../../src/resp/writer.js";
import { respCommand, type TestCluster, type TestNode } from "../helpers/cluster.js";
import { show } from "../server/support.js";
import { clientAddress, eventually, signal, withCluster } from "./support.js";

/** A reply shown as text ("$value", "-MOVED ..."), or "no reply: why" when none came. */
async function outcome(reply: Promise<Reply>): Promise<string> {
  try {
    return show(await reply);
  } catch (err) {
    return `no reply: ${(err as Error).message}`;
  }
}

function connectTo(n: TestNode): Promise<Connection> {
  return Connection.connect({ host: n.host, port: n.clientPort }, { connectTimeoutMs: 5000 });
}

/** Sends `args` to the leader among `ids` until it succeeds (new leaders answer CLUSTERDOWN for a moment). */
async function commandAt(c: TestCluster, ids: number[], args: string[]): Promise<string> {
  let last = "";
  for (let attempt = 0; attempt < 100; attempt++) {
    for (const id of ids) {
      last = await outcome(c.command(id, ...args));
      if (!/^-(MOVED|CLUSTERDOWN)|^no reply/.test(last)) return last;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${args.join(" ")} did not succeed at nodes ${ids.join(", ")} (last: ${last})`);
}

// On waking, the old leader finds the new leader's messages (which arrived
// first) as well as the reads: either order must be safe. A node that
// served reads without a quorum round fails the second test for sure; this
// one catches it only when the reads win the race.
test("a leader stopped while the others elect a new one and accept a write never answers a read with the old value", async () => {
  await withCluster({ nodes: 3 }, async (c) => {
    const seen = new Map<string, number>();
    for (let round = 1; round <= 3; round++) {
      const old = await c.waitForLeader(20_000);
      const others = c.nodes.map((n) => n.id).filter((id) => id !== old);
      const oldValue = `old-${round}`;
      const newValue = `new-${round}`;
      assert.equal(await commandAt(c, [old], ["SET", "k", oldValue]), "+OK");
      const early = await connectTo(c.node(old)); // open before the partition

      signal(c, old, "SIGSTOP");
      const replies: Promise<string>[] = [];
      try {
        const successor = await c.waitForLeader(20_000, others);
        assert.equal(await commandAt(c, [successor], ["SET", "k", newValue]), "+OK", "the new leader accepts a write");
        // Requests that reach the stopped leader's socket buffers before it wakes up...
        replies.push(outcome(early.send(["GET", "k"], 15_000)));
        for (let i = 0; i < 3; i++) replies.push(outcome(respCommand(c.node(old).host, c.node(old).clientPort, ["GET", "k"], 15_000)));
        await new Promise((r) => setTimeout(r, 200)); // let the kernel accept them
      } finally {
        signal(c, old, "SIGCONT");
      }
      // ...and ones sent the moment it wakes up.
      for (let i = 0; i < 3; i++) replies.push(outcome(respCommand(c.node(old).host, c.node(old).clientPort, ["GET", "k"], 15_000)));
      replies.push(outcome(respCommand(c.node(old).host, c.node(old).clientPort, ["MGET", "k", "k"], 15_000)));

      const got = await Promise.all(replies);
      early.close();
      for (const r of got) {
        assert.doesNotMatch(r, new RegExp(oldValue), `round ${round}: node ${old}, partitioned away, answered a read with the old value: ${JSON.stringify(got)}`);
        const kind = r.startsWith("$") || r.startsWith("*") ? "new value" : r.split(" ")[0]!;
        seen.set(kind, (seen.get(kind) ?? 0) + 1);
        const allowed = [/^-MOVED 0 /, /^-CLUSTERDOWN /, new RegExp(`^\\$${newValue}$`), new RegExp(`^\\*\\[\\$${newValue}, \\$${newValue}\\]$`)];
        assert.ok(allowed.some((re) => re.test(r)), `round ${round}: node ${old} answered ${r}; expected MOVED, CLUSTERDOWN or ${newValue}`);
        if (r.startsWith("-MOVED")) assert.ok(others.some((id) => r === `-MOVED 0 ${clientAddress(c.node(id))}`), `MOVED names one of the others: ${r}`);
      }
      // The old leader rejoins as a follower and serves nothing stale afterwards either.
      await eventually(`node ${old} to follow`, async () => (await c.status(old))?.role === "follower");
      assert.equal(await commandAt(c, c.nodes.map((n) => n.id), ["GET", "k"]), `$${newValue}`);
    }
    console.log(`replies of the woken old leaders: ${JSON.stringify(Object.fromEntries(seen))}`);
  });
});

test("a leader cut off from both followers answers neither a read nor a write with success", async () => {
  await withCluster({ nodes: 3 }, async (c) => {
    const leader = await c.waitForLeader(20_000);
    const followers = c.nodes.map((n) => n.id).filter((id) => id !== leader);
    assert.equal(await commandAt(c, [leader], ["SET", "k", "v1"]), "+OK");
    const n = c.node(leader);
    const open = await connectTo(n);

    for (const f of followers) signal(c, f, "SIGSTOP");
    let read: string, readNew: string, write: string;
    try {
      // Sent at once: the leader cannot know yet that it is alone, only a quorum round tells it.
      const pending = [outcome(open.send(["GET", "k"], 8000)), outcome(respCommand(n.host, n.clientPort, ["GET", "k"], 8000)), outcome(respCommand(n.host, n.clientPort, ["SET", "k", "v2"], 8000))];
      [read, readNew, write] = await Promise.all(pending);
    } finally {
      for (const f of followers) signal(c, f, "SIGCONT");
      open.close();
    }
    console.log(`isolated leader answered GET: ${read}; GET on a new connection: ${readNew}; SET: ${write}`);
    for (const r of [read, readNew]) assert.ok(!r.startsWith("$"), `an isolated leader answered a read: ${r}`);
    assert.notEqual(write, "+OK", "an isolated leader acknowledged a write");
    for (const r of [read, readNew, write]) assert.match(r, /^(-CLUSTERDOWN |-MOVED 0 |-TIMEOUT |no reply)/, `reply ${r}`);

    // Healed: the cluster serves again, with v1 (or v2, if the unacknowledged SET was committed after all).
    await c.waitForLeader(20_000);
    assert.match(await commandAt(c, c.nodes.map((x) => x.id), ["GET", "k"]), /^\$v[12]$/);
  });
});
