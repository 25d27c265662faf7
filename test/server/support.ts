// Small tools shared by the black-box tests of real `raftkv` processes.

import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import net from "node:net";
import { join } from "node:path";
import { BIN, exitOf, respCommand, sleep, type ExitStatus, type TestCluster } from "../helpers/cluster.js";
import { encodeCommand } from "../../src/client/commandEncoder.js";
import { ReplyParser } from "../../src/client/replyParser.js";
import type { Reply } from "../../src/resp/writer.js";

/** SPEC §6 asks for 2 s; the deadline here is looser so that a loaded machine does not make the tests flaky. */
const STOP_DEADLINE_MS = 5000;

/**
 * Sends `signal` to node `id` and waits for it to exit; "still running" if it
 * has not within the deadline. Notes the time it took as a test diagnostic.
 */
export async function stopNode(c: TestCluster, t: { diagnostic(message: string): void }, id: number, signal: NodeJS.Signals): Promise<ExitStatus | null | "still running"> {
  const started = Date.now();
  const exit = await Promise.race([c.kill(id, signal), deadline(STOP_DEADLINE_MS, "still running" as const)]);
  t.diagnostic(`node ${id} (${signal}) exited ${JSON.stringify(exit)} after ${Date.now() - started} ms`);
  return exit;
}

/** Resolves with `value` after `ms`, without keeping the process alive (for Promise.race). */
export function deadline<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
}

/** Polls `probe` every 50 ms until it returns something other than null/undefined/false. */
export async function waitUntil<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() >= until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** A reply as text, for assertions: "+OK", "-ERR ...", ":3", "$value", "$nil", "*[...]". */
export function show(r: Reply): string {
  switch (r.kind) {
    case "simple":
      return `+${r.value}`;
    case "error":
      return `-${r.message}`;
    case "integer":
      return `:${r.value}`;
    case "bulk":
      return r.value === null ? "$nil" : `$${Buffer.from(r.value).toString()}`;
    case "array":
      return r.items === null ? "*nil" : `*[${r.items.map(show).join(", ")}]`;
  }
}

/** Writes `count` keys `${prefix}-i` = `value-${prefix}-i` through the leader; every one must be acknowledged. */
export async function writeKeys(c: TestCluster, prefix: string, count: number): Promise<Map<string, string>> {
  const written = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const key = `${prefix}-${i}`;
    const value = `value-${prefix}-${i}`;
    const r = await c.leaderCommand(15_000, "SET", key, value);
    if (show(r) !== "+OK") throw new Error(`SET ${key} answered ${show(r)}`);
    written.set(key, value);
  }
  return written;
}

/** Reads every key through the leader; returns the ones whose value differs from `expected` (empty when all is well). */
export async function missingKeys(c: TestCluster, expected: Map<string, string>): Promise<string[]> {
  const wrong: string[] = [];
  for (const [key, value] of expected) {
    const got = show(await c.leaderCommand(15_000, "GET", key));
    if (got !== `$${value}`) wrong.push(`${key}: expected ${value}, got ${got}`);
  }
  return wrong;
}

/** Waits until node `id` has applied everything up to `index` (and returns its status). */
export function waitForApplied(c: TestCluster, id: number, index: number, timeoutMs = 15_000) {
  return waitUntil(
    `node ${id} to apply up to index ${index}`,
    async () => {
      const s = await c.status(id);
      return s !== null && s.lastApplied >= index ? s : null;
    },
    timeoutMs,
  );
}

/** The leader's commit index once every live node has applied it: the cluster is quiet and in step. */
export async function waitForAllApplied(c: TestCluster, timeoutMs = 15_000): Promise<number> {
  const leader = await c.waitForLeader(timeoutMs);
  const s = await c.status(leader);
  if (!s) throw new Error(`leader ${leader} stopped answering /status`);
  for (const n of c.nodes.filter((x) => x.process)) await waitForApplied(c, n.id, s.commitIndex, timeoutMs);
  return s.commitIndex;
}

/** The text of a node's log file (stdout and stderr), or "" if there is none yet. */
export function readLog(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** A log that shows a "stopping" line for `signal`, then a whole "stopped" line: a stop that got to the end. */
export function cleanStop(signal: NodeJS.Signals): RegExp {
  return new RegExp(`"event":"stopping","signal":"${signal}"[^\\n]*\\n([^\\n]*\\n)*[^\\n]*"event":"stopped"[^\\n]*\\n`);
}

/** Waits until the log file contains `text` (the child's output reaches the file asynchronously). */
export function waitForLog(path: string, text: string | RegExp, timeoutMs = 10_000): Promise<string> {
  const found = (log: string) => (typeof text === "string" ? log.includes(text) : text.test(log));
  return waitUntil(`${String(text)} in ${path}`, () => {
    const log = readLog(path);
    return found(log) ? log : null;
  }, timeoutMs);
}

/** The WAL segment files of a data directory, oldest first, with their sizes. */
export function segments(dataDir: string): { path: string; size: number }[] {
  return readdirSync(dataDir)
    .filter((f) => /^wal-.*\.log$/.test(f))
    .sort()
    .map((f) => ({ path: join(dataDir, f), size: statSync(join(dataDir, f)).size }));
}

export interface RunResult extends ExitStatus {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node bin/raftkv.js ...args` to completion (killed after `timeoutMs`). */
export async function runRaftkv(args: string[], timeoutMs = 15_000): Promise<RunResult> {
  const child = startRaftkv(args);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  const closed = new Promise<void>((r) => child.once("close", () => r()));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const status = await exitOf(child);
  await closed;
  clearTimeout(timer);
  return { ...status, stdout, stderr };
}

/** Starts `node bin/raftkv.js ...args` with piped output. */
export function startRaftkv(args: string[]): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * Sends a command to whichever of `addresses` is leader: follows MOVED, and
 * retries CLUSTERDOWN, TIMEOUT and refused connections until `timeoutMs`.
 */
export async function commandAnyLeader(addresses: { host: string; port: number }[], args: string[], timeoutMs = 15_000): Promise<Reply> {
  const until = Date.now() + timeoutMs;
  let i = 0;
  let target = addresses[0]!;
  let last = "";
  while (Date.now() < until) {
    try {
      const r = await respCommand(target.host, target.port, args);
      if (r.kind === "error" && r.message.startsWith("MOVED ")) {
        const [host, port] = r.message.split(" ")[2]!.split(":");
        target = { host: host!, port: Number(port) };
        continue;
      }
      if (r.kind !== "error" || !/^(CLUSTERDOWN|TIMEOUT)/.test(r.message)) return r;
      last = r.message;
    } catch (err) {
      last = (err as Error).message;
      target = addresses[++i % addresses.length]!;
    }
    await sleep(100);
  }
  throw new Error(`${args.join(" ")} did not succeed within ${timeoutMs} ms (last: ${last})`);
}

/** Sends `commands` pipelined on one connection; resolves with their replies, in order. */
export function pipeline(host: string, port: number, commands: string[][], timeoutMs = 30_000): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const parser = new ReplyParser();
    const replies: Reply[] = [];
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`${replies.length} of ${commands.length} replies from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.on("connect", () => socket.write(Buffer.concat(commands.map((c) => encodeCommand(c)))));
    socket.on("data", (chunk: Buffer) => {
      parser.push(chunk);
      for (let r = parser.next(); r !== undefined && r !== null; r = parser.next()) replies.push(r as Reply);
      if (replies.length < commands.length) return;
      clearTimeout(timer);
      socket.destroy();
      resolve(replies);
    });
    socket.on("error", fail);
    socket.on("close", () => fail(new Error(`${host}:${port} closed the connection after ${replies.length} of ${commands.length} replies`)));
  });
}
