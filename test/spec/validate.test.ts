// Trace validation (test/spec/validate.ts, docs/SPEC-FORMAL.md): seeded
// runs of the real core in the simulator, faults included, checked step by
// step against spec/raft.qnt; and the check shown to reject what it must —
// bug-zoo cores at the step where they leave the spec, a message the spec
// never sent, a disk no crash can leave.
//
// The spec's steps are taken by test/spec/model.ts, raft.qnt's driver
// actions transcribed into TypeScript (some 60 times faster than Quint's
// evaluator), so that `npm test` checks hundreds of runs: SPEC_TV_RUNS
// (default 200) runs of SPEC_TV_TICKS (150) with every fault, and
// SPEC_TV_MEMBERSHIP_RUNS (100) --membership runs of
// SPEC_TV_MEMBERSHIP_TICKS (300) with every fault, storage faults included.
// The transcription is kept honest here: a sample of runs (plain, storage
// faults, membership with storage faults) is checked by model.ts and by
// Quint's evaluator in lockstep, their whole states compared after every
// step; and a model.ts with a rule changed is caught drifting.
// `npm run spec:validate` checks many more runs.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { FAULTS as ALL_FAULTS, type SimPlan } from "../../src/sim/plan.js";
import { findBug } from "../../src/sim/zoo.js";
import { Coverage } from "./coverage.js";
import type { MServer, MState } from "./model.js";
import { quintText } from "./evaluator.js";
import { Drift, LockstepEngine, Rejected, record, tvPlan, validate, type CoreEvent, type Recording } from "./validate.js";

const RUNS = Number(process.env.SPEC_TV_RUNS ?? 200);
const TICKS = Number(process.env.SPEC_TV_TICKS ?? 150);
const FIRST_SEED = Number(process.env.SPEC_TV_SEED ?? 1);
const FAULTS = new Set(ALL_FAULTS);
/** Membership runs (the simulator's --membership: 2 spare servers, an operator reconfiguring) with every fault, storage faults included. */
const MEMBERSHIP_RUNS = Number(process.env.SPEC_TV_MEMBERSHIP_RUNS ?? 100);
const MEMBERSHIP_TICKS = Number(process.env.SPEC_TV_MEMBERSHIP_TICKS ?? 300);
/** The zoo's membership variants are shown rejected on runs without storage faults, as before. */
const MEMBERSHIP_FAULTS = new Set(ALL_FAULTS.filter((f) => f !== "disk"));
/** More runs for the lockstep check of model.ts against Quint's evaluator (npm run spec:validate: 30; each costs Quint's 3 ms a step). */
const LOCKSTEP_RUNS = Number(process.env.SPEC_TV_LOCKSTEP_RUNS ?? 0);
/** SPEC_TV_DISTINCT=1: count the distinct spec states the runs reach (servers and disks; slower). */
const DISTINCT = process.env.SPEC_TV_DISTINCT === "1";

/** A configuration entry (raft.qnt's CONFIG value) in a projected log. */
const configEntries = (e: CoreEvent) => (e.state.entries as { value: number }[]).filter((x) => x.value === -1).length;
type Cfg = { voters: number[]; outgoing: number[]; learners: number[] };
/** The configuration in effect in a projected state: the latest in the log, else the snapshot's. */
const configOf = (e: CoreEvent): Cfg => (e.state.entries as { value: number; config: Cfg }[]).filter((x) => x.value === -1).at(-1)?.config ?? (e.state.snapConfig as Cfg);

/** The first `count` seeds from `from` whose runs restart a server without its hard state (lost, or the whole disk) and see it answered. */
function surveySeeds(from: number, count: number, ticks: number): SimPlan[] {
  const plans: SimPlan[] = [];
  for (let seed = from; plans.length < count && seed < from + 1000; seed++) {
    const plan = tvPlan(seed, ticks, FAULTS);
    if (!plan.events.some((e) => e.kind === "damage" && (e.damage === "hardstate" || e.damage === "wipe"))) continue;
    const rec = record(plan, undefined, ticks);
    const boot = rec.events.findIndex((e, k) => k >= plan.nodes && e.kind === "boot" && !e.disk.hardStateKnown);
    if (boot > 0 && rec.events.slice(boot).some((e) => e.kind === "step" && e.msg.tag === "RecoveryReply")) plans.push(plan);
  }
  return plans;
}

function rejection(rec: Recording): Rejected {
  try {
    validate(rec);
  } catch (e) {
    if (e instanceof Rejected) return e;
    throw e;
  }
  assert.fail("the run was accepted");
}

/** Validates runs one at a time (recordings are large); returns the actions taken and the steps. */
function validateRuns(plans: Iterable<SimPlan>, ticks: number, make?: Coverage["make"], what = ""): { runs: number; steps: number; events: number; actions: Map<string, number>; configEntries: number; distinct: string } {
  const actions = new Map<string, number>();
  const seen = DISTINCT ? new Set<string>() : undefined;
  let steps = 0;
  let events = 0;
  let runs = 0;
  let appended = 0;
  for (const plan of plans) {
    const rec = record(plan, make, ticks);
    assert.equal(rec.violation, null, `seed ${plan.seed}${what}: the simulator's own checks failed`);
    try {
      const v = validate(rec, { invariantsEvery: 250, seen });
      steps += v.steps;
      for (const [a, c] of v.actions) actions.set(a, (actions.get(a) ?? 0) + c);
    } catch (e) {
      if (e instanceof Rejected) assert.fail(`seed ${plan.seed}${what}: ${e.message}`);
      throw e;
    }
    events += rec.events.length;
    appended = Math.max(appended, ...rec.events.map(configEntries));
    runs++;
  }
  return { runs, steps, events, actions, configEntries: appended, distinct: seen ? `, ${seen.size} distinct spec states (servers and disks)` : "" };
}

/** Every other run has many clients (BUSY_CLIENTS), so that logs grow past compaction and snapshots travel. */
const BUSY_CLIENTS = 16;
function* plans(count: number, ticks: number, faults: ReadonlySet<(typeof ALL_FAULTS)[number]>, membership: boolean): Generator<SimPlan> {
  for (let k = 0; k < count; k++) yield tvPlan(FIRST_SEED + k, ticks, faults, true, membership, k % 2 === 1 ? BUSY_CLIENTS : undefined);
}

describe("trace validation: simulator runs of the core checked against spec/raft.qnt", () => {
  // A few short runs kept for the tests that forge events in them.
  const samples: Recording[] = [1, 2, 3, 4].map((k) => record(tvPlan(FIRST_SEED + k - 1, 100, FAULTS), undefined, 100));

  test(`${RUNS} seeded runs of ${TICKS} ticks with every fault, storage faults included: every step is one the spec allows`, (t) => {
    const coverage = new Coverage();
    const started = Date.now();
    const v = validateRuns(plans(RUNS, TICKS, FAULTS, false), TICKS, coverage.make);
    const seconds = (Date.now() - started) / 1000;
    for (const [a, c] of v.actions) coverage.action(a, c);
    // The runs must have done something worth checking: elections, replication, crashes, storage faults.
    for (const a of ["feedTick", "feedMessage(AppendEntries", "feedMessage(RequestVote", "feedPropose", "feedRead", "feedTransfer", "compactAt", "readyAt", "doneAt", "drop", "rebootFrom (a new incarnation)", "feedMessage(RecoveryReply"]) {
      assert.ok([...v.actions.keys()].some((k) => k.startsWith(a)), `no ${a} in ${RUNS} runs`);
    }
    t.diagnostic(`${v.runs} runs, ${v.events} core events, ${v.steps} spec steps in ${seconds.toFixed(1)} s with recording (${(v.runs / seconds).toFixed(1)} runs/s, ${(v.steps / seconds).toFixed(0)} steps/s)${v.distinct}`);
    for (const line of coverage.report()) t.diagnostic(line);
  });

  test(`membership changes: ${MEMBERSHIP_RUNS} seeded --membership runs of ${MEMBERSHIP_TICKS} ticks (two spares, every fault, storage faults included): every step is one the spec allows`, (t) => {
    const coverage = new Coverage();
    const started = Date.now();
    const v = validateRuns(plans(MEMBERSHIP_RUNS, MEMBERSHIP_TICKS, FAULTS, true), MEMBERSHIP_TICKS, coverage.make, " (membership)");
    const seconds = (Date.now() - started) / 1000;
    assert.ok((v.actions.get("feedReconfigure") ?? 0) > 0, "no membership change asked");
    assert.ok(v.configEntries > 0, "no configuration entry appended");
    assert.ok((v.actions.get("rebootFrom (a new incarnation)") ?? 0) > 0, "no storage fault");
    t.diagnostic(`${v.runs} runs, ${v.steps} spec steps in ${seconds.toFixed(1)} s with recording; feedReconfigure ${v.actions.get("feedReconfigure")}, up to ${v.configEntries} configuration entries in a log, ${v.actions.get("rebootFrom (a new incarnation)")} restarts after a storage fault${v.distinct}`);
    for (const line of coverage.report().filter((l) => /voterSets|mayChangeConfiguration|changesThroughJoint/.test(l))) t.diagnostic(line);
  });

  test("model.ts is raft.qnt: on a sample of runs (plain, storage faults with a survey, membership with storage faults) Quint's evaluator and model.ts take the same steps to the same states", (t) => {
    const sample: Recording[] = [samples[0]!];
    sample.push(record(surveySeeds(FIRST_SEED, 1, 150)[0]!, undefined, 150));
    // A busy run that compacts and sends a snapshot.
    for (let seed = FIRST_SEED; ; seed++) {
      assert.ok(seed < FIRST_SEED + 100, "no busy run that sends a snapshot");
      const rec = record(tvPlan(seed, 150, FAULTS, true, false, BUSY_CLIENTS), undefined, 150);
      if (rec.events.some((e) => e.kind === "step" && e.msg.tag === "InstallSnapshot")) {
        sample.push(rec);
        break;
      }
    }
    // A membership run that appends a configuration and restarts a server after a storage fault.
    for (let seed = FIRST_SEED; ; seed++) {
      assert.ok(seed < FIRST_SEED + 100, "no membership run with a storage fault and a configuration entry");
      const rec = record(tvPlan(seed, 200, FAULTS, true, true), undefined, 200);
      const damaged = rec.events.some((e, k) => k > 5 && e.kind === "boot" && e.incarnation > 1);
      if (damaged && rec.events.some((e) => configEntries(e) > 0)) {
        sample.push(rec);
        break;
      }
    }
    // SPEC_TV_LOCKSTEP_RUNS more: plain and membership, quiet and busy, from seed FIRST_SEED + 1000.
    for (let k = 0; k < LOCKSTEP_RUNS; k++) sample.push(record(tvPlan(FIRST_SEED + 1000 + k, 150, FAULTS, true, k % 2 === 1, k % 4 >= 2 ? BUSY_CLIENTS : undefined), undefined, 150));
    const actions = new Map<string, number>();
    let compared = 0;
    const started = Date.now();
    for (const rec of sample) {
      const engine = new LockstepEngine(rec.plan.membership ?? false);
      try {
        for (const [a, c] of validate(rec, { invariantsEvery: 250, engine }).actions) actions.set(a, (actions.get(a) ?? 0) + c);
      } catch (e) {
        if (e instanceof Rejected) assert.fail(`seed ${rec.plan.seed}${rec.plan.membership ? " (membership)" : ""}: ${e.message}`);
        throw e;
      }
      compared += engine.compared;
    }
    // The sample takes every kind of driver action.
    for (const a of ["init", "feedTick", "feedMessage(AppendEntries", "feedMessage(AppendEntriesResponse", "feedMessage(RequestVote", "feedMessage(RequestVoteResponse", "feedMessage(TimeoutNow", "feedMessage(InstallSnapshot", "feedMessage(RecoveryQuery", "feedMessage(RecoveryReply", "feedPropose", "feedRead", "feedTransfer", "feedReconfigure", "compactAt", "readyAt", "doneAt", "drop", "rebootFrom", "rebootFrom (a new incarnation)"]) {
      assert.ok([...actions.keys()].some((k) => k.startsWith(a)), `the lockstep sample has no ${a}`);
    }
    t.diagnostic(`${sample.length} runs, ${compared} steps and invariant checks compared in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  test("the lockstep check catches a model.ts that differs from raft.qnt (a commit counted on one server of three; a proposal dropped)", () => {
    const rec = samples[0]!;
    const wrongMajority = new LockstepEngine(false);
    wrongMajority.model.model.majority = (members: number) => Math.floor(members / 2);
    assert.throws(() => validate(rec, { engine: wrongMajority }), Drift);
    const dropsProposals = new LockstepEngine(false);
    dropsProposals.model.model.propose = (s: MServer) => s;
    assert.throws(() => validate(rec, { engine: dropsProposals }), (e: unknown) => e instanceof Drift && /after feedPropose/.test(e.message));
  });

  test("model.ts's invariants are raft.qnt's where they fail too: states forged (the same edit in Quint and in model.ts) to break each one", () => {
    // The lockstep runs only see the invariants hold; here each is broken on purpose, after a validated run, and both evaluators must agree on all eight.
    const engine = new LockstepEngine(false);
    validate(samples[0]!, { engine });
    const st = () => engine.model.st!;
    const leader = [...st().servers.values()].find((s) => s.role.tag === "Leader");
    assert.ok(leader, "the run ends with a leader");
    const L = leader.id;
    assert.ok(st().committed.has(1) && st().servers.get(1)!.entries.length > 0 && st().servers.get(2)!.entries.length > 0);
    const VARS = ["servers", "disks", "msgs", "lastStep", "lastSent", "lastReads", "leaders", "committed", "readArrivals", "readsReleased", "nextValue", "nextReadId"];
    const forge = (broken: string, quint: Record<string, string>, model: (m: MState) => MState) => {
      const text = `all { ${VARS.map((v) => `${v}' = ${quint[v] ?? v}`).join(", ")} }`;
      assert.ok(engine.quint.q.act(text), text);
      engine.model.st = model(st());
      assert.equal(engine.quint.invariant(broken), false, `the forged state breaks ${broken} in Quint`);
      for (const inv of ["ElectionSafety", "LogMatching", "LeaderCompleteness", "StateMachineSafety", "ReadIndexSafety", "CommittedOnMajority", "RecoveringNeverCampaigns", "OneUncommittedConfiguration"]) {
        assert.equal(engine.model.invariant(inv), engine.quint.invariant(inv), `${inv} after the forgery that breaks ${broken}`);
      }
    };
    const setServer = (m: MState, id: number, f: (s: MServer) => MServer): MState => ({ ...m, servers: new Map(m.servers).set(id, f(m.servers.get(id)!)) });
    forge("ElectionSafety", { leaders: "leaders.union(Set((1000, 1), (1000, 2)))" }, (m) => ({ ...m, leaders: new Set([...m.leaders, "1000,1", "1000,2"]) }));
    forge("ReadIndexSafety", { readArrivals: "readArrivals.put(1000000, 5)", readsReleased: "readsReleased.union(Set((1000000, 4)))" }, (m) => ({
      ...m, readArrivals: new Map(m.readArrivals).set(1000000, 5), readsReleased: new Set([...m.readsReleased, "1000000,4"]),
    }));
    forge("RecoveringNeverCampaigns", { servers: `servers.set(${L}, { ...servers.get(${L}), lost: { through: 1, term: 1 } })` }, (m) => setServer(m, L, (s) => ({ ...s, lost: { through: 1, term: 1 } })));
    const cfg = { term: 1, value: -1, config: { voters: [1, 2, 3], outgoing: [], learners: [] } };
    forge("OneUncommittedConfiguration", { servers: `servers.set(${L}, { ...servers.get(${L}), entries: servers.get(${L}).entries.append(${quintText(cfg)}).append(${quintText(cfg)}) })` }, (m) =>
      setServer(m, L, (s) => ({ ...s, entries: [...s.entries, cfg, cfg] })));
    forge("LogMatching", { servers: "servers.set(1, { ...servers.get(1), entries: servers.get(1).entries.replaceAt(0, { ...servers.get(1).entries[0], value: 777 }) })" }, (m) =>
      setServer(m, 1, (s) => ({ ...s, entries: [{ ...s.entries[0]!, value: 777 }, ...s.entries.slice(1)] })));
    forge("StateMachineSafety", { committed: "committed.put(1, { ...committed.get(1), value: 999 })" }, (m) => ({ ...m, committed: new Map(m.committed).set(1, { ...m.committed.get(1)!, value: 999 }) }));
    const ghost = { term: 1, value: 1, config: { voters: [], outgoing: [], learners: [] }, commitTerm: 0 };
    forge("CommittedOnMajority", { committed: `committed.put(100000, ${quintText(ghost)})` }, (m) => ({ ...m, committed: new Map(m.committed).set(100000, ghost) }));
    assert.equal(engine.quint.invariant("LeaderCompleteness"), false, "a leader lacks the forged committed entry");
  });

  test("no-joint (bug zoo: the voters change in one step) is rejected at its first change of voters: the entry it appends", () => {
    const rec = record(tvPlan(FIRST_SEED, MEMBERSHIP_TICKS, MEMBERSHIP_FAULTS, true, true), findBug("no-joint")!.make, MEMBERSHIP_TICKS);
    const r = rejection(rec);
    assert.equal(r.kind, "reconfigure", r.message);
    assert.match(r.message, /\.entries after reconfigure/);
    // Every change the core accepted before was one the spec allows too: the same entries.
    assert.ok(configEntries(rec.events[r.event]!) > 0);
  });

  test("concurrent-changes (bug zoo: a change while the last is uncommitted) is rejected at that second change", () => {
    // The first seed whose run has the core accept a change with another configuration entry uncommitted.
    for (let seed = 1; seed < 200; seed++) {
      const rec = record(tvPlan(seed, 300, MEMBERSHIP_FAULTS, true, true), findBug("concurrent-changes")!.make, 300);
      const second = rec.events.findIndex((e) => {
        if (e.kind !== "reconfigure") return false;
        const s = e.state as { entries: { value: number }[]; snapIndex: number; commitIndex: number };
        return s.entries.filter((x, k) => x.value === -1 && s.snapIndex + 1 + k > s.commitIndex).length >= 2;
      });
      if (second < 0) continue;
      const r = rejection(rec);
      assert.equal(r.event, second, r.message);
      assert.match(r.message, /\.entries after reconfigure/);
      return;
    }
    assert.fail("no run made a second change while one was pending");
  });

  test("learners-counted (bug zoo) is rejected where a learner's acknowledgement or vote is counted", () => {
    // Without the faults aimed at the leader (plan.ts "aimed"), and short: the leader stays in touch, so no learner times out first.
    const faults = new Set([...MEMBERSHIP_FAULTS].filter((f) => f !== "aimed"));
    const rec = record(tvPlan(FIRST_SEED, 200, faults, true, true), findBug("learners-counted")!.make, 200);
    const r = rejection(rec);
    // Before any configuration with learners is in some log, the variant is Figure 2's core.
    const firstLearners = rec.events.findIndex((e) => configEntries(e) > 0 && (e.state.entries as { value: number; config: Cfg }[]).some((x) => x.value === -1 && x.config.learners.length > 0));
    assert.ok(firstLearners > 0 && r.event > firstLearners, r.message);
    assert.match(r.message, /after step\(\{"tag":"(AppendEntriesResponse|RequestVoteResponse|InstallSnapshotResponse)"/);
  });

  test("learners-counted (bug zoo) with the faults aimed at the leader: a learner that counts itself a voter campaigns, and is rejected at that tick", () => {
    // The core's voterSets is also what tells a server it may campaign
    // (context.ts selfVotes, as raft.qnt's selfVotes): counting learners as
    // voters, a learner that stops hearing from its leader campaigns. The
    // spec's learner waits (tickElection: not mayCampaign).
    const rec = record(tvPlan(FIRST_SEED, MEMBERSHIP_TICKS, MEMBERSHIP_FAULTS, true, true), findBug("learners-counted")!.make, MEMBERSHIP_TICKS);
    const r = rejection(rec);
    const e = rec.events[r.event]!;
    const learnerCampaigns = e.kind === "tick" && (e.state.role === "PreCandidate" || e.state.role === "Candidate") && configOf(e).learners.includes(e.node);
    const learnerCounted = /after step\(\{"tag":"(AppendEntriesResponse|RequestVoteResponse|InstallSnapshotResponse)"/.test(r.message);
    assert.ok(learnerCampaigns || learnerCounted, r.message);
    if (learnerCampaigns) assert.match(r.message, /\.role after tick\(\)/);
  });

  test("storage faults: runs in which a server loses its term and vote (or its whole disk) survey, recover and validate", (t) => {
    const actions = new Map<string, number>();
    for (const plan of surveySeeds(FIRST_SEED, 2, 150)) {
      const rec = record(plan, undefined, 150);
      try {
        for (const [a, c] of validate(rec).actions) actions.set(a, (actions.get(a) ?? 0) + c);
      } catch (e) {
        if (e instanceof Rejected) assert.fail(`seed ${plan.seed}: ${e.message}`);
        throw e;
      }
    }
    for (const a of ["rebootFrom (a new incarnation)", "feedMessage(RecoveryQuery)", "feedMessage(RecoveryReply)"]) assert.ok((actions.get(a) ?? 0) > 0, `no ${a}`);
    t.diagnostic([...actions].filter(([a]) => /reboot|Recovery/.test(a)).map(([a, c]) => `${a} ${c}`).join(", "));
  });

  test("small-survey (bug zoo: a server that lost its hard state trusts one answer) is rejected where it boots into its survey", () => {
    const plan = surveySeeds(FIRST_SEED, 1, 150)[0]!;
    const rec = record(plan, findBug("small-survey")!.make, 150);
    const first = rec.events.findIndex((e) => e.kind === "boot" && !e.disk.hardStateKnown);
    assert.ok(first > 0, "a server boots without its hard state");
    const r = rejection(rec);
    assert.equal(r.event, first, r.message);
    assert.match(r.message, /surveyNeeded/);
  });

  test("a restart from a damaged disk without a new incarnation is rejected", () => {
    const plan = surveySeeds(FIRST_SEED, 1, 150)[0]!;
    const rec = record(plan, undefined, 150);
    const i = rec.events.findIndex((e, k) => k >= plan.nodes && e.kind === "boot" && !e.disk.hardStateKnown);
    assert.ok(i > 0);
    const e = rec.events[i] as Extract<CoreEvent, { kind: "boot" }>;
    const previous = rec.events.slice(0, i).filter((x): x is Extract<CoreEvent, { kind: "boot" }> => x.kind === "boot" && x.node === e.node).at(-1)!;
    const forged = { ...e, incarnation: previous.incarnation } as CoreEvent;
    const r = rejection({ ...rec, events: [...rec.events.slice(0, i), forged, ...rec.events.slice(i + 1)] });
    assert.equal(r.event, i);
    assert.match(r.message, /does not allow rebootFrom/);
  });

  test("vote-not-persisted (bug zoo) is rejected at its first write that leaves the vote out", () => {
    const rec = record(tvPlan(FIRST_SEED, 60, FAULTS), findBug("vote-not-persisted")!.make, 60);
    // From the core's own events: the first write after which the disk does not hold the vote the server cast.
    const first = rec.events.findIndex((e) => e.kind === "advance" && e.state.votedFor !== 0 && e.disk.votedFor !== e.state.votedFor);
    assert.ok(first > 0, "the run casts a vote");
    const r = rejection(rec);
    assert.equal(r.event, first, r.message);
    assert.match(r.message, /disk after the write/);
  });

  test("figure8-paper (bug zoo: no no-op on election) is rejected at its first election won", () => {
    const rec = record(tvPlan(FIRST_SEED, 60, FAULTS), findBug("figure8-paper")!.make, 60);
    const first = rec.events.findIndex((e) => e.state.role === "Leader");
    assert.ok(first > 0, "someone is elected");
    const r = rejection(rec);
    assert.equal(r.event, first, r.message);
    assert.match(r.message, /\.entries after step/);
  });

  test("a delivered message the spec never sent is rejected", () => {
    const rec = samples[0]!;
    const i = rec.events.findIndex((e) => e.kind === "step" && e.msg.tag === "AppendEntries");
    assert.ok(i > 0);
    const e = rec.events[i] as Extract<CoreEvent, { kind: "step" }>;
    const forged = { ...e, msg: { ...e.msg, value: { ...e.msg.value, term: e.msg.value.term + 1 } } } as CoreEvent;
    const r = rejection({ ...rec, events: [...rec.events.slice(0, i), forged, ...rec.events.slice(i + 1)] });
    assert.equal(r.event, i);
    assert.match(r.message, /does not allow feedMessage/);
  });

  test("a restart from a disk that no crash can leave (a vote forgotten) is rejected", () => {
    // A run with a restart after the node voted: the restart finds its disk without the vote.
    const found = samples
      .map((rec) => ({ rec, i: rec.events.findIndex((e, k) => k >= rec.plan.nodes && e.kind === "boot" && e.disk.votedFor !== 0) }))
      .find((x) => x.i > 0);
    assert.ok(found, "some run restarts a node that had voted");
    const { rec, i } = found;
    const e = rec.events[i] as Extract<CoreEvent, { kind: "boot" }>;
    const forged = { ...e, disk: { ...e.disk, votedFor: 0 } } as CoreEvent;
    const r = rejection({ ...rec, events: [...rec.events.slice(0, i), forged, ...rec.events.slice(i + 1)] });
    assert.equal(r.event, i);
    assert.match(r.message, /does not allow rebootFrom/);
  });
});
