// `raftkv/server`: the node runtime for any replicated state machine.
//
// Give it a state machine (apply, snapshot, restore) and a cluster file; it
// runs one node of a replicated service on the same machinery as raftkv's
// key-value store: the Raft core, the write-ahead log with its recovery, the
// TCP peer transport, snapshots, and the admin port (/status, /metrics, the
// dashboard). How your clients reach the service is yours: listen on the
// node's `client` address with whatever protocol you like, and call
// propose() and read(). docs/LIBRARY.md walks through it.

import { join } from "node:path";
import type { NodeId, Role } from "../core/types.js";
import type { NodeStatus } from "../kv/info.js";
import type { Reply } from "../resp/writer.js";
import { silentLogger, type Logger } from "../util/log.js";
import { AdminPort } from "./admin.js";
import { type ClusterConfig, loadClusterFile, nodeById, type NodeAddresses } from "./config.js";
import { loadNodeCredentials } from "./credentials.js";
import { RaftServer, type ServerStateMachine } from "./server.js";
import type { StatusJson } from "../util/status-json.js";

/**
 * Your state machine. Every node applies the same commands in the same
 * order, so apply() must depend only on the state and the command: no
 * clock, no randomness, no I/O. What it returns (or throws) is what
 * propose() gives the node that proposed the command.
 */
export interface StateMachine<Result = unknown> {
  apply(command: Buffer, index: number): Result;
  /** The whole state as bytes; restore() of them must give the same state. */
  snapshot(): Uint8Array;
  restore(data: Uint8Array): void;
}

export interface ReplicatedNodeOptions<M extends StateMachine> {
  /**
   * The cluster file's path, or its contents already loaded (loadClusterFile).
   * Its secretFile and "tls" authenticate (and encrypt) the peer port, and its
   * adminTokenFile guards the admin port's state-changing requests, as for
   * `raftkv server` (docs/SECURITY.md); a file named there that cannot be
   * read, or is not what it should be, is a ConfigError at start.
   */
  readonly cluster: string | ClusterConfig;
  /** This node's id in the cluster file. */
  readonly id: NodeId;
  /** Where this node keeps its log and snapshots. Default ./data/node-ID. */
  readonly dataDir?: string;
  readonly stateMachine: M;
  /** JSON-lines logging (createLogger); default none. */
  readonly logger?: Logger;
  /** Serve /status, /metrics and the dashboard on the node's admin address. Default true. */
  readonly admin?: boolean;
  /** How long propose() waits for its command to commit. Default 5000 ms. */
  readonly commitTimeoutMs?: number;
  /** Snapshot the state machine every this many applied entries (default: the cluster file's, else 10000). */
  readonly snapshotEvery?: number;
  /**
   * A new node for a running cluster (SPEC §10, like `raftkv server --join`):
   * the data directory must be empty; the node waits until the leader adds it
   * (POST /members on a member's admin port), then catches up.
   */
  readonly join?: boolean;
}

/** Not done: this node does not lead. `leader` is the one that does, when known; try there. */
export class NotLeaderError extends Error {
  override readonly name = "NotLeaderError";

  constructor(
    readonly leaderId: NodeId | null,
    readonly leader: NodeAddresses | null,
  ) {
    super(leaderId === null ? "this node is not the leader, and no leader is known right now" : `this node is not the leader; node ${leaderId} is`);
  }
}

/** The command was proposed but its commit was not seen (timeout, shutdown): it may or may not have been applied. */
export class OutcomeUnknownError extends Error {
  override readonly name = "OutcomeUnknownError";
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

/** Presents a StateMachine to the runtime, keeping each command's result beside the reply the runtime passes along. */
class Adapter<M extends StateMachine> implements ServerStateMachine {
  readonly outcomes = new WeakMap<Reply, Outcome>();
  private applied = 0;

  constructor(readonly user: M) {}

  get size(): number {
    return this.applied;
  }

  apply(index: number, command: Uint8Array): Reply {
    // A fresh reply object per command: the runtime hands this very object to the proposer's waiter.
    const reply: Reply = { kind: "simple", value: "OK" };
    const data = Buffer.from(command.buffer, command.byteOffset, command.byteLength);
    try {
      this.outcomes.set(reply, { ok: true, value: this.user.apply(data, index) });
    } catch (error) {
      this.outcomes.set(reply, { ok: false, error });
    }
    this.applied++;
    return reply;
  }

  snapshot(): Uint8Array {
    return this.user.snapshot();
  }

  restore(data: Uint8Array): void {
    this.user.restore(data);
  }

  /** A read's result travels the same way. */
  run(query: (sm: M) => unknown): Reply {
    const reply: Reply = { kind: "simple", value: "OK" };
    try {
      this.outcomes.set(reply, { ok: true, value: query(this.user) });
    } catch (error) {
      this.outcomes.set(reply, { ok: false, error });
    }
    return reply;
  }
}

/** One running node of a replicated service. */
export class ReplicatedNode<M extends StateMachine> {
  private constructor(
    private readonly server: RaftServer<Adapter<M>>,
    private readonly adapter: Adapter<M>,
    private readonly admin: AdminPort | null,
  ) {}

  /** Starts the node: opens (and if need be recovers) its data directory, restores the last snapshot, connects to its peers. */
  static async start<M extends StateMachine>(o: ReplicatedNodeOptions<M>): Promise<ReplicatedNode<M>> {
    const config = typeof o.cluster === "string" ? loadClusterFile(o.cluster) : o.cluster;
    const self = nodeById(config, o.id);
    const credentials = loadNodeCredentials(config, o.id);
    const logger = o.logger ?? silentLogger;
    const adapter = new Adapter(o.stateMachine);
    const server = new RaftServer<Adapter<M>>({
      config,
      id: o.id,
      peerSecret: credentials.peerSecret,
      peerTls: credentials.tls,
      dataDir: o.dataDir ?? join("data", `node-${o.id}`),
      logger,
      stateMachine: adapter,
      ...(o.commitTimeoutMs !== undefined && { commitTimeoutMs: o.commitTimeoutMs }),
      ...(o.snapshotEvery !== undefined && { snapshotEvery: o.snapshotEvery }),
      ...(o.join === true && { join: true }),
    });
    await server.start();
    const admin = o.admin === false ? null : new AdminPort(server, self.admin, logger, () => 0, { token: credentials.adminToken });
    try {
      await admin?.start();
    } catch (err) {
      await server.stop();
      throw err;
    }
    return new ReplicatedNode(server, adapter, admin);
  }

  get id(): NodeId {
    return this.server.id;
  }

  /** This node's addresses in the cluster file (listen on `client` for your own clients). */
  get addresses(): NodeAddresses {
    return this.server.self;
  }

  get role(): Role {
    return this.server.role;
  }

  get term(): number {
    return this.server.term ?? 0;
  }

  /** The leader this node knows of, if any. */
  get leaderId(): NodeId | null {
    return this.server.leaderId;
  }

  /** The leader's addresses, if one is known: where to send a client this node cannot serve. */
  get leader(): NodeAddresses | null {
    const id = this.server.leaderId;
    return id === null ? null : this.server.addressesOf(id);
  }

  /** The state machine, for reads that need not be linearizable (this node's state, possibly behind the leader's). */
  get stateMachine(): M {
    return this.adapter.user;
  }

  /**
   * Replicates `command` and applies it on every node; resolves with what
   * apply() returned on this node once the command is committed (on a
   * majority of disks) and applied. Throws NotLeaderError when this node does
   * not lead (nothing was done), OutcomeUnknownError when the commit was not
   * seen in time, and whatever apply() threw.
   */
  async propose(command: Uint8Array | string): Promise<ReturnType<M["apply"]>> {
    const bytes = typeof command === "string" ? Buffer.from(command, "utf8") : command;
    return (await this.settle(await this.server.execute({ kind: "write", command: bytes }))) as ReturnType<M["apply"]>;
  }

  /**
   * Runs `query` on this node's state machine once the node has confirmed
   * with a majority that it still leads and has applied everything committed
   * before the call (read index): a linearizable read. Throws NotLeaderError
   * on a node that does not lead.
   */
  async read<T>(query: (sm: M) => T): Promise<T> {
    return (await this.settle(await this.server.execute({ kind: "read", run: (sm) => sm.run(query) }))) as T;
  }

  /** Hands leadership to another node (the most up-to-date one, or `to`); resolves with the new leader, or null. */
  transferLeadership(to: NodeId | null = null): Promise<NodeId | null> {
    return this.server.handOffLeadership(2000, to, true);
  }

  /** The node's Raft state: what GET /status answers. */
  status(): StatusJson {
    return this.server.status();
  }

  /** Stops the node cleanly: a leader first hands its leadership over; the log is closed. */
  async stop(): Promise<void> {
    await this.server.handOffLeadership(600, null, true).catch(() => null);
    await this.admin?.close();
    await this.server.stop();
  }

  private settle(reply: Reply): unknown {
    const outcome = this.adapter.outcomes.get(reply);
    if (outcome) {
      if (outcome.ok) return outcome.value;
      throw outcome.error;
    }
    // Not one of ours: the runtime's own answer (not leader, timeout, shutting down).
    const message = reply.kind === "error" ? reply.message : `unexpected reply ${reply.kind}`;
    if (message.startsWith("MOVED") || message.startsWith("CLUSTERDOWN")) throw new NotLeaderError(this.server.leaderId, this.leader);
    if (message.startsWith("TIMEOUT")) throw new OutcomeUnknownError(message.replace(/^TIMEOUT /, ""));
    throw new Error(message);
  }
}

/** Starts one node of a replicated service; see ReplicatedNode. */
export function startNode<M extends StateMachine>(options: ReplicatedNodeOptions<M>): Promise<ReplicatedNode<M>> {
  return ReplicatedNode.start(options);
}

export type { NodeStatus };
