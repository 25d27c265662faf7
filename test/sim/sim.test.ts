import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DEFAULT_FAULTS, FAULTS, generatePlan, parseSpec, specToString, type Fault } from "../../src/sim/plan.js";
import { runPlan, runSeed } from "../../src/sim/run.js";
import { shrink } from "../../src/sim/shrink.js";
import { search } from "../../src/sim/search.js";
import { findBug } from "../../src/sim/zoo.js";
import { collapseRepeats, story } from "../../src/sim/trace.js";

const BIN = fileURLToPath(new URL("../../../bin/raftkv.js", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DEFAULT = new Set<Fault>(DEFAULT_FAULTS);

describe("the simulator", () => {
  test("one seed, one run: the same seed gives the same run, event for event", () => {
    const a = runSeed({ seed: 42, nodes: 5, steps: 600, faults: DEFAULT }, { trace: true });
    const b = runSeed({ seed: 42, nodes: 5, steps: 600, faults: DEFAULT }, { trace: true });
    assert.ok(a.trace.length > 1000);
    assert.deepEqual(a.trace, b.trace);
    assert.deepEqual(a.stats, b.stats);
    const c = runSeed({ seed: 43, nodes: 5, steps: 600, faults: DEFAULT }, { trace: true });
    assert.notDeepEqual(a.trace, c.trace, "another seed, another run");
  });

  test("branched runs replay exactly from their spec string", () => {
    const spec = parseSpec("7~120:99~300:5")!;
    assert.equal(specToString(spec), "7~120:99~300:5");
    assert.equal(parseSpec("7~x"), null);
    const plan = () => generatePlan({ seed: spec.seed, nodes: 3, steps: 800, faults: DEFAULT }, spec.branches);
    const a = runPlan(plan(), { trace: true });
    const b = runPlan(plan(), { trace: true });
    assert.deepEqual(a.trace, b.trace);
    const prefix = runPlan(generatePlan({ seed: 7, nodes: 3, steps: 800, faults: DEFAULT }), { trace: true });
    const upTo = (t: readonly string[]) => t.filter((l) => Number(/^t=\s*(\d+)/.exec(l)![1]) < 120);
    assert.deepEqual(upTo(a.trace), upTo(prefix.trace), "a branch keeps the run before its tick");
  });

  for (const nodes of [3, 5]) {
    test(`150 random schedules on ${nodes} nodes with every fault: every invariant holds, histories are linearizable, the cluster recovers`, () => {
      let elections = 0;
      let ops = 0;
      for (let seed = 1; seed <= 150; seed++) {
        const r = runSeed({ seed: seed * 7919 + nodes, nodes, steps: 800, faults: DEFAULT });
        assert.equal(r.violation, null, `seed ${seed * 7919 + nodes}: ${r.violation?.invariant}: ${r.violation?.message}`);
        elections += r.stats.elections;
        ops += r.stats.opsCompleted;
      }
      assert.ok(elections > 150, `faults forced elections (${elections})`);
      assert.ok(ops > 150 * 50, `clients got answers (${ops})`);
    });
  }

  test("leadership transfers among the faults (100 runs on 3 nodes, 50 on 5): every invariant holds, and transfers do move leadership", () => {
    let transfers = 0;
    for (const [nodes, runs] of [[3, 100], [5, 50]] as const) {
      for (let seed = 1; seed <= runs; seed++) {
        const r = runSeed({ seed: seed * 104729 + nodes, nodes, steps: 800, faults: DEFAULT, transfers: true });
        assert.equal(r.violation, null, `seed ${seed * 104729 + nodes}, ${nodes} nodes, --transfers: ${r.violation?.invariant}: ${r.violation?.message}`);
        transfers += r.stats.transfers;
      }
    }
    assert.ok(transfers > 150, `leaders accepted transfers (${transfers})`);
    // One run, read closely: the target campaigns on TimeoutNow and wins.
    const r = runSeed({ seed: 3, nodes: 3, steps: 1000, faults: DEFAULT, transfers: true }, { trace: true });
    assert.equal(r.violation, null);
    const at = r.trace.findIndex((l) => / TRANSFER leadership n\d+ -> n\d+/.test(l));
    const target = /-> n(\d+)$/.exec(r.trace[at]!)![1];
    const next = r.trace.slice(at).find((l) => / -> leader /.test(l));
    assert.match(next ?? "", new RegExp(`n${target} candidate -> leader`));
    assert.ok(r.trace.slice(at).some((l) => l.includes(`n${target} -> `) && l.includes("RequestVote(") && l.includes(", transfer,")));
  });

  test("each fault on its own, and none at all", () => {
    for (const f of [...FAULTS, null]) {
      const faults = new Set<Fault>(f ? [f] : []);
      for (let seed = 1; seed <= 10; seed++) {
        const r = runSeed({ seed, nodes: 3, steps: 600, faults });
        assert.equal(r.violation, null, `fault ${f} seed ${seed}: ${r.violation?.message}`);
      }
    }
  });

  test("a 1-node and a 7-node cluster work too", () => {
    for (const nodes of [1, 7]) {
      const r = runSeed({ seed: 5, nodes, steps: 600, faults: DEFAULT });
      assert.equal(r.violation, null, `${nodes} nodes: ${r.violation?.message}`);
      assert.ok(r.stats.opsCompleted > 20);
    }
  });

  test("shrinking keeps the violation and removes most of the schedule", () => {
    const bug = findBug("double-vote")!;
    const found = search({ seed: 1, nodes: [3], steps: 1000, faults: DEFAULT, bug, budgetMs: Infinity, maxRuns: 500, now: () => 0 }).found;
    assert.ok(found?.violation, "the search finds double-vote");
    const s = shrink(found!, { bug });
    assert.equal(s.result.violation?.invariant, found!.violation!.invariant);
    assert.ok(s.result.plan.events.length < found!.plan.events.length / 4, `${s.result.plan.events.length} of ${found!.plan.events.length} events kept`);
    const again = runPlan(s.result.plan, { bug, ...(s.until !== null ? { until: s.until } : {}) });
    assert.equal(again.violation?.invariant, found!.violation!.invariant, "the shrunk plan replays to the same violation");
  });
});

describe("sparing random losses (the shrinker's Plan.spare)", () => {
  test("a spared drop is delivered instead, and a plan that spares nothing is the same run", () => {
    const plan = generatePlan({ seed: 11, nodes: 3, steps: 600, faults: new Set<Fault>(["drop", "crash"]) });
    const a = runPlan(plan, { trace: true });
    assert.ok(a.stats.drops > 5, `${a.stats.drops} drops`);
    const none = runPlan({ ...plan, spare: { drops: new Set(), crashes: new Set() } }, { trace: true });
    assert.deepEqual(none.trace, a.trace);
    const first = runPlan({ ...plan, spare: { drops: new Set([1]), crashes: new Set() } }, { trace: true });
    assert.equal(first.stats.spared, 1);
    const firstDrop = a.trace.find((l) => l.endsWith("[dropped]"))!;
    assert.ok(!first.trace.includes(firstDrop), "the first dropped message is not dropped");
    const all = runPlan({ ...plan, spare: { drops: new Set(Array.from({ length: 10_000 }, (_, i) => i + 1)), crashes: new Set() } }, { trace: true });
    assert.equal(all.trace.filter((l) => l.endsWith("[dropped]")).length, 0);
    assert.equal(all.stats.spared, all.stats.drops);
  });
});

describe("raftkv sim (command line)", () => {
  const sim = (...args: string[]) => spawnSync(process.execPath, [BIN, "sim", ...args], { encoding: "utf8" });

  test("--seeds prints a summary and exits 0", () => {
    const r = sim("--seeds", "6", "--nodes", "3");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /6 seeds \(1\.\.6\)/);
    assert.match(r.stdout, /violations: 0/);
  });

  test("--exhaustive takes its bounds and switches, prints them, and exits 0 with no violation", () => {
    const r = sim("--exhaustive", "--nodes", "3", "--no-restarts", "--no-pre-vote");
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /3 servers running the real core; terms <= 1, client entries <= 0, restarts off/);
    assert.match(r.stdout, /pre-vote off, check-quorum on/);
    assert.match(r.stdout, /complete: every state within these bounds was explored/);
    assert.match(r.stdout, /no violation of: Election Safety/);
  });

  test("--exhaustive exits 1 with the shortest path to a bug's violation", () => {
    const r = sim("--exhaustive", "--nodes", "3", "--bug", "double-vote", "--no-restarts");
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /VIOLATION of Election Safety/);
    assert.match(r.stdout, /path \(\d+ events, the shortest there is\)/);
  });

  test("model-checking flags without --exhaustive are refused", () => {
    const r = sim("--seeds", "3", "--no-restarts");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--no-restarts is for --exhaustive/);
  });

  test("--list-bugs lists at least eight variants, name first", () => {
    const out = execFileSync(process.execPath, [BIN, "sim", "--list-bugs"], { encoding: "utf8" });
    const lines = out.trim().split("\n");
    assert.ok(lines.length >= 8);
    for (const l of lines) assert.match(l, /^[a-z0-9-]+\s+\S/);
  });

  test("--bug NAME --budget S exits 0 with time-to-find, replay command and shrunk trace", () => {
    const r = sim("--bug", "truncate-matching", "--budget", "60", "--nodes", "3");
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /found with bug truncate-matching after [\d.]+ s/);
    assert.match(r.stdout, /replay: +npx raftkv sim --replay \d+/);
    assert.match(r.stdout, /shrunk trace/);
  });

  test("--seeds exits 1 on a violation and prints the seed's replay command", () => {
    const r = sim("--seeds", "20", "--nodes", "3", "--bug", "truncate-matching");
    assert.equal(r.status, 1);
    assert.match(r.stdout, /VIOLATION of/);
    // Runnable as printed, from the project directory.
    const printed = /replay: +(npx raftkv sim --replay .*)/.exec(r.stdout)![1]!;
    const again = spawnSync("sh", ["-c", printed], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });
    assert.equal(again.status, 1, "the replay command reproduces the violation");
    assert.match(again.stdout, /VIOLATION of/);
  });

  test("usage errors exit 2", () => {
    for (const args of [[], ["--seeds"], ["--seeds", "x"], ["--nodes", "4", "--seeds", "1"], ["--faults", "fire", "--seeds", "1"], ["--bug", "nope", "--budget", "1"], ["--budget", "5"],
      ["--seeds", "1", "--replay", "3"], ["--exhaustive", "--time", "5"], ["--list-bugs", "--nodes", "3"], ["--seeds", "1", "--html", "x.html"], ["--seeds", "0"]]) {
      const r = sim(...args);
      assert.equal(r.status, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.ok(r.stderr.length > 0);
    }
  });
});

describe("the story's view of a trace", () => {
  test("tells elections with their votes, folds lost campaigns and resent messages, and stops following the entry once it commits", () => {
    const trace = [
      "t=   10  n1 precandidate -> candidate (term 2)",
      "t=   11  n1 -> n2 RequestVote(term 2, last 4@1)",
      "t=   12  n2 -> n1 RequestVoteResponse(term 2, granted)",
      "t=   12  n1 candidate -> leader (term 2)",
      "t=   13  n1 -> n2 AppendEntries(term 2, prev 4@1, entries 5@2, commit 4)",
      "t=   13  n1 -> n3 AppendEntries(term 2, prev 4@1, entries 5@2, commit 4)  [dropped]",
      "t=   14  n1 -> n2 AppendEntries(term 2, prev 4@1, entries 5@2, commit 4)",
      "t=   15  n1 -> n2 AppendEntries(term 2, prev 4@1, heartbeat, commit 4)",
      "t=   15  client 1: {} -> OK",
      "t=   16  n3 CRASHED",
      "t=   20  n3 precandidate -> candidate (term 3)",
      "t=   40  n3 precandidate -> candidate (term 4)",
      "t=   50  n2 -> n1 AppendEntriesResponse(term 2, ok, match 5)",
      "t=   50  n1 commits through 5 (leader of term 2)",
      "t=   51  n1 -> n3 AppendEntries(term 2, prev 4@1, entries 5@2, commit 5)",
      "t=   60  n1 leader -> follower (term 5)",
      "t=   60  VIOLATION Leader Completeness: n3 became leader of term 5 without committed entry 5@2 (has nothing)",
    ];
    assert.deepEqual(story(trace, "n3 became leader of term 5 without committed entry 5@2 (has nothing)"), [
      "t=   12  n1 becomes leader of term 2 (its log ends 4@1), voted for by n1, n2",
      "t=   13  n1 -> n2 AppendEntries(term 2, prev 4@1, entries 5@2)  (x2, the last at t=14)",
      "t=   13  n1 -> n3 AppendEntries(term 2, prev 4@1, entries 5@2)  [dropped]",
      "t=   16  n3 CRASHED",
      "t=   20  n3 stands for election in term 3 and does not win (and in term 4)",
      "t=   50  n2 -> n1 AppendEntriesResponse(term 2, ok, match 5)",
      "t=   50  n1 commits through 5 (leader of term 2)",
      "t=   60  n1 steps down (term 5)",
      "t=   60  VIOLATION Leader Completeness: n3 became leader of term 5 without committed entry 5@2 (has nothing)",
    ]);
  });

  test("folds a message repeated at several ticks into one line, and keeps what differs", () => {
    const lines = [
      "t=  631  n1 -> n2 AppendEntriesResponse(term 8, ok, match 34)",
      "t=  632  n1 -> n2 AppendEntriesResponse(term 8, ok, match 34)  [dropped]",
      "t=  633  n1 -> n2 AppendEntriesResponse(term 8, ok, match 34)",
      "t=  640  n1 -> n2 AppendEntriesResponse(term 8, ok, match 34)",
      "t=  662  n3 CRASHED",
      "t=  700  n1 -> n2 AppendEntriesResponse(term 8, ok, match 34)",
    ];
    assert.deepEqual(collapseRepeats(lines), [
      "t=  631  n1 -> n2 AppendEntriesResponse(term 8, ok, match 34)",
      "t=  632  n1 -> n2 AppendEntriesResponse(term 8, ok, match 34)  [dropped]",
      "t=  633  n1 -> n2 AppendEntriesResponse(term 8, ok, match 34)  (x2, the last at t=640)",
      "t=  662  n3 CRASHED",
      "t=  700  n1 -> n2 AppendEntriesResponse(term 8, ok, match 34)",
    ]);
  });
});

describe("the Figure 8 run of docs/SIMULATION.md, as a regression test", () => {
  // The run the docs' story was shrunk from. If the plan generator or the
  // world changes, this run changes: find a new one and update the docs.
  const spec = parseSpec("1098915026")!;
  const plan = generatePlan({ seed: spec.seed, nodes: 3, steps: 1000, faults: new Set<Fault>(["duplicate", "delay", "partition"]) }, spec.branches);

  test("with the figure8-paper bug, it loses a committed entry at t=502", () => {
    const r = runPlan(plan, { bug: findBug("figure8-paper") });
    assert.equal(r.violation?.invariant, "Leader Completeness");
    assert.match(r.violation!.message, /n2 became leader of term 7 without committed entry 8@4/);
  });

  test("the real core goes through the same schedule safely", () => {
    assert.equal(runPlan(plan).violation, null);
  });
});

describe("chunked snapshots in the simulated world", () => {
  test("a follower behind the compacted log gets the snapshot in several chunks and installs it (seed 1, 3 nodes)", () => {
    const r = runSeed({ seed: 1, nodes: 3, steps: 1000, faults: new Set(DEFAULT_FAULTS) }, { trace: true });
    assert.equal(r.violation, null);
    assert.equal(r.plan.maxBytesPerAppend, 1, "a plan that splits batches, and so snapshots (8-byte chunks)");
    const lastChunks = r.trace.filter((l) => /InstallSnapshot\(.*bytes [1-9]\d*\.\.\d+, done\)$/.test(l));
    assert.ok(lastChunks.length > 0, "a last chunk that is not the first one was delivered");
    assert.ok(r.trace.some((l) => /installed snapshot/.test(l)), "and a snapshot was installed");
  });
});
