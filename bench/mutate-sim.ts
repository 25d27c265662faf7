// The simulator half of `npm run mutate`'s fast tier, run in a child process
// against a mutated copy of dist/: a seeded batch of runs (3 and 5 nodes,
// every fault but storage faults; then with storage faults; then with
// leadership transfers), stopping at the first violation; then, if nothing
// broke, the novelty search (seed 1, nodes 3 and 5, default faults, up to
// SEARCH_RUNS runs). Prints one JSON line: { caught: "Invariant (...)" | null, runs }.
//
//   node dist/bench/mutate-sim.js ROOT SEEDS [SEARCH_RUNS]

import { pathToFileURL } from "node:url";

interface Batch {
  readonly faults: "default" | "all";
  readonly transfers: boolean;
  readonly seeds: number;
}

async function main(root: string, seeds: number, searchRuns: number): Promise<void> {
  const plan = await import(pathToFileURL(`${root}/src/sim/plan.js`).href);
  const run = await import(pathToFileURL(`${root}/src/sim/run.js`).href);
  const searchMod = await import(pathToFileURL(`${root}/src/sim/search.js`).href);
  const batches: Batch[] = [
    { faults: "default", transfers: false, seeds },
    { faults: "all", transfers: false, seeds: Math.ceil(seeds / 3) },
    { faults: "default", transfers: true, seeds: Math.ceil(seeds / 3) },
  ];
  let runs = 0;
  for (const b of batches) {
    for (let seed = 1; seed <= b.seeds; seed++) {
      const nodes = seed % 2 ? 3 : 5;
      const faults = new Set(b.faults === "all" ? plan.FAULTS : plan.DEFAULT_FAULTS);
      runs++;
      let r;
      try {
        r = run.runPlan(plan.generatePlan({ seed, nodes, steps: 600, faults, transfers: b.transfers }));
      } catch (e) {
        // A mutant may break an assertion inside the core: that is caught too.
        process.stdout.write(JSON.stringify({ caught: `exception (seed ${seed}, ${nodes} nodes, ${b.faults} faults${b.transfers ? ", transfers" : ""}): ${String((e as Error).message).slice(0, 80)}`, runs }) + "\n");
        return;
      }
      if (r.violation) {
        process.stdout.write(JSON.stringify({ caught: `${r.violation.invariant} (seed ${seed}, ${nodes} nodes, ${b.faults === "all" ? "storage faults" : "default faults"}${b.transfers ? ", transfers" : ""})`, runs }) + "\n");
        return;
      }
    }
  }
  // The deeper stage: the novelty search (the one that finds the bug zoo),
  // for the bugs no plain run of the batch reaches (Figure 8 needs three
  // leaders and two crashes at the right moments). Any violation counts.
  if (searchRuns > 0) {
    let r;
    try {
      r = searchMod.search({ seed: 1, nodes: [3, 5], steps: 1000, faults: new Set(plan.DEFAULT_FAULTS), budgetMs: Infinity, now: () => 0, maxRuns: searchRuns });
    } catch (e) {
      process.stdout.write(JSON.stringify({ caught: `exception (search seed 1): ${String((e as Error).message).slice(0, 80)}`, runs }) + "\n");
      return;
    }
    runs += r.runs;
    if (r.found) {
      process.stdout.write(JSON.stringify({ caught: `${r.found.violation.invariant} (search seed 1, run ${r.runs})`, runs }) + "\n");
      return;
    }
  }
  process.stdout.write(JSON.stringify({ caught: null, runs }) + "\n");
}

await main(process.argv[2]!, Number(process.argv[3] ?? 60), Number(process.argv[4] ?? 0));
