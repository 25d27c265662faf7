// Shared pieces of the benchmarks: where the run happened (machine, Node,
// commit), CPU time of processes, medians, and small process helpers.

import { execFileSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";

/** The command-line flags after `npm run bench --`. */
export class Flags {
  constructor(private readonly args: readonly string[]) {}

  get(name: string): string | undefined {
    const i = this.args.indexOf(`--${name}`);
    return i >= 0 ? this.args[i + 1] : undefined;
  }

  has(name: string): boolean {
    return this.args.includes(`--${name}`);
  }

  number(name: string, fallback: number): number {
    const v = this.get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} wants a positive number, got ${v}`);
    return n;
  }

  list(name: string, fallback: string): string[] {
    return (this.get(name) ?? fallback).split(",").filter((s) => s !== "");
  }
}

/** One line saying when, where and on what this run happened. */
export function runHeader(): string {
  const cpus = os.cpus();
  const commit = tryRun("git", ["rev-parse", "--short=12", "HEAD"]) ?? "unknown";
  const dirty = tryRun("git", ["status", "--porcelain", "--untracked-files=no"]) ? " (with uncommitted changes)" : "";
  const load = os.loadavg().map((l) => l.toFixed(2)).join(" ");
  return [
    `date: ${new Date().toISOString()}`,
    `commit: ${commit}${dirty}`,
    `machine: ${cpus.length} × ${cpus[0]?.model ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, load average before the run ${load}`,
    `node: ${process.version}`,
  ].join("\n");
}

export function tryRun(cmd: string, args: readonly string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return null;
  }
}

const CLOCK_TICKS = Number(tryRun("getconf", ["CLK_TCK"]) ?? 100) || 100;

/**
 * CPU seconds (user + system) a process has used so far, from
 * /proc/<pid>/stat; 0 where that cannot be read. Its resolution is one
 * clock tick (10 ms), fine over cells of seconds.
 */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Total CPU seconds of a set of processes. */
export function cpuOf(pids: readonly (number | undefined)[]): number {
  let s = 0;
  for (const p of pids) s += cpuSeconds(p);
  return s;
}

export function median(xs: readonly number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The p-th quantile of sorted latencies. */
export function quantile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

export async function waitPort(host: string, port: number, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect({ host, port }, () => {
        s.destroy();
        r(true);
      });
      s.on("error", () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${host}:${port}`);
}

export function kill(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    p.once("exit", () => r());
    p.kill("SIGTERM");
  });
}

export function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "–";
}
