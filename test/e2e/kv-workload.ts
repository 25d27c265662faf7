// The fault tests' key-value workload and its checks, shared by fault.test.ts
// and membership-fault.test.ts: concurrent clients doing GET, SET and INCR on
// three keys (raw RESP clients, one attempt per operation, and RaftKvClients
// with retries and sessions), each operation recorded with its call and
// return time; a prefill that pushes the log past a snapshot; the final reads;
// and the direct check that acknowledged writes survived.
//
// Outcomes: a reply is a returned operation; -TIMEOUT, a lost connection or
// a request timeout after sending is unknown (it may take effect later);
// -MOVED, -CLUSTERDOWN and refused connections mean "not executed", so the
// operation is left out.

import { KV_ERRORS, type HistoryRecorder, type KvCommand, type KvOutput, type Operation, type PendingOperation } from "../../src/check/linearizability.js";
import { RaftKvClient } from "../../src/client/client.js";
import { Connection } from "../../src/client/connection.js";
import { ServerError, UnavailableError, UnknownOutcomeError } from "../../src/client/errors.js";
import type { Reply } from "../../src/resp/writer.js";
import type { TestCluster } from "../helpers/cluster.js";
import { prng } from "../helpers/prng.js";
import { show } from "../server/support.js";
import { RawClient } from "../helpers/raw-client.js";

/** "a" and "b" get SET, GET and INCR; "c" only INCR and GET, so that it counts. */
export const KEYS = ["a", "b", "c"] as const;
export const COUNTER = "c";
/** SET values are client * 10^12 + seq * 10^6: unique, integers (INCR works on them), and far enough apart that the SET behind a value is known. */
export const SPACING = 1_000_000;
export const RUN_SEED = Number(process.env.RAFTKV_FAULT_SEED ?? Date.now() % 1e9);

export type Recorder = HistoryRecorder<KvCommand, KvOutput>;

export interface Stats {
  ops: number;
  returned: number;
  unknown: number;
  discarded: number;
  unexpected: string[];
}

export function randomOp(rand: () => number, client: number, seq: number): KvCommand {
  const key = KEYS[Math.floor(rand() * KEYS.length)]!;
  const r = rand();
  if (key === COUNTER) return r < 0.5 ? { op: "get", key } : { op: "incr", key };
  if (r < 0.45) return { op: "get", key };
  if (r < 0.7) return { op: "set", key, value: String(client * 1e12 + seq * SPACING) };
  return { op: "incr", key };
}

export function commandOf(input: KvCommand): string[] {
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
export function outputOf(input: KvCommand, reply: Reply): KvOutput | undefined {
  if (reply.kind === "error") return reply.message === KV_ERRORS.notInteger ? KV_ERRORS.notInteger : undefined;
  if (input.op === "get" && reply.kind === "bulk") return reply.value === null ? null : Buffer.from(reply.value).toString();
  if (input.op === "set" && reply.kind === "simple") return reply.value;
  if (input.op === "incr" && reply.kind === "integer") return reply.value;
  return undefined;
}

export function settle(op: PendingOperation<KvOutput>, stats: Stats, how: "returned" | "unknown" | "discarded", output?: KvOutput): void {
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
export async function rawClient(c: TestCluster, id: number, recorder: Recorder, stats: Stats, running: () => boolean): Promise<void> {
  const rand = seeded(id);
  const client = new RawClient(c.nodes.map((n) => ({ host: n.host, port: n.clientPort })), id, rand);
  try {
    for (let seq = 1; running(); seq++) {
      const input = randomOp(rand, id, seq);
      const op = recorder.invoke(id, input);
      const s = await client.send(commandOf(input));
      if (s.kind !== "returned") {
        settle(op, stats, s.kind);
        continue;
      }
      const output = outputOf(input, s.reply);
      if (output === undefined) {
        stats.unexpected.push(`${commandOf(input).join(" ")} -> ${show(s.reply)}`);
        settle(op, stats, "unknown");
      } else settle(op, stats, "returned", output);
    }
  } finally {
    client.reset();
  }
}

/** One RaftKvClient: retries, redirects and sessions happen inside an operation. */
export async function libraryClient(c: TestCluster, id: number, recorder: Recorder, stats: Stats, running: () => boolean): Promise<void> {
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
export const FILLER_WRITES = 10_500;

/**
 * Before the chaos: the keys get values (recorded), then a follower is
 * stopped while more than a snapshot's worth of filler writes go in, and
 * restarted. So every node takes a snapshot holding the keys, the lagging
 * one catches up through InstallSnapshot, and every later restart recovers
 * from a snapshot plus the log after it.
 */
export async function prefill(c: TestCluster, recorder: Recorder, stats: Stats, o: { members?: readonly number[]; fillerWrites?: number } = {}): Promise<string> {
  const members = o.members ?? c.nodes.map((n) => n.id);
  const fillerWrites = o.fillerWrites ?? FILLER_WRITES;
  const client = new RaftKvClient({ nodes: members.map((id) => ({ host: c.node(id).host, port: c.node(id).clientPort })), timeoutMs: 30_000 });
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
  const leader = await c.waitForLeader(30_000, [...members]);
  const lagging = members.find((id) => id !== leader)!;
  await c.kill(lagging);
  let written = 0;
  for (let batch = 0; written < fillerWrites && batch < 10; batch++) {
    const n = c.node(await c.waitForLeader(30_000, members.filter((id) => id !== lagging)));
    const connection = await Connection.connect({ host: n.host, port: n.clientPort }, { connectTimeoutMs: 5000 });
    try {
      const replies = await Promise.all(Array.from({ length: fillerWrites - written }, (_, i) => connection.send(["SET", `filler-${batch}-${i}`, "x"], 60_000)));
      written += replies.filter((r) => r.kind === "simple").length; // a leader change refuses the rest: send them again
    } finally {
      connection.close();
    }
  }
  await c.restart(lagging);
  await c.waitForLeader(30_000, [...members]);
  return `${written} filler writes with node ${lagging} down`;
}

/** The final value of every key, each read recorded like any other operation. */
export async function finalReads(c: TestCluster, recorder: Recorder): Promise<Map<string, string | null>> {
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
export function checkDurability(history: readonly Operation<KvCommand, KvOutput>[], finals: Map<string, string | null>): string[] {
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

/** A seeded PRNG per use; the run's seed is printed, so its choices can be replayed. */
export function seeded(seed: number): () => number {
  return prng(RUN_SEED + Math.imul(seed, 0x9e3779b9));
}
