// The supervisor's control socket: `raftkv cluster` listens on
// DIR/supervisor.sock (a Unix socket, so only local users with access to DIR
// can use it), and `raftkv node start|stop|restart ID` talks to it. One JSON
// line each way: {"op":"restart","id":2} -> {"ok":true,"message":"..."}.
// A node restarted this way stays a child of the supervisor: its log goes to
// DIR/node-ID.log and Ctrl-C of the cluster stops it with the others.

import net from "node:net";
import { readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs, stringFlag, UsageError } from "./args.js";
import { EXIT } from "./raftkv.js";

export type ControlOp = "start" | "stop" | "restart";
export interface ControlRequest {
  readonly op: ControlOp;
  readonly id: number;
}
export interface ControlAnswer {
  readonly ok: boolean;
  readonly message: string;
}

export function controlSocketPath(dir: string): string {
  return join(dir, "supervisor.sock");
}

/** Whether a supervisor answers on `path` (a socket file left by one that was killed does not). */
export function supervisorRunning(path: string): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = net.connect(path);
    socket.on("connect", () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.on("error", () => resolvePromise(false));
  });
}

/** Serves requests on `path` (replacing a stale socket file); each gets one answer. */
export function serveControl(path: string, handle: (req: ControlRequest) => Promise<ControlAnswer>): Promise<net.Server> {
  const server = net.createServer((socket) => {
    let buffered = "";
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      if (buffered.length > 4096) return void socket.destroy();
      const nl = buffered.indexOf("\n");
      if (nl < 0) return;
      socket.removeAllListeners("data");
      let req: ControlRequest;
      try {
        const raw = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
        if (!["start", "stop", "restart"].includes(raw.op as string) || !Number.isInteger(raw.id)) throw new Error("bad request");
        req = { op: raw.op as ControlOp, id: raw.id as number };
      } catch {
        socket.end(JSON.stringify({ ok: false, message: "bad request" }) + "\n");
        return;
      }
      handle(req).then(
        (answer) => socket.end(JSON.stringify(answer) + "\n"),
        (err: Error) => socket.end(JSON.stringify({ ok: false, message: err.message }) + "\n"),
      );
    });
  });
  rmSync(path, { force: true });
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      resolvePromise(server);
    });
  });
}

const HELP = `usage: raftkv node start|stop|restart ID [--dir DIR]

Asks the running 'raftkv cluster' for DIR (default ./data) to start, stop or
restart node ID. The node stays under the supervisor: its log goes to
DIR/node-ID.log, and Ctrl-C of the cluster stops it with the others. A node
stops cleanly (SIGTERM: a leader hands its leadership over first).

exit codes: 0 done, 2 usage, or the supervisor refused (e.g. the node is
already running), 3 no supervisor is running for DIR`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { dir: {}, help: { boolean: true } });
  if (p.flags.has("help")) {
    process.stdout.write(HELP + "\n");
    return EXIT.ok;
  }
  const [op, idText, ...rest] = p.positional;
  if (op === undefined || !["start", "stop", "restart"].includes(op)) throw new UsageError(`expects start, stop or restart, got ${op === undefined ? "nothing" : `'${op}'`}`);
  if (idText === undefined || !/^\d+$/.test(idText)) throw new UsageError(`expects a node id (a positive integer), got ${idText === undefined ? "nothing" : `'${idText}'`}`);
  if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
  const dir = resolve(stringFlag(p, "dir") ?? "data");
  const answer = await ask(controlSocketPath(dir), { op: op as ControlOp, id: Number(idText) }).catch((err: NodeJS.ErrnoException) => err);
  if (answer instanceof Error) {
    const why = answer.code === "ENOENT" || answer.code === "ECONNREFUSED" ? "no 'raftkv cluster' is running there" : answer.message;
    process.stderr.write(`raftkv node: cannot reach the supervisor of ${dir} (${why}); start one with \`npx raftkv cluster${stringFlag(p, "dir") ? ` --dir ${stringFlag(p, "dir")}` : ""}\`\n`);
    return EXIT.unavailable;
  }
  (answer.ok ? process.stdout : process.stderr).write(`${answer.ok ? "" : "raftkv node: "}${answer.message}\n`);
  return answer.ok ? EXIT.ok : EXIT.usage;
}

function ask(path: string, req: ControlRequest): Promise<ControlAnswer> {
  return new Promise((resolvePromise, reject) => {
    const socket = net.connect(path);
    let data = "";
    socket.on("connect", () => socket.write(JSON.stringify(req) + "\n"));
    socket.on("data", (chunk: Buffer) => (data += chunk.toString("utf8")));
    socket.on("error", reject);
    socket.on("end", () => {
      try {
        resolvePromise(JSON.parse(data) as ControlAnswer);
      } catch {
        reject(new Error("the supervisor gave no answer"));
      }
    });
  });
}

/** The pid in a data directory's LOCK file if that process is alive: a node running there. */
export function lockHolder(dataDir: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, "LOCK"), "utf8").trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM" ? pid : null;
  }
}
