// The black-box fault test (SPEC §4 consistency, §6 durability): concurrent
// clients read, write and increment three keys while nodes, the leader
// most often, are killed with -9 and restarted; once two at a time (no
// majority); and, between kills, the network is partitioned with iptables
// (the leader or another node cut off from the rest, for 1-3 s, then healed). Every operation is recorded with its call and return time, and
// the history, closed by reads after a crash of the WHOLE cluster, must be
// linearizable (checkLinearizability with kvModel). A prefill first pushes
// the log past a snapshot, so that restarts recover from snapshots and a
// lagging node catches up through InstallSnapshot.
//
// Outcomes: a reply is a returned operation; -TIMEOUT, a lost connection or
// a request timeout after sending is unknown (it may take effect later);
// -MOVED, -CLUSTERDOWN and refused connections mean "not executed", so the
// operation is left out. Some clients speak raw RESP (each op one attempt),
// the others use RaftKvClient (retries and exactly-once sessions; an op is
// recorded once, from its first attempt to its final answer). The workload
// and its checks are in kv-workload.ts (membership-fault.test.ts uses them too).

import assert from "node:assert/strict";
import { test } from "node:test";
import { performance } from "node:perf_hooks";
import { checkLinearizability, HistoryRecorder, kvModel } from "../../src/check/linearizability.js";
import { clientsUnderChaos, crashAll } from "../helpers/chaos.js";
import { withCluster } from "./support.js";
import { Firewall } from "../helpers/netfilter.js";
import { checkDurability, finalReads, KEYS, libraryClient, prefill, rawClient, RUN_SEED, seeded, type Recorder, type Stats } from "./kv-workload.js";

const CHAOS_MS = 25_000;
const RAW_CLIENTS = 3;
const LIBRARY_CLIENTS = 2;

test("concurrent clients under repeated kill -9 of nodes (the leader most often) and network partitions: the history is linearizable and acknowledged writes survive", { timeout: 600_000 }, async () => {
  const fw = Firewall.create();
  try {
    await faultRun(fw);
  } finally {
    fw.close();
  }
});

async function faultRun(fw: Firewall): Promise<void> {
  await withCluster({ nodes: 3 }, async (c) => {
    const recorder: Recorder = new HistoryRecorder();
    const stats: Stats = { ops: 0, returned: 0, unknown: 0, discarded: 0, unexpected: [] };
    const events: string[] = [await prefill(c, recorder, stats)];
    // A calm second with every node up after the chaos, then the clients stop.
    const { counts, started } = await clientsUnderChaos(c, fw, events, { chaosMs: CHAOS_MS, rand: seeded(99), calmMs: 1000, unexpected: stats.unexpected }, (running) => [
      ...Array.from({ length: RAW_CLIENTS }, (_, i) => rawClient(c, i + 1, recorder, stats, running)),
      ...Array.from({ length: LIBRARY_CLIENTS }, (_, i) => libraryClient(c, RAW_CLIENTS + i + 1, recorder, stats, running)),
    ]);
    const clientSeconds = (performance.now() - started) / 1000;

    // Crash the whole cluster at once: what was acknowledged must come back from disk.
    await crashAll(c);
    const finals = await finalReads(c, recorder);

    const history = recorder.history();
    const checkStarted = performance.now();
    const result = checkLinearizability(kvModel, history, { timeoutMs: 180_000 });
    const checkMs = performance.now() - checkStarted;
    const byKey = KEYS.map((k) => `${k}: ${history.filter((op) => op.input.key === k).length}`).join(", ");
    console.log(
      `${stats.ops} operations in ${clientSeconds.toFixed(1)} s by ${RAW_CLIENTS + LIBRARY_CLIENTS} clients: ${stats.returned} returned, ${stats.unknown} unknown, ${stats.discarded} not executed (MOVED/CLUSTERDOWN/refused); ` +
        `history ${history.length} (${byKey}); ${counts.kills} kills (${counts.leaderKills} of the leader, ${counts.majorityLosses} majority loss), ${counts.partitions} partitions + a whole-cluster kill -9; ` +
        `check ${result.ok === true ? "ok" : String(result.ok)} in ${checkMs.toFixed(0)} ms (${result.steps} steps); final ${JSON.stringify(Object.fromEntries(finals))}`,
    );
    console.log(`seed ${RUN_SEED} (RAFTKV_FAULT_SEED); nemesis: ${events.join("; ")}`);

    assert.deepEqual(stats.unexpected.slice(0, 10), [], `${stats.unexpected.length} unexpected replies`);
    assert.ok(stats.returned > 500, `the clients made progress (${stats.returned} operations returned)`);
    if (result.ok === "unknown") assert.fail(`the linearizability check did not finish: ${result.message}`);
    if (result.ok === false) assert.fail(`the history is not linearizable:\n${result.explanation}`);
    assert.deepEqual(checkDurability(history, finals), []);
  });
}
