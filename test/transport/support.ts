// Helpers for the transport tests: a seeded PRNG, a logger that remembers
// what it logged, polling for a condition, and free loopback ports.

import net from "node:net";
import { createLogger, type Logger } from "../../src/util/log.js";

export { Rng } from "../helpers/prng.js";

export interface LogLine {
  readonly level: string;
  readonly event: string;
  readonly [field: string]: unknown;
}

/** A real logger whose lines are kept for the test to inspect. */
export function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger({}, { level: "debug", write: (line) => lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

/** Polls until `condition` holds; fails after `timeoutMs` (generous: this is a liveness guard, not a timing check). */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A port that was free on `host` a moment ago (the OS picks it, so parallel test files do not collide). */
export async function freePort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
