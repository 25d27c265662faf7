// Shared tools of the end-to-end tests: real `raftkv server` processes
// (TestCluster) driven by real Redis tools and by raw sockets.

import { spawn } from "node:child_process";
import net from "node:net";
import { ReplyParser } from "../../src/client/replyParser.js";
import { EntryType } from "../../src/core/types.js";
import { KvStateMachine } from "../../src/kv/stateMachine.js";
import { Wal } from "../../src/storage/wal.js";
import type { Reply } from "../../src/resp/writer.js";
import { show } from "../server/support.js";
import { sleep, TestCluster, type ClusterOptions, type TestNode } from "../helpers/cluster.js";

/** "host:port" of a node's client (RESP) port, the form MOVED uses. */
export function clientAddress(n: TestNode): string {
  return `${n.host}:${n.clientPort}`;
}

/** Starts a cluster, waits for its leader, runs `body`, and always stops the cluster. */
export async function withCluster<T>(options: ClusterOptions, body: (c: TestCluster, leader: number) => Promise<T>): Promise<T> {
  const c = await TestCluster.start(options);
  try {
    return await body(c, await c.waitForLeader(20_000));
  } catch (err) {
    // The servers' last words usually say why.
    for (const n of c.nodes) console.error(`--- end of node ${n.id}'s log:\n${c.logTail(n.id, 15)}`);
    throw err;
  } finally {
    await c.stop();
  }
}

export interface ToolRun {
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs an installed tool (redis-cli, redis-benchmark) to completion, with
 * `input` on its stdin and stdout a pipe (not a TTY, so redis-cli prints
 * raw replies). Killed after `timeoutMs`, which then fails.
 */
export function runTool(command: string, args: readonly string[], input = "", timeoutMs = 60_000): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} ${args.join(" ")} did not finish within ${timeoutMs} ms; output so far:\n${Buffer.concat(out).toString()}`));
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command} (is redis-tools installed?): ${e.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on("error", () => {}); // the tool may exit before reading all of it
    child.stdin.end(input);
  });
}

/** redis-cli against node `n`. */
export function redisCli(n: TestNode, args: readonly string[], input = ""): Promise<ToolRun> {
  return runTool("redis-cli", ["-h", n.host, "-p", String(n.clientPort), ...args], input);
}

/** The current leader's id and the others', once the cluster agrees on a leader. */
export async function roles(c: TestCluster, timeoutMs = 20_000): Promise<{ leader: number; followers: number[] }> {
  const leader = await c.waitForLeader(timeoutMs);
  return { leader, followers: c.nodes.map((n) => n.id).filter((id) => id !== leader) };
}

/** Sends a signal to a running node without waiting for it to exit (SIGSTOP, SIGCONT). */
export function signal(c: TestCluster, id: number, sig: NodeJS.Signals): void {
  const p = c.node(id).process;
  if (!p) throw new Error(`node ${id} is not running`);
  p.kill(sig);
}

/** What a raw socket got back: every byte the node sent, and whether the node closed the connection. */
export interface RawExchange {
  readonly received: Buffer;
  readonly closedByServer: boolean;
}

/**
 * Writes `chunks` to a fresh connection (one write each), then collects
 * what comes back until the node closes the connection or `quietMs` pass
 * with nothing new (then the client closes it).
 */
export function rawExchange(n: TestNode, chunks: readonly Buffer[], quietMs = 1500): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: n.host, port: n.clientPort });
    const got: Buffer[] = [];
    let timer: NodeJS.Timeout | null = null;
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      socket.destroy();
      resolve({ received: Buffer.concat(got), closedByServer });
    };
    const quiet = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => finish(false), quietMs);
    };
    socket.on("connect", () => {
      for (const c of chunks) socket.write(c);
      quiet();
    });
    socket.on("data", (b: Buffer) => {
      got.push(b);
      quiet();
    });
    socket.on("end", () => finish(true));
    socket.on("close", () => finish(true));
    // A reset after the server closed with unread input still counts as closed by the server.
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ECONNRESET" || err.code === "EPIPE") finish(true);
      else if (!done) {
        done = true;
        reject(err);
      }
    });
  });
}

/** Polls until `probe` returns true, or throws naming `what`. */
export async function eventually(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** The replies in `bytes`, each shown as "+OK", "-ERR ...", ":3", "$value", "$nil" (see show()); throws on a malformed reply. */
export function parseReplies(bytes: Buffer): string[] {
  const parser = new ReplyParser();
  parser.push(bytes);
  const replies: string[] = [];
  for (let r = parser.next(); r !== null && r !== undefined; r = parser.next()) replies.push(show(r as Reply));
  return replies;
}

/** Waits until every node has applied and committed the same index (no entry in flight), and returns it. */
export async function sameAppliedIndex(c: TestCluster): Promise<number> {
  let index = 0;
  await eventually("all nodes applied the same index", async () => {
    const s = await Promise.all(c.nodes.map((n) => c.status(n.id)));
    if (s.some((x) => x === null)) return false;
    index = s[0]!.lastApplied;
    return s.every((x) => x!.lastApplied === index && x!.commitIndex === index);
  });
  return index;
}

/**
 * Each node's key-value state, rebuilt offline from its data directory (the
 * cluster stopped): its snapshot, which its live state machine wrote or its
 * leader sent, then its log's entries up to `index`; as the hex of the state
 * machine's snapshot, so equal states give equal strings. Throws if a node's
 * snapshot is past `index` (its state at `index` is then not on disk).
 */
export async function replayedStates(c: TestCluster, index: number): Promise<string[]> {
  const states: string[] = [];
  for (const n of c.nodes) {
    const { wal, state } = await Wal.open(c.dataDir(n.id));
    try {
      const sm = new KvStateMachine({ clock: () => 0 });
      if (state.snapshot) {
        if (state.snapshot.lastIncludedIndex > index) throw new Error(`node ${n.id}'s snapshot is at ${state.snapshot.lastIncludedIndex}, past ${index}`);
        sm.restore(state.snapshot.data);
      }
      for (const e of state.entries) if (e.index > sm.lastApplied && e.index <= index && e.type === EntryType.Normal) sm.apply(e.index, e.data);
      states.push(Buffer.from(sm.snapshot()).toString("hex"));
    } finally {
      await wal.close();
    }
  }
  return states;
}

/** Each node's key count by /status (keys not yet removed included); null for a node that does not answer. */
export async function keyCounts(c: TestCluster): Promise<(number | null)[]> {
  return Promise.all(c.nodes.map(async (n) => (await c.status(n.id))?.keys ?? null));
}
