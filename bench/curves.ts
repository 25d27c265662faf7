// `npm run bench -- --mode curves`: what raftkv costs as the work grows.
//
// keys    10^4, 10^5, 10^6 keys of 100 bytes (filled with pipelined MSETs
//         of 1000 pairs): the leader's memory per key, the time and size of
//         a snapshot (serialise + write + fsync the file, in process), a
//         restart from the snapshot (open the WAL, restore the state machine,
//         in process), a follower's restart from its WAL (process start until
//         it has applied everything again), and a fresh follower's catch-up
//         (its data directory wiped: process start until it has applied everything).
// values  SET and GET of 100 B, 10 KiB and 1 MiB values: throughput and p99.
// nodes   3, 5 and 7 nodes: SET throughput, p99 and CPU per operation.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeCommand as encodeResp } from "../src/client/commandEncoder.js";
import { encodeCommand } from "../src/kv/command.js";
import { KvStateMachine } from "../src/kv/stateMachine.js";
import { Wal } from "../src/storage/wal.js";
import { TestCluster, sleep } from "../test/helpers/cluster.js";
import { Flags, fmt, runHeader } from "./lib.js";
import { measure } from "./race.js";
import { raftkvTarget, respConnect } from "./targets.js";

const PAIRS_PER_MSET = 1000;
const VALUE = Buffer.alloc(100, "v");

function rssBytes(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

function msetCommand(from: number, count: number): Buffer {
  const args: (string | Buffer)[] = ["MSET"];
  for (let i = from; i < from + count; i++) args.push(`key:${i}`, VALUE);
  return encodeResp(args);
}

async function waitApplied(c: TestCluster, id: number, index: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const s = await c.status(id);
    if (s && s.lastApplied >= index) return;
    await sleep(20);
  }
  throw new Error(`node ${id} did not apply index ${index} within ${timeoutMs} ms`);
}

interface KeysRow {
  keys: number;
  fillSeconds: number;
  bytesPerKey: number;
  snapshotMs: number;
  snapshotBytes: number;
  restartSnapshotMs: number;
  restartWalMs: number;
  catchUpMs: number;
}

async function keysCurve(n: number): Promise<KeysRow> {
  // No automatic snapshot during the fill: the follower's restart replays the whole WAL.
  const c = await TestCluster.start({ nodes: 3, electionTimeoutMs: [1000, 2000], heartbeatMs: 100, snapshotEvery: 1e9 });
  try {
    const leader = await c.waitForLeader(20_000);
    const ln = c.node(leader);
    await sleep(300);
    const rss0 = rssBytes(ln.process?.pid);
    const commands: Buffer[] = [];
    for (let i = 0; i < n; i += PAIRS_PER_MSET) commands.push(msetCommand(i, Math.min(PAIRS_PER_MSET, n - i)));
    const t0 = performance.now();
    // 8 connections, one MSET each in flight: the fill itself is group-committed.
    const conns = await Promise.all(Array.from({ length: 8 }, () => respConnect(ln.host, ln.clientPort, { SET: commands, GET: commands })));
    let next = 0;
    await Promise.all(
      conns.map(async (conn) => {
        while (next < commands.length) await conn.request("SET", next++);
      }),
    );
    for (const conn of conns) conn.close();
    const fillSeconds = (performance.now() - t0) / 1000;
    await sleep(500);
    const rss1 = rssBytes(ln.process?.pid);
    const commit = (await c.status(leader))!.commitIndex;

    const follower = c.nodes.find((x) => x.id !== leader)!.id;
    await waitApplied(c, follower, commit);
    // A follower's restart from its WAL: from the process start until it has applied everything again.
    await c.kill(follower, "SIGTERM");
    let t = performance.now();
    c.startNode(follower);
    await waitApplied(c, follower, commit);
    const restartWalMs = performance.now() - t;
    // A fresh follower: its data directory wiped.
    await c.kill(follower, "SIGTERM");
    rmSync(c.dataDir(follower), { recursive: true, force: true });
    t = performance.now();
    c.startNode(follower);
    await waitApplied(c, follower, commit);
    const catchUpMs = performance.now() - t;

    const inProcess = await snapshotCosts(n);
    return { keys: n, fillSeconds, bytesPerKey: (rss1 - rss0) / n, ...inProcess, restartWalMs, catchUpMs };
  } finally {
    await c.stop();
  }
}

/** Snapshot time and size, and a restart from it, for a state machine of `n` keys (in this process). */
async function snapshotCosts(n: number): Promise<Pick<KeysRow, "snapshotMs" | "snapshotBytes" | "restartSnapshotMs">> {
  const sm = new KvStateMachine();
  let index = 0;
  for (let i = 0; i < n; i += PAIRS_PER_MSET) {
    const pairs: Buffer[] = [];
    for (let k = i; k < Math.min(n, i + PAIRS_PER_MSET); k++) pairs.push(Buffer.from(`key:${k}`), VALUE);
    sm.apply(++index, encodeCommand({ op: "mset", pairs }));
  }
  const dir = mkdtempSync(join(tmpdir(), "raftkv-curves-"));
  try {
    const { wal } = await Wal.open(dir);
    const t0 = performance.now();
    const data = sm.snapshot();
    await wal.saveSnapshot({ lastIncludedIndex: index, lastIncludedTerm: 1, data, config: null });
    const snapshotMs = performance.now() - t0;
    await wal.close();
    const t1 = performance.now();
    const { wal: reopened, state } = await Wal.open(dir);
    const restored = new KvStateMachine();
    restored.restore(state.snapshot!.data);
    const restartSnapshotMs = performance.now() - t1;
    if (restored.size !== n) throw new Error(`restored ${restored.size} keys, expected ${n}`);
    await reopened.close();
    return { snapshotMs, snapshotBytes: data.length, restartSnapshotMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function curves(flags: Flags): Promise<void> {
  const parts = flags.list("parts", "keys,values,nodes");
  const maxKeys = flags.number("max-keys", 1_000_000);
  const seconds = flags.number("seconds", 3);
  console.log(runHeader());
  console.log(`cost curves: ${parts.join(", ")}\n`);

  if (parts.includes("keys")) {
    const rows: KeysRow[] = [];
    for (const n of [10_000, 100_000, 1_000_000].filter((k) => k <= maxKeys)) {
      const r = await keysCurve(n);
      rows.push(r);
      console.log(`keys ${n}: filled in ${fmt(r.fillSeconds, 1)} s, ${fmt(r.bytesPerKey)} B/key, snapshot ${fmt(r.snapshotMs)} ms / ${fmt(r.snapshotBytes / 2 ** 20, 1)} MiB, restart from snapshot ${fmt(r.restartSnapshotMs)} ms, from WAL ${fmt(r.restartWalMs)} ms, fresh follower ${fmt(r.catchUpMs)} ms`);
    }
    console.log("\n| keys (100 B values) | fill (MSET ×1000, 8 conns) keys/s | leader memory per key | snapshot time | snapshot size | restart from snapshot (in process) | follower restart from WAL | fresh follower catch-up |");
    console.log("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const r of rows) {
      console.log(`| ${r.keys} | ${fmt(r.keys / r.fillSeconds)} | ${fmt(r.bytesPerKey)} B | ${fmt(r.snapshotMs)} ms | ${fmt(r.snapshotBytes / 2 ** 20, 1)} MiB | ${fmt(r.restartSnapshotMs)} ms | ${fmt(r.restartWalMs)} ms | ${fmt(r.catchUpMs)} ms |`);
    }
    console.log("");
  }

  if (parts.includes("values")) {
    const lines: string[] = [];
    for (const valueBytes of [100, 10 * 1024, 1024 * 1024]) {
      const t = await raftkvTarget({ keys: 100, valueBytes });
      try {
        const c = await t.connect();
        for (let i = 0; i < 100; i++) await c.request("SET", i);
        c.close();
        for (const op of ["SET", "GET"] as const) {
          const cell = await measure(t, op, 16, seconds);
          const line = `| ${valueBytes} | ${op} | ${fmt(cell.opsPerSec)} | ${fmt((cell.opsPerSec * valueBytes) / 2 ** 20, 1)} | ${fmt(cell.p50, 2)} / ${fmt(cell.p99, 2)} | ${fmt(cell.cpuUs)} | ${cell.errors} |`;
          console.log(line);
          lines.push(line);
        }
      } finally {
        await t.stop();
      }
    }
    console.log("\n| value bytes | op (16 clients) | ops/s | MiB/s | p50 / p99 ms | CPU µs/op | errors |\n|---:|---|---:|---:|---|---:|---:|\n" + lines.join("\n") + "\n");
  }

  if (parts.includes("nodes")) {
    const lines: string[] = [];
    for (const nodes of [3, 5, 7]) {
      const t = await raftkvTarget({ keys: 100, valueBytes: 100 }, { nodes, electionTimeoutMs: [500, 1000] });
      try {
        const c = await t.connect();
        for (let i = 0; i < 100; i++) await c.request("SET", i);
        c.close();
        for (const clients of [1, 64]) {
          const cell = await measure(t, "SET", clients, seconds);
          const line = `| ${nodes} | ${clients} | ${fmt(cell.opsPerSec)} | ${fmt(cell.p50, 2)} / ${fmt(cell.p99, 2)} | ${fmt(cell.cpuUs)} | ${cell.errors} |`;
          console.log(line);
          lines.push(line);
        }
      } finally {
        await t.stop();
      }
    }
    console.log("\n| nodes | SET clients | ops/s | p50 / p99 ms | CPU µs/op (all nodes) | errors |\n|---:|---:|---:|---|---:|---:|\n" + lines.join("\n"));
  }
}
