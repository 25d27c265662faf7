// Scripted interaction tests (test/core/testdata/*.txt; how to read and
// write them: test/core/testdata/README.md). A script is a story told in
// commands — a cluster, ticks, proposals, messages delivered one by one —
// and under each command the transcript of what happened, message by
// message, which must match exactly. The idea is etcd-io/raft's datadriven
// interaction tests; the command language and the format are this project's.
//
// The runner is a driver like the server or the simulator: it uses only the
// core's public API (the constructor, tick, step, propose, read,
// transferLeadership, compact, hasReady/ready/advance, status). Everything a
// Ready asks to persist goes to an in-memory "disk" at once, and a restart
// builds a new RaftNode from that disk, as the server does from its WAL.

import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { RaftNode, type NodeStatus, type RaftConfig, type Ready, type RestoredState, type Snapshot } from "../../src/core/node.js";
import { EntryType, type Entry, type HardState, type Message, type NodeId } from "../../src/core/types.js";

// ---------------------------------------------------------------------------
// The file format
// ---------------------------------------------------------------------------

/** The source directory (the compiled test runs from dist/, the scripts stay in test/). */
export const TESTDATA = fileURLToPath(new URL(import.meta.url.includes("/dist/") ? "../../../test/core/testdata/" : "./testdata/", import.meta.url));

export const scriptFiles = (): string[] =>
  readdirSync(TESTDATA)
    .filter((f) => f.endsWith(".txt"))
    .sort();

/** One command of a script, with the transcript written under it. */
export interface Block {
  /** 1-based line of the command in the file. */
  readonly line: number;
  readonly command: string;
  readonly expected: readonly string[];
}

/** A script: comments and blank lines (kept verbatim on rewrite) and commands. */
export type Item = { readonly kind: "text"; readonly text: string } | ({ readonly kind: "block" } & Block);

export const SEPARATOR = "----";

/**
 * Parses a script. Lines that are blank or start with `#` are comments; any
 * other line is a command, followed by a `----` line and the expected
 * transcript, which ends at the next blank line (or the end of the file).
 */
export function parseScript(text: string): Item[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  const items: Item[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === "" || line.startsWith("#")) {
      items.push({ kind: "text", text: line });
      i++;
      continue;
    }
    if (lines[i + 1] !== SEPARATOR) throw new Error(`line ${i + 2}: expected "${SEPARATOR}" under the command "${line}"`);
    const expected: string[] = [];
    let j = i + 2;
    while (j < lines.length && lines[j]!.trim() !== "") expected.push(lines[j++]!);
    items.push({ kind: "block", line: i + 1, command: line, expected });
    i = j;
  }
  return items;
}

/** The script text with every command's transcript replaced by `actual` (REWRITE=1). */
export function renderScript(items: readonly Item[], actual: readonly (readonly string[])[]): string {
  const out: string[] = [];
  let b = 0;
  for (const it of items) {
    if (it.kind === "text") out.push(it.text);
    else out.push(it.command, SEPARATOR, ...actual[b++]!);
  }
  return out.join("\n") + "\n";
}

/** What running a script found. */
export interface ScriptResult {
  /** The transcript of every command, in order (fewer than the blocks if one threw). */
  readonly actual: string[][];
  /** Commands whose transcript differs from the expected one. */
  readonly mismatches: { readonly block: Block; readonly actual: readonly string[] }[];
}

/** Ways to run a script on a changed core: mutation checks switch a defence off here. */
export interface ScriptOptions {
  /** Adjusts every node's configuration after the script's knobs are applied. */
  readonly configure?: (config: RaftConfig) => RaftConfig;
  /** Builds a node (default: `new RaftNode(config, restored)`). */
  readonly makeNode?: (config: RaftConfig, restored: RestoredState | undefined) => RaftNode;
}

export function runScript(text: string, options: ScriptOptions = {}): ScriptResult {
  const items = parseScript(text);
  const world = new World(options);
  const actual: string[][] = [];
  const mismatches: { block: Block; actual: readonly string[] }[] = [];
  for (const it of items) {
    if (it.kind !== "block") continue;
    let out: string[];
    try {
      out = world.run(it.command);
    } catch (e) {
      throw new Error(`line ${it.line}: ${it.command}: ${(e as Error).message}`, { cause: e });
    }
    if (out.length === 0) out = ["ok"];
    actual.push(out);
    if (out.join("\n") !== it.expected.join("\n")) mismatches.push({ block: it, actual: out });
  }
  return { actual, mismatches };
}

// ---------------------------------------------------------------------------
// Formatting: one line per message, entry, node
// ---------------------------------------------------------------------------

const text = new TextDecoder();
const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

/** `5@2` is the entry at index 5 of term 2; `noop` marks a leader's no-op, and a command's data is quoted. */
export function formatEntry(e: Entry): string {
  if (e.type === EntryType.Noop) return `${e.index}@${e.term} noop`;
  return e.data.length === 0 ? `${e.index}@${e.term}` : `${e.index}@${e.term} ${JSON.stringify(text.decode(e.data))}`;
}

const entryList = (es: readonly Entry[]): string => `[${es.map(formatEntry).join(", ")}]`;

export function formatMessage(m: Message): string {
  const head = `${m.from}->${m.to}`;
  switch (m.type) {
    case "RequestVote":
      return `${head} ${m.preVote ? "PreVote" : "Vote"} term=${m.term} last=${m.lastLogIndex}@${m.lastLogTerm}${m.transfer ? " transfer" : ""}`;
    case "RequestVoteResponse":
      return `${head} ${m.preVote ? "PreVoteResp" : "VoteResp"} term=${m.term} ${m.voteGranted ? "granted" : "rejected"}`;
    case "AppendEntries":
      return `${head} App term=${m.term} prev=${m.prevLogIndex}@${m.prevLogTerm} commit=${m.leaderCommit} seq=${m.seq}${m.entries.length > 0 ? ` entries=${entryList(m.entries)}` : ""}`;
    case "AppendEntriesResponse": {
      const inc = m.incarnation !== 0 ? ` inc=${m.incarnation}` : "";
      if (m.success) return `${head} AppResp term=${m.term} ok match=${m.matchIndex} seq=${m.seq}${inc}`;
      const hint = m.conflictTerm === 0 ? `${m.conflictIndex}` : `${m.conflictIndex}@${m.conflictTerm}`;
      return `${head} AppResp term=${m.term} reject hint=${hint} seq=${m.seq}${inc}`;
    }
    case "InstallSnapshot":
      return `${head} Snap term=${m.term} snap=${m.lastIncludedIndex}@${m.lastIncludedTerm} offset=${m.offset} data=${JSON.stringify(text.decode(m.data))}${m.done ? " done" : ""} seq=${m.seq}`;
    case "InstallSnapshotResponse":
      return `${head} SnapResp term=${m.term} snap=${m.lastIncludedIndex} received=${m.received} match=${m.matchIndex} seq=${m.seq}${m.incarnation !== 0 ? ` inc=${m.incarnation}` : ""}`;
    case "TimeoutNow":
      return `${head} TimeoutNow term=${m.term}`;
    case "RecoveryQuery":
      return `${head} RecoveryQuery term=${m.term}`;
    case "RecoveryReply":
      return `${head} RecoveryReply term=${m.term} last=${m.lastLogIndex}${m.recovering ? " recovering" : ""}`;
    default: {
      // A message type this runner does not know yet: still deterministic.
      const { from, to, type, ...rest } = m as Message;
      return `${from}->${to} ${type} ${JSON.stringify(rest)}`;
    }
  }
}

/** Role, term, vote and leader: the line printed whenever one of them changes. */
function softLine(s: NodeStatus): string {
  return `${s.id}: ${s.role} term=${s.term} vote=${s.votedFor ?? "-"} leader=${s.leader ?? "-"}`;
}

// ---------------------------------------------------------------------------
// The world: nodes, their disks and state machines, and a network
// ---------------------------------------------------------------------------

/** What a node has persisted: exactly what its Readies asked for. */
interface Disk {
  /** null: lost (a storage fault; `restore N term=unknown`). A new disk holds term 0 and no vote. */
  hardState: HardState | null;
  entries: Entry[];
  snapshot: Snapshot | null;
}

/** Per-node configuration knobs (`cluster ... key=value`). */
interface Knobs {
  preVote: boolean;
  checkQuorum: boolean;
  election: number;
  /** Election timeouts are drawn from [election, election + spread). */
  spread: number;
  /** Seed of the node's random source; null: always the lowest timeout. */
  seed: number | null;
  heartbeat: number;
  maxInflight: number;
  maxAppendBytes: number;
  chunkBytes: number;
}

interface Server {
  node: RaftNode;
  up: boolean;
  knobs: Knobs;
  disk: Disk;
  /** The state machine: the commands applied, in order (a snapshot holds them joined by ","). */
  state: string[];
  /** The soft state last printed. */
  shown: string;
}

/** Which messages a command acts on: `from=1,2 to=3 type=App,AppResp n=1`. */
interface Filter {
  from?: Set<NodeId>;
  to?: Set<NodeId>;
  /** Messages from or to these nodes. */
  with?: Set<NodeId>;
  types?: Set<string>;
  /** At most this many messages. */
  n?: number;
}

const MESSAGE_TYPE_NAMES: Record<string, (m: Message) => boolean> = {
  Vote: (m) => m.type === "RequestVote" && !m.preVote,
  PreVote: (m) => m.type === "RequestVote" && m.preVote,
  VoteResp: (m) => m.type === "RequestVoteResponse" && !m.preVote,
  PreVoteResp: (m) => m.type === "RequestVoteResponse" && m.preVote,
  App: (m) => m.type === "AppendEntries",
  AppResp: (m) => m.type === "AppendEntriesResponse",
  Snap: (m) => m.type === "InstallSnapshot",
  SnapResp: (m) => m.type === "InstallSnapshotResponse",
  TimeoutNow: (m) => m.type === "TimeoutNow",
  RecoveryQuery: (m) => m.type === "RecoveryQuery",
  RecoveryReply: (m) => m.type === "RecoveryReply",
};

const FILTER_KEYS = ["from", "to", "with", "type", "n"];

/** Each command's plain arguments (min, max) and the key=value arguments it takes (null: checked by the command). */
const SIGNATURES: Record<string, readonly [number, number, readonly string[] | null]> = {
  cluster: [1, Infinity, null],
  restore: [1, 1, ["term", "vote", "log", "lost"]],
  tick: [1, 2, []],
  campaign: [1, 1, []],
  propose: [2, 2, []],
  read: [2, 2, []],
  transfer: [2, 2, []],
  compact: [2, 2, []],
  deliver: [0, 0, FILTER_KEYS],
  drop: [0, 0, FILTER_KEYS],
  stabilize: [0, 0, FILTER_KEYS],
  crash: [1, 1, []],
  restart: [1, 1, []],
  partition: [1, Infinity, []],
  heal: [0, 0, []],
  status: [0, Infinity, []],
  log: [0, Infinity, []],
  state: [0, Infinity, []],
  network: [0, 0, []],
};

const DEFAULT_KNOBS: Knobs = { preVote: true, checkQuorum: true, election: 10, spread: 1, seed: null, heartbeat: 3, maxInflight: 64, maxAppendBytes: 1 << 20, chunkBytes: 1 << 20 };

class World {
  private members: NodeId[] = [];
  private readonly servers = new Map<NodeId, Server>();
  /** Sent and not yet delivered, in the order they were sent. */
  private network: Message[] = [];
  /** Partition groups: a message between two different groups is lost. Empty: no partition. */
  private groups: Set<NodeId>[] = [];

  constructor(private readonly options: ScriptOptions) {}

  run(commandLine: string): string[] {
    const [name = "", ...words] = commandLine.trim().split(/\s+/);
    const args = parseArgs(words);
    const signature = SIGNATURES[name];
    if (signature === undefined) throw new Error(`unknown command "${name}" (${Object.keys(SIGNATURES).join(", ")})`);
    const [min, max, named] = signature;
    if (args.positional.length < min || args.positional.length > max) throw new Error(`${name}: expected ${min === max ? min : `${min} to ${max}`} plain arguments, got ${args.positional.length}`);
    if (named !== null) for (const key of args.named.keys()) if (!named.includes(key)) throw new Error(`${name}: unknown argument "${key}="${named.length > 0 ? ` (${named.join(", ")})` : ""}`);
    switch (name) {
      case "cluster":
        return this.cluster(args);
      case "restore":
        return this.restore(args);
      case "tick":
        return this.tick(args);
      case "campaign":
        return this.campaign(args);
      case "propose":
        return this.propose(args);
      case "read":
        return this.read(args);
      case "transfer":
        return this.transfer(args);
      case "compact":
        return this.compact(args);
      case "deliver":
        return this.deliver(this.filter(args));
      case "drop":
        return this.drop(this.filter(args));
      case "stabilize":
        return this.stabilize(this.filter(args));
      case "crash":
        return this.crash(args);
      case "restart":
        return this.restart(args);
      case "partition":
        return this.partition(args.positional);
      case "heal":
        this.groups = [];
        return [];
      case "status":
        return this.ids(args.positional, true).flatMap((id) => this.statusLines(id));
      case "log":
        return this.ids(args.positional, true).map((id) => this.logLine(id));
      case "state":
        return this.ids(args.positional, true).map((id) => `${id}: [${this.server(id).state.join(", ")}]`);
      case "network":
        return this.network.length === 0 ? ["(empty)"] : this.network.map(formatMessage);
      default:
        throw new Error(`unknown command "${name}"`);
    }
  }

  // -- setting up ----------------------------------------------------------

  /** `cluster 1 2 3 prevote=false checkquorum=true election=10,12,14 spread=1 seed=7 heartbeat=3 inflight=64 appbytes=1 chunk=4` */
  private cluster(args: Args): string[] {
    if (this.servers.size > 0) throw new Error("the cluster is already set up");
    this.members = args.positional.map(parseId);
    if (this.members.length === 0) throw new Error("cluster: name its members");
    const perNode = (key: string, parse: (s: string) => number | boolean): ((i: number) => number | boolean | undefined) => {
      const v = args.named.get(key);
      if (v === undefined) return () => undefined;
      const parts = v.split(",");
      if (parts.length !== 1 && parts.length !== this.members.length) throw new Error(`${key}: one value, or one per member`);
      return (i) => parse(parts.length === 1 ? parts[0]! : parts[i]!);
    };
    const knobs: [keyof Knobs, string, (s: string) => number | boolean][] = [
      ["preVote", "prevote", parseBool],
      ["checkQuorum", "checkquorum", parseBool],
      ["election", "election", parseNum],
      ["spread", "spread", parseNum],
      ["seed", "seed", parseNum],
      ["heartbeat", "heartbeat", parseNum],
      ["maxInflight", "inflight", parseNum],
      ["maxAppendBytes", "appbytes", parseNum],
      ["chunkBytes", "chunk", parseNum],
    ];
    for (const key of args.named.keys()) if (!knobs.some(([, k]) => k === key)) throw new Error(`cluster: unknown knob "${key}"`);
    this.members.forEach((id, i) => {
      const k: Knobs = { ...DEFAULT_KNOBS };
      for (const [field, key, parse] of knobs) {
        const v = perNode(key, parse)(i);
        if (v !== undefined) (k as unknown as Record<string, unknown>)[field] = v;
      }
      const disk: Disk = { hardState: { currentTerm: 0, votedFor: null }, entries: [], snapshot: null };
      this.servers.set(id, { node: this.makeNode(id, k, undefined), up: true, knobs: k, disk, state: [], shown: "" });
      this.servers.get(id)!.shown = softLine(this.servers.get(id)!.node.status());
    });
    return [];
  }

  /**
   * `restore 3 term=7 vote=1 log=1,1,1,4,4`: node 3 restarts from a disk
   * holding this hard state and these entries (their terms; index 1 first;
   * one the disk holds already keeps its data). What is not named stays as
   * it is on the disk. `term=unknown`: the term
   * and vote were lost (a storage fault); `lost=5@2`: the log may lack
   * acknowledged entries up to 5, of terms up to 2 (docs/STORAGE.md).
   */
  private restore(args: Args): string[] {
    const [id] = this.ids(args.positional, false);
    const s = this.server(id!);
    const log = args.named.get("log");
    if (log !== undefined) {
      const terms = log.split(",").filter((t) => t !== "").map(parseNum);
      // An entry the disk already holds at that index and term is kept as it is (a no-op stays one).
      const held = (index: number, term: number) => s.disk.entries.find((e) => e.index === index && e.term === term);
      s.disk.entries = terms.map((term, i) => held(i + 1, term) ?? { index: i + 1, term, type: EntryType.Normal, data: new Uint8Array(0) });
      s.disk.snapshot = null;
    }
    const term = args.named.get("term");
    const vote = args.named.get("vote");
    const lost = args.named.get("lost");
    if (term === "unknown") {
      if (vote !== undefined || lost !== undefined) throw new Error("restore: term=unknown leaves no vote or lost mark to set");
      s.disk.hardState = null;
    } else if (term !== undefined || vote !== undefined || lost !== undefined) {
      const old = s.disk.hardState ?? { currentTerm: 0, votedFor: null };
      const [through, lostTerm] = lost === undefined ? [] : lost.split("@").map(parseNum);
      s.disk.hardState = {
        currentTerm: term === undefined ? old.currentTerm : parseNum(term),
        votedFor: vote === undefined ? old.votedFor : vote === "-" ? null : parseId(vote),
        ...(lost !== undefined && { lost: { through: through!, term: lostTerm ?? 0 } }),
      };
    }
    this.network = this.network.filter((m) => m.to !== id);
    return this.boot(id!);
  }

  private makeNode(id: NodeId, k: Knobs, restored: RestoredState | undefined): RaftNode {
    let config: RaftConfig = {
      id,
      members: this.members,
      // Fixed timeouts unless the script asks for a spread and a seed: the script decides who times out first.
      electionTimeoutTicks: [k.election, k.election + k.spread],
      heartbeatTicks: k.heartbeat,
      random: k.seed === null ? () => 0 : randomSource(k.seed * 1000 + id),
      preVote: k.preVote,
      checkQuorum: k.checkQuorum,
      maxInflight: k.maxInflight,
      maxBytesPerAppend: k.maxAppendBytes,
      snapshotChunkBytes: k.chunkBytes,
    };
    if (this.options.configure) config = this.options.configure(config);
    return this.options.makeNode ? this.options.makeNode(config, restored) : new RaftNode(config, restored);
  }

  /** A new RaftNode from the disk; the state machine starts from the snapshot. */
  private boot(id: NodeId): string[] {
    const s = this.server(id);
    s.node = this.makeNode(id, s.knobs, { hardState: s.disk.hardState, entries: [...s.disk.entries], snapshot: s.disk.snapshot });
    s.up = true;
    s.state = s.disk.snapshot ? decodeState(s.disk.snapshot.data) : [];
    const st = s.node.status();
    s.shown = softLine(st);
    return [`${s.shown} (restored: last=${st.lastLogIndex}@${st.lastLogTerm} snap=${st.snapshotIndex})`, ...this.process(id)];
  }

  // -- inputs ----------------------------------------------------------------

  /** `tick 1 [n]`, `tick 1,2 [n]`, `tick all [n]`: n rounds, each ticking the nodes in order. */
  private tick(args: Args): string[] {
    // `all` means the nodes that are up; a node named explicitly must be up.
    const all = args.positional[0] === "all";
    const ids = this.ids(args.positional.slice(0, 1), false).filter((id) => !all || this.server(id).up);
    const n = args.positional[1] === undefined ? 1 : parseNum(args.positional[1]);
    const out: string[] = [];
    for (let k = 1; k <= n; k++) {
      for (const id of ids) {
        this.up(id);
        this.server(id).node.tick();
        const effects = this.process(id);
        if (effects.length > 0) out.push(`${id} tick ${k}:`, ...indent(effects));
      }
    }
    return out;
  }

  /** `campaign 1`: ticks node 1 until its election timeout fires (it asks for votes). */
  private campaign(args: Args): string[] {
    const [id] = this.ids(args.positional, false);
    const s = this.up(id!);
    if (s.node.status().role === "leader") throw new Error(`${id} is the leader`);
    for (let k = 1; k <= 10_000; k++) {
      const before = this.network.length;
      s.node.tick();
      const effects = this.process(id!);
      const asked = this.network.slice(before).some((m) => m.type === "RequestVote" || m.type === "RecoveryQuery");
      if (asked || s.node.status().role === "leader") return [`${id} tick ${k}:`, ...indent(effects)];
      if (effects.length > 0) throw new Error(`${id} did something else before its timeout: ${effects.join(" / ")}`);
    }
    throw new Error(`${id} never campaigned`);
  }

  /** `propose 1 data`: a client command at node 1. */
  private propose(args: Args): string[] {
    const [idWord, data = ""] = args.positional;
    const id = parseId(idWord!);
    if (data.includes(",")) throw new Error(`propose: no "," in a command (a snapshot joins commands with it)`);
    const s = this.up(id);
    const r = s.node.propose(encode(data));
    const head = r.ok ? `${id} propose ${JSON.stringify(data)}: index=${r.index} term=${r.term}` : `${id} propose ${JSON.stringify(data)}: refused leader=${r.leader ?? "-"}`;
    return [head, ...this.process(id)];
  }

  /** `read 1 7`: linearizable read number 7 at node 1 (its answer shows up as "1 read 7 ..."). */
  private read(args: Args): string[] {
    const id = parseId(args.positional[0]!);
    const s = this.up(id);
    s.node.read(parseNum(args.positional[1] ?? "1"));
    return this.process(id);
  }

  /** `transfer 1 2`: leader 1 hands leadership to 2 (thesis §3.10). */
  private transfer(args: Args): string[] {
    const [from, to] = args.positional.map(parseId);
    const s = this.up(from!);
    const ok = s.node.transferLeadership(to!);
    return [`${from} transfer to ${to}: ${ok ? "started" : "refused"}`, ...this.process(from!)];
  }

  /** `compact 1 5`: node 1's state machine takes a snapshot at index 5 (<= applied); the log up to there goes. */
  private compact(args: Args): string[] {
    const [id, index] = args.positional.map(parseNum);
    const s = this.up(id!);
    const st = s.node.status();
    if (index! > st.lastApplied) throw new Error(`compact: ${index} is not applied (applied=${st.lastApplied})`);
    // The state machine's state at `index`: the commands applied up to it.
    const upTo = this.stateAt(s, index!);
    const term = s.disk.entries.find((e) => e.index === index)?.term;
    if (term === undefined) throw new Error(`compact: entry ${index} is not on ${id}'s disk`);
    const data = encode(upTo.join(","));
    s.node.compact(index!, data);
    s.disk.snapshot = { lastIncludedIndex: index!, lastIncludedTerm: term, data, config: s.node.state().snapshot!.config };
    s.disk.entries = s.disk.entries.filter((e) => e.index > index!);
    return [`${id} snapshot ${index}@${term} data=${JSON.stringify(text.decode(data))}`, ...this.process(id!)];
  }

  /** The commands applied up to `index` (snapshot, then the commands after it on disk). */
  private stateAt(s: Server, index: number): string[] {
    const out = s.disk.snapshot ? decodeState(s.disk.snapshot.data) : [];
    for (const e of s.disk.entries) if (e.index <= index && e.type === EntryType.Normal && e.data.length > 0) out.push(text.decode(e.data));
    return out;
  }

  // -- the network -----------------------------------------------------------

  private filter(args: Args): Filter {
    const f: Filter = {};
    const ids = (v: string) => new Set(v.split(",").map(parseId));
    for (const [k, v] of args.named) {
      if (k === "from") f.from = ids(v);
      else if (k === "to") f.to = ids(v);
      else if (k === "with") f.with = ids(v);
      else if (k === "type") {
        f.types = new Set(v.split(","));
        for (const t of f.types) if (!(t in MESSAGE_TYPE_NAMES)) throw new Error(`unknown message type "${t}" (${Object.keys(MESSAGE_TYPE_NAMES).join(", ")})`);
      } else if (k === "n") f.n = parseNum(v);
      else throw new Error(`unknown filter "${k}"`);
    }
    if (args.positional.length > 0) throw new Error(`unexpected "${args.positional.join(" ")}" (filters are from= to= with= type= n=)`);
    return f;
  }

  private matches(f: Filter, m: Message): boolean {
    return (
      (!f.from || f.from.has(m.from)) &&
      (!f.to || f.to.has(m.to)) &&
      (!f.with || f.with.has(m.from) || f.with.has(m.to)) &&
      (!f.types || [...f.types].some((t) => MESSAGE_TYPE_NAMES[t]!(m)))
    );
  }

  /** Takes the queued messages matching `f` (at most f.n) off the network. */
  private take(f: Filter): Message[] {
    const taken: Message[] = [];
    const rest: Message[] = [];
    for (const m of this.network) {
      if ((f.n === undefined || taken.length < f.n) && this.matches(f, m)) taken.push(m);
      else rest.push(m);
    }
    this.network = rest;
    return taken;
  }

  /**
   * `deliver [filter]`: one round: every message queued now that matches is
   * delivered, in the order sent, each followed (indented) by what its
   * receiver did. Messages sent meanwhile wait for the next round.
   */
  private deliver(f: Filter): string[] {
    const out: string[] = [];
    for (const m of this.take(f)) {
      const lost = this.lostBecause(m);
      if (lost !== null) {
        out.push(`${formatMessage(m)} -- lost (${lost})`);
        continue;
      }
      this.server(m.to).node.step(m);
      out.push(formatMessage(m), ...indent(this.process(m.to)));
    }
    return out;
  }

  private lostBecause(m: Message): string | null {
    if (!this.servers.has(m.to)) return `${m.to} does not exist`;
    if (!this.server(m.to).up) return `${m.to} is down`;
    if (this.groups.length > 0 && this.groupOf(m.from) !== this.groupOf(m.to)) return "partition";
    return null;
  }

  private groupOf(id: NodeId): number {
    return this.groups.findIndex((g) => g.has(id));
  }

  /** `drop [filter]`: the matching queued messages are lost. */
  private drop(f: Filter): string[] {
    return this.take(f).map((m) => `${formatMessage(m)} -- dropped`);
  }

  /** `stabilize [filter]`: deliver rounds until no matching message is queued. */
  private stabilize(f: Filter): string[] {
    const out: string[] = [];
    for (let round = 0; round < 1000; round++) {
      if (!this.network.some((m) => this.matches(f, m))) return out;
      out.push(...this.deliver({ ...f, n: undefined }));
    }
    throw new Error("stabilize: still not quiet after 1000 rounds");
  }

  /** `partition 1 | 2 3`: messages between the groups are lost until `heal`. A node named nowhere is alone. */
  private partition(words: string[]): string[] {
    const groups: Set<NodeId>[] = [new Set()];
    for (const w of words) {
      if (w === "|") groups.push(new Set());
      else groups[groups.length - 1]!.add(parseId(w));
    }
    for (const id of this.members) if (!groups.some((g) => g.has(id))) groups.push(new Set([id]));
    this.groups = groups.filter((g) => g.size > 0);
    return [];
  }

  // -- crashes ---------------------------------------------------------------

  /** `crash 3`: node 3 stops; messages queued for it are lost. Its disk keeps everything it persisted. */
  private crash(args: Args): string[] {
    const [id] = this.ids(args.positional, false);
    this.up(id!).up = false;
    const lost = this.take({ to: new Set([id!]) });
    return lost.map((m) => `${formatMessage(m)} -- lost (${id} is down)`);
  }

  /** `restart 3`: node 3 starts again from its disk. */
  private restart(args: Args): string[] {
    const [id] = this.ids(args.positional, false);
    if (this.server(id!).up) throw new Error(`${id} is up; crash it first`);
    return this.boot(id!);
  }

  // -- output ----------------------------------------------------------------

  /**
   * Runs ready/advance until the node has nothing more to do, doing what each
   * Ready asks (persist to the disk, queue the messages, apply), and returns
   * what happened as transcript lines.
   */
  private process(id: NodeId): string[] {
    const s = this.server(id);
    const out: string[] = [];
    const soft = softLine(s.node.status());
    if (soft !== s.shown) {
      out.push(soft);
      s.shown = soft;
    }
    for (let guard = 0; s.node.hasReady(); guard++) {
      if (guard > 100) throw new Error(`${id}: hasReady() never becomes false`);
      const rd = s.node.ready();
      out.push(...this.persist(s, rd));
      for (const m of rd.messages) {
        // Nothing listens at a crashed node's address: the message is lost at once.
        const down = this.servers.get(m.to)?.up === false;
        out.push(down ? `${formatMessage(m)} -- lost (${m.to} is down)` : formatMessage(m));
        if (!down) this.network.push(m);
      }
      const applied = rd.committed;
      if (applied.length > 0) {
        out.push(`${id} applies ${entryList(applied)}`);
        for (const e of applied) if (e.type === EntryType.Normal && e.data.length > 0) s.state.push(text.decode(e.data));
      }
      for (const r of rd.reads) out.push(r.ok ? `${id} read ${r.id} ok index=${r.index}` : `${id} read ${r.id} refused leader=${r.leader ?? "-"}`);
      s.node.advance();
      // advance() can change what a later ready() reports (a leader's commit).
      const after = softLine(s.node.status());
      if (after !== s.shown) {
        out.push(after);
        s.shown = after;
      }
    }
    this.checkDisk(s);
    return out;
  }

  /**
   * Once a node has nothing left to do, what its Readies made the driver
   * persist must be what it says it holds: the log's end, and the term and
   * vote. A core that forgot to hand something to the driver fails here.
   */
  private checkDisk(s: Server): void {
    const st = s.node.status();
    const d = s.disk;
    const last = d.entries.length > 0 ? d.entries[d.entries.length - 1]! : null;
    const lastIndex = last?.index ?? d.snapshot?.lastIncludedIndex ?? 0;
    const lastTerm = last?.term ?? d.snapshot?.lastIncludedTerm ?? 0;
    const problems: string[] = [];
    if (lastIndex !== st.lastLogIndex || lastTerm !== st.lastLogTerm) problems.push(`disk log ends at ${lastIndex}@${lastTerm}, node at ${st.lastLogIndex}@${st.lastLogTerm}`);
    const hs = d.hardState;
    // While a server that lost its term and vote asks around, nothing is persisted.
    if (hs !== null && (hs.currentTerm !== st.term || hs.votedFor !== st.votedFor)) {
      problems.push(`disk has term ${hs.currentTerm} vote ${hs.votedFor ?? "-"}, node term ${st.term} vote ${st.votedFor ?? "-"}`);
    }
    if (problems.length > 0) throw new Error(`${st.id}: not everything was persisted: ${problems.join("; ")}`);
  }

  private persist(s: Server, rd: Ready): string[] {
    const out: string[] = [];
    const id = s.node.id;
    if (rd.hardState) s.disk.hardState = rd.hardState;
    if (rd.snapshot) {
      const snap = rd.snapshot;
      s.disk.snapshot = snap;
      s.disk.entries = [];
      s.state = decodeState(snap.data);
      out.push(`${id} installs snapshot ${snap.lastIncludedIndex}@${snap.lastIncludedTerm} data=${JSON.stringify(text.decode(snap.data))}`);
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index;
      const dropped = s.disk.entries.filter((e) => e.index >= first);
      // A rewrite of the same entries (after a snapshot install) is not a loss.
      const replaced = dropped.filter((e) => {
        const n = rd.entries.find((x) => x.index === e.index);
        return n === undefined || n.term !== e.term;
      });
      if (replaced.length > 0) out.push(`${id} drops ${entryList(replaced)}`);
      s.disk.entries = [...s.disk.entries.filter((e) => e.index < first), ...rd.entries];
    }
    return out;
  }

  private statusLines(id: NodeId): string[] {
    const s = this.server(id);
    if (!s.up) return [`${id}: down`];
    const st = s.node.status();
    const rec = st.recovery ? ` recovery=${JSON.stringify(st.recovery)}` : "";
    const lines = [`${softLine(st)} commit=${st.commitIndex} applied=${st.lastApplied} last=${st.lastLogIndex}@${st.lastLogTerm} snap=${st.snapshotIndex}${rec}`];
    for (const p of [...st.peers].sort((a, b) => a.id - b.id)) lines.push(`  ${id}->${p.id} ${p.state} match=${p.matchIndex} next=${p.nextIndex}`);
    return lines;
  }

  /** The log as it is on the node's disk (what a restart would find). */
  private logLine(id: NodeId): string {
    const d = this.server(id).disk;
    const parts: string[] = [];
    if (d.snapshot) parts.push(`snap=${d.snapshot.lastIncludedIndex}@${d.snapshot.lastIncludedTerm}`);
    parts.push(...d.entries.map(formatEntry));
    return `${id}: ${parts.length === 0 ? "(empty)" : parts.join(" ")}`;
  }

  // -- helpers ---------------------------------------------------------------

  private server(id: NodeId): Server {
    const s = this.servers.get(id);
    if (!s) throw new Error(`no node ${id}`);
    return s;
  }

  private up(id: NodeId): Server {
    const s = this.server(id);
    if (!s.up) throw new Error(`${id} is down`);
    return s;
  }

  /** Node ids from `1`, `1,2`, `all` or nothing (all, when `emptyIsAll`). */
  private ids(words: readonly string[], emptyIsAll: boolean): NodeId[] {
    if (words.length === 0) {
      if (emptyIsAll) return [...this.members];
      throw new Error("name a node");
    }
    if (words.length === 1 && words[0] === "all") return [...this.members];
    const ids = words.flatMap((w) => w.split(",")).map(parseId);
    for (const id of ids) this.server(id);
    return ids;
  }
}

interface Args {
  readonly positional: string[];
  readonly named: Map<string, string>;
}

function parseArgs(words: readonly string[]): Args {
  const positional: string[] = [];
  const named = new Map<string, string>();
  for (const w of words) {
    const eq = w.indexOf("=");
    if (eq > 0) named.set(w.slice(0, eq), w.slice(eq + 1));
    else positional.push(w);
  }
  return { positional, named };
}

function parseNum(s: string): number {
  if (!/^\d+$/.test(s)) throw new Error(`not a number: "${s}"`);
  return Number(s);
}

function parseId(s: string): NodeId {
  const n = parseNum(s);
  if (n === 0) throw new Error("node ids start at 1");
  return n;
}

function parseBool(s: string): boolean {
  if (s !== "true" && s !== "false") throw new Error(`not true/false: "${s}"`);
  return s === "true";
}

function decodeState(data: Uint8Array): string[] {
  const s = text.decode(data);
  return s === "" ? [] : s.split(",");
}

/** A small deterministic PRNG (mulberry32): the same seed gives the same timeouts on any machine. */
function randomSource(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const x = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(x * n);
  };
}

const indent = (lines: readonly string[]): string[] => lines.map((l) => `  ${l}`);
