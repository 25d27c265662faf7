// SIGTERM and SIGINT stop a node cleanly (SPEC §6): exit code 0 within 2 s,
// after a stop that got to its end (the WAL closed), even under write load.

import assert from "node:assert/strict";
import { test } from "node:test";
import { respCommand, TestCluster } from "../helpers/cluster.js";
import { cleanStop, show, stopNode, waitForLog, waitUntil } from "./support.js";

test("SIGTERM stops a follower and SIGINT stops the leader under write load, each with exit code 0", async (t) => {
  // Wide election timeouts: the leader must stay leader until it is told to stop, even on a loaded machine.
  const c = await TestCluster.start({ nodes: 3, electionTimeoutMs: [500, 1000] });
  let writing = true;
  try {
    const leader = await c.waitForLeader(15_000);
    const follower = c.nodes.map((n) => n.id).find((id) => id !== leader)!;
    const leaderPid = c.node(leader).process!.pid;
    assert.deepEqual(await stopNode(c, t, follower, "SIGTERM"), { code: 0, signal: null });

    // Writers keep the leader busy (proposals, fsyncs) while it is told to stop.
    const l = c.node(leader);
    let acknowledged = 0;
    const writers = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; writing; i++) {
        const r = await respCommand(l.host, l.clientPort, ["SET", `w${w}-${i}`, "x"]).catch(() => null);
        if (r === null) return;
        if (r.kind === "simple") acknowledged++;
      }
    });
    await waitUntil("20 acknowledged writes", () => acknowledged >= 20, 15_000);
    assert.deepEqual(await stopNode(c, t, leader, "SIGINT"), { code: 0, signal: null });
    writing = false;
    await Promise.all(writers);

    // The log shows the signal, then a stop that got to the end (WAL closed).
    const log = await waitForLog(c.logPath(leader), cleanStop("SIGINT"));
    await waitForLog(c.logPath(follower), cleanStop("SIGTERM"));
    // SPEC §2: one JSON object per line, with time, level, node, term and event (and nothing else on stdout).
    for (const line of log.trimEnd().split("\n")) {
      const o = JSON.parse(line) as Record<string, unknown>;
      assert.deepEqual(["time", "level", "pid", "node", "term", "event"].filter((k) => !(k in o)), [], line);
      assert.equal(o.node, leader, line);
      assert.equal(o.pid, leaderPid, "the pid to signal is in every line");
    }

    // The last node, without a majority, still stops cleanly.
    const last = c.nodes.map((n) => n.id).find((id) => id !== leader && id !== follower)!;
    assert.deepEqual(await stopNode(c, t, last, "SIGTERM"), { code: 0, signal: null });
  } finally {
    writing = false;
    await c.stop();
  }
});

test("SIGTERM of the leader hands its leadership to a follower first (thesis §3.10): that follower leads the next term, and writes go on", async (t) => {
  // Long election timeouts: a new leader within them can only come from the hand-off.
  const c = await TestCluster.start({ nodes: 3, electionTimeoutMs: [2000, 4000], heartbeatMs: 100 });
  try {
    const leader = await c.waitForLeader(20_000);
    const term = (await c.status(leader))!.term;
    for (let i = 0; i < 20; i++) await c.leaderCommand(10_000, "SET", `before-${i}`, "x");
    assert.deepEqual(await stopNode(c, t, leader, "SIGTERM"), { code: 0, signal: null });

    const log = await waitForLog(c.logPath(leader), /"event":"leadership_transferred"[^\n]*\n/);
    const event = JSON.parse(log.split("\n").find((l) => l.includes('"leadership_transferred"'))!) as { to: number; leader: number; ms: number };
    t.diagnostic(`leadership handed to node ${event.to} in ${event.ms} ms`);
    const others = c.nodes.map((n) => n.id).filter((id) => id !== leader);
    assert.ok(others.includes(event.to));
    assert.equal(event.leader, event.to, "the hand-off is logged once the new leader is known, and names it");
    const successor = await c.waitForLeader(10_000, others);
    assert.equal(successor, event.to, "the node named in the hand-off leads");
    assert.equal((await c.status(successor))!.term, term + 1, "one election, the one the hand-off asked for");
    assert.equal(show(await c.command(successor, "SET", "after", "y")), "+OK");
    assert.equal(show(await c.command(successor, "GET", "before-19")), "$x");
  } finally {
    await c.stop();
  }
});
