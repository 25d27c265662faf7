// `raftkv sim`: the deterministic simulator from the command line (SPEC §9).

import { writeFileSync } from "node:fs";
import { intFlag, parseArgs, stringFlag, UsageError, type Parsed } from "./args.js";
import { DEFAULT_FAULTS, FAULTS, generatePlan, parseSpec, specToString, type Fault, type SimPlan } from "../sim/plan.js";
import { runPlan, type RunResult } from "../sim/run.js";
import { search } from "../sim/search.js";
import { shrink } from "../sim/shrink.js";
import { replayPage } from "../sim/html.js";
import { renderStory, story } from "../sim/story.js";
import { condense, renderTrace } from "../sim/trace.js";
import { formatCount, formatElapsed, Progress } from "./progress.js";
import { BUGS, findBug, verdict, type Bug } from "../sim/zoo.js";

const HELP = `raftkv sim — run the Raft core in a deterministic simulated world

  raftkv sim --seeds N [--nodes 3|5|7|3,5] [--steps S] [--faults LIST] [--seed FIRST] [--bug NAME]
      N runs, seeds FIRST.. FIRST+N-1; exit 0 when every invariant held,
      1 on a violation (printing the seed, a replay command and a shrunk trace).
  raftkv sim --replay SEED [--nodes N] [--steps S] [--faults LIST] [--bug NAME] [--html FILE]
      one run with its full trace. SEED is a number, or SEED~TICK:SEED~... for
      a run the search branched (as printed by --bug and --time).
  raftkv sim --exhaustive [--nodes 3] [--max-term T] [--max-entries E] [--max-states M] [--bug NAME]
                [--no-pre-vote] [--no-check-quorum] [--no-restarts] [--no-symmetry]
                [--link-capacity K] [--inbox-capacity K]
      bounded model checking: every interleaving of deliveries, drops,
      timeouts, crashes and proposals, with visited-state hashing. Defaults:
      --max-term 1 --max-entries 0 --max-states 2000000, pre-vote, check-quorum,
      restarts and symmetry reduction on, one message in flight per link and
      per server (K up to 3). Each bound raised multiplies the states.
  raftkv sim --list-bugs
      the bug zoo: deliberately broken variants of the core.
  raftkv sim --bug NAME --budget SECONDS [--nodes ...] [--seed FIRST]
      search for a violation with that bug switched on; exit 0 when it breaks
      an invariant the bug is pinned to (--list-bugs) within the budget
      (printing time-to-find and the shrunk trace), 1 if not. Violations of
      other invariants are listed, and do not count as finding the bug.
  raftkv sim --time SECONDS [--nodes ...] [--seed FIRST]
      the same search on the real core, for as long as given; exit 1 on a violation.

Faults (--faults, comma-separated, or "all" / "none"):
  ${FAULTS.join(", ")}
The default is every fault but "disk" (storage faults: a disk that loses or
damages what it had fsynced; docs/STORAGE.md); --faults all adds them, and
the bug zoo's storage-fault variants add them by themselves.
--transfers adds leadership transfers now and then (an operator action, thesis
§3.10) to --seeds, --replay, --bug and --time runs.
--membership adds membership changes (thesis ch. 4): two spare servers beyond
--nodes, and an operator moving the cluster to random configurations of all of
them — learners, promotions, removals (the leader's too), replacements.
--no-pre-vote and --no-check-quorum switch off the core's optional defences
(thesis §9.6, §6.2; on in the server) in every kind of run: Raft as Figure 2
states it, which an embedder may configure. Without check-quorum a leader cut
off from the others stays leader until it hears a higher term.
Defaults: --steps 1000 ticks of faults (then 400 ticks of healing), --nodes 3,5, --seed 1.
Long runs (--seeds, --bug, --time, --exhaustive) show their progress on one
line of stderr when it is a terminal; --quiet turns that off.
Exit codes: 0 as described, 1 violation (or bug not found), 2 usage error.`;

const spec = {
  seeds: {},
  seed: {},
  nodes: {},
  steps: {},
  faults: {},
  replay: {},
  html: {},
  exhaustive: { boolean: true },
  "max-term": {},
  "max-entries": {},
  "max-states": {},
  "no-pre-vote": { boolean: true },
  "no-check-quorum": { boolean: true },
  "no-restarts": { boolean: true },
  "no-symmetry": { boolean: true },
  "link-capacity": {},
  "inbox-capacity": {},
  "list-bugs": { boolean: true },
  transfers: { boolean: true },
  membership: { boolean: true },
  bug: {},
  budget: {},
  time: {},
  quiet: { boolean: true },
  help: { boolean: true },
} as const;

/** What kind of run: exactly one of these (--bug alone is a modifier; with --budget it is a search). */
const MODES = ["seeds", "replay", "exhaustive", "list-bugs", "budget", "time"] as const;

/** How printed commands start: runnable as printed from the project directory (or anywhere raftkv is installed). */
export const RAFTKV_COMMAND = "npx raftkv";

const EXHAUSTIVE_FLAGS = ["max-term", "max-entries", "max-states", "no-restarts", "no-symmetry", "link-capacity", "inbox-capacity"] as const;

interface Common {
  nodes: number[];
  steps: number;
  faults: Set<Fault>;
  bug: Bug | undefined;
  first: number;
  transfers: boolean;
  membership: boolean;
  preVote: boolean;
  checkQuorum: boolean;
  progress: Progress;
}

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(argv, spec);
  if (p.flags.has("help")) {
    process.stdout.write(HELP + "\n");
    return 0;
  }
  if (p.positional.length > 0) throw new UsageError(`unexpected argument '${p.positional[0]}'`);
  if (p.flags.has("list-bugs")) {
    if (p.flags.size > 1) throw new UsageError(`--list-bugs takes no other options (got --${[...p.flags.keys()].find((k) => k !== "list-bugs")})`);
    for (const b of BUGS) process.stdout.write(`${b.name.padEnd(22)} ${b.description} [breaks ${b.breaks.join(" or ")}]\n`);
    return 0;
  }
  const modes = MODES.filter((m) => p.flags.has(m));
  if (modes.length > 1) throw new UsageError(`--${modes[0]} and --${modes[1]} are different kinds of run; give one of them`);
  if (p.flags.has("html") && !p.flags.has("replay")) throw new UsageError("--html is for --replay");
  const c = common(p);
  if (p.flags.has("exhaustive")) return runExhaustive(p, c);
  const exhaustiveOnly = EXHAUSTIVE_FLAGS.find((f) => p.flags.has(f));
  if (exhaustiveOnly) throw new UsageError(`--${exhaustiveOnly} is for --exhaustive`);
  if (p.flags.has("replay")) return replay(stringFlag(p, "replay")!, c, stringFlag(p, "html"));
  if (p.flags.has("seeds")) return seeds(intFlag(p, "seeds", 1, 1), c);
  if (p.flags.has("budget")) {
    if (!c.bug) throw new UsageError("--budget needs --bug NAME");
    return hunt(c, intFlag(p, "budget", 60, 1), true);
  }
  if (p.flags.has("time")) return hunt(c, intFlag(p, "time", 60, 1), false);
  throw new UsageError("say what to do: --seeds N, --replay SEED, --exhaustive, --list-bugs, --bug NAME --budget S, or --time S");
}

function common(p: Parsed): Common {
  const nodesText = stringFlag(p, "nodes") ?? "3,5";
  const nodes = nodesText.split(",").map((n) => {
    if (!["1", "3", "5", "7"].includes(n)) throw new UsageError(`--nodes takes 1, 3, 5 or 7 (or a list like 3,5), got '${n}'`);
    return Number(n);
  });
  const bugName = stringFlag(p, "bug");
  const bug = bugName === undefined ? undefined : findBug(bugName);
  if (bugName !== undefined && !bug) throw new UsageError(`unknown bug '${bugName}' (see --list-bugs)`);
  const faultsText = stringFlag(p, "faults");
  const faults = new Set<Fault>(faultsText === undefined ? defaultFaults(bug) : []);
  if (faultsText !== undefined && faultsText !== "none") {
    for (const f of faultsText === "all" ? FAULTS : faultsText.split(",")) {
      if (!(FAULTS as readonly string[]).includes(f)) throw new UsageError(`unknown fault '${f}' (known: ${FAULTS.join(", ")}, all, none)`);
      faults.add(f as Fault);
    }
  }
  return { nodes, steps: intFlag(p, "steps", 1000, 10, 1_000_000), faults, bug, first: intFlag(p, "seed", 1, 0, 2 ** 32 - 1), transfers: p.flags.has("transfers"), membership: p.flags.has("membership") || (bug?.membership ?? false), preVote: !p.flags.has("no-pre-vote"), checkQuorum: !p.flags.has("no-check-quorum"), progress: Progress.forTerminal(p.flags.has("quiet")) };
}

/** The faults a run has when --faults is not given. */
function defaultFaults(bug: Bug | undefined): readonly Fault[] {
  return bug?.storage ? FAULTS : DEFAULT_FAULTS;
}

function replayCommand(plan: SimPlan, c: Common): string {
  // The plan's own faults: the search's swarm testing gives each run a subset of the ones asked for.
  const same = (list: readonly Fault[]) => list.length === plan.faults.size && list.every((f) => plan.faults.has(f));
  const faults = same(defaultFaults(c.bug)) ? "" : same(FAULTS) ? " --faults all" : ` --faults ${plan.faults.size === 0 ? "none" : FAULTS.filter((f) => plan.faults.has(f)).join(",")}`;
  return `${RAFTKV_COMMAND} sim --replay ${specToString(plan.spec)} --nodes ${plan.nodes} --steps ${plan.steps}${faults}${c.transfers ? " --transfers" : ""}${c.membership && !c.bug?.membership ? " --membership" : ""}${c.preVote ? "" : " --no-pre-vote"}${c.checkQuorum ? "" : " --no-check-quorum"}${c.bug ? ` --bug ${c.bug.name}` : ""}`;
}

async function seeds(n: number, c: Common): Promise<number> {
  const t0 = performance.now();
  const total = { ticks: 0, steps: 0, messages: 0, elections: 0, opsCompleted: 0, opsUnknown: 0 };
  const undecided: number[] = [];
  for (let i = 0; i < n; i++) {
    const seed = c.first + i;
    const nodes = c.nodes[i % c.nodes.length]!;
    const r = runPlan(generatePlan({ seed, nodes, steps: c.steps, faults: c.faults, transfers: c.transfers, membership: c.membership, preVote: c.preVote, checkQuorum: c.checkQuorum }), { bug: c.bug });
    for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += r.stats[k];
    if (r.undecided !== null) undecided.push(seed);
    c.progress.update(() => `seeds: ${i + 1}/${n} runs, ${((i + 1) / ((performance.now() - t0) / 1000)).toFixed(1)} runs/s, ${formatElapsed(performance.now() - t0)}, no violation so far`);
    if (r.violation) {
      c.progress.done();
      process.stdout.write(`after ${i + 1} run(s):\n`);
      report(r, c);
      return 1;
    }
  }
  const secs = (performance.now() - t0) / 1000;
  c.progress.done();
  process.stdout.write(
    `${n} seeds (${c.first}..${c.first + n - 1}), nodes ${c.nodes.join("/")}, faults ${[...c.faults].join(",") || "none"}${c.preVote ? "" : ", no pre-vote"}${c.checkQuorum ? "" : ", no check-quorum"}${c.bug ? `, bug ${c.bug.name}` : ""}\n` +
      `  ${total.ticks} ticks, ${total.steps} steps, ${total.messages} messages, ${total.elections} elections\n` +
      `  client operations: ${total.opsCompleted} completed, ${total.opsUnknown} with unknown outcome\n` +
      (undecided.length === 0
        ? `  violations: 0 (every invariant held at every step; every history linearizable)\n`
        : `  violations: 0, but the linearizability check ran out of its budget (not a pass) on seed(s) ${undecided.join(", ")}\n`) +
      `  ${secs.toFixed(1)} s, ${(n / secs).toFixed(1)} runs/s\n`,
  );
  return undecided.length === 0 ? 0 : 1;
}

function replay(text: string, c: Common, html: string | undefined): number {
  const rs = parseSpec(text);
  if (!rs) throw new UsageError(`--replay takes a seed (e.g. 42, or 42~310:7 for a branched run), got '${text}'`);
  const plan = generatePlan({ seed: rs.seed, nodes: c.nodes[0]!, steps: c.steps, faults: c.faults, transfers: c.transfers, membership: c.membership, preVote: c.preVote, checkQuorum: c.checkQuorum }, rs.branches);
  const r = runPlan(plan, { bug: c.bug, trace: true });
  process.stdout.write(renderTrace(r.trace).join("\n") + "\n");
  if (html) writeHtml(html, r, c.bug);
  if (r.violation) {
    process.stdout.write(`\nVIOLATION of ${r.violation.invariant} at t=${r.violation.at}: ${r.violation.message}\n`);
    return 1;
  }
  if (r.undecided !== null) {
    process.stdout.write(`\nno invariant broken, but linearizability is UNDECIDED: ${r.undecided}\n`);
    return 1;
  }
  process.stdout.write(`\nno violation (${r.stats.ticks} ticks, ${r.stats.elections} elections, ${r.stats.opsCompleted} client operations)\n`);
  return 0;
}

/** The replay page (SPEC §9); `bug` must be the variant the run was made with. */
function writeHtml(file: string, r: RunResult, bug?: Bug): void {
  writeFileSync(file, replayPage(r, { bug }));
  process.stdout.write(`replay page written to ${file}\n`);
}

async function hunt(c: Common, seconds: number, expectBug: boolean): Promise<number> {
  const what = c.bug ? `bug ${c.bug.name}` : "the real core";
  const res = search({
    seed: c.first,
    nodes: c.nodes,
    steps: c.steps,
    faults: c.faults,
    transfers: c.transfers,
    membership: c.membership,
    preVote: c.preVote,
    checkQuorum: c.checkQuorum,
    bug: c.bug,
    budgetMs: seconds * 1000,
    now: () => performance.now(),
    onRun: (s) =>
      c.progress.update(
        () =>
          `searching ${what}: ${formatElapsed(s.elapsedMs)} of ${seconds}s, ${formatCount(s.runs)} runs (${(s.runs / (s.elapsedMs / 1000)).toFixed(0)}/s), ` +
          `${formatCount(s.ticks)} ticks, ${formatCount(s.signatures)} kinds of state${s.others > 0 ? `, ${s.others} other violation(s)` : ""}, none found yet`,
      ),
  });
  c.progress.done();
  for (const [invariant, o] of res.others) {
    const v = o.first.violation!;
    const side = c.bug?.sideEffects?.[invariant as keyof NonNullable<Bug["sideEffects"]>];
    process.stdout.write(
      `not counted: ${o.count} run(s) broke ${invariant}, which ${c.bug!.name} is not pinned to break (${side ? `a known side effect: ${side}` : "UNEXPECTED: a bug in the variant or the simulator"}); first: ${v.message.split("\n")[0]}\n` +
        `  replay:  ${replayCommand(o.first.plan, c)}\n`,
    );
  }
  if (!res.found) {
    process.stdout.write(`no violation${c.bug ? ` of ${c.bug.breaks.join(" or ")}` : ""} with ${what} in ${(res.elapsedMs / 1000).toFixed(1)} s: ${res.runs} runs, ${res.ticks} ticks, ${res.signatures} kinds of state seen\n`);
    return expectBug ? 1 : 0;
  }
  process.stdout.write(
    `found with ${what} after ${(res.elapsedMs / 1000).toFixed(1)} s: ${res.runs} runs, ${res.ticks} ticks simulated, ${res.signatures} kinds of state seen\n`,
  );
  report(res.found, c);
  return expectBug ? 0 : 1;
}

/** Prints a violation: what, how to replay it, and the shrunk trace. */
function report(r: RunResult, c: Common): void {
  const v = r.violation!;
  process.stdout.write(`VIOLATION of ${v.invariant} at t=${v.at} (${r.plan.nodes} nodes):\n  ${v.message.split("\n").join("\n  ")}\n`);
  if (c.bug) {
    const how = verdict(c.bug, v.invariant);
    const side = c.bug.sideEffects?.[v.invariant as keyof NonNullable<Bug["sideEffects"]>];
    process.stdout.write(
      how === "pinned"
        ? `  the invariant ${c.bug.name} is pinned to break\n`
        : `  NOT the invariant ${c.bug.name} is pinned to break (${c.bug.breaks.join(" or ")}): ${how === "side effect" ? `a known side effect: ${side}` : "UNEXPECTED: a bug in the variant or the simulator"}\n`,
    );
  }
  process.stdout.write(`replay:  ${replayCommand(r.plan, c)}\n`);
  const s = shrink(r, { bug: c.bug });
  const again = runPlan(s.result.plan, { bug: c.bug, trace: true, ...(s.until !== null ? { until: s.until } : {}) });
  const faults = s.result.plan.events.filter((e) => e.kind !== "op").length;
  const ops = s.result.plan.events.length - faults;
  const told = renderStory(story(again.trace, again.violation ?? v));
  process.stdout.write(
    `shrunk: ${s.result.plan.events.length} of ${s.eventsBefore} plan events kept (${faults} faults, ${ops} client operations), ${s.spared} random losses spared, violation at t=${again.violation?.at ?? "?"}, ${s.trials} trial runs\n` +
      `shrunk trace (heartbeats left out):\n${renderTrace(condense(again.trace)).join("\n")}\n` +
      `\nthe story (${told.length} items, one a line, each one event or several folded: elections with their votes, crashes, partitions, the messages carrying the entry the violation names, its commit):\n${told.join("\n")}\n`,
  );
}

async function runExhaustive(p: Parsed, c: Common): Promise<number> {
  const { exhaustive } = await import("../sim/exhaustive.js");
  const nodes = c.nodes.length === 1 ? c.nodes[0]! : 3;
  const t0 = performance.now();
  const res = exhaustive({
    nodes,
    maxTerm: intFlag(p, "max-term", 1, 1, 10),
    maxEntries: intFlag(p, "max-entries", 0, 0, 5),
    maxStates: intFlag(p, "max-states", 2_000_000, 1),
    bug: c.bug,
    preVote: !p.flags.has("no-pre-vote"),
    checkQuorum: !p.flags.has("no-check-quorum"),
    restarts: !p.flags.has("no-restarts"),
    symmetry: !p.flags.has("no-symmetry"),
    linkCapacity: intFlag(p, "link-capacity", 1, 1, 3),
    inboxCapacity: intFlag(p, "inbox-capacity", 1, 1, 3),
    onProgress: (e) =>
      c.progress.update(
        () => `exhaustive: depth ${e.depth}, ${formatCount(e.statesExplored)} states (${formatCount(Math.round(e.statesExplored / ((performance.now() - t0) / 1000)))}/s), ${formatCount(e.frontier)} to expand, ${formatElapsed(performance.now() - t0)}`,
      ),
  });
  c.progress.done();
  process.stdout.write(res.report + "\n");
  return res.violation ? 1 : 0;
}
