// Leadership stability under CPU load, and failover time after kill -9
// (issue 11, finding 7; docs/PERFORMANCE.md "Leadership under load").
//
//   node dist/bench/stability.js [--minutes 10] [--busy 2] [--kills 20]
//        [--configs 150-300/50,500-1000/100] [--mode both|stability|failover]
//
// stability: one 3-node cluster per timing config (election timeout
// min-max / heartbeat, in ms), all running at the same time next to --busy
// processes that spin on a CPU (`node -e 'for(;;){}'`), with a light write
// load (5 SET/s per cluster) and no fault injected. Every 250 ms each node's
// /status is read; a leader change is a leader seen with a higher term than
// the last one seen. Printed per config: leader changes, terms gone by.
//
// failover: per config, one cluster at a time (the busy processes still
// running): --kills times, wait for a settled leader, kill -9 it, and time
// until one of the two others reports itself leader of a higher term
// ("elected"), and until a SET sent to the cluster is acknowledged
// ("write ok"); then restart the killed node and let it catch up.

import { spawn, type ChildProcess } from "node:child_process";
import { performance } from "node:perf_hooks";
import { TestCluster, sleep } from "../test/helpers/cluster.js";
import { Flags, fmt, quantile, runHeader } from "./lib.js";

interface Timing {
  readonly name: string;
  readonly election: [number, number];
  readonly heartbeat: number;
}

function parseTiming(s: string): Timing {
  const m = /^(\d+)-(\d+)\/(\d+)$/.exec(s);
  if (!m) throw new Error(`--configs wants entries like 150-300/50 (election min-max / heartbeat, ms), got ${s}`);
  return { name: s, election: [Number(m[1]), Number(m[2])], heartbeat: Number(m[3]) };
}

function busyProcesses(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" }));
}

interface Watch {
  changes: number;
  lastTerm: number;
  firstTerm: number;
  maxTerm: number;
  leaders: string[];
}

async function observe(c: TestCluster, w: Watch): Promise<void> {
  const all = await Promise.all(c.nodes.map((n) => c.status(n.id)));
  for (const s of all) {
    if (s === null) continue;
    w.maxTerm = Math.max(w.maxTerm, s.term);
    if (s.role === "leader" && s.term > w.lastTerm) {
      if (w.lastTerm > 0) {
        w.changes++;
        w.leaders.push(`${new Date().toISOString().slice(11, 19)} node ${s.id} term ${s.term}`);
      } else w.firstTerm = s.term;
      w.lastTerm = s.term;
    }
  }
}

/** Every cluster started, so that an interrupted run stops them. */
const running = new Set<TestCluster>();

async function startCluster(t: Timing): Promise<TestCluster> {
  const c = await TestCluster.start({ electionTimeoutMs: t.election, heartbeatMs: t.heartbeat });
  running.add(c);
  return c;
}

async function stability(timings: readonly Timing[], minutes: number): Promise<void> {
  const clusters = await Promise.all(timings.map(startCluster));
  try {
    await Promise.all(clusters.map((c) => c.waitForLeader(20_000)));
    const watches: Watch[] = clusters.map(() => ({ changes: 0, lastTerm: 0, firstTerm: 0, maxTerm: 0, leaders: [] }));
    await Promise.all(clusters.map((c, i) => observe(c, watches[i]!)));
    const startTerms = watches.map((w) => w.maxTerm);
    const end = Date.now() + minutes * 60_000;
    let writes = 0;
    let failed = 0;
    const load = clusters.map(async (c) => {
      while (Date.now() < end) {
        try {
          const r = await c.leaderCommand(5_000, "SET", "k", String(writes));
          if (r.kind === "error") failed++;
          else writes++;
        } catch {
          failed++;
        }
        await sleep(200);
      }
    });
    while (Date.now() < end) {
      await Promise.all(clusters.map((c, i) => observe(c, watches[i]!)));
      await sleep(250);
    }
    await Promise.all(load);
    console.log(`\nstability: ${minutes} min, no faults, 5 SET/s per cluster (${writes} acknowledged, ${failed} failed or timed out)`);
    console.log("| election timeout / heartbeat (ms) | leader changes | terms gone by |");
    console.log("|---|---|---|");
    timings.forEach((t, i) => {
      const w = watches[i]!;
      console.log(`| ${t.election[0]}–${t.election[1]} / ${t.heartbeat} | ${w.changes} | ${w.maxTerm - startTerms[i]!} |`);
    });
    timings.forEach((t, i) => {
      if (watches[i]!.leaders.length > 0) console.log(`  ${t.name}: ${watches[i]!.leaders.join("; ")}`);
    });
  } finally {
    await Promise.all(clusters.map((c) => c.stop()));
  }
}

async function failover(t: Timing, kills: number): Promise<void> {
  const c = await startCluster(t);
  const elected: number[] = [];
  const writeOk: number[] = [];
  try {
    for (let k = 0; k < kills; k++) {
      // A settled cluster: every node up and following one leader, and a write through it.
      const leader = await c.waitForLeader(30_000);
      await c.leaderCommand(10_000, "SET", "k", `before-${k}`);
      const term = (await c.status(leader))!.term;
      await sleep(t.election[1]);
      const t0 = performance.now();
      await c.kill(leader);
      const others = c.nodes.filter((n) => n.id !== leader).map((n) => n.id);
      const write = c.leaderCommand(30_000, "SET", "k", `after-${k}`).then(() => performance.now() - t0);
      for (;;) {
        const st = await Promise.all(others.map((id) => c.status(id)));
        if (st.some((s) => s !== null && s.role === "leader" && s.term > term)) break;
        if (performance.now() - t0 > 30_000) throw new Error("no new leader within 30 s");
        await sleep(10);
      }
      elected.push(performance.now() - t0);
      writeOk.push(await write);
      await c.restart(leader);
    }
  } finally {
    await c.stop();
  }
  const e = [...elected].sort((a, b) => a - b);
  const w = [...writeOk].sort((a, b) => a - b);
  console.log(`| ${t.election[0]}–${t.election[1]} / ${t.heartbeat} | ${kills} | ${fmt(quantile(e, 0.5))} | ${fmt(quantile(e, 0.99))} | ${fmt(e[e.length - 1]!)} | ${fmt(quantile(w, 0.5))} | ${fmt(quantile(w, 0.99))} | ${fmt(w[w.length - 1]!)} |`);
}

async function main(): Promise<void> {
  const flags = new Flags(process.argv.slice(2));
  if (flags.has("help")) {
    console.log("node dist/bench/stability.js [--minutes 10] [--busy 2] [--kills 20] [--configs 150-300/50,500-1000/100] [--mode both|stability|failover]");
    return;
  }
  const timings = flags.list("configs", "150-300/50,500-1000/100,1000-2000/100").map(parseTiming);
  const mode = flags.get("mode") ?? "both";
  const busyCount = flags.has("busy") ? Number(flags.get("busy")) : 2;
  console.log(runHeader());
  console.log(`busy processes: ${busyCount}; configs: ${timings.map((t) => t.name).join(", ")}`);
  const busy = busyProcesses(busyCount);
  const stop = () => busy.forEach((p) => p.kill("SIGKILL"));
  process.on("exit", stop);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.on(sig, () => {
      stop();
      void Promise.all([...running].map((c) => c.stop())).then(() => process.exit(130));
    });
  }
  try {
    if (mode === "both" || mode === "stability") await stability(timings, flags.number("minutes", 10));
    if (mode === "both" || mode === "failover") {
      const kills = flags.number("kills", 20);
      console.log(`\nfailover after kill -9 of the leader (ms from the kill), ${kills} kills per config, ${busyCount} busy processes`);
      console.log("| election timeout / heartbeat (ms) | kills | elected median | p99 | max | write ok median | p99 | max |");
      console.log("|---|---|---|---|---|---|---|---|");
      for (const t of timings) await failover(t, kills);
    }
  } finally {
    stop();
  }
}

await main();
