// Storage faults on real `raftkv server` processes (docs/STORAGE.md): a node
// is killed, its data directory damaged as a broken disk would damage it,
// and restarted, while a client keeps reading and writing. Each scenario
// must end with every acknowledged write readable, the client's history
// linearizable, and the damaged node back in sync without anyone's help.

import assert from "node:assert/strict";
import { appendFileSync, existsSync, readFileSync, readdirSync, rmSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkLinearizability, HistoryRecorder, KV_ERRORS, kvModel, type KvInput, type KvOutput } from "../../src/check/linearizability.js";
import { RaftKvClient } from "../../src/client/client.js";
import { ServerError, UnavailableError, UnknownOutcomeError } from "../../src/client/errors.js";
import { HEADER_BYTES, readHeader } from "../../src/storage/header.js";
import { RecordBuffer } from "../../src/storage/records.js";
import { EntryType } from "../../src/core/types.js";
import { TestCluster, sleep } from "../helpers/cluster.js";
import { waitUntil } from "./support.js";

export const FAULTS = [
  "first segment deleted",
  "middle segment deleted",
  "newest segment deleted",
  "tail truncated",
  "tail zero-filled",
  "bad checksum mid-log",
  "hard state lost",
  "data directory wiped",
  "crafted value, then a torn tail",
  "snapshot damaged",
] as const;
export type StorageFault = (typeof FAULTS)[number];

/** Segment files with records in them, oldest first. */
function segmentsWithRecords(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /^wal-\d+-\d+\.log$/.test(f))
    .sort()
    .map((f) => join(dir, f))
    .filter((p) => readFileSync(p).length > HEADER_BYTES);
}

/** A value that holds a whole, valid WAL record (of an entry far past the log): it must never be taken for one. */
export function forgedValue(): Buffer {
  const r = new RecordBuffer();
  r.entry({ index: 3, term: 1, type: EntryType.Normal, data: Buffer.from("forged") });
  return Buffer.concat([Buffer.from("x"), r.bytes()]);
}

/** Damages the data directory of a stopped node. */
export function damage(dir: string, fault: StorageFault): string {
  const segs = segmentsWithRecords(dir);
  const newest = segs.at(-1)!;
  switch (fault) {
    case "first segment deleted":
      assert.ok(segs.length >= 3, `${segs.length} segments: too few`);
      unlinkSync(segs[0]!);
      return segs[0]!;
    case "middle segment deleted":
      assert.ok(segs.length >= 3, `${segs.length} segments: too few`);
      unlinkSync(segs[Math.floor(segs.length / 2)]!);
      return segs[Math.floor(segs.length / 2)]!;
    case "newest segment deleted":
      unlinkSync(newest);
      return newest;
    case "tail truncated":
    case "crafted value, then a torn tail": {
      const bytes = readFileSync(newest).length;
      truncateSync(newest, bytes - (fault === "tail truncated" ? 300 : 5));
      return newest;
    }
    case "tail zero-filled": {
      const bytes = readFileSync(newest);
      bytes.fill(0, bytes.length - 300);
      writeFileSync(newest, bytes);
      return newest;
    }
    case "bad checksum mid-log": {
      const big = segs.reduce((a, b) => (readFileSync(a).length >= readFileSync(b).length ? a : b));
      const bytes = readFileSync(big);
      const h = readHeader(bytes)!;
      bytes[HEADER_BYTES + Math.floor(h.dataEnd / 2)]! ^= 0x5a;
      writeFileSync(big, bytes);
      return big;
    }
    case "hard state lost": {
      // Both header slots of the newest segment (the one the node would append to next holds none of the records).
      const all = readdirSync(dir).filter((f) => /^wal-\d+-\d+\.log$/.test(f)).sort();
      const last = join(dir, all.at(-1)!);
      const bytes = readFileSync(last);
      bytes.fill(0, 0, HEADER_BYTES);
      writeFileSync(last, bytes);
      return last;
    }
    case "data directory wiped":
      rmSync(dir, { recursive: true, force: true });
      return dir;
    case "snapshot damaged": {
      const snap = readdirSync(dir).find((f) => f.endsWith(".snap"));
      assert.ok(snap, "no snapshot to damage");
      const path = join(dir, snap);
      const bytes = readFileSync(path);
      bytes[bytes.length - 1]! ^= 0xff;
      writeFileSync(path, bytes);
      return path;
    }
  }
}

/** A client that reads, writes and increments three keys until stopped, recording every operation for the linearizability check. */
export class Workload {
  private readonly recorder = new HistoryRecorder<KvInput, KvOutput>();
  private running = true;
  private readonly done: Promise<void>;
  ops = 0;

  constructor(c: TestCluster) {
    this.done = this.loop(c);
  }

  private async loop(c: TestCluster): Promise<void> {
    const client = new RaftKvClient({ nodes: c.nodes.map((n) => ({ host: n.host, port: n.clientPort })), timeoutMs: 15_000 });
    try {
      for (let seq = 1; this.running; seq++) {
        const key = ["a", "b", "c"][seq % 3]!;
        const input: KvInput = seq % 4 === 0 ? { op: "get", key } : seq % 4 === 1 ? { op: "set", key, value: String(seq * 1000) } : seq % 4 === 2 ? { op: "incr", key } : { op: "get", key };
        const op = this.recorder.invoke(1, input);
        this.ops++;
        try {
          if (input.op === "get") op.returned((await client.get(input.key))?.toString() ?? null);
          else if (input.op === "set") op.returned((await client.set(input.key, input.value), "OK"));
          else op.returned(await client.incr(input.key));
        } catch (err) {
          if (err instanceof ServerError && err.message === KV_ERRORS.notInteger) op.returned(KV_ERRORS.notInteger);
          else if (err instanceof UnavailableError) (err.outcomeUnknown ? op.unknown : op.discard)();
          else if (err instanceof UnknownOutcomeError) op.unknown();
          else throw err;
        }
        await sleep(5);
      }
    } finally {
      client.close();
    }
  }

  /** Stops, and checks the history. */
  async stopAndCheck(): Promise<void> {
    this.running = false;
    await this.done;
    const history = this.recorder.history();
    const verdict = checkLinearizability(kvModel, history, { timeoutMs: 60_000 });
    assert.equal(verdict.ok, true, verdict.ok === false ? verdict.explanation : "the check ran out of time");
  }
}

/** Writes `count` keys through the cluster, each acknowledged; returns them. */
export async function writeAcknowledged(c: TestCluster, prefix: string, count: number, value = (i: number) => Buffer.from(`${prefix}-value-${i}`)): Promise<Map<string, Buffer>> {
  const client = new RaftKvClient({ nodes: c.nodes.map((n) => ({ host: n.host, port: n.clientPort })), timeoutMs: 15_000 });
  const written = new Map<string, Buffer>();
  try {
    // Each write is acknowledged on its own; IN_FLIGHT at a time rather than one by one (the same log, in a fraction of the round trips).
    await inFlight(count, async (i) => {
      const key = `${prefix}-${i}`;
      await client.set(key, value(i));
      written.set(key, value(i));
    });
  } finally {
    client.close();
  }
  return written;
}

/** Every acknowledged key, read back (linearizably) from the leader. */
export async function assertAllReadable(c: TestCluster, written: Map<string, Buffer>): Promise<void> {
  const client = new RaftKvClient({ nodes: c.nodes.map((n) => ({ host: n.host, port: n.clientPort })), timeoutMs: 15_000 });
  try {
    const missing: string[] = [];
    const entries = [...written];
    await inFlight(entries.length, async (i) => {
      const [k, v] = entries[i]!;
      const got = await client.get(k);
      if (got === null || !Buffer.from(got).equals(v)) missing.push(k);
    });
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} acknowledged keys lost`);
  } finally {
    client.close();
  }
}

/** How many of writeAcknowledged's writes (or assertAllReadable's reads) are in flight at once. */
const IN_FLIGHT = 8;

/** Runs f(0) .. f(count - 1), IN_FLIGHT at a time; the first failure fails the whole (after the others in flight end). */
async function inFlight(count: number, f: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await f(next++);
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, count) }, worker));
}

/** Waits until node `id` has recovered and holds what the leader committed. */
export async function waitInSync(c: TestCluster, id: number, timeoutMs = 20_000): Promise<void> {
  await waitUntil(
    `node ${id} back in sync`,
    async () => {
      const leader = await c.waitForLeader(timeoutMs);
      const [me, lead] = await Promise.all([c.status(id), c.status(leader)]);
      const recovery = (me as unknown as { recovery: unknown } | null)?.recovery;
      return me !== null && lead !== null && recovery === null && me.lastApplied >= lead.commitIndex && me.lastLogIndex === lead.lastLogIndex;
    },
    timeoutMs,
  );
}

/** Hands leadership to node `id` (POST /transfer-leadership at the leader), so that reads are served from its state machine. */
export async function makeLeader(c: TestCluster, id: number): Promise<void> {
  await waitUntil(
    `node ${id} leads`,
    async () => {
      const leader = await c.waitForLeader(15_000);
      if (leader === id) return true;
      const n = c.node(leader);
      await fetch(`http://${n.host}:${n.adminPort}/transfer-leadership?to=${id}`, { method: "POST", signal: AbortSignal.timeout(3000) }).catch(() => null);
      return false;
    },
    20_000,
  );
}

export { appendFileSync, existsSync };
