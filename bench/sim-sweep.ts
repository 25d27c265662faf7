// `npm run sim:sweep`: how reliably the search finds the hard bugs. For each
// bug and each seed it runs `raftkv sim --bug NAME --seed S` (the novelty
// search, nodes 3 and 5) with a budget of CPU seconds — CPU, not wall time,
// so that other work on the machine does not change the verdict — and prints
// one line per run and the distribution: found on how many seeds, median and
// worst runs and CPU seconds (a seed not found counts as its whole budget).
// It asserts nothing; test/sim/sweep.test.ts runs a CI-sized part.
//
//   npm run sim:sweep                                   # figure8 and figure8-paper, seeds 1-10, 60 s each
//   npm run sim:sweep -- --bugs figure8 --seeds 1-3 --budget 30
//   npm run sim:sweep -- --plain                         # plain random runs, no branching
//   npm run sim:sweep -- --no-swarm                      # every run with every fault (the search before swarm testing)

import { DEFAULT_FAULTS, FAULTS } from "../src/sim/plan.js";
import { search, type SearchOptions } from "../src/sim/search.js";
import { findBug } from "../src/sim/zoo.js";

export interface SweepRow {
  readonly bug: string;
  readonly seed: number;
  readonly found: boolean;
  readonly runs: number;
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  readonly invariant: string | null;
}

/** CPU time of this process (user + system), in milliseconds. */
export function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export function sweepOne(bugName: string, seed: number, budgetSeconds: number, extra: Partial<SearchOptions> = {}): SweepRow {
  const bug = findBug(bugName);
  if (!bug) throw new Error(`unknown bug ${bugName}`);
  const cpu0 = cpuMs();
  const wall0 = performance.now();
  const res = search({
    seed,
    nodes: [3, 5],
    steps: 1000,
    faults: new Set(bug.storage ? FAULTS : DEFAULT_FAULTS),
    bug,
    budgetMs: budgetSeconds * 1000,
    now: () => cpuMs() - cpu0,
    ...extra,
  });
  return {
    bug: bugName,
    seed,
    found: res.found !== null,
    runs: res.runs,
    cpuSeconds: (cpuMs() - cpu0) / 1000,
    wallSeconds: (performance.now() - wall0) / 1000,
    invariant: res.found?.violation?.invariant ?? null,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function summarize(rows: readonly SweepRow[], budgetSeconds: number): string {
  const found = rows.filter((r) => r.found);
  const runs = rows.map((r) => r.runs);
  const secs = rows.map((r) => (r.found ? r.cpuSeconds : budgetSeconds));
  return (
    `${rows[0]?.bug}: found on ${found.length} of ${rows.length} seeds; ` +
    `runs median ${median(runs)} worst ${Math.max(...runs)}${found.length < rows.length ? " (not found: the whole budget)" : ""}; ` +
    `CPU s median ${median(secs).toFixed(1)} worst ${Math.max(...secs).toFixed(1)}`
  );
}

function parseRange(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`bad seed list '${text}'`);
    for (let s = Number(m[1]); s <= Number(m[2] ?? m[1]); s++) out.push(s);
  }
  return out;
}

const USAGE = `usage: npm run sim:sweep -- [--bugs A,B] [--seeds 1-10] [--budget CPU_SECONDS] [--plain] [--no-swarm] [--energy]
  --bugs      zoo variants to search for (default figure8,figure8-paper)
  --seeds     search seeds, a range or a list (default 1-10)
  --budget    CPU seconds per bug and seed (default 60)
  --plain     plain random runs, no branching
  --no-swarm  every run with every fault (the search before swarm testing)
  --energy    spend runs on branch points by their energy
`;
const VALUED = new Set(["--bugs", "--seeds", "--budget"]);
const SWITCHES = new Set(["--plain", "--no-swarm", "--energy"]);

/** Null if every argument is known and every valued option has its value; else what is wrong. */
export function argumentProblem(argv: readonly string[]): string | null {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (SWITCHES.has(a)) continue;
    if (!VALUED.has(a)) return `unknown argument ${a}`;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) return `${a} needs a value`;
    i++;
  }
  return null;
}

function main(argv: string[]): void {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(USAGE);
    return;
  }
  const problem = argumentProblem(argv);
  if (problem !== null) {
    process.stderr.write(`sim-sweep: ${problem}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const flag = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const bugs = (flag("bugs") ?? "figure8,figure8-paper").split(",");
  const seeds = parseRange(flag("seeds") ?? "1-10");
  const budget = Number(flag("budget") ?? 60);
  const extra: Partial<SearchOptions> = { ...(argv.includes("--plain") && { branching: false }), ...(argv.includes("--no-swarm") && { swarm: false }), ...(argv.includes("--energy") && { energy: true }) };
  const how = [argv.includes("--plain") ? "plain random runs" : "novelty search", argv.includes("--no-swarm") ? "no swarm" : "swarm", ...(argv.includes("--energy") ? ["energy"] : [])].join(", ");
  process.stdout.write(`sweep: ${bugs.join(", ")}; seeds ${seeds.join(",")}; budget ${budget} CPU s each; ${how}\n`);
  for (const bug of bugs) {
    const rows: SweepRow[] = [];
    for (const seed of seeds) {
      const r = sweepOne(bug, seed, budget, extra);
      rows.push(r);
      process.stdout.write(
        `  ${bug} seed ${String(seed).padStart(2)}: ${r.found ? `found (${r.invariant})` : "NOT found"} after ${r.runs} runs, ${r.cpuSeconds.toFixed(1)} CPU s (${r.wallSeconds.toFixed(1)} s wall)\n`,
      );
    }
    process.stdout.write(summarize(rows, budget) + "\n");
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) main(process.argv.slice(2));
