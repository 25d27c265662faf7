// Runs the raftkv command line as a user would (node bin/raftkv.js ...),
// asynchronously: fake nodes or admin servers answering it can live in the
// test's own event loop.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const RAFTKV_BIN = fileURLToPath(new URL("../../../bin/raftkv.js", import.meta.url));

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd?: string;
  /** Added to the environment (which gets RAFTKV_LOG_LEVEL=warn). */
  readonly env?: Record<string, string>;
  /** Variables of this process's environment the command must not see. */
  readonly unset?: readonly string[];
}

export function runRaftkv(args: readonly string[], options: RunOptions = {}): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, RAFTKV_LOG_LEVEL: "warn", ...options.env };
  for (const name of options.unset ?? []) delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RAFTKV_BIN, ...args], { cwd: options.cwd, env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }));
  });
}
