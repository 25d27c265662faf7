// Raft's safety properties (Figure 3 of the paper) and the course's run-time
// assertion, checked by the simulator after every step: Election Safety, Log
// Matching, Leader Completeness, State Machine Safety, Committed is forever,
// Monotonic indexes (a committed entry is on a majority of each
// voter set of the configuration it was counted under). Names, paper sections and what is checked: the one
// catalogue both modes share, invariant-catalogue.ts.
//
// The checks are incremental so that they stay cheap when run every step.

import type { RaftNode } from "../core/node.js";
import { EntryType, type Configuration, type Entry, type NodeId } from "../core/types.js";
import { decodeConfiguration } from "../core/configuration.js";
import type { RandomInvariant } from "./invariant-catalogue.js";
import { SimKv } from "./kv.js";

interface Known {
  readonly term: number;
  readonly data: Uint8Array;
}

type VoterSets = readonly (readonly NodeId[])[];

/** Counted from the configuration itself, not from the rules (a bug-zoo variant may count wrongly). */
function voterSets(raft: RaftNode): VoterSets {
  const cfg = raft.configuration;
  return cfg.outgoing.length > 0 ? [cfg.voters, cfg.outgoing] : [cfg.voters];
}

interface NodeState {
  /** The voter sets of its configuration when last observed. */
  sets: VoterSets;
  commitIndex: number;
  lastApplied: number;
  /** Log entries up to here were checked against `entries`; the entry object there, to notice a rewrite. */
  verifiedThrough: number;
  verifiedEntry: Entry | undefined;
}

export interface DiskView {
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  readonly entries: readonly Entry[];
  /** A storage fault may have taken entries up to here, and the server has not recovered yet; 0 when not damaged. */
  readonly lostThrough: number;
}

export class Invariants {
  private readonly leaders = new Map<number, NodeId>();
  private readonly committed = new Map<number, Known>();
  private readonly appliedAt = new Map<number, Known>();
  /** The state machine's state after applying each index, as the first server to get there saw it (SimKv.state). */
  private readonly stateAt = new Map<number, Uint8Array>();
  /** "index:term" -> the entry's data and the term before it: the inductive form of Log Matching. */
  private readonly entries = new Map<string, { data: Uint8Array; prevTerm: number | undefined }>();
  private readonly nodes = new Map<NodeId, NodeState>();
  /**
   * Entries committed since the last durability check, with the voter sets of
   * the configurations the server that committed them first (its leader)
   * had when it was last observed and now: the count was made under one of
   * them (a step may both commit and append a configuration).
   */
  private newlyCommitted: { index: number; configs: readonly VoterSets[] }[] = [];

  constructor(private readonly fail: (invariant: RandomInvariant, message: string, entry?: { index: number; term: number }) => void) {}

  restarted(id: NodeId, raft: RaftNode): void {
    this.nodes.set(id, { sets: voterSets(raft), commitIndex: raft.commitIndex, lastApplied: raft.lastApplied, verifiedThrough: 0, verifiedEntry: undefined });
  }

  crashed(id: NodeId): void {
    this.nodes.delete(id);
  }

  /** Election Safety; checked whenever a leader's role or term may have changed. */
  private checkLeader(id: NodeId, raft: RaftNode): boolean {
    if (raft.role !== "leader") return true;
    const other = this.leaders.get(raft.currentTerm);
    if (other !== undefined && other !== id) {
      this.fail("Election Safety", `n${id} and n${other} are both leaders of term ${raft.currentTerm}`);
      return false;
    }
    this.leaders.set(raft.currentTerm, id);
    return true;
  }

  roleChanged(id: NodeId, raft: RaftNode): void {
    if (raft.role !== "leader" || !this.checkLeader(id, raft)) return;
    for (const [index, k] of this.committed) {
      if (index <= raft.log.snapshotIndex) continue;
      if (raft.log.term(index) !== k.term) {
        this.fail("Leader Completeness", `n${id} became leader of term ${raft.currentTerm} without committed entry ${index}@${k.term} (has ${raft.log.term(index) ?? "nothing"})`, { index, term: k.term });
        return;
      }
    }
  }

  afterStep(id: NodeId, raft: RaftNode): void {
    const st = this.nodes.get(id);
    if (!st || !this.checkLeader(id, raft)) return;
    if (raft.commitIndex < st.commitIndex) return this.fail("Monotonic indexes", `n${id} commitIndex went back from ${st.commitIndex} to ${raft.commitIndex}`);
    if (raft.lastApplied < st.lastApplied) return this.fail("Monotonic indexes", `n${id} lastApplied went back from ${st.lastApplied} to ${raft.lastApplied}`);
    if (raft.lastApplied > raft.commitIndex) return this.fail("Monotonic indexes", `n${id} applied ${raft.lastApplied} > committed ${raft.commitIndex}`);
    for (let i = st.commitIndex + 1; i <= raft.commitIndex; i++) {
      const e = raft.log.entry(i);
      if (e) this.commit(id, e, [st.sets, voterSets(raft)]);
    }
    st.sets = voterSets(raft);
    st.commitIndex = raft.commitIndex;
    st.lastApplied = raft.lastApplied;
    this.checkLogMatching(id, raft, st);
  }

  /** The latest configuration entry known committed (null: the bootstrap configuration): storage faults are bounded by its voter sets. */
  private latestCommittedConfig: { index: number; config: Configuration } | null = null;

  get committedConfiguration(): Configuration | null {
    return this.latestCommittedConfig?.config ?? null;
  }

  private commit(id: NodeId, e: Entry, configs: readonly VoterSets[]): void {
    const k = this.committed.get(e.index);
    if (!k) {
      this.committed.set(e.index, { term: e.term, data: e.data });
      if (e.type === EntryType.Config && e.index > (this.latestCommittedConfig?.index ?? 0)) this.latestCommittedConfig = { index: e.index, config: decodeConfiguration(e.data) };
      this.newlyCommitted.push({ index: e.index, configs });
    } else if (k.term !== e.term || !bytesEqual(k.data, e.data)) {
      this.fail("Committed is forever", `n${id} committed ${e.index}@${e.term}, but ${e.index}@${k.term} was committed before`, { index: e.index, term: e.term });
    }
  }

  applied(id: NodeId, e: Entry): void {
    const k = this.appliedAt.get(e.index);
    if (!k) this.appliedAt.set(e.index, { term: e.term, data: e.data });
    else if (k.term !== e.term || !bytesEqual(k.data, e.data))
      this.fail("State Machine Safety", `n${id} applied ${e.index}@${e.term}, another server applied ${e.index}@${k.term}`, { index: e.index, term: e.term });
  }

  /**
   * State Machine Safety for whole states: every server's state machine after
   * index i is the same, whether it got there by applying entries or by
   * installing a snapshot.
   */
  stateAfter(id: NodeId, index: number, state: Uint8Array, how: "applied" | "snapshot"): void {
    const known = this.stateAt.get(index);
    if (known === undefined) this.stateAt.set(index, state);
    else if (Buffer.compare(known, state) !== 0) {
      const [mine, theirs] = [SimKv.describe(state), SimKv.describe(known)];
      const same = mine === theirs ? " (the same keys and values: they differ in versions, sessions or log time)" : "";
      this.fail("State Machine Safety", `n${id}'s state after index ${index} (${how}) is ${mine}, another server's was ${theirs}${same}`);
    }
  }

  diskTruncated(id: NodeId, removed: readonly Entry[]): void {
    for (const e of removed) {
      const k = this.committed.get(e.index);
      if (k && k.term === e.term) {
        this.fail("Committed is forever", `n${id} removed committed entry ${e.index}@${e.term} from its disk`, { index: e.index, term: e.term });
        return;
      }
    }
  }

  /** Whether anything was committed since the last durability check (the check has nothing to do otherwise). */
  get hasNewlyCommitted(): boolean {
    return this.newlyCommitted.length > 0;
  }

  /** Every entry committed since the last call must be on a majority of disks. */
  checkDurability(disks: ReadonlyMap<NodeId, DiskView>): void {
    for (const { index, configs } of this.newlyCommitted) {
      const term = this.committed.get(index)!.term;
      const holds = (id: NodeId): boolean => {
        const d = disks.get(id);
        return d !== undefined && (d.snapshotIndex >= index || d.entries[index - d.snapshotIndex - 1]?.term === term || d.lostThrough >= index);
      };
      const short = (sets: VoterSets) => sets.find((set) => set.filter(holds).length < Math.floor(set.length / 2) + 1);
      const failed = configs.map(short);
      if (failed.every((set) => set !== undefined)) {
        const set = failed.at(-1)!;
        this.fail("Committed is forever", `entry ${index}@${term} was committed while only ${set.filter(holds).length} disk(s) of the voters ${set.join(",")} held it`, { index, term });
        return;
      }
    }
    this.newlyCommitted = [];
  }

  private checkLogMatching(id: NodeId, raft: RaftNode, st: NodeState): void {
    const log = raft.log;
    const last = log.lastIndex();
    const rewritten = st.verifiedThrough > last || (st.verifiedThrough > log.snapshotIndex && log.entry(st.verifiedThrough) !== st.verifiedEntry);
    const from = rewritten ? log.firstIndex() : Math.max(st.verifiedThrough + 1, log.firstIndex());
    for (let i = from; i <= last; i++) {
      const e = log.entry(i)!;
      const prevTerm = log.term(i - 1);
      const key = `${i}:${e.term}`;
      const k = this.entries.get(key);
      if (!k) {
        this.entries.set(key, { data: e.data, prevTerm });
      } else if (!bytesEqual(k.data, e.data) || (prevTerm !== undefined && k.prevTerm !== undefined && k.prevTerm !== prevTerm)) {
        this.fail("Log Matching", `n${id} holds entry ${key} that differs from another server's entry ${key} (or what precedes it)`);
        return;
      }
    }
    st.verifiedThrough = last;
    st.verifiedEntry = log.entry(last);
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
