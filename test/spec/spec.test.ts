// The formal specification (spec/raft.qnt) and the real core checked against
// it (docs/SPEC-FORMAL.md):
//
//  1. the spec typechecks;
//  2. its scenario tests pass (quint test), Figure 8 included: under the
//     weakened commit rule the scenario breaks Leader Completeness;
//  3. random traces of the spec satisfy every invariant (quint run), with
//     and without membership changes (raftMembershipMC);
//  4. conformance: each of those traces, and each scenario's, replayed on
//     RaftNode, gives the core the spec's state after every step;
//  5. the same weakened commit rule in the core (the bug zoo's `figure8`) is
//     caught by that replay, and so is every other zoo variant.
//
// `npm test` runs it at a CI-sized bound; `npm run spec` at a larger one
// (SPEC_TRACES, SPEC_STEPS, SPEC_SEED override the defaults).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { BUGS, findBug } from "../../src/sim/zoo.js";
import { readTrace, type SpecState } from "./itf.js";
import { BACKEND, itfFiles, quint, scenarios, simulate, type QuintResult } from "./quint.js";
import { Coverage } from "./coverage.js";
import { Divergence, replay } from "./replay.js";
import { QuintModule } from "./evaluator.js";
import type { SpecStep } from "./itf.js";

const ACTION: Record<SpecStep["tag"], string> = {
  Init: "init", Tick: "tickAt", Deliver: "deliver", Drop: "drop", Propose: "proposeAt", Read: "readAt",
  Transfer: "transferAt", Compact: "compactAt", Restart: "restartAt", Persist: "persistAt", Reconfigure: "reconfigureAt",
};

/** The spec action a trace step took; deliveries by message type. */
function actionOf(step: SpecStep): string {
  if (step.tag !== "Deliver") return ACTION[step.tag];
  const m = step.value.msg;
  const pre = (m.tag === "RequestVote" || m.tag === "RequestVoteResponse") && m.value.preVote ? ", pre-vote" : "";
  return `deliver(${m.tag}${pre})`;
}

const SCENARIOS = [
  "electionTest", "replicationTest", "readIndexTest", "snapshotTest", "transferTest", "parallelWriteTest", "crashDuringParallelWriteTest", "figure8Test",
  // the zoo's scenarios under Figure 2's rules: Safety holds
  "doubleVoteTest", "voteNotPersistedTest", "keepLeadershipTest", "upToDateCheckTest", "readWithoutQuorumTest",
  // membership changes: learners, joint consensus, one change at a time, a leader that removes itself
  "learnersTest", "jointTest", "oneChangeAtATimeTest", "removedLeaderTest",
];

/** spec/raftZoo.qnt's runs: each zoo variant mirrored in the spec, with the invariant its scenario breaks. */
const ZOO: { run: string; bug: string; breaks: string }[] = [
  { run: "zoo_figure8", bug: "figure8", breaks: "LeaderCompleteness" },
  { run: "zoo_doubleVote", bug: "double-vote", breaks: "ElectionSafety" },
  { run: "zoo_voteNotPersisted", bug: "vote-not-persisted", breaks: "ElectionSafety" },
  { run: "zoo_keepLeadership", bug: "keep-leadership", breaks: "ElectionSafety" },
  { run: "zoo_noUpToDateCheck", bug: "no-up-to-date-check", breaks: "LeaderCompleteness" },
  { run: "zoo_readWithoutQuorum", bug: "read-without-quorum", breaks: "ReadIndexSafety" },
  { run: "zoo_learnersCounted", bug: "learners-counted", breaks: "CommittedOnMajority" },
  { run: "zoo_noJoint", bug: "no-joint", breaks: "LeaderCompleteness" },
  { run: "zoo_concurrentChanges", bug: "concurrent-changes", breaks: "OneUncommittedConfiguration" },
];

const TRACES = Number(process.env.SPEC_TRACES ?? 200);
const STEPS = Number(process.env.SPEC_STEPS ?? 50);
const SEED = process.env.SPEC_SEED ?? "0x5eed";
const COUNT_ZOO = process.env.SPEC_ZOO_COUNTS === "1";
/** Random traces with membership changes (raftMembershipMC: 3 voters, 2 spares, an operator asking for random configurations). */
const MEMBERSHIP_TRACES = Number(process.env.SPEC_MEMBERSHIP_TRACES ?? 30);
const MEMBERSHIP_STEPS = Number(process.env.SPEC_MEMBERSHIP_STEPS ?? 50);

describe("spec/raft.qnt and the core against it", () => {
  const dir = mkdtempSync(join(tmpdir(), "raftkv-spec-"));
  const randomDir = join(dir, "random");
  const membershipDir = join(dir, "membership");
  const scenarioDir = join(dir, "scenarios");
  let typecheck: QuintResult;
  let tests: QuintResult;
  let weakTests: QuintResult;
  let run: QuintResult;
  let membershipRun: QuintResult;
  let membershipSeconds = 0;
  let membership: { file: string; trace: SpecState[] }[] = [];
  let broken: QuintResult;
  let runSeconds = 0;
  let random: { file: string; trace: SpecState[] }[] = [];
  let scenarioTraces: { file: string; trace: SpecState[] }[] = [];

  before(async () => {
    mkdirSync(randomDir);
    mkdirSync(membershipDir);
    mkdirSync(scenarioDir);
    const started = Date.now();
    // The simulation runs beside the typechecker and the test runner (most of the time is quint's start-up).
    const simulation = simulate({ main: "raftMC", traces: TRACES, steps: STEPS, seed: SEED, outDir: randomDir }).then((r) => {
      runSeconds = (Date.now() - started) / 1000;
      return r;
    });
    const checks = (async () => {
      typecheck = await quint(["typecheck", "raftMC.qnt"]);
      tests = await scenarios("raftTests", scenarioDir);
      weakTests = await scenarios("raftWeakTests");
      // Guards the harness: if quint stopped reporting violations through its exit code, every check here would pass vacuously.
      broken = await quint(["run", ...BACKEND, "--main", "raftMC", "--invariant", "msgs.size() == 0", "--max-samples", "10", "--max-steps", "10", "--seed", SEED, "--verbosity", "1", "raftMC.qnt"]);
    })();
    const membershipSimulation = simulate({ main: "raftMembershipMC", step: "stepWithMembership", traces: MEMBERSHIP_TRACES, steps: MEMBERSHIP_STEPS, seed: SEED, outDir: membershipDir }).then((r) => {
      membershipSeconds = (Date.now() - started) / 1000;
      return r;
    });
    [run, membershipRun] = await Promise.all([simulation, membershipSimulation, checks]);
    if (run.code === 0) random = itfFiles(randomDir).map((file) => ({ file, trace: readTrace(file) }));
    if (membershipRun.code === 0) membership = itfFiles(membershipDir).map((file) => ({ file, trace: readTrace(file) }));
    if (tests.code === 0) scenarioTraces = itfFiles(scenarioDir).map((file) => ({ file, trace: readTrace(file) }));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  test("the spec typechecks", () => {
    assert.equal(typecheck.code, 0, typecheck.stdout + typecheck.stderr);
  });

  test("scenarios: election, replication, read index, snapshot, transfer, a leader's parallel write, Figure 8 (§5.4.2 holds it off)", () => {
    assert.equal(tests.code, 0, tests.stdout + tests.stderr);
    for (const name of SCENARIOS) {
      assert.match(tests.stdout, new RegExp(`ok raftTests::scenarios::${name} passed`), name);
    }
  });

  test("the weakened commit rule in the spec: the Figure 8 scenario breaks Leader Completeness", () => {
    // raftTests.qnt's figure8Test expects `not(LeaderCompleteness)` when WeakRule is set, Safety otherwise.
    assert.equal(weakTests.code, 0, weakTests.stdout + weakTests.stderr);
    assert.match(weakTests.stdout, /ok raftWeakTests::scenarios::figure8Test passed/);
  });

  test(`${TRACES} random traces of up to ${STEPS} steps: every invariant holds`, (t) => {
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /\[ok\] No violation found/);
    assert.equal(random.length, TRACES);
    const own = /\((\d+)ms at (\d+) traces\/second\)/.exec(run.stdout);
    t.diagnostic(`quint run: ${TRACES} traces in ${runSeconds.toFixed(1)} s with start-up${own ? `; simulating ${(Number(own[1]) / 1000).toFixed(1)} s, ${own[2]} traces/s` : ""}`);
  });

  test(`membership changes: ${MEMBERSHIP_TRACES} random traces of up to ${MEMBERSHIP_STEPS} steps with an operator reconfiguring (2 spare servers): every invariant holds`, (t) => {
    assert.equal(membershipRun.code, 0, membershipRun.stdout + membershipRun.stderr);
    assert.match(membershipRun.stdout, /\[ok\] No violation found/);
    assert.equal(membership.length, MEMBERSHIP_TRACES);
    // The runs must change configurations, not only ask: some change is accepted (a configuration entry appears).
    const accepted = membership.filter(({ trace }) => trace.some((s) => [...s.servers.values()].some((x) => x.entries.some((e) => e.value === -1)))).length;
    assert.ok(accepted > 0, "no trace appended a configuration");
    t.diagnostic(`quint run (membership): ${MEMBERSHIP_TRACES} traces in ${membershipSeconds.toFixed(1)} s with start-up; ${accepted} of them hold a configuration entry`);
  });

  test("conformance: every trace replays on RaftNode with the spec's state after every step", (t) => {
    assert.ok(random.length > 0 && membership.length > 0 && scenarioTraces.length === SCENARIOS.length, "traces were written");
    const states = new Set<string>();
    const coverage = new Coverage();
    let steps = 0;
    const started = Date.now();
    for (const { file, trace } of [...random, ...membership, ...scenarioTraces]) {
      for (const s of trace.slice(1)) coverage.action(actionOf(s.lastStep));
      try {
        steps += replay(trace, coverage.make);
      } catch (e) {
        if (e instanceof Divergence) assert.fail(`${file}: ${e.message}`);
        throw e;
      }
      for (const s of trace) states.add(JSON.stringify([s.servers, s.disks], (_k, x: unknown) => (x instanceof Map ? [...x] : x)));
    }
    const ms = Date.now() - started;
    // The whole state the spec keeps per server and disk must vary: a replay that compared nothing would not notice.
    assert.ok(states.size > steps / 4, `${states.size} distinct states in ${steps} steps`);
    t.diagnostic(`${random.length + membership.length + scenarioTraces.length} traces (${membership.length} with membership changes), ${steps} steps replayed in ${ms} ms; ${states.size} distinct spec states (servers and disks)`);
    for (const line of coverage.report()) t.diagnostic(line);
  });

  test("the weakened commit rule in the core (bug zoo `figure8`) diverges from the spec on the Figure 8 scenario", () => {
    const figure8 = scenarioTraces.find((s) => s.file.includes("figure8Test"));
    assert.ok(figure8, "the Figure 8 scenario's trace");
    const bug = findBug("figure8")!;
    assert.throws(
      () => replay(figure8.trace, bug.make),
      (e: unknown) => e instanceof Divergence && /n1\.commitIndex/.test(e.message),
    );
  });

  test("every bug-zoo variant but the storage-fault ones (the spec's own traces never damage a disk) diverges from the spec on some trace", (t) => {
    const all = [...random, ...membership, ...scenarioTraces];
    for (const bug of BUGS.filter((b) => !b.storage)) {
      let caught = 0;
      let first = "";
      for (const { file, trace } of all) {
        try {
          replay(trace, bug.make);
        } catch (e) {
          if (!(e instanceof Divergence)) throw e;
          caught++;
          first ||= `${basename(file)} ${e.message.split("\n")[0]!}`;
          // Counting every trace that catches it is for `npm run spec`'s table; one is enough here.
          if (!COUNT_ZOO) break;
        }
      }
      t.diagnostic(`${bug.name}: ${COUNT_ZOO ? `${caught}/${all.length} traces diverge` : "caught"}; first: ${first}`);
      assert.ok(caught > 0, `${bug.name} is not caught by any of ${all.length} traces`);
    }
  });

  test("the bug zoo mirrored in the spec (spec/raftZoo.qnt): each variant's scenario breaks its invariant, and replays step by step on the zoo's core of that name", (t) => {
    // Quint's evaluator in this process, a fresh state per run (quint test carries state between runs of different instances).
    const zoo = new QuintModule("raftZoo.qnt", "raftZoo");
    for (const { run, bug, breaks } of ZOO) {
      const q = zoo.fresh();
      // Each run ends in an expect that its invariant is violated (raftTests.qnt): true means it ran and broke it.
      assert.equal(q.act(run), true, `${run}: the scenario did not run to its violation of ${breaks}`);
      const trace = q.trace() as unknown as SpecState[];
      // The mirror is the same mutation as the zoo's: the variant's core follows the spec's variant step by step ...
      assert.doesNotThrow(() => replay(trace, findBug(bug)!.make), `${run} on the zoo's ${bug}`);
      // ... and Figure 2's core does not.
      assert.throws(() => replay(trace), Divergence, `${run} on Figure 2's core`);
      t.diagnostic(`${bug}: breaks ${breaks} in ${trace.length - 1} steps; the zoo's core conforms, Figure 2's diverges`);
    }
  });

  test("quint's own answer to a broken invariant: a violation exits non-zero", () => {
    assert.notEqual(broken.code, 0, broken.stdout);
    assert.match(broken.stdout + broken.stderr, /violation/i);
  });
});
