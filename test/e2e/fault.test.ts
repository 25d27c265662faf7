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
// recorded once, from its first attempt to its final answer).

import assert from "node:assert/strict";
import { test } from "node:test";
import { performance } from "node:perf_hooks";
import { checkLinearizability, HistoryRecorder, KV_ERRORS, kvModel, type KvCommand, type KvOutput, type Operation, type PendingOperation } from "../../src/check/linearizability.js";
import { RaftKvClient } from "../../src/client/client.js";
import { Connection } from "../../src/client/connection.js";
import { ConnectError, ConnectionLostError, RequestTimeoutError, ServerError, UnavailableError, UnknownOutcomeError } from "../../src/client/errors.js";
import type { Reply } from "../../src/resp/writer.js";
import { sleep, type TestCluster } from "../helpers/cluster.js";
import { show } from "../server/support.js";
import { withCluster } from "./support.js";
import { prng } from "../helpers/prng.js";
import { Firewall } from "../helpers/netfilter.js";
import { nemesis } from "./nemesis.js";

const CHAOS_MS = 25_000;
const RAW_CLIENTS = 3;
const LIBRARY_CLIENTS = 2;
/** "a" and "b" get SET, GET and INCR; "c" only INCR and GET, so that it counts. */
const KEYS = ["a", "b", "c"] as const;
const COUNTER = "c";
/** SET values are client * 10^12 + seq * 10^6: unique, integers (INCR works on them), and far enough apart that the SET behind a value is known. */
const SPACING = 1_000_000;
const RUN_SEED = Number(process.env.RAFTKV_FAULT_SEED ?? Date.now() % 1e9);

type Recorder = HistoryRecorder<KvCommand, KvOutput>;

interface Stats {
  ops: number;
  returned: number;
  unknown: number;
  discarded: number;
  unexpected: string[];
}

function randomOp(rand: () => number, client: number, seq: number): KvCommand {
  const key = KEYS[Math.floor(rand() * KEYS.length)]!;
  const r = rand();
  if (key === COUNTER) return r < 0.5 ? { op: "get", key } : { op: "incr", key };
  if (r < 0.45) return { op: "get", key };
  if (r < 0.7) return { op: "set", key, value: String(client * 1e12 + seq * SPACING) };
  return { op: "incr", key };
}

function commandOf(input: KvCommand): string[] {
  switch (input.op) {
    case "get":
      return ["GET", input.key];
    case "set":
      return ["SET", input.key, input.value];
    case "incr":
      return ["INCR", input.key];
    default:
      throw new Error(`the workload has no ${input.op}`);
  }
}

/** A reply to a command the node executed, as kvModel's output; undefined when it is not one (then it was unexpected). */
function outputOf(input: KvCommand, reply: Reply): KvOutput | undefined {
  if (reply.kind === "error") return reply.message === KV_ERRORS.notInteger ? KV_ERRORS.notInteger : undefined;
  if (input.op === "get" && reply.kind === "bulk") return reply.value === null ? null : Buffer.from(reply.value).toString();
  if (input.op === "set" && reply.kind === "simple") return reply.value;
  if (input.op === "incr" && reply.kind === "integer") return reply.value;
  return undefined;
}

function settle(op: PendingOperation<KvOutput>, stats: Stats, how: "returned" | "unknown" | "discarded", output?: KvOutput): void {
  stats.ops++;
  if (how === "returned") {
    stats.returned++;
    op.returned(output!);
  } else if (how === "unknown") {
    stats.unknown++;
    op.unknown();
  } else {
    stats.discarded++;
    op.discard();
  }
}

/** One raw RESP client: one attempt per operation, following MOVED to the next operation. */
async function rawClient(c: TestCluster, id: number, recorder: Recorder, stats: Stats, running: () => boolean): Promise<void> {
  const rand = seeded(id);
  const nodes = c.nodes.map((n) => ({ host: n.host, port: n.clientPort }));
  let target = id % nodes.length;
  let connection: Connection | null = null;
  const next = () => {
    connection?.close();
    connection = null;
    target = (target + 1) % nodes.length;
  };
  for (let seq = 1; running(); seq++) {
    const input = randomOp(rand, id, seq);
    const op = recorder.invoke(id, input);
    try {
      connection ??= await Connection.connect(nodes[target]!, { connectTimeoutMs: 1000 });
    } catch (err) {
      if (!(err instanceof ConnectError)) throw err;
      settle(op, stats, "discarded");
      next();
      await sleep(50);
      continue;
    }
    let reply: Reply;
    try {
      reply = await connection.send(commandOf(input), 8000);
    } catch (err) {
      if (err instanceof ConnectionLostError) settle(op, stats, err.written ? "unknown" : "discarded");
      else if (err instanceof RequestTimeoutError) settle(op, stats, "unknown");
      else throw err;
      next();
      continue;
    }
    if (reply.kind === "error" && reply.message.startsWith("MOVED ")) {
      settle(op, stats, "discarded");
      const address = reply.message.split(" ")[2]!;
      const leader = nodes.findIndex((n) => `${n.host}:${n.port}` === address);
      if (leader < 0) throw new Error(`MOVED to an unknown address: ${reply.message}`);
      connection.close();
      connection = null;
      target = leader;
    } else if (reply.kind === "error" && reply.message.startsWith("CLUSTERDOWN")) {
      settle(op, stats, "discarded");
      next();
      await sleep(50 + rand() * 100);
    } else if (reply.kind === "error" && reply.message.startsWith("TIMEOUT")) {
      settle(op, stats, "unknown");
    } else {
      const output = outputOf(input, reply);
      if (output === undefined) {
        stats.unexpected.push(`${commandOf(input).join(" ")} -> ${show(reply)}`);
        settle(op, stats, "unknown");
      } else settle(op, stats, "returned", output);
    }
  }
  (connection as Connection | null)?.close();
}

/** One RaftKvClient: retries, redirects and sessions happen inside an operation. */
async function libraryClient(c: TestCluster, id: number, recorder: Recorder, stats: Stats, running: () => boolean): Promise<void> {
  const rand = seeded(id);
  const client = new RaftKvClient({ nodes: c.nodes.map((n) => ({ host: n.host, port: n.clientPort })), timeoutMs: 15_000 });
  try {
    for (let seq = 1; running(); seq++) {
      const input = randomOp(rand, id, seq);
      const op = recorder.invoke(id, input);
      try {
        if (input.op === "get") settle(op, stats, "returned", (await client.get(input.key))?.toString() ?? null);
        else if (input.op === "set") settle(op, stats, "returned", (await client.set(input.key, input.value), "OK"));
        else settle(op, stats, "returned", await client.incr(input.key));
      } catch (err) {
        if (err instanceof ServerError && err.message === KV_ERRORS.notInteger) settle(op, stats, "returned", KV_ERRORS.notInteger);
        else if (err instanceof UnavailableError) settle(op, stats, err.outcomeUnknown ? "unknown" : "discarded");
        else if (err instanceof UnknownOutcomeError) settle(op, stats, "unknown");
        else {
          stats.unexpected.push(`${commandOf(input).join(" ")} -> ${String(err)}`);
          settle(op, stats, "unknown");
        }
      }
    }
  } finally {
    client.close();
  }
}

/** More entries than a node takes between snapshots (server default: every 10 000 applied). */
const FILLER_WRITES = 10_500;

/**
 * Before the chaos: the keys get values (recorded), then a follower is
 * stopped while more than a snapshot's worth of filler writes go in, and
 * restarted. So every node takes a snapshot holding the keys, the lagging
 * one catches up through InstallSnapshot, and every later restart recovers
 * from a snapshot plus the log after it.
 */
async function prefill(c: TestCluster, recorder: Recorder, stats: Stats): Promise<string> {
  const client = new RaftKvClient({ nodes: c.nodes.map((n) => ({ host: n.host, port: n.clientPort })), timeoutMs: 30_000 });
  try {
    for (const input of [
      { op: "set", key: "a", value: String(1 * SPACING) },
      { op: "set", key: "b", value: String(2 * SPACING) },
      ...Array.from({ length: 5 }, () => ({ op: "incr", key: COUNTER })),
    ] as KvCommand[]) {
      const op = recorder.invoke("prefill", input);
      settle(op, stats, "returned", input.op === "set" ? (await client.set(input.key, input.value), "OK") : await client.incr(input.key));
    }
  } finally {
    client.close();
  }
  const leader = await c.waitForLeader(30_000);
  const lagging = c.nodes.find((n) => n.id !== leader)!.id;
  await c.kill(lagging);
  let written = 0;
  for (let batch = 0; written < FILLER_WRITES && batch < 10; batch++) {
    const n = c.node(await c.waitForLeader(30_000, c.nodes.filter((x) => x.id !== lagging).map((x) => x.id)));
    const connection = await Connection.connect({ host: n.host, port: n.clientPort }, { connectTimeoutMs: 5000 });
    try {
      const replies = await Promise.all(Array.from({ length: FILLER_WRITES - written }, (_, i) => connection.send(["SET", `filler-${batch}-${i}`, "x"], 60_000)));
      written += replies.filter((r) => r.kind === "simple").length; // a leader change refuses the rest: send them again
    } finally {
      connection.close();
    }
  }
  await c.restart(lagging);
  await c.waitForLeader(30_000);
  return `${written} filler writes with node ${lagging} down`;
}

/** The final value of every key, each read recorded like any other operation. */
async function finalReads(c: TestCluster, recorder: Recorder): Promise<Map<string, string | null>> {
  const values = new Map<string, string | null>();
  for (const key of KEYS) {
    const op = recorder.invoke("final", { op: "get", key });
    const reply = await c.leaderCommand(30_000, "GET", key);
    if (reply.kind !== "bulk") throw new Error(`final GET ${key} answered ${show(reply)}`);
    const value = reply.value === null ? null : Buffer.from(reply.value).toString();
    op.returned(value);
    values.set(key, value);
  }
  return values;
}

/**
 * Acknowledged writes survive, checked directly: the counter holds at least
 * every acknowledged INCR and at most those plus the unknown ones; a SET
 * key's final value comes from a SET that is not entirely before the last
 * acknowledged SET, plus no more increments than were sent after it.
 */
function checkDurability(history: readonly Operation<KvCommand, KvOutput>[], finals: Map<string, string | null>): string[] {
  const problems: string[] = [];
  const writes = (key: string) => history.filter((op) => op.input.key === key && op.input.op !== "get");
  const acked = (op: Operation<KvCommand, KvOutput>) => op.unknown !== true && op.return !== Infinity;

  const incrs = writes(COUNTER);
  const ackedIncrs = incrs.filter(acked).length;
  const counter = Number(finals.get(COUNTER) ?? 0);
  if (counter < ackedIncrs || counter > incrs.length) problems.push(`${COUNTER} = ${counter}, but ${ackedIncrs} INCRs were acknowledged and ${incrs.length - ackedIncrs} more may have been applied`);

  for (const key of KEYS.filter((k) => k !== COUNTER)) {
    const ops = writes(key);
    const sets = ops.filter((op) => op.input.op === "set");
    const lastAcked = sets.filter(acked).sort((x, y) => y.call - x.call)[0];
    const final = finals.get(key) ?? null;
    if (final === null) {
      if (ops.some(acked)) problems.push(`${key} is missing, but writes to it were acknowledged`);
      continue;
    }
    const base = sets.find((op) => op.input.op === "set" && Number(final) - Number(op.input.value) >= 0 && Number(final) - Number(op.input.value) < SPACING);
    if (base === undefined) {
      // No SET behind it: only INCRs from nil, possible only when no SET was acknowledged.
      if (lastAcked !== undefined) problems.push(`${key} = ${final} comes from no SET, yet SET ${key} ${(lastAcked.input as { value: string }).value} was acknowledged`);
      continue;
    }
    if (lastAcked !== undefined && base !== lastAcked && base.return < lastAcked.call) {
      problems.push(`${key} = ${final} comes from a SET that finished before the acknowledged SET ${key} ${(lastAcked.input as { value: string }).value} began: that write was lost`);
    }
    const increments = Number(final) - Number((base.input as { value: string }).value);
    const possible = ops.filter((op) => op.input.op === "incr" && op.return > base.call).length;
    if (increments > possible) problems.push(`${key} = ${final}: ${increments} increments after its SET, but only ${possible} INCRs could follow it`);
  }
  return problems;
}

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
    let clientsRunning = true;
    let chaosRunning = true;
    const started = performance.now();
    const chaosTimer = setTimeout(() => (chaosRunning = false), CHAOS_MS);
    const clients = [
      ...Array.from({ length: RAW_CLIENTS }, (_, i) => rawClient(c, i + 1, recorder, stats, () => clientsRunning)),
      ...Array.from({ length: LIBRARY_CLIENTS }, (_, i) => libraryClient(c, RAW_CLIENTS + i + 1, recorder, stats, () => clientsRunning)),
    ].map((client) => client.catch((err: unknown) => void stats.unexpected.push(`a client crashed: ${(err as Error).stack ?? String(err)}`)));
    let counts;
    try {
      counts = await nemesis(c, fw, () => chaosRunning, events, { chaosMs: CHAOS_MS, rand: seeded(99) });
      // A calm second with every node up, then the clients stop.
      await c.waitForLeader(30_000);
      await sleep(1000);
    } finally {
      fw.heal();
      clearTimeout(chaosTimer);
      clientsRunning = false;
      await Promise.all(clients);
    }
    const clientSeconds = (performance.now() - started) / 1000;

    // Crash the whole cluster at once: what was acknowledged must come back from disk.
    await Promise.all(c.nodes.map((n) => c.kill(n.id)));
    for (const n of c.nodes) c.startNode(n.id);
    for (const n of c.nodes) await c.waitForPort(n.id, 20_000);
    await c.waitForLeader(30_000);
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

/** A seeded PRNG per use; the run's seed is printed, so its choices can be replayed. */
function seeded(seed: number): () => number {
  return prng(RUN_SEED + Math.imul(seed, 0x9e3779b9));
}
