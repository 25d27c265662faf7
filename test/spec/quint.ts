// Running the Quint tools on spec/ from tests and scripts. Quint is a
// development dependency; its simulator and test runner run offline with
// the TypeScript backend (the default backend downloads a binary).

import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root, from dist/test/spec/ or test/spec/. */
export const ROOT = fileURLToPath(new URL(import.meta.url.includes("/dist/") ? "../../../" : "../../", import.meta.url));
export const SPEC_DIR = join(ROOT, "spec");

const CLI = join(createRequire(join(ROOT, "package.json")).resolve("@informalsystems/quint/package.json"), "..", "dist", "src", "cli.js");

export interface QuintResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `quint ARGS` in spec/ (never throws on a non-zero exit: the caller reads `code`). */
export function quint(args: readonly string[]): Promise<QuintResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { cwd: SPEC_DIR, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number") return reject(err);
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

export const BACKEND = ["--backend", "typescript"];

/** `quint run` on raftMC.qnt checking every invariant, writing each trace to `outDir`. */
export function simulate(o: { main: string; traces: number; steps: number; seed: string; outDir?: string; step?: string }): Promise<QuintResult> {
  const out = o.outDir ? ["--n-traces", String(o.traces), "--out-itf", join(o.outDir, "trace{seq}.itf.json")] : [];
  return quint([
    "run", ...BACKEND, "--main", o.main, "--invariant", "Safety", ...(o.step ? ["--step", o.step] : []),
    "--max-samples", String(o.traces), "--max-steps", String(o.steps), "--seed", o.seed, "--verbosity", "1",
    ...out, "raftMC.qnt",
  ]);
}

/** `quint test` on raftTests.qnt for one instance module, writing each test's trace to `outDir`. */
export function scenarios(main: string, outDir?: string): Promise<QuintResult> {
  const out = outDir ? ["--out-itf", join(outDir, "{test}.itf.json")] : [];
  return quint(["test", ...BACKEND, "--main", main, ...out, "raftTests.qnt"]);
}

export function itfFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".itf.json"))
    .sort()
    .map((f) => join(dir, f));
}
