// Raw RESP2 for the differential tests: commands out, each reply back as the
// exact bytes the server sent (no parsing into values and back, so nothing
// is normalised away), plus a real redis-server started for the test.

import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";

/** A RESP2 command as Redis clients send it: an array of bulk strings. */
export function encodeArgs(args: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`, "latin1")];
  for (const a of args) parts.push(Buffer.from(`$${a.length}\r\n`, "latin1"), a, Buffer.from("\r\n", "latin1"));
  return Buffer.concat(parts);
}

/** The length of the first complete reply in `data` from `offset`, or -1 if it is not all there yet. */
export function frameLength(data: Buffer, offset = 0): number {
  const end = data.indexOf("\r\n", offset, "latin1");
  if (end === -1) return -1;
  const head = data[offset];
  const lineEnd = end + 2;
  if (head === 0x2b || head === 0x2d || head === 0x3a) return lineEnd - offset; // + - :
  const n = Number(data.toString("latin1", offset + 1, end));
  if (head === 0x24) {
    if (n < 0) return lineEnd - offset;
    return data.length >= lineEnd + n + 2 ? lineEnd + n + 2 - offset : -1;
  }
  if (head === 0x2a) {
    let pos = lineEnd;
    for (let i = 0; i < n; i++) {
      const len = frameLength(data, pos);
      if (len === -1) return -1;
      pos += len;
    }
    return pos - offset;
  }
  throw new Error(`not a RESP2 reply: ${JSON.stringify(data.toString("latin1", offset, offset + 40))}`);
}

/** One connection, one command at a time; each reply as its raw bytes. */
export class RawConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private waiting: ((reply: Buffer) => void) | null = null;
  private failure: Error | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.deliver();
    });
    socket.on("error", (err) => (this.failure = err));
  }

  static connect(host: string, port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new RawConnection(socket));
      });
      socket.once("error", reject);
    });
  }

  command(args: readonly Buffer[]): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${args.map((a) => a.toString("latin1")).join(" ")}`)), 10_000);
      this.waiting = (reply) => {
        clearTimeout(timer);
        resolve(reply);
      };
      this.socket.write(encodeArgs(args));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private deliver(): void {
    if (this.waiting === null) return;
    const n = frameLength(this.buffer);
    if (n === -1) return;
    const reply = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    const w = this.waiting;
    this.waiting = null;
    w(Buffer.from(reply));
  }
}

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  readonly version: string;
  stop(): Promise<void>;
}

/** A free TCP port on `host` (the kernel's choice, released before use). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Starts redis-server (no persistence, its own loopback address and port)
 * and waits until it answers PING. Throws, naming the package, when
 * redis-server is not installed (.ci/run installs it).
 */
export async function startRedis(host = "127.0.16.1"): Promise<RedisServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort(host);
    const child: ChildProcess = spawn(
      "redis-server",
      ["--port", String(port), "--bind", host, "--save", "", "--appendonly", "no", "--daemonize", "no", "--enable-debug-command", "local", "--loglevel", "warning"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout!.on("data", (b: Buffer) => (output += b.toString()));
    child.stderr!.on("data", (b: Buffer) => (output += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    };
    const deadline = Date.now() + 10_000;
    for (;;) {
      const outcome = await Promise.race([
        spawnError.then((e) => e),
        exited.then((code) => new Error(`redis-server exited (${code}): ${output}`)),
        ping(host, port).then((ok) => (ok ? "up" : "down")),
      ]);
      if (outcome === "up") {
        const c = await RawConnection.connect(host, port);
        const info = (await c.command([Buffer.from("INFO"), Buffer.from("server")])).toString("latin1");
        c.close();
        const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? "unknown";
        return { host, port, version, stop };
      }
      if (outcome instanceof Error) {
        await stop();
        if ((outcome as NodeJS.ErrnoException).code === "ENOENT") {
          throw new Error("redis-server is not installed (Debian package redis-server; .ci/run installs it)");
        }
        if (attempt < 3 && /in use/i.test(output)) break; // the port was taken meanwhile: another one
        throw outcome;
      }
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`redis-server did not answer PING within 10 s: ${output}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function ping(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (b: Buffer) => {
      socket.destroy();
      resolve(b.toString().startsWith("+PONG"));
    });
    socket.once("error", () => resolve(false));
  });
}
