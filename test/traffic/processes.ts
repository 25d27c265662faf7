// Runs `traffic` commands as real child processes for the tests, recording
// each stdout line with the time it arrived.

import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const TRAFFIC_BIN = fileURLToPath(new URL("../../../bin/traffic.js", import.meta.url));

export interface Line {
  readonly text: string;
  /** performance.now() when the test read it. */
  readonly at: number;
}

export class TrafficProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: Line[] = [];
  readonly logs: Record<string, unknown>[] = [];
  readonly exited: Promise<number | null>;
  private readonly waiters = new Set<() => void>();
  private closed = false;

  constructor(readonly args: readonly string[]) {
    this.child = spawn(process.execPath, [TRAFFIC_BIN, ...args], {
      env: { ...process.env, RAFTKV_LOG_LEVEL: "info" },
    });
    createInterface({ input: this.child.stdout }).on("line", (text) => {
      this.lines.push({ text, at: performance.now() });
      this.wake();
    });
    createInterface({ input: this.child.stderr }).on("line", (text) => {
      try {
        this.logs.push(JSON.parse(text));
      } catch {
        this.logs.push({ event: "not json", text });
      }
      this.wake();
    });
    // "close" comes after the last output line, so a waiter can give up then.
    this.exited = new Promise((resolve) =>
      this.child.on("close", (code) => {
        this.closed = true;
        this.wake();
        resolve(code);
      }),
    );
  }

  /** The `occurrence`-th stdout line equal to `text` (1 = the first). */
  line(text: string, occurrence = 1, timeoutMs = 15_000): Promise<Line> {
    return this.until(
      () => this.lines.filter((line) => line.text === text)[occurrence - 1],
      `line "${text}" #${occurrence}`,
      timeoutMs,
    );
  }

  /** The first stderr log line with this event. */
  log(event: string, timeoutMs = 15_000): Promise<Record<string, unknown>> {
    return this.until(() => this.logs.find((log) => log.event === event), `log event "${event}"`, timeoutMs);
  }

  /** The port from the "listening" log line. */
  async port(): Promise<string> {
    return String((await this.log("listening")).port);
  }

  /** SIGTERM, then the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    return this.exited;
  }

  private until<T>(found: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        done();
        const seen = this.lines.map((line) => line.text).join(", ");
        reject(new Error(`traffic ${this.args.join(" ")}: no ${what}: ${why} (stdout: ${seen})`));
      };
      const check = () => {
        const value = found();
        if (value !== undefined) {
          done();
          resolve(value);
        } else if (this.closed) {
          fail(`it exited (${this.child.exitCode ?? this.child.signalCode})`);
        }
      };
      const timer = setTimeout(() => fail(`not within ${timeoutMs} ms`), timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
