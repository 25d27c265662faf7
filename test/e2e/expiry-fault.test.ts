// Expiry under faults (issue 16): keys with times to live, written and read
// while the nemesis kills nodes with -9 (the leader most often, once two at
// a time) and cuts nodes off with iptables (nemesis.ts).
//
// What "expired" means here is what the log says: the leader stamps each
// entry with its clock, a relative time (PX, PEXPIRE) counts from that stamp,
// an absolute one (PXAT) is the client's, and a key is gone from the first
// entry whose time has reached its expiry time. Every process of the test
// runs on this machine, so the leader's clock is the test's clock, and an
// entry's stamp lies between the moment its command was sent and the moment
// its reply came. That gives exact checks without any timing assumption:
//
// - a value is served (GET, PEXPIRETIME) only by a read sent before the
//   key's time: readTime >= the clock when the read is answered >= when it
//   was sent;
// - a read answered nil (or -2) only once the key's time had come, by the
//   time its reply arrived;
// - PERSIST, PEXPIRE and SET KEEPTTL find the key alive only if it was alive
//   at a stamp after they were sent, gone only if it was gone at a stamp
//   before their reply came.
//
// Each writer owns its keys, so it knows what each key can hold: a set of
// candidates (value, expiry window), narrowed by every reply and widened by
// every outcome left unknown (a timeout, a connection lost). A reply that no
// candidate allows fails the test, naming the key, the node and why. Reads
// go to any node, the leader most often: whatever node answers a value is
// serving it and is checked (a cut-off old leader must not answer). Writes
// and reads are aimed at the keys' expiry times, so PERSIST and expiry race.
//
// Then the faults stop, every key's time passes, and with no further
// client write: every node must drop every expired key by itself (no replica
// keeps one forever: /status key counts equal the number of keys a read
// still sees), and the replicas' states must be the same bytes (each node's
// snapshot, which its live state machine took, with its log replayed to the
// same index). A replica that applied an entry with its own clock instead of
// the stamp diverges in the races above (a lagging replica's clock is past a
// time the leader's stamp was not).

import assert from "node:assert/strict";
import { test } from "node:test";
import { performance } from "node:perf_hooks";
import { Connection } from "../../src/client/connection.js";
import { ConnectError, ConnectionLostError, RequestTimeoutError } from "../../src/client/errors.js";
import type { Reply } from "../../src/resp/writer.js";
import { sleep, type TestCluster } from "../helpers/cluster.js";
import { Firewall } from "../helpers/netfilter.js";
import { prng } from "../helpers/prng.js";
import { show } from "../server/support.js";
import { clientsUnderChaos } from "../helpers/chaos.js";
import { eventually, keyCounts, replayedStates, sameAppliedIndex, withCluster } from "./support.js";

const CHAOS_MS = 20_000;
const WRITERS = 3;
const KEYS_PER_WRITER = 4;
const RUN_SEED = Number(process.env.RAFTKV_FAULT_SEED ?? Date.now() % 1e9);

/** What a key can hold: a value and the window its expiry time lies in (Infinity: no time to live); value null: no key. */
interface Candidate {
  readonly value: string | null;
  readonly lo: number;
  readonly hi: number;
}

const MISSING: Candidate = { value: null, lo: Infinity, hi: Infinity };

/** The key can still exist at a stamp taken after `sent`. */
const mayBeAlive = (c: Candidate, sent: number) => c.value !== null && sent < c.hi;
/** The key can be gone at a stamp taken by `end`. */
const mayBeGone = (c: Candidate, end: number) => c.value === null || c.lo <= end;
const persistent = (c: Candidate) => c.value !== null && c.lo === Infinity;

type WriteOp =
  | { kind: "px"; value: string; ms: number }
  | { kind: "pxat"; value: string; at: number }
  | { kind: "persist" }
  | { kind: "pexpire"; ms: number }
  | { kind: "keepttl"; value: string };

function commandOf(key: string, op: WriteOp): string[] {
  switch (op.kind) {
    case "px":
      return ["SET", key, op.value, "PX", String(op.ms)];
    case "pxat":
      return ["SET", key, op.value, "PXAT", String(op.at)];
    case "persist":
      return ["PERSIST", key];
    case "pexpire":
      return ["PEXPIRE", key, String(op.ms)];
    case "keepttl":
      return ["SET", key, op.value, "KEEPTTL"];
  }
}

/** The replies `op` can get when the key is `c`, and what the key is after, for a stamp in [sent, end]. */
function outcomes(op: WriteOp, c: Candidate, sent: number, end: number): { reply: string; next: Candidate }[] {
  const out: { reply: string; next: Candidate }[] = [];
  const alive = mayBeAlive(c, sent);
  const gone = mayBeGone(c, end);
  switch (op.kind) {
    case "px":
      return [{ reply: "+OK", next: { value: op.value, lo: sent + op.ms, hi: end + op.ms } }];
    case "pxat":
      return [{ reply: "+OK", next: { value: op.value, lo: op.at, hi: op.at } }];
    case "persist":
      if (persistent(c)) return [{ reply: ":0", next: c }];
      if (alive) out.push({ reply: ":1", next: { value: c.value, lo: Infinity, hi: Infinity } });
      if (gone) out.push({ reply: ":0", next: MISSING });
      return out;
    case "pexpire":
      if (alive) out.push({ reply: ":1", next: { value: c.value, lo: sent + op.ms, hi: end + op.ms } });
      if (gone) out.push({ reply: ":0", next: MISSING });
      return out;
    case "keepttl":
      if (alive) out.push({ reply: "+OK", next: { value: op.value, lo: c.lo, hi: c.hi } });
      if (gone) out.push({ reply: "+OK", next: { value: op.value, lo: Infinity, hi: Infinity } });
      return out;
  }
}

function dedupe(cs: readonly Candidate[]): Candidate[] {
  const seen = new Map<string, Candidate>();
  for (const c of cs) seen.set(`${c.value}|${c.lo}|${c.hi}`, c);
  return [...seen.values()];
}

const showCandidates = (cs: readonly Candidate[]) =>
  cs.map((c) => (c.value === null ? "none" : `${c.value} until ${c.lo === Infinity ? "forever" : c.lo === c.hi ? c.lo : `[${c.lo}, ${c.hi}]`}`)).join(" | ");

type Settled = { kind: "reply"; reply: Reply } | { kind: "unknown" } | { kind: "none" };

interface Stats {
  writes: number;
  unknown: number;
  readsServed: number;
  valuesServed: number;
  nilsServed: number;
  servedBy: number[];
  persistWon: number;
  persistLost: number;
  nearBoundary: number;
  violations: string[];
  unexpected: string[];
}

/** One connection per node, opened when first used; a failed one is dropped. Tracks the leader by MOVED. */
class Links {
  private readonly connections: (Connection | null)[];
  leader = 0;

  constructor(private readonly nodes: readonly { host: string; port: number }[]) {
    this.connections = nodes.map(() => null);
  }

  async send(node: number, args: readonly string[], timeoutMs: number): Promise<Settled> {
    let conn = this.connections[node];
    try {
      conn ??= this.connections[node] = await Connection.connect(this.nodes[node]!, { connectTimeoutMs: 1000 });
    } catch (err) {
      if (!(err instanceof ConnectError)) throw err;
      if (node === this.leader) this.leader = (this.leader + 1) % this.nodes.length;
      await sleep(30);
      return { kind: "none" };
    }
    let reply: Reply;
    try {
      reply = await conn.send(args, timeoutMs);
    } catch (err) {
      if (!(err instanceof ConnectionLostError) && !(err instanceof RequestTimeoutError)) throw err;
      this.drop(node);
      if (node === this.leader) this.leader = (this.leader + 1) % this.nodes.length;
      return err instanceof ConnectionLostError && !err.written ? { kind: "none" } : { kind: "unknown" };
    }
    if (reply.kind === "error" && reply.message.startsWith("MOVED ")) {
      const address = reply.message.split(" ")[2]!;
      const to = this.nodes.findIndex((n) => `${n.host}:${n.port}` === address);
      if (to < 0) throw new Error(`MOVED to an unknown address: ${reply.message}`);
      this.leader = to;
      return { kind: "none" };
    }
    if (reply.kind === "error" && reply.message.startsWith("CLUSTERDOWN")) {
      if (node === this.leader) this.leader = (this.leader + 1) % this.nodes.length;
      await sleep(30);
      return { kind: "none" };
    }
    if (reply.kind === "error" && reply.message.startsWith("TIMEOUT")) return { kind: "unknown" };
    return { kind: "reply", reply };
  }

  private drop(node: number): void {
    this.connections[node]?.close();
    this.connections[node] = null;
  }

  close(): void {
    for (let i = 0; i < this.connections.length; i++) this.drop(i);
  }
}

/** A writer and its keys: the only client that writes them, so it knows what each can hold. */
class Writer {
  readonly keys = new Map<string, Candidate[]>();
  /** Every value this writer wrote (or may have written). */
  readonly written = new Set<string>();
  private seq = 0;

  constructor(
    readonly id: number,
    private readonly links: Links,
    private readonly stats: Stats,
    private readonly rand: () => number,
    private readonly nodeCount: number,
  ) {
    for (let i = 0; i < KEYS_PER_WRITER; i++) this.keys.set(`ttl:${id}:${i}`, [MISSING]);
  }

  async run(running: () => boolean): Promise<void> {
    const keys = [...this.keys.keys()];
    while (running()) {
      const key = keys[Math.floor(this.rand() * keys.length)]!;
      if (this.rand() < 0.6) await this.nearBoundary(key);
      if (this.rand() < 0.35) await this.read(key, this.rand() < 0.7 ? this.links.leader : Math.floor(this.rand() * this.nodeCount));
      else await this.write(key, this.pickWrite());
    }
  }

  private pickWrite(): WriteOp {
    const value = `${this.id}.${++this.seq}`;
    const ms = 150 + Math.floor(this.rand() * 1200);
    const r = this.rand();
    if (r < 0.3) return { kind: "px", value, ms };
    if (r < 0.45) return { kind: "pxat", value, at: Date.now() + ms };
    if (r < 0.65) return { kind: "persist" };
    if (r < 0.85) return { kind: "pexpire", ms };
    return { kind: "keepttl", value };
  }

  /** Waits until about the key's expiry time, when it is known and near, so commands race it. */
  private async nearBoundary(key: string): Promise<void> {
    const times = this.keys.get(key)!.filter((c) => c.value !== null && c.lo !== Infinity).map((c) => c.lo);
    if (times.length === 0) return;
    const target = Math.min(...times) + (this.rand() - 0.6) * 60;
    const wait = target - Date.now();
    if (wait > 0 && wait < 1500) {
      this.stats.nearBoundary++;
      await sleep(wait);
    }
  }

  /**
   * Once the faults are over: PERSIST half the keys at about their time, so
   * some are kept and some not; then give the others a fresh time to live,
   * so the last writes leave keys that only active expiry removes.
   */
  async lastWrites(): Promise<void> {
    const keys = [...this.keys.keys()];
    const half = keys.length / 2;
    for (const key of keys.slice(0, half)) {
      await this.nearBoundary(key);
      await this.write(key, { kind: "persist" });
    }
    for (const key of keys.slice(half)) await this.write(key, { kind: "px", value: `${this.id}.${++this.seq}`, ms: 300 + Math.floor(this.rand() * 500) });
  }

  async write(key: string, op: WriteOp): Promise<void> {
    const args = commandOf(key, op);
    if ("value" in op) this.written.add(op.value);
    const sent = Date.now();
    const s = await this.links.send(this.links.leader, args, 5000);
    const end = Date.now();
    if (s.kind === "none") return; // not executed
    const before = this.keys.get(key)!;
    const next: Candidate[] = [];
    if (s.kind === "unknown") {
      // Applied or not; if applied, stamped at some time after `sent` (perhaps after we gave up).
      this.stats.unknown++;
      next.push(...before);
      for (const c of before) for (const o of outcomes(op, c, sent, Infinity)) next.push(o.next);
    } else {
      const reply = show(s.reply);
      if (reply.startsWith("-")) {
        this.stats.unexpected.push(`${args.join(" ")} -> ${reply}`);
        this.keys.set(key, dedupe([...before, ...before.flatMap((c) => outcomes(op, c, sent, Infinity).map((o) => o.next))]));
        return;
      }
      this.stats.writes++;
      for (const c of before) for (const o of outcomes(op, c, sent, end)) if (o.reply === reply) next.push(o.next);
      if (op.kind === "persist" && reply === ":1") this.stats.persistWon++;
      if (op.kind === "persist" && reply === ":0" && before.some((c) => !persistent(c))) this.stats.persistLost++;
      if (next.length === 0) {
        this.stats.violations.push(
          `${args.join(" ")} sent at ${sent}, answered ${reply} at ${end}; the key could only be: ${showCandidates(before)}` +
            (reply === ":0" || (op.kind === "keepttl" && before.every((c) => !mayBeGone(c, end)))
              ? " (it was gone before its time)"
              : " (it was still there past its time)"),
        );
        return;
      }
    }
    this.keys.set(key, dedupe(next));
  }

  /** GET then PEXPIRETIME at `node`: whatever it answers is checked. */
  async read(key: string, node: number): Promise<void> {
    for (const command of ["GET", "PEXPIRETIME"]) {
      const sent = Date.now();
      const s = await this.links.send(node, [command, key], 3000);
      const end = Date.now();
      if (s.kind !== "reply") return;
      const reply = show(s.reply);
      const before = this.keys.get(key)!;
      let next: Candidate[];
      let why: string;
      if (reply === "$nil" || reply === ":-2") {
        next = before.some((c) => mayBeGone(c, end)) ? [MISSING] : [];
        why = "served nothing before the key's time";
        this.stats.nilsServed++;
      } else if (command === "GET" && reply.startsWith("$")) {
        const value = reply.slice(1);
        next = before.filter((c) => c.value === value && sent < c.hi);
        why = before.some((c) => c.value === value)
          ? "served the value past the key's time"
          : this.written.has(value)
            ? "served a value the log had since removed (expired) or replaced"
            : "served a value never written";
        this.stats.valuesServed++;
      } else if (reply === ":-1") {
        next = before.filter(persistent);
        why = "served no time to live for a key that has one";
        this.stats.valuesServed++;
      } else if (command === "PEXPIRETIME" && /^:\d+$/.test(reply)) {
        const at = Number(reply.slice(1));
        next = before.filter((c) => c.value !== null && c.lo <= at && at <= c.hi && sent < at).map((c) => ({ value: c.value, lo: at, hi: at }));
        why = before.some((c) => c.value !== null && c.lo <= at && at <= c.hi) ? "served the key past its time" : "served an expiry time the log does not give";
        this.stats.valuesServed++;
      } else {
        this.stats.unexpected.push(`${command} ${key} at node ${node + 1} -> ${reply}`);
        return;
      }
      this.stats.readsServed++;
      this.stats.servedBy[node]!++;
      if (next.length === 0) {
        this.stats.violations.push(`node ${node + 1} ${why}: ${command} ${key} sent at ${sent}, answered ${reply} at ${end}; the key could only be: ${showCandidates(before)}`);
        return;
      }
      this.keys.set(key, dedupe(next));
    }
  }
}

test("expiry under kill -9 and partitions: no node serves a key past its time or drops it early, every replica removes expired keys by itself, replicas end identical", { timeout: 300_000 }, async () => {
  const fw = Firewall.create();
  try {
    await withCluster({ nodes: 3, snapshotEvery: 50 }, async (c) => run(c, fw));
  } finally {
    fw.close();
  }
});

async function run(c: TestCluster, fw: Firewall): Promise<void> {
  const nodes = c.nodes.map((n) => ({ host: n.host, port: n.clientPort }));
  const stats: Stats = {
    writes: 0,
    unknown: 0,
    readsServed: 0,
    valuesServed: 0,
    nilsServed: 0,
    servedBy: nodes.map(() => 0),
    persistWon: 0,
    persistLost: 0,
    nearBoundary: 0,
    violations: [],
    unexpected: [],
  };
  const seeded = (n: number) => prng(RUN_SEED + Math.imul(n, 0x9e3779b9));
  const links = Array.from({ length: WRITERS }, () => new Links(nodes));
  const writers = links.map((l, i) => new Writer(i + 1, l, stats, seeded(i + 1), nodes.length));

  const events: string[] = [];
  const { counts, started } = await clientsUnderChaos(
    c,
    fw,
    events,
    { chaosMs: CHAOS_MS, rand: seeded(99), calmMs: 500, unexpected: stats.unexpected, clientName: "writer" },
    (running) => writers.map((w) => w.run(running)),
  );
  await Promise.all(writers.map((w) => w.lastWrites()));
  const clientSeconds = (performance.now() - started) / 1000;
  console.log(
    `${clientSeconds.toFixed(1)} s: ${stats.writes} writes acknowledged, ${stats.unknown} unknown; ${stats.readsServed} reads served (${stats.valuesServed} values, ${stats.nilsServed} none; ` +
      `by node ${stats.servedBy.join("/")}); PERSIST beat expiry ${stats.persistWon} times, lost ${stats.persistLost}; ${stats.nearBoundary} commands aimed at an expiry time; ` +
      `${counts?.kills} kills (${counts?.leaderKills} of the leader), ${counts?.partitions} partitions`,
  );
  console.log(`seed ${RUN_SEED} (RAFTKV_FAULT_SEED); nemesis: ${events.join("; ")}`);
  assert.deepEqual(stats.violations.slice(0, 5), [], `${stats.violations.length} replies the log's times do not allow`);
  assert.deepEqual(stats.unexpected.slice(0, 5), [], `${stats.unexpected.length} unexpected replies`);
  assert.ok(stats.writes > 100 && stats.valuesServed > 50 && stats.nilsServed > 50, "the clients made progress, and saw keys both alive and expired");
  assert.ok(stats.persistWon > 0 && stats.persistLost > 0, "PERSIST both beat and lost to expiry");

  // Settle: read every key at the leader until each is known exactly (a value
  // and its time, or none), then let every time pass.
  const reader = new Writer(0, new Links(nodes), stats, seeded(0), nodes.length);
  for (const w of writers) {
    for (const [key, cs] of w.keys) reader.keys.set(key, cs);
    for (const v of w.written) reader.written.add(v);
  }
  const exact = (cs: readonly Candidate[]) => cs.length === 1 && (cs[0]!.value === null || cs[0]!.lo === cs[0]!.hi);
  await eventually("every key read at the leader", async () => {
    for (const [key, cs] of reader.keys) if (!exact(cs)) await reader.read(key, await c.waitForLeader(20_000).then((id) => id - 1));
    return [...reader.keys.values()].every(exact);
  }, 60_000);
  const last = Math.max(0, ...[...reader.keys.values()].map((cs) => cs[0]!).filter((k) => k.value !== null && k.lo !== Infinity).map((k) => k.lo));
  if (last > Date.now()) await sleep(last - Date.now() + 1);
  const kept = [...reader.keys].filter(([, cs]) => persistent(cs[0]!)).map(([key]) => key);
  for (const key of reader.keys.keys()) await reader.read(key, (await c.waitForLeader(20_000)) - 1);
  assert.deepEqual(stats.violations.slice(0, 5), [], "final reads");
  assert.deepEqual(
    [...reader.keys].filter(([, cs]) => cs[0]!.value !== null).map(([key]) => key).sort(),
    kept.sort(),
    "after every time passed, a read sees exactly the keys without a time to live",
  );
  assert.deepEqual(stats.unexpected.slice(0, 5), [], "final reads");

  // No client writes from here on: only the leader's TICKs remove the expired keys, on every replica.
  await eventually(
    `every replica holding exactly the ${kept.length} keys without a time to live`,
    async () => (await keyCounts(c)).every((n) => n === kept.length),
    20_000,
  ).catch(async (err: Error) => assert.fail(`${err.message}: /status key counts ${JSON.stringify(await keyCounts(c))}`));
  const index = await sameAppliedIndex(c);
  await c.stop(true);
  const states = await replayedStates(c, index);
  assert.equal(new Set(states).size, 1, `the replicas' states at index ${index} differ`);
  console.log(`settled: ${kept.length} keys without a time to live kept, the rest removed on every replica; states identical at index ${index}`);
}
