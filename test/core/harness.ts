// A tiny, fully controlled world for unit tests of the core: messages wait in
// a list until the test delivers them, persistence is instantaneous, and each
// node's election timeout is fixed by the test.

import { RaftNode, type RaftConfig, type ReadResult, type RestoredState, type Snapshot } from "../../src/core/node.js";
import { EntryType, type Entry, type Message, type NodeId } from "../../src/core/types.js";

export interface HarnessOptions {
  /** Election timeout (ticks) per node id; default 10 + 2 * id. */
  timeouts?: Record<number, number>;
  preVote?: boolean;
  checkQuorum?: boolean;
  heartbeatTicks?: number;
  maxInflight?: number;
  maxBytesPerAppend?: number;
  snapshotChunkBytes?: number;
  /** Give every node incarnation 1 to start with (RaftConfig.incarnation); default: none (0). */
  incarnations?: boolean;
}

export class Harness {
  readonly nodes = new Map<NodeId, RaftNode>();
  /** Messages sent and not yet delivered or dropped. */
  inflight: Message[] = [];
  readonly applied = new Map<NodeId, Entry[]>();
  readonly reads = new Map<NodeId, ReadResult[]>();
  /** Snapshots each node was told to install, in order. */
  readonly installed = new Map<NodeId, Snapshot[]>();
  /** Incarnation per node, when a test sets one (RaftConfig.incarnation); restartWith() counts it up. */
  readonly incarnations = new Map<NodeId, number>();

  /** The bootstrap configuration's voters (RaftConfig.members): the servers the harness started with. */
  readonly bootstrap: readonly NodeId[];

  constructor(
    readonly ids: NodeId[],
    readonly opts: HarnessOptions = {},
  ) {
    this.bootstrap = [...ids];
    if (opts.incarnations) for (const id of ids) this.incarnations.set(id, 1);
    for (const id of ids) this.nodes.set(id, this.makeNode(id));
  }

  config(id: NodeId): RaftConfig {
    const timeout = this.opts.timeouts?.[id] ?? 10 + 2 * id;
    return {
      id,
      members: this.bootstrap,
      electionTimeoutTicks: [timeout, timeout + 1],
      heartbeatTicks: this.opts.heartbeatTicks ?? 3,
      random: () => 0,
      preVote: this.opts.preVote ?? true,
      checkQuorum: this.opts.checkQuorum ?? true,
      maxInflight: this.opts.maxInflight ?? 64,
      maxBytesPerAppend: this.opts.maxBytesPerAppend ?? 1 << 20,
      snapshotChunkBytes: this.opts.snapshotChunkBytes ?? 1 << 20,
      ...(this.incarnations.has(id) && { incarnation: this.incarnations.get(id)! }),
    };
  }

  private makeNode(id: NodeId): RaftNode {
    this.applied.set(id, []);
    this.reads.set(id, []);
    return new RaftNode(this.config(id));
  }

  /**
   * A new, empty server joining the cluster (membership): it knows the
   * bootstrap members but is not one of them, so it waits for a leader.
   */
  join(id: NodeId): RaftNode {
    this.ids.push(id);
    this.applied.set(id, []);
    this.reads.set(id, []);
    const n = new RaftNode(this.config(id));
    this.nodes.set(id, n);
    return n;
  }

  /** Crash and restart: a new RaftNode from what `id` had persisted (everything, since flush persists). */
  restart(id: NodeId): RaftNode {
    const old = this.node(id);
    const n = new RaftNode(this.config(id), {
      hardState: { currentTerm: old.currentTerm, votedFor: old.votedFor },
      entries: old.log.slice(old.log.firstIndex(), old.log.lastIndex() + 1),
      snapshot: null,
    });
    this.nodes.set(id, n);
    this.inflight = this.inflight.filter((m) => m.to !== id && m.from !== id);
    return n;
  }

  /**
   * Crash and restart with the given durable state: what a damaged disk
   * gave back (docs/STORAGE.md). The node's incarnation goes up by one.
   */
  restartWith(id: NodeId, restored: RestoredState): RaftNode {
    this.incarnations.set(id, (this.incarnations.get(id) ?? 1) + 1);
    const n = new RaftNode(this.config(id), restored);
    this.nodes.set(id, n);
    this.inflight = this.inflight.filter((m) => m.to !== id && m.from !== id);
    return n;
  }

  node(id: NodeId): RaftNode {
    return this.nodes.get(id)!;
  }

  /** Runs ready/advance on every node: outgoing messages join `inflight`. */
  flush(): void {
    for (const [id, n] of this.nodes) {
      while (n.hasReady()) {
        const rd = n.ready();
        this.inflight.push(...rd.messages);
        this.applied.get(id)!.push(...rd.committed);
        this.reads.get(id)!.push(...rd.reads);
        if (rd.snapshot) (this.installed.get(id) ?? this.installed.set(id, []).get(id)!).push(rd.snapshot);
        n.advance();
      }
    }
  }

  /** Delivers (and removes) the in-flight messages matching `filter`; returns them. */
  deliver(filter: (m: Message) => boolean = () => true): Message[] {
    this.flush();
    const now = this.inflight.filter(filter);
    this.inflight = this.inflight.filter((m) => !filter(m));
    for (const m of now) this.nodes.get(m.to)?.step(m);
    this.flush();
    return now;
  }

  /** Delivers messages until none is left (those matching `drop` are lost instead). */
  settle(drop: (m: Message) => boolean = () => false, maxRounds = 1000): void {
    for (let i = 0; i < maxRounds; i++) {
      this.flush();
      if (this.inflight.length === 0) return;
      this.inflight = this.inflight.filter((m) => !drop(m));
      this.deliver();
    }
    throw new Error("settle: messages still flowing after maxRounds");
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.node(id).tick();
    this.flush();
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) for (const n of this.nodes.values()) n.tick();
    this.flush();
  }

  /** Ticks node `id` until its election timeout fires, then settles: returns the leader. */
  elect(id: NodeId): RaftNode {
    const n = this.node(id);
    for (let i = 0; i < 1000 && n.role !== "leader"; i++) {
      n.tick();
      this.settle();
    }
    if (n.role !== "leader") throw new Error(`node ${id} did not become leader`);
    return n;
  }

  leaders(): RaftNode[] {
    return [...this.nodes.values()].filter((n) => n.role === "leader");
  }

  /** Command payloads applied at `id`, as strings (no-ops left out). */
  appliedData(id: NodeId): string[] {
    return this.applied
      .get(id)!
      .filter((e) => e.type === EntryType.Normal)
      .map((e) => new TextDecoder().decode(e.data));
  }
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
