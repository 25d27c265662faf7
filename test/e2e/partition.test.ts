// Real network partitions (iptables on loopback, test/helpers/netfilter.ts)
// against a real 3-node cluster: what check-quorum and pre-vote promise,
// seen from outside.
//
// - A leader cut off from both followers stops leading (check-quorum), never
//   acknowledges a write or answers a read while cut off, and does not
//   raise its term (pre-vote); the majority elects a new leader and goes on;
//   after healing, the old leader follows the new one without disrupting it,
//   and the write it took while cut off is gone, never applied.
// - A follower cut off for several election timeouts keeps its term, and
//   when the link heals it catches up without deposing the leader.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Reply } from "../../src/resp/writer.js";
import { sleep, type TestCluster } from "../helpers/cluster.js";
import { Firewall } from "../helpers/netfilter.js";
import { show } from "../server/support.js";
import { eventually, withCluster } from "./support.js";

const ELECTION_MS: [number, number] = [500, 1000];

async function outcome(reply: Promise<Reply>): Promise<string> {
  try {
    return show(await reply);
  } catch (err) {
    return `no reply: ${(err as Error).message}`;
  }
}

/** Sends `args` to node `id` until it stops answering "not the leader" (a new leader needs a moment). */
async function commandAt(c: TestCluster, id: number, ...args: string[]): Promise<string> {
  let last = "";
  for (let attempt = 0; attempt < 100; attempt++) {
    last = await outcome(c.command(id, ...args));
    if (!/^-(MOVED|CLUSTERDOWN)|^no reply/.test(last)) return last;
    await sleep(100);
  }
  throw new Error(`${args.join(" ")} at node ${id} kept failing (last: ${last})`);
}

async function statusOf(c: TestCluster, id: number) {
  const s = await c.status(id);
  assert.ok(s, `node ${id} answers /status`);
  return s;
}

describe("network partitions (iptables)", () => {
  let fw: Firewall;

  before(() => {
    fw = Firewall.create();
  });

  after(() => {
    fw?.close();
  });

  test("a leader cut off from the majority steps down, keeps its term, and rejoins as a follower without disrupting", async () => {
    await withCluster({ nodes: 3, electionTimeoutMs: ELECTION_MS }, async (c, old) => {
      assert.equal(await commandAt(c, old, "SET", "k", "before"), "+OK");
      const others = c.nodes.map((n) => n.id).filter((id) => id !== old);
      const termBefore = (await statusOf(c, old)).term;

      fw.partition([c.node(old).host], others.map((id) => c.node(id).host));
      try {
        // A write sent to the cut-off leader: it can never reach a majority.
        const stranded = outcome(c.command(old, "SET", "k", "stranded"));
        const successor = await c.waitForLeader(20_000, others);
        const successorTerm = (await statusOf(c, successor)).term;
        assert.ok(successorTerm > termBefore, "the majority elected a leader in a later term");
        await eventually(`node ${old} to step down`, async () => (await statusOf(c, old)).role !== "leader");
        assert.equal(await commandAt(c, successor, "SET", "k", "after"), "+OK", "the majority accepts writes");

        assert.notEqual(await stranded, "+OK", "the cut-off leader acknowledged a write it could not commit");
        const readAtOld = await outcome(c.command(old, "GET", "k"));
        assert.match(readAtOld, /^-(MOVED|CLUSTERDOWN)/, `a read at the cut-off node must be refused, got ${readAtOld}`);
        await sleep(3 * ELECTION_MS[1]);
        const cutOff = await statusOf(c, old);
        assert.equal(cutOff.term, termBefore, "pre-vote: a node that cannot win does not raise its term");
        assert.notEqual(cutOff.role, "leader");
      } finally {
        fw.heal();
      }

      const leader = await c.waitForLeader(20_000);
      const s = await statusOf(c, leader);
      assert.notEqual(leader, old);
      await eventually(`node ${old} to catch up`, async () => {
        const o = await statusOf(c, old);
        return o.role === "follower" && o.leader === leader && o.lastApplied >= s.commitIndex;
      });
      assert.equal((await statusOf(c, leader)).term, s.term, "the rejoining node did not force an election");
      assert.equal(await commandAt(c, leader, "GET", "k"), "$after", "the stranded write was never applied");
      assert.equal(await outcome(c.command(old, "GET", "k")), `-MOVED 0 ${c.node(leader).host}:${c.node(leader).clientPort}`);
    });
  });

  test("a follower cut off for several election timeouts keeps its term and catches up without deposing the leader", async () => {
    await withCluster({ nodes: 3, electionTimeoutMs: ELECTION_MS }, async (c, leader) => {
      const follower = c.nodes.map((n) => n.id).find((id) => id !== leader)!;
      const term = (await statusOf(c, leader)).term;
      fw.partition([c.node(follower).host], c.nodes.filter((n) => n.id !== follower).map((n) => n.host));
      try {
        for (let i = 0; i < 20; i++) assert.equal(await commandAt(c, leader, "SET", `key${i}`, `value${i}`), "+OK");
        await sleep(4 * ELECTION_MS[1]);
        const cutOff = await statusOf(c, follower);
        assert.equal(cutOff.term, term, "pre-vote: the cut-off follower did not raise its term");
        assert.notEqual(cutOff.role, "leader");
        const l = await statusOf(c, leader);
        assert.equal(l.role, "leader", "the leader kept its majority and its leadership");
        assert.ok(cutOff.commitIndex < l.commitIndex, "the cut-off follower missed the writes");
      } finally {
        fw.heal();
      }
      const target = (await statusOf(c, leader)).commitIndex;
      await eventually(`node ${follower} to catch up`, async () => {
        const s = await statusOf(c, follower);
        return s.leader === leader && s.lastApplied >= target;
      });
      const l = await statusOf(c, leader);
      assert.equal(l.role, "leader");
      assert.equal(l.term, term, "healing the link did not start an election");
    });
  });
});
