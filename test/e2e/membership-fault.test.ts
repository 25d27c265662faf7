// Membership changes under faults (issue 13, SPEC §10): the fault test's
// workload (kv-workload.ts: raw and library clients doing GET, SET and INCR,
// every operation recorded) and its nemesis (nemesis.ts: kill -9, the leader
// most often, and iptables partitions), while an operator changes the
// membership the way docs/MEMBERSHIP.md tells one to: start a new node with
// --join on a new address, add it (as a learner then promoted, or promoted
// automatically once caught up), and remove a voter — the leader as often as
// not, sometimes one whose machine was killed first (replacing a dead node);
// now and then it grows 3 -> 5 and shrinks back. A removed id is added again
// later, with an empty data directory. Each change is sent the way
// the CLI sends it (to any member, following 421 to the leader) and asked
// again after 409 (busy, not caught up, a leader just elected), 422 (the
// quorum check: members unreachable), 404 (an old leader's view) or no answer, until the leader's
// /members shows it done. Removed nodes keep running until the next change
// (clients that ask them get CLUSTERDOWN), then are stopped for good.
//
// At the end: heal, let the cluster settle (one leader, the configuration
// committed and not joint, every member agreeing), kill -9 every member at
// once and restart them, read the keys; the history must be linearizable
// (kvModel) and every acknowledged write readable (checkDurability on the
// workload's keys, and a writer's own keys one by one).

import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { test } from "node:test";
import { performance } from "node:perf_hooks";
import { checkLinearizability, HistoryRecorder, kvModel } from "../../src/check/linearizability.js";
import type { MembersJson } from "../../src/util/members-json.js";
import { sleep, TestCluster } from "../helpers/cluster.js";
import { Firewall } from "../helpers/netfilter.js";
import { change, join, members, shape, Writer } from "../server/membership-support.js";
import { missingKeys, waitUntil } from "../server/support.js";
import { checkDurability, finalReads, KEYS, libraryClient, prefill, rawClient, RUN_SEED, seeded, type Recorder, type Stats } from "./kv-workload.js";
import { currentLeader, nemesis } from "./nemesis.js";
import { crashAll } from "../helpers/chaos.js";

const CHAOS_MS = Number(process.env.RAFTKV_MEMBERSHIP_CHAOS_MS ?? 30_000);
const INITIAL = 3;
/**
 * Spare nodes, each on its own address. A node added is a new id when one is
 * left (the "replace" of docs/MEMBERSHIP.md: a new node, then the old one
 * removed), else a removed id again, stopped and its data directory emptied.
 */
const SPARES = 3;
const RAW_CLIENTS = 2;
const LIBRARY_CLIENTS = 2;
/** How long one change may take, retries under the nemesis included. */
const CHANGE_TIMEOUT_MS = 90_000;

interface OperatorCounts {
  added: number;
  promoted: number;
  removed: number;
  leaderRemoved: number;
  deadRemoved: number;
  grows: number;
  /** Answers other than 200, by status ("none": no node answered, or no leader in time). */
  refusals: Map<string, number>;
}

test("membership changes (add, promote, remove the leader, replace a dead node, grow 3 -> 5 and back) while nodes are killed and partitioned: the history is linearizable and acknowledged writes survive", { timeout: 600_000 }, async () => {
  const fw = Firewall.create();
  const c = await TestCluster.start({ nodes: INITIAL + SPARES, initial: INITIAL, snapshotEvery: 2000 });
  const events: string[] = [];
  try {
    await run(c, fw, events);
  } catch (err) {
    for (const n of c.nodes) console.error(`--- end of node ${n.id}'s log:\n${c.logTail(n.id, 15)}`);
    console.error(`seed ${RUN_SEED} (RAFTKV_FAULT_SEED); events: ${events.join("; ")}`);
    throw err;
  } finally {
    fw.close();
    await c.stop();
  }
});

async function run(c: TestCluster, fw: Firewall, events: string[]): Promise<void> {
  const rand = seeded(7);
  /** Added and not removed (as far as the operator knows). */
  const memberSet = new Set<number>(Array.from({ length: INITIAL }, (_, i) => i + 1));
  /** Being removed: the nemesis leaves them alone. */
  const leaving = new Set<number>();
  /** Removed but still running, stopped at the next change. */
  const removedRunning: number[] = [];
  const touching = new Set<number>();
  const spares = Array.from({ length: SPARES }, (_, i) => INITIAL + i + 1);
  const live = () => [...memberSet].filter((id) => c.node(id).process !== null);

  await c.waitForLeader(20_000, [...memberSet]);
  // The operator's cluster file names every address the cluster uses, as docs/MEMBERSHIP.md asks: a node that was
  // down while the membership changed, and finds no member its own data names, asks those (seed 1002981052).
  for (const id of memberSet) c.restartWith(id, c.allConfigPath);
  const recorder: Recorder = new HistoryRecorder();
  const stats: Stats = { ops: 0, returned: 0, unknown: 0, discarded: 0, unexpected: [] };
  events.push(await prefill(c, recorder, stats, { members: [...memberSet], fillerWrites: 2500 }));
  const started = performance.now();
  const at = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;

  let clientsRunning = true;
  let chaosRunning = true;
  const chaosTimer = setTimeout(() => (chaosRunning = false), CHAOS_MS);
  const clients = [
    ...Array.from({ length: RAW_CLIENTS }, (_, i) => rawClient(c, i + 1, recorder, stats, () => clientsRunning)),
    ...Array.from({ length: LIBRARY_CLIENTS }, (_, i) => libraryClient(c, RAW_CLIENTS + i + 1, recorder, stats, () => clientsRunning)),
  ].map((client) => client.catch((err: unknown) => void stats.unexpected.push(`a client crashed: ${(err as Error).stack ?? String(err)}`)));
  const writer = new Writer(c, "w");
  writer.among = () => [...memberSet];

  /** Being added: once promoted it may be elected before the operator sees its addition done. */
  const joining = new Set<number>();
  /** /members as the leader answers it (the highest term's leader among the members and the node being added), or null. */
  const leaderView = async (): Promise<MembersJson | null> => {
    const leader = await currentLeader(c);
    if (leader === null || !(memberSet.has(leader) || joining.has(leader))) return null;
    const m = await members(c, leader);
    return m !== null && m.leader === leader ? m : null;
  };
  const has = (m: MembersJson, id: number) => m.members.some((x) => x.id === id);
  const isVoter = (m: MembersJson, id: number) => m.members.some((x) => x.id === id && x.role === "voter");
  const counts: OperatorCounts = { added: 0, promoted: 0, removed: 0, leaderRemoved: 0, deadRemoved: 0, grows: 0, refusals: new Map() };

  /** One change, asked again until the leader's /members shows `done` in a settled configuration. */
  const operate = async (what: string, method: string, path: string, body: unknown, done: (m: MembersJson) => boolean): Promise<void> => {
    const until = Date.now() + CHANGE_TIMEOUT_MS;
    let last = "no leader seen";
    let lastAt = Date.now();
    let lastRefusal = "none";
    for (;;) {
      const m = await leaderView();
      if (m !== null) {
        lastAt = Date.now();
        const each = m.members.map((x) => `${x.id} ${x.state} reachable ${String(x.reachable)} match ${String(x.matchIndex)}${x.waiting === null ? "" : ` (waiting: ${x.waiting})`}`);
        last = `${shape(m)}${m.committed ? "" : " (not committed)"}, from leader ${String(m.leader)}: ${each.join("; ")}`;
      }
      if (m !== null && m.committed && !m.joint && done(m)) return;
      if (Date.now() > until) throw new Error(`${what}: not done within ${CHANGE_TIMEOUT_MS} ms (the leader's /members, ${Math.round((Date.now() - lastAt) / 1000)} s ago: ${last}; refusals so far ${JSON.stringify([...counts.refusals])}, the last: ${lastRefusal})`);
      if (m === null || !m.committed || m.joint) {
        await sleep(100);
        continue;
      }
      const a = await change(c, method, path, body, live(), 5000).catch(() => null);
      if (a?.status === 200) {
        events.push(`${at()}: ${what} (index ${String(a.body.index)})`);
        continue;
      }
      const key = a === null ? "none" : String(a.status);
      counts.refusals.set(key, (counts.refusals.get(key) ?? 0) + 1);
      lastRefusal = a === null ? "no answer" : `${a.status} ${JSON.stringify(a.body)}`;
      if (a !== null && ![404, 409, 422].includes(a.status)) throw new Error(`${what}: unexpected answer ${a.status} ${JSON.stringify(a.body)}`);
      await sleep(200 + rand() * 300);
    }
  };

  let learnerNext = rand() < 0.5;
  const add = async (id: number): Promise<void> => {
    await join(c, id);
    joining.add(id);
    const learnerFirst = (learnerNext = !learnerNext);
    const n = c.node(id);
    const body = { id, peer: `${n.host}:${n.peerPort}`, client: `${n.host}:${n.clientPort}`, admin: `${n.host}:${n.adminPort}`, learner: learnerFirst };
    await operate(`add ${id}${learnerFirst ? " as a learner" : ", promoted once caught up"}`, "POST", "/members", body, (m) => has(m, id) && (learnerFirst || isVoter(m, id)));
    memberSet.add(id);
    joining.delete(id);
    counts.added++;
    if (learnerFirst) {
      await operate(`promote ${id}`, "POST", `/members/${id}/promote`, undefined, (m) => isVoter(m, id));
      counts.promoted++;
    }
  };

  /** Marks `id` as leaving and waits until the nemesis has let go of it. */
  const claim = async (id: number): Promise<void> => {
    leaving.add(id);
    await waitUntil(`the nemesis to let go of node ${id}`, () => !touching.has(id), 30_000);
  };

  const remove = async (id: number, why: string): Promise<void> => {
    await operate(`remove ${id} (${why})`, "DELETE", `/members/${id}`, undefined, (m) => !has(m, id));
    memberSet.delete(id);
    leaving.delete(id);
    counts.removed++;
    if (c.node(id).process !== null) removedRunning.push(id);
    retired.push(id);
  };

  /** Removed nodes: stopped, then spare again with an empty data directory (a removed id comes back only that way). */
  const retired: number[] = [];
  const retireRemoved = async () => {
    for (const id of removedRunning.splice(0)) await c.kill(id);
    for (const id of retired.splice(0)) {
      rmSync(c.dataDir(id), { recursive: true, force: true });
      spares.push(id);
    }
  };

  const kinds = ["replace", "dead", "grow"] as const;
  const operator = async (): Promise<void> => {
    for (let cycle = Math.floor(rand() * kinds.length); chaosRunning; cycle++) {
      await retireRemoved();
      const kind = kinds[cycle % kinds.length]!;
      const grow = kind === "grow" && spares.length >= 2;
      const deadFirst = kind === "dead";
      let dead: number | null = null;
      if (deadFirst) {
        // A machine dies for good: kill -9 a voter, add its replacement, then remove it.
        const voters = [...memberSet];
        dead = voters[Math.floor(rand() * voters.length)]!;
        await claim(dead);
        await c.kill(dead);
        events.push(`${at()}: node ${dead}'s machine dies (kill -9, never restarted)`);
      }
      const newcomers = grow ? spares.splice(0, 2) : spares.splice(0, 1);
      if (grow) counts.grows++;
      for (const id of newcomers) await add(id);
      if (dead !== null) {
        await remove(dead, "dead");
        counts.deadRemoved++;
      }
      for (let i = 0; i < newcomers.length && dead === null; i++) {
        // Back to three voters: the leader as often as not, else any other voter.
        const leader = await currentLeader(c);
        const voters = [...memberSet];
        const victim = leader !== null && memberSet.has(leader) && rand() < 0.5 ? leader : voters[Math.floor(rand() * voters.length)]!;
        await claim(victim);
        await remove(victim, victim === leader ? "the leader" : "a follower");
        if (victim === leader) counts.leaderRemoved++;
      }
      // A pause between changes, as the nemesis pauses between faults.
      await sleep(500 + rand() * 1500);
    }
  };

  let nemesisCounts;
  const operatorDone = operator();
  const nemesisDone = nemesis(c, fw, () => chaosRunning, events, { chaosMs: CHAOS_MS, rand: seeded(99), targets: () => [...memberSet].filter((id) => !leaving.has(id)), touching });
  try {
    [nemesisCounts] = await Promise.all([nemesisDone, operatorDone]);
    fw.heal();
    await retireRemoved();
    // Calm: one leader among the members, the configuration settled and the same everywhere, and the clients get through.
    const final = [...memberSet].sort((a, b) => a - b);
    const leader = await c.waitForLeader(30_000, final);
    const expected = `voters ${final.join(",")} learners `;
    for (const id of final) {
      await waitUntil(`node ${id} to hold the settled configuration ${expected}`, async () => {
        const m = await members(c, id);
        return m !== null && m.committed && !m.joint && shape(m) === expected && m.leader === leader;
      }, 30_000);
    }
    await writer.progress(20, 30_000);
  } finally {
    fw.heal();
    clearTimeout(chaosTimer);
    chaosRunning = false;
    clientsRunning = false;
    // Also after a failure: nothing may go on running (or restart a node) once the test stops the cluster.
    await Promise.allSettled([operatorDone, nemesisDone]);
    fw.heal();
    await Promise.all(clients);
    await writer.stop();
  }
  const acked = writer.acked;
  const clientSeconds = (performance.now() - started) / 1000;

  // Crash every member at once: what was acknowledged must come back from disk.
  const final = [...memberSet];
  await crashAll(c, final);
  const finals = await finalReads(c, recorder);
  const missing = await missingKeys(c, acked);

  const history = recorder.history();
  const checkStarted = performance.now();
  const result = checkLinearizability(kvModel, history, { timeoutMs: 180_000 });
  const checkMs = performance.now() - checkStarted;
  const byKey = KEYS.map((k) => `${k}: ${history.filter((op) => op.input.key === k).length}`).join(", ");
  console.log(
    `${stats.ops} operations in ${clientSeconds.toFixed(1)} s by ${RAW_CLIENTS + LIBRARY_CLIENTS} clients: ${stats.returned} returned, ${stats.unknown} unknown, ${stats.discarded} not executed; ` +
      `history ${history.length} (${byKey}); writer: ${acked.size} acknowledged; ` +
      `membership: ${counts.added} added (${counts.promoted} promoted by hand), ${counts.removed} removed (${counts.leaderRemoved} the leader, ${counts.deadRemoved} dead), ${counts.grows} grows to 5, refusals ${JSON.stringify(Object.fromEntries(counts.refusals))}, final voters ${final.sort((a, b) => a - b).join(",")}; ` +
      `nemesis: ${nemesisCounts!.kills} kills (${nemesisCounts!.leaderKills} of the leader), ${nemesisCounts!.partitions} partitions; ` +
      `check ${result.ok === true ? "ok" : String(result.ok)} in ${checkMs.toFixed(0)} ms (${result.steps} steps); final ${JSON.stringify(Object.fromEntries(finals))}`,
  );
  console.log(`seed ${RUN_SEED} (RAFTKV_FAULT_SEED); events: ${events.join("; ")}`);

  assert.deepEqual(stats.unexpected.slice(0, 10), [], `${stats.unexpected.length} unexpected replies`);
  assert.ok(counts.removed >= 1 && counts.added >= 1, "at least one node was added and one removed");
  assert.ok(stats.returned > 200, `the clients made progress (${stats.returned} operations returned)`);
  if (result.ok === "unknown") assert.fail(`the linearizability check did not finish: ${result.message}`);
  if (result.ok === false) assert.fail(`the history is not linearizable:\n${result.explanation}`);
  assert.deepEqual(checkDurability(history, finals), []);
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged writes of the writer are missing`);
}
