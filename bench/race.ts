// The race (`npm run bench`): raftkv, etcd and a durable Redis, all running
// at the same time on this machine, driven by one closed-loop load generator
// (each client sends one request, waits for the answer, sends the next).
// Cells — (op, clients) — alternate between the systems, and the order of the
// systems rotates each round, so a burst of load from the machine's other
// tenants hits every system alike; medians over the rounds. CPU per
// operation is the CPU time of every process of the system (all three nodes)
// during the cell, divided by the operations it answered.

import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { Flags, cpuOf, fmt, median, quantile, runHeader } from "./lib.js";
import { etcdTarget, raftkvTarget, redisTarget, type Op, type Target, type Workload } from "./targets.js";

export interface Cell {
  target: Target["key"];
  op: Op;
  clients: number;
  opsPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU microseconds per operation, all of the system's processes together. */
  cpuUs: number;
  /** The load generator's own CPU microseconds per operation. */
  genUs: number;
  /** raftkv: WAL fsyncs per operation (all nodes) and their mean duration in ms, over the cell with its warm-up. */
  fsyncsPerOp?: number;
  fsyncMs?: number;
}

export async function race(flags: Flags): Promise<void> {
  const seconds = flags.number("seconds", 5);
  const rounds = flags.number("rounds", 3);
  const only = flags.get("only")?.split(",");
  const clientsList = flags.list("clients", "1,16,64").map(Number);
  const ops = flags.list("ops", "SET,GET") as Op[];
  const w: Workload = { keys: flags.number("keys", 100), valueBytes: flags.number("value-bytes", 100) };
  const pipelined = !flags.has("no-pipeline");

  console.log(runHeader());
  console.log(`load: closed loop, ${w.valueBytes}-byte values, ${w.keys} keys, ${seconds} s per cell, ${rounds} rounds, cells alternate between the systems\n`);

  const targets: Target[] = [];
  const want = (k: string) => !only || only.includes(k);
  try {
    // All systems run at the same time, as they will be measured.
    // --profile DIR: every raftkv node writes a V8 CPU profile (.cpuprofile) into DIR when it stops.
    const profile = flags.get("profile");
    if (want("raftkv")) targets.push(await raftkvTarget(w, profile ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profile}`] } : {}));
    // --baseline DIR: a second raftkv, built in another checkout (DIR/bin/raftkv.js), in the same race: before/after a change.
    const baseline = flags.get("baseline");
    if (baseline) targets.push(await raftkvTarget(w, { bin: join(resolve(baseline), "bin", "raftkv.js") }, "raftkv-base"));
    for (const [key, make] of [["etcd", etcdTarget], ["redis", redisTarget]] as const) {
      if (!want(key)) continue;
      const t = await make(w).catch((err: unknown) => {
        console.log(`(${key} failed to start: ${(err as Error).message}; left out)`);
        return null;
      });
      if (t) targets.push(t);
      else console.log(`(${key} is not installed: left out of the race${key === "etcd" ? " — `apt-get install etcd-server` adds it" : ""})`);
    }
    for (const t of targets) console.log(`${t.name}: ${t.version}`);
    console.log("");
    for (const t of targets) await prefill(t, w);

    const cells: Cell[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const op of ops) {
        for (const clients of clientsList) {
          // Rotate who goes first, so that no system always runs right after another's load.
          for (let k = 0; k < targets.length; k++) {
            const t = targets[(k + round) % targets.length]!;
            const c = await measure(t, op, clients, seconds);
            cells.push(c);
            const disk = c.fsyncMs !== undefined ? `  fsync ${fmt(c.fsyncMs, 2)} ms × ${fmt(c.fsyncsPerOp!, 2)}/op` : "";
            console.log(
              `round ${round + 1} ${t.key.padEnd(6)} ${op} c=${String(clients).padEnd(3)} ${fmt(c.opsPerSec).padStart(7)} ops/s  p50 ${fmt(c.p50, 2)} ms  p99 ${fmt(c.p99, 2)} ms  cpu ${fmt(c.cpuUs)} µs/op  errors ${c.errors}${disk}`,
            );
          }
        }
      }
    }
    const pipe = pipelined ? await pipelinedRace(targets, rounds, seconds) : [];
    report(targets, cells, ops, clientsList, pipe);
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
  }
}

async function prefill(t: Target, w: Workload): Promise<void> {
  const c = await t.connect();
  for (let i = 0; i < w.keys; i++) await c.request("SET", i);
  c.close();
}

export async function measure(t: Target, op: Op, clients: number, seconds: number): Promise<Cell> {
  await t.beforeCell?.();
  const fsync0 = await t.fsyncs?.();
  let requests = 0;
  const conns = await Promise.all(Array.from({ length: clients }, () => t.connect()));
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  let measuring = false;
  // A short warm-up (connections settle, the JIT warms), then the measured interval.
  const warmupEnd = performance.now() + Math.min(500, seconds * 100);
  const end = warmupEnd + seconds * 1000;
  let cpu0 = 0;
  let gen0 = process.cpuUsage();
  let start = 0;
  await Promise.all(
    conns.map(async (c, i) => {
      let n = i * 7;
      for (;;) {
        const now = performance.now();
        if (now >= end) break;
        if (!measuring && now >= warmupEnd) {
          measuring = true;
          start = now;
          cpu0 = cpuOf(t.pids());
          gen0 = process.cpuUsage();
        }
        const counted = measuring;
        const t0 = now;
        try {
          await c.request(op, n++);
          requests++;
          if (counted) latencies.push(performance.now() - t0);
        } catch (err) {
          if (counted) errors++;
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const cpu = cpuOf(t.pids()) - cpu0;
  const gen = process.cpuUsage(gen0);
  for (const c of conns) c.close();
  const fsync1 = await t.fsyncs?.();
  const fsync = fsync0 && fsync1 ? { count: fsync1.count - fsync0.count, seconds: fsync1.seconds - fsync0.seconds } : null;
  if (firstError !== null && errors > 0) console.log(`  (${t.key} ${op} c=${clients}: ${errors} errors, the first: ${firstError})`);
  latencies.sort((a, b) => a - b);
  const n = latencies.length;
  return {
    target: t.key,
    op,
    clients,
    opsPerSec: n / elapsed,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    errors,
    cpuUs: n > 0 ? (cpu * 1e6) / n : NaN,
    genUs: n > 0 ? (gen.user + gen.system) / n : NaN,
    ...(fsync && { fsyncsPerOp: fsync.count / Math.max(1, requests), fsyncMs: (fsync.seconds * 1000) / Math.max(1, fsync.count) }),
  };
}

interface PipeCell {
  target: Target["key"];
  op: Op;
  rps: number;
  p50: number;
  p99: number;
}

/** redis-benchmark -P 16 -c 50 against raftkv and Redis, alternating, when redis-benchmark is installed. */
async function pipelinedRace(targets: Target[], rounds: number, seconds: number): Promise<PipeCell[]> {
  const resp = targets.filter((t) => t.resp);
  if (resp.length === 0) return [];
  const out: PipeCell[] = [];
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < resp.length; k++) {
      const t = resp[(k + round) % resp.length]!;
      await t.beforeCell?.();
      // About `seconds` of work at the rate each system reached before (a first guess of 20k/s for raftkv).
      const prior = out.filter((c) => c.target === t.key).map((c) => c.rps);
      const n = Math.max(10_000, Math.round((prior.length ? median(prior) : t.key.startsWith("raftkv") ? 20_000 : 200_000) * seconds));
      const r = await redisBenchmark(t.resp!.host, t.resp!.port, n).catch((err: unknown) => {
        console.log(`(redis-benchmark: ${(err as Error).message})`);
        return null;
      });
      if (!r) return out;
      for (const c of r) {
        out.push({ target: t.key, ...c });
        console.log(`round ${round + 1} ${t.key.padEnd(6)} pipelined ${c.op} -P 16 -c 50 ${fmt(c.rps).padStart(7)} ops/s  p50 ${fmt(c.p50, 2)} ms  p99 ${fmt(c.p99, 2)} ms`);
      }
    }
  }
  return out;
}

function redisBenchmark(host: string, port: number, n: number): Promise<{ op: Op; rps: number; p50: number; p99: number }[]> {
  return new Promise((resolve, reject) => {
    const p = spawn("redis-benchmark", ["-h", host, "-p", String(port), "-t", "set,get", "-P", "16", "-c", "50", "-n", String(n), "-d", "100", "-r", "100", "--csv"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.on("error", reject);
    p.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`exit ${code}`));
      const rows = out
        .trim()
        .split("\n")
        .slice(1)
        .map((l) => l.split(",").map((f) => f.replace(/"/g, "")))
        .filter((f) => f[0] === "SET" || f[0] === "GET")
        .map((f) => ({ op: f[0] as Op, rps: Number(f[1]), p50: Number(f[4]), p99: Number(f[6]) }));
      resolve(rows);
    });
  });
}

function report(targets: Target[], cells: Cell[], ops: Op[], clientsList: number[], pipe: PipeCell[]): void {
  const med = (key: string, op: Op, clients: number, f: (c: Cell) => number) =>
    median(cells.filter((c) => c.target === key && c.op === op && c.clients === clients).map(f));
  const has = (k: string) => targets.some((t) => t.key === k);
  const cols = ["raftkv", "raftkv-base", "etcd", "redis"].filter(has);

  console.log("\nMedians over the rounds (ops/s; p50 / p99 in ms; CPU µs per operation, all of the system's processes):\n");
  const head = ["op", "clients", ...cols.flatMap((k) => [`${k} ops/s`, `${k} p50/p99`, `${k} CPU µs/op`])];
  if (has("raftkv") && has("raftkv-base")) head.push("raftkv ÷ baseline");
  if (has("raftkv") && has("etcd")) head.push("raftkv ÷ etcd", "p99 raftkv ÷ etcd");
  if (has("raftkv") && has("redis")) head.push("raftkv ÷ redis");
  console.log(`| ${head.join(" | ")} |`);
  console.log(`|${head.map((_, i) => (i < 1 ? "---" : "---:")).join("|")}|`);
  for (const op of ops) {
    for (const clients of clientsList) {
      const row = [op, String(clients)];
      for (const k of cols) {
        row.push(fmt(med(k, op, clients, (c) => c.opsPerSec)), `${fmt(med(k, op, clients, (c) => c.p50), 2)} / ${fmt(med(k, op, clients, (c) => c.p99), 2)}`, fmt(med(k, op, clients, (c) => c.cpuUs)));
      }
      const r = (other: string, f: (c: Cell) => number) => med("raftkv", op, clients, f) / med(other, op, clients, f);
      if (has("raftkv") && has("raftkv-base")) row.push(`${fmt(r("raftkv-base", (c) => c.opsPerSec), 2)}×`);
      if (has("raftkv") && has("etcd")) row.push(`${fmt(r("etcd", (c) => c.opsPerSec), 2)}×`, `${fmt(r("etcd", (c) => c.p99), 2)}`);
      if (has("raftkv") && has("redis")) row.push(`${fmt(r("redis", (c) => c.opsPerSec), 2)}×`);
      console.log(`| ${row.join(" | ")} |`);
    }
  }
  if (has("raftkv") && ops.includes("SET")) {
    const line = clientsList.map((k) => `c=${k}: ${fmt(med("raftkv", "SET", k, (c) => c.fsyncMs ?? NaN), 2)} ms, ${fmt(med("raftkv", "SET", k, (c) => c.fsyncsPerOp ?? NaN), 2)} per SET`).join("; ");
    console.log(`\nraftkv's WAL fsyncs during SET cells (mean duration, and fsyncs per SET over all three nodes): ${line}`);
  }
  const gen = median(cells.map((c) => c.genUs));
  console.log(`\n(load generator: a median ${fmt(gen)} µs of its own CPU per operation)`);

  if (pipe.length > 0) {
    console.log("\nPipelined, `redis-benchmark -t set,get -P 16 -c 50 -d 100 -r 100` (medians):\n");
    console.log("| op | " + pipe.map((c) => c.target).filter((k, i, a) => a.indexOf(k) === i).map((k) => `${k} ops/s | ${k} p50/p99 ms`).join(" | ") + " | raftkv ÷ redis |");
    const keys = pipe.map((c) => c.target).filter((k, i, a) => a.indexOf(k) === i);
    console.log(`|---|${keys.map(() => "---:|---:").join("|")}|---:|`);
    for (const op of ["SET", "GET"] as Op[]) {
      const m = (k: string, f: (c: PipeCell) => number) => median(pipe.filter((c) => c.target === k && c.op === op).map(f));
      const row = [op, ...keys.flatMap((k) => [fmt(m(k, (c) => c.rps)), `${fmt(m(k, (c) => c.p50), 2)} / ${fmt(m(k, (c) => c.p99), 2)}`])];
      row.push(keys.includes("raftkv") && keys.includes("redis") ? `${fmt(m("raftkv", (c) => c.rps) / m("redis", (c) => c.rps), 2)}×` : "");
      console.log(`| ${row.join(" | ")} |`);
    }
  }

  if (!has("etcd")) console.log("\netcd is not in this run: the etcd targets cannot be judged.");
  if (has("raftkv") && has("etcd")) targetsCheck(med, ops, clientsList, has("redis"));
}

/** The issue's targets, each said met or missed from this run's medians. */
function targetsCheck(med: (key: string, op: Op, clients: number, f: (c: Cell) => number) => number, ops: Op[], clientsList: number[], redis: boolean): void {
  const lines: string[] = [];
  const check = (what: string, value: number, ok: boolean) => lines.push(`- ${ok ? "met   " : "MISSED"} ${what}: ${fmt(value, 2)}`);
  const ops_ = (c: Cell) => c.opsPerSec;
  for (const op of ops) {
    for (const clients of clientsList) {
      const ratio = med("raftkv", op, clients, ops_) / med("etcd", op, clients, ops_);
      check(`${op} c=${clients} throughput ÷ etcd ≥ ${clients === 64 ? 5 : 3}×`, ratio, ratio >= (clients === 64 ? 5 : 3));
      const p99 = med("raftkv", op, clients, (c) => c.p99) / med("etcd", op, clients, (c) => c.p99);
      check(`${op} c=${clients} p99 ÷ etcd's ≤ 0.5`, p99, p99 <= 0.5);
    }
  }
  if (ops.includes("SET") && clientsList.includes(1)) {
    const p50 = med("raftkv", "SET", 1, (c) => c.p50) / med("etcd", "SET", 1, (c) => c.p50);
    check("SET c=1 p50 ÷ etcd's ≤ 0.5", p50, p50 <= 0.5);
  }
  if (redis && clientsList.includes(64)) {
    for (const [op, goal] of [["SET", 0.35], ["GET", 0.5]] as const) {
      if (!ops.includes(op)) continue;
      const r = med("raftkv", op, 64, ops_) / med("redis", op, 64, ops_);
      check(`${op} c=64 throughput ÷ durable Redis ≥ ${goal}`, r, r >= goal);
    }
  }
  console.log("\nTargets (issue 15), from the medians above:\n" + lines.join("\n"));
}
