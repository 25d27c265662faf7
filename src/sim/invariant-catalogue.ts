// Every property the simulator checks, under one name each, for both of its
// modes: the random mode (invariants.ts, world.ts, run.ts: checked after
// every step of a run) and the exhaustive mode (exhaustive-invariants.ts:
// checked in every state and on every transition). The bug zoo pins its
// verdicts to these names (zoo.ts), and docs/SIMULATION.md lists them.

export interface InvariantInfo {
  readonly name: string;
  /** Where the paper (or the thesis, or the course) states it. */
  readonly paper: string;
  readonly description: string;
  /** What each mode checks of it; null: that mode does not check it (and why). */
  readonly random: string | null;
  readonly exhaustive: string | null;
}

export const INVARIANT_CATALOGUE = [
  {
    name: "Election Safety",
    paper: "§5.2; Figure 3",
    description: "at most one leader per term",
    random: "every term's leader is remembered; a second one fails",
    exhaustive: "the leaders of every term, kept in the state's history",
  },
  {
    name: "Log Matching",
    paper: "§5.3; Figure 3",
    description: "two logs with an entry of the same index and term are identical up to it",
    random: "the inductive form, incrementally: an (index, term) has the same data and the same predecessor term on every node, ever",
    exhaustive: "every pair of servers' logs, in every state",
  },
  {
    name: "Leader Completeness",
    paper: "§5.4.1; Figure 3",
    description: "a leader's log holds every entry committed before its term",
    random: "when a node becomes leader: every entry committed so far",
    exhaustive: "every leader, in every state, against the entries committed in earlier terms",
  },
  {
    name: "State Machine Safety",
    paper: "§5.4.3; Figure 3",
    description: "no two servers apply different entries at one index",
    random: "the entries applied, and the state machine's whole state after each index (by applying or by a snapshot)",
    exhaustive: "the committed parts of every pair of logs",
  },
  {
    name: "Committed is forever",
    paper: "§5.4 (the course's run-time assertion)",
    description: "a committed entry never changes, is never removed from a disk, and is on a majority of disks",
    random: "at each commit, each disk write and each tick; a disk that lost the entry to a storage fault counts until its server has recovered",
    exhaustive: "in every state: every server's committed part, and a majority of disks",
  },
  {
    name: "Monotonic indexes",
    paper: "Figure 2 (volatile state on all servers)",
    description: "commitIndex and lastApplied never go back within a server's life, and lastApplied ≤ commitIndex",
    random: "commitIndex, lastApplied and their order, after every step",
    exhaustive: "commitIndex on every transition but the server's restart (lastApplied is not in the model's state)",
  },
  {
    name: "Linearizability",
    paper: "§8",
    description: "the clients' history is linearizable (unknown outcomes may or may not have happened)",
    random: "the whole history at the end of a run (src/check/, a budget of search steps)",
    exhaustive: null,
  },
  {
    name: "Liveness",
    paper: "§5.2, §9.3 (availability with a majority up)",
    description: "once faults end, a leader is elected and clients get answers",
    random: "after the healing period: a leader, no client waiting, operations completed",
    exhaustive: null,
  },
  {
    name: "Recovery",
    paper: "docs/STORAGE.md (a server that lost its disk's promise recovers from the others)",
    description: "a server damaged by a storage fault has recovered once faults end",
    random: "after the healing period",
    exhaustive: null,
  },
  {
    name: "Commit within log",
    paper: "Figure 2 (AppendEntries receiver, rule 5: commitIndex = min(leaderCommit, index of last new entry))",
    description: "commitIndex ≤ the server's last log index",
    random: null,
    exhaustive: "every server, in every state",
  },
  {
    name: "Monotonic terms",
    paper: "§5.1; Figure 2 (currentTerm is persistent state)",
    description: "currentTerm never goes back, across restarts too",
    random: null,
    exhaustive: "every server, on every transition",
  },
] as const satisfies readonly InvariantInfo[];

type Entry = (typeof INVARIANT_CATALOGUE)[number];

/** Every invariant's name. */
export type InvariantName = Entry["name"];
/** The invariants the random mode checks (what a run's Violation may name). */
export type RandomInvariant = Extract<Entry, { random: string }>["name"];
/** The invariants the exhaustive mode checks. */
export type ExhaustiveInvariant = Extract<Entry, { exhaustive: string }>["name"];

export const RANDOM_INVARIANTS: readonly RandomInvariant[] = INVARIANT_CATALOGUE.filter((i) => i.random !== null).map((i) => i.name as RandomInvariant);
export const EXHAUSTIVE_INVARIANTS: readonly ExhaustiveInvariant[] = INVARIANT_CATALOGUE.filter((i) => i.exhaustive !== null).map((i) => i.name as ExhaustiveInvariant);

export function invariantInfo(name: InvariantName): InvariantInfo {
  return INVARIANT_CATALOGUE.find((i) => i.name === name)!;
}
