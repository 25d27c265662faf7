// Trace validation (test/spec/validate.ts, docs/SPEC-FORMAL.md): seeded
// runs of the real core in the simulator, faults included, checked step by
// step against spec/raft.qnt; and the check shown to reject what it must —
// bug-zoo cores at the step where they leave the spec, a message the spec
// never sent, a disk no crash can leave.
//
// `npm test` checks SPEC_TV_RUNS runs (default 4) of SPEC_TV_TICKS ticks
// (default 100), and SPEC_TV_MEMBERSHIP_RUNS (default 2) membership runs of
// SPEC_TV_MEMBERSHIP_TICKS (default 200); `npm run spec:validate` checks
// many more. The membership zoo variants (learners-counted, no-joint,
// concurrent-changes) are rejected where they leave the spec.

import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { FAULTS as ALL_FAULTS, type SimPlan } from "../../src/sim/plan.js";
import { findBug } from "../../src/sim/zoo.js";
import { Coverage } from "./coverage.js";
import { Rejected, record, tvPlan, validate, type CoreEvent, type Recording } from "./validate.js";

const RUNS = Number(process.env.SPEC_TV_RUNS ?? 4);
const TICKS = Number(process.env.SPEC_TV_TICKS ?? 100);
const FIRST_SEED = Number(process.env.SPEC_TV_SEED ?? 1);
const FAULTS = new Set(ALL_FAULTS);
/** Membership runs (the simulator's --membership: 2 spare servers, an operator reconfiguring) with every fault but storage faults. */
const MEMBERSHIP_FAULTS = new Set(ALL_FAULTS.filter((f) => f !== "disk"));
const MEMBERSHIP_RUNS = Number(process.env.SPEC_TV_MEMBERSHIP_RUNS ?? 2);
const MEMBERSHIP_TICKS = Number(process.env.SPEC_TV_MEMBERSHIP_TICKS ?? 200);

/** A configuration entry (raft.qnt's CONFIG value) in a projected log. */
const configEntries = (e: CoreEvent) => (e.state.entries as { value: number }[]).filter((x) => x.value === -1).length;

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

describe("trace validation: simulator runs of the core checked against spec/raft.qnt", () => {
  let recordings: Recording[] = [];
  const coverage = new Coverage();
  before(() => {
    // The core's rules counted as they are used (coverage.ts); the rules are Figure 2's.
    recordings = Array.from({ length: RUNS }, (_, k) => record(tvPlan(FIRST_SEED + k, TICKS, FAULTS), coverage.make, TICKS));
  });

  test(`${RUNS} seeded runs of ${TICKS} ticks with every fault, storage faults included: every step is one the spec allows`, (t) => {
    const started = Date.now();
    const actions = new Map<string, number>();
    let steps = 0;
    let events = 0;
    for (const rec of recordings) {
      assert.equal(rec.violation, null, `seed ${rec.plan.seed}: the simulator's own checks failed`);
      try {
        const v = validate(rec, { invariantsEvery: 250 });
        steps += v.steps;
        for (const [a, c] of v.actions) {
          actions.set(a, (actions.get(a) ?? 0) + c);
          coverage.action(a, c);
        }
      } catch (e) {
        if (e instanceof Rejected) assert.fail(`seed ${rec.plan.seed}: ${e.message}`);
        throw e;
      }
      events += rec.events.length;
    }
    const seconds = (Date.now() - started) / 1000;
    // The runs must have done something worth checking: elections, replication, crashes.
    for (const a of ["feedTick", "feedMessage(AppendEntries", "feedMessage(RequestVote", "feedPropose", "feedRead", "readyAt", "doneAt"]) {
      assert.ok([...actions.keys()].some((k) => k.startsWith(a)), `no ${a} in ${RUNS} runs`);
    }
    t.diagnostic(`${RUNS} runs, ${events} core events, ${steps} spec steps in ${seconds.toFixed(1)} s (${(steps / seconds).toFixed(0)} steps/s, with loading the spec)`);
    for (const line of coverage.report()) t.diagnostic(line);
  });

  test(`membership changes: ${MEMBERSHIP_RUNS} seeded --membership runs of ${MEMBERSHIP_TICKS} ticks (two spares, every fault but storage faults): every step is one the spec allows`, (t) => {
    const coverage = new Coverage();
    const actions = new Map<string, number>();
    let steps = 0;
    let appended = 0;
    const started = Date.now();
    for (let k = 0; k < MEMBERSHIP_RUNS; k++) {
      const rec = record(tvPlan(FIRST_SEED + k, MEMBERSHIP_TICKS, MEMBERSHIP_FAULTS, true, true), coverage.make, MEMBERSHIP_TICKS);
      assert.equal(rec.violation, null, `seed ${rec.plan.seed}: the simulator's own checks failed`);
      try {
        const v = validate(rec, { invariantsEvery: 250 });
        steps += v.steps;
        for (const [a, c] of v.actions) actions.set(a, (actions.get(a) ?? 0) + c);
      } catch (e) {
        if (e instanceof Rejected) assert.fail(`seed ${rec.plan.seed} (membership): ${e.message}`);
        throw e;
      }
      appended = Math.max(appended, ...rec.events.map(configEntries));
    }
    assert.ok((actions.get("feedReconfigure") ?? 0) > 0, "no membership change asked");
    assert.ok(appended > 0, "no configuration entry appended");
    t.diagnostic(`${MEMBERSHIP_RUNS} runs, ${steps} spec steps in ${((Date.now() - started) / 1000).toFixed(1)} s; feedReconfigure ${actions.get("feedReconfigure")}, up to ${appended} configuration entries in a log`);
    for (const line of coverage.report().filter((l) => /voterSets|mayChangeConfiguration|changesThroughJoint/.test(l))) t.diagnostic(line);
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
    // Without the faults aimed at the leader (plan.ts "aimed"): with them, seed 1's
    // run diverges first at a tick (a spare turning pre-candidate), before any
    // learner's answer is counted — not yet looked into (notes/issue-14.md).
    const faults = new Set([...MEMBERSHIP_FAULTS].filter((f) => f !== "aimed"));
    const rec = record(tvPlan(FIRST_SEED, MEMBERSHIP_TICKS, faults, true, true), findBug("learners-counted")!.make, MEMBERSHIP_TICKS);
    const r = rejection(rec);
    // Before any configuration with learners is in some log, the variant is Figure 2's core.
    const firstLearners = rec.events.findIndex((e) => (e.state.entries as { value: number; config: { learners: number[] } }[]).some((x) => x.value === -1 && x.config.learners.length > 0));
    assert.ok(firstLearners > 0 && r.event > firstLearners, r.message);
    assert.match(r.message, /after step\(\{"tag":"(AppendEntriesResponse|RequestVoteResponse|InstallSnapshotResponse)"/);
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
    const rec = recordings[0]!;
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
    const found = recordings
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
