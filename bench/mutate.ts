// `npm run mutate`: a mutation score for the Raft core. Each mutation in
// the catalogue (bench/mutations.ts) breaks one rule of src/core; it is
// applied to a copy of the compiled code (dist/, so no compiler run per
// mutant), and the fast tier runs against the copy:
//   - the core's scripted tests (node --test dist/test/core/), and
//   - a seeded simulator batch (bench/mutate-sim.ts), and for a mutant the
//     batch misses, the novelty search (search seed 1, a budget in runs):
//     the deep schedules (Figure 8's three leaders) are beyond a plain batch.
// It prints a table: mutation -> the tests that failed and the simulator's
// first violation, or SURVIVED. The unmutated copy must pass both first.
//
//   npm run mutate                       # every mutation
//   npm run mutate -- --only commit,vote # the mutations whose id contains one of these
//   npm run mutate -- --seeds 30         # a smaller simulator batch (default 60)
//   npm run mutate -- --search-runs 0    # no search stage (default 12000 runs)
//   npm run mutate -- --markdown         # the table as markdown (docs/SIMULATION.md)
//   npm run mutate -- --check            # only check that every mutation applies

import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MUTATIONS, type Mutation } from "./mutations.js";

const DIST = fileURLToPath(new URL("../", import.meta.url));

/** The search stage's budget: enough for seed 1 to find the deep mutants (commit-any-term in run 4035, vote-not-persisted in run 9936, at e33d736) with room to spare (docs/SIMULATION.md). */
const DEFAULT_SEARCH_RUNS = 12000;

interface Outcome {
  readonly mutation: Mutation;
  readonly tests: string[];
  readonly sim: string | null;
  readonly seconds: number;
  readonly error?: string;
}

/**
 * A temp dir laid out like the project: dist/src and dist/test/core (the
 * code the mutation goes into), src/core's sources (the purity test reads
 * them) and the interaction scripts (test/core/testdata); package.json makes
 * it ESM.
 */
function copyDist(): { top: string; root: string } {
  const top = mkdtempSync(join(tmpdir(), "raftkv-mutant-"));
  const root = join(top, "dist");
  cpSync(join(DIST, "src"), join(root, "src"), { recursive: true });
  cpSync(join(DIST, "test", "core"), join(root, "test", "core"), { recursive: true });
  cpSync(join(DIST, "..", "src", "core"), join(top, "src", "core"), { recursive: true });
  cpSync(join(DIST, "..", "test", "core", "testdata"), join(top, "test", "core", "testdata"), { recursive: true });
  writeFileSync(join(top, "package.json"), '{"type":"module"}\n');
  return { top, root };
}

/** Applies the mutation to the one file of src/core holding its text exactly once; returns an error, or null. */
export function apply(root: string, m: Mutation): string | null {
  const dir = join(root, "src", "core");
  const hits: string[] = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".js"))) {
    const text = readFileSync(join(dir, f), "utf8");
    const n = text.split(m.find).length - 1;
    if (n > 1) return `'${m.find}' occurs ${n} times in ${f}`;
    if (n === 1) hits.push(f);
  }
  if (hits.length !== 1) return hits.length === 0 ? `'${m.find}' not found in src/core` : `'${m.find}' found in ${hits.join(", ")}`;
  const file = join(dir, hits[0]!);
  writeFileSync(file, readFileSync(file, "utf8").replace(m.find, m.replace));
  return null;
}

function coreTests(root: string): string[] {
  const r = spawnSync(process.execPath, ["--test", "--test-concurrency=1", "--test-reporter=tap", join(root, "test", "core")], { encoding: "utf8", timeout: 180_000 });
  if (r.status === 0) return [];
  // The failing tests (leaves first, then their suites); not the files.
  const failed = [...r.stdout.matchAll(/^\s*not ok \d+ - (.*)$/gm)].map((x) => x[1]!.trim()).filter((name) => !/\.js$/.test(name));
  return failed.length > 0 ? [...new Set(failed)] : [`exit ${r.status}${r.signal ? ` (${r.signal})` : ""}`];
}

function simBatch(root: string, seeds: number, searchRuns: number): string | null {
  const r = spawnSync(process.execPath, [join(DIST, "bench", "mutate-sim.js"), root, String(seeds), String(searchRuns)], { encoding: "utf8", timeout: 1_800_000 });
  const line = r.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return (JSON.parse(line) as { caught: string | null }).caught;
  } catch {
    return `the batch did not finish (exit ${r.status}${r.signal ? `, ${r.signal}` : ""}): ${r.stderr.trim().split("\n").at(-1) ?? ""}`;
  }
}

export function runOne(m: Mutation | null, seeds: number, searchRuns = 0): Outcome | { baseline: true; tests: string[]; sim: string | null } {
  const { top, root } = copyDist();
  try {
    if (m) {
      const err = apply(root, m);
      if (err) return { mutation: m, tests: [], sim: null, seconds: 0, error: err };
    }
    const t0 = performance.now();
    const tests = coreTests(root);
    const sim = simBatch(root, seeds, searchRuns);
    if (!m) return { baseline: true, tests, sim };
    return { mutation: m, tests, sim, seconds: (performance.now() - t0) / 1000 };
  } finally {
    rmSync(top, { recursive: true, force: true });
  }
}

function main(argv: string[]): number {
  const flag = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const seeds = Number(flag("seeds") ?? 60);
  const searchRuns = Number(flag("search-runs") ?? DEFAULT_SEARCH_RUNS);
  const only = flag("only")?.split(",");
  const markdown = argv.includes("--markdown");
  const list = MUTATIONS.filter((m) => !only || only.some((o) => m.id.includes(o)));
  if (argv.includes("--check")) {
    // Only whether each mutation applies (its text occurs once in the compiled core).
    let bad = 0;
    for (const m of list) {
      const { top, root } = copyDist();
      const err = apply(root, m);
      rmSync(top, { recursive: true, force: true });
      if (err) bad++;
      process.stdout.write(`${m.id.padEnd(32)} ${err ?? "applies"}\n`);
    }
    return bad > 0 ? 1 : 0;
  }
  const t0 = performance.now();
  const base = runOne(null, seeds, searchRuns);
  if (base.tests.length > 0 || base.sim !== null) {
    process.stdout.write(`the unmutated core does not pass the fast tier: tests ${base.tests.join("; ") || "ok"}, simulator ${base.sim ?? "ok"}\n`);
    return 2;
  }
  process.stdout.write(`fast tier: core tests (dist/test/core) + simulator batch (${seeds} seeds, then ${Math.ceil(seeds / 3)} with storage faults, ${Math.ceil(seeds / 3)} with transfers; 600 ticks each; then, if nothing broke, the novelty search: seed 1, up to ${searchRuns} runs of 1000 ticks)\n`);
  const rows: Outcome[] = [];
  for (const m of list) {
    const o = runOne(m, seeds, searchRuns) as Outcome;
    rows.push(o);
    const verdict = o.error ? `DID NOT APPLY: ${o.error}` : o.tests.length === 0 && o.sim === null ? "SURVIVED" : "caught";
    if (!markdown)
      process.stdout.write(
        `${m.id.padEnd(28)} ${verdict.padEnd(9)} tests: ${o.tests.length === 0 ? "none" : `${o.tests.length} (${o.tests.slice(0, 2).join("; ")}${o.tests.length > 2 ? "; ..." : ""})`}; simulator: ${o.sim ?? "nothing"}  [${o.seconds.toFixed(0)} s]\n`,
      );
  }
  const survived = rows.filter((o) => !o.error && o.tests.length === 0 && o.sim === null);
  const broken = rows.filter((o) => o.error);
  if (markdown) {
    process.stdout.write("| mutation | rule | scripted tests that fail | simulator (batch, then search) | verdict |\n|---|---|---|---|---|\n");
    for (const o of rows)
      process.stdout.write(
        `| \`${o.mutation.id}\` | ${o.mutation.rule} | ${o.tests.length === 0 ? "—" : `${o.tests.length}: ${o.tests[0]}${o.tests.length > 1 ? ", ..." : ""}`} | ${o.sim ?? "—"} | ${o.error ? "DID NOT APPLY" : o.tests.length === 0 && o.sim === null ? "**SURVIVED**" : "caught"} |\n`,
      );
  }
  const both = rows.filter((o) => !o.error && o.tests.length > 0 && o.sim !== null).length;
  process.stdout.write(
    `${rows.length} mutations: ${rows.length - survived.length - broken.length} caught (${both} by both the scripted tests and the simulator), ${survived.length} survived${broken.length ? `, ${broken.length} did not apply` : ""}; ${((performance.now() - t0) / 1000).toFixed(0)} s\n`,
  );
  return survived.length > 0 || broken.length > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) process.exitCode = main(process.argv.slice(2));
