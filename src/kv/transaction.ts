// A client connection's transaction state (Redis's multi.c): MULTI queues
// commands, EXEC runs them as ONE log entry (all or nothing, nothing else in
// between, on every replica), DISCARD drops them; WATCH makes EXEC do
// nothing (nil array) when a watched key changed in between.
//
// WATCH is a linearizable read of each key's version (the log index of its
// last change; 0 when it does not exist). EXEC's entry carries those
// versions, and the state machine checks them when it applies the entry, at
// its place in the log, so every replica decides alike. A key that did not
// exist at WATCH and does not exist at EXEC counts as unchanged even if it
// was made and removed in between (Redis would abort; docs/REDIS.md).
//
// Commands are planned as they arrive (pipelined), but WATCH's read is
// answered later: EXEC builds its entry only when the server proposes it
// (`command` is a getter), by which time the connection's earlier commands
// have been answered. A WATCH that failed (the node lost its leadership)
// makes its EXEC fail as if the key had changed.

import { array, errorReply, OK, simple, type Reply } from "../resp/writer.js";
import { decodeCommand, encodeCommand, encodeSessionCommand, type TransactionItem } from "./command.js";
import type { NodeStatus } from "./info.js";
import { readPlan, replyPlan, writePlan, type Plan } from "./plan.js";
import { sessionOf } from "./sessionCommands.js";
import type { CommandPlanner } from "./planner.js";
import type { KvStateMachine } from "./stateMachine.js";

const QUEUED = simple("QUEUED");
/**
 * Most bytes of arguments one transaction may queue: its log entry must stay
 * well under the peer transport's frame limit (64 MiB), or it could never be
 * replicated. Past it the transaction is refused (and discarded at EXEC).
 */
export const MAX_TRANSACTION_BYTES = 32 * 1024 * 1024;
const EXECABORT = errorReply("EXECABORT Transaction discarded because of previous errors.");
const EMPTY = array([]);
type ReadRun = (sm: KvStateMachine) => Reply;

/**
 * What INFO sees of the node inside a transaction (it runs while the entry
 * applies, where the node's status is not at hand): a leader, since only
 * the proposing leader's replies reach a client. docs/REDIS.md.
 */
const IN_TRANSACTION: NodeStatus = { id: 0, role: "leader", term: 0, leaderId: null, commitIndex: 0, lastApplied: 0 };

interface Watch {
  /** Which EXEC it is for: the connection's generation when WATCH came. */
  readonly generation: number;
  readonly key: Buffer;
  /** null until WATCH's read ran. */
  version: number | null;
}

export class ClientConnection {
  /** null: not in MULTI. */
  private queue: Buffer[][] | null = null;
  private failed = false;
  private queuedBytes = 0;
  /** Bumped by EXEC, DISCARD and UNWATCH: each ends the watches before it. */
  private generation = 0;
  private watches: Watch[] = [];
  /** Generations of EXECs planned but not yet proposed (their watches must stay). */
  private readonly pending = new Set<number>();

  /**
   * `deny(name)`: the refusal of a command this connection's user may not
   * run (Redis's ACL check, before the command is queued or run), or null.
   */
  constructor(
    private readonly planner: CommandPlanner,
    private readonly deny: (name: string) => Reply | null = () => null,
  ) {}

  get inTransaction(): boolean {
    return this.queue !== null;
  }

  plan(args: readonly Buffer[]): Plan {
    const spec = this.planner.lookup(args);
    if ("kind" in spec && spec.kind === "error" && args[0]!.length === 4 && args[0]!.toString("latin1").toLowerCase() === "exec") {
      // Redis's execCommandAbort: an EXEC refused ends the transaction and the watches, in MULTI or not.
      this.queue = null;
      this.failed = false;
      this.unwatch();
      return replyPlan(errorReply(`EXECABORT Transaction discarded because of: ${spec.message.replace(/^ERR /, "")}`));
    }
    if ("kind" in spec) {
      // Unknown command or wrong arity: refused now, and the transaction with it.
      if (this.queue !== null) this.failed = true;
      return replyPlan(spec);
    }
    const name = spec.name;
    const refusal = this.deny(name) ?? (name === "raftkv.session" && args.length > 3 ? this.denyInner(args.slice(3)) : null);
    if (refusal !== null) {
      // As Redis: refused, and a transaction it was meant for is discarded at EXEC.
      if (this.queue !== null) this.failed = true;
      return replyPlan(refusal);
    }
    if (name === "raftkv.session" && args.length === 4 && args[3]!.length === 4 && args[3]!.toString("latin1").toLowerCase() === "exec") {
      // RAFTKV.SESSION id seq EXEC: in MULTI, EXEC at most once under the
      // session; outside, what became of that EXEC (the resolve command).
      const session = sessionOf(args);
      if ("kind" in session) {
        if (this.queue !== null) this.failed = true;
        return session;
      }
      if (this.queue !== null) return this.exec(session);
      return writePlan(encodeSessionCommand(session.clientId, session.seq, encodeCommand({ op: "resolve" })));
    }
    if (this.queue !== null) {
      switch (name) {
        case "exec":
          return this.exec();
        case "discard":
          this.queue = null;
          this.failed = false;
          this.unwatch();
          return replyPlan(OK);
        case "multi":
          return replyPlan(errorReply("ERR MULTI calls can not be nested"));
        case "watch":
          return replyPlan(errorReply("ERR WATCH inside MULTI is not allowed"));
        case "quit":
          return this.planner.plan(args);
      }
      if (name.startsWith("raftkv.")) {
        this.failed = true;
        return replyPlan(errorReply(`ERR ${name.toUpperCase()} is not allowed in a transaction`));
      }
      this.queuedBytes += args.reduce((n, a) => n + a.length + 16, 0);
      if (this.queuedBytes > MAX_TRANSACTION_BYTES) {
        this.failed = true;
        this.queue.length = 0; // nothing of it will run: keep no memory for it
        return replyPlan(errorReply(`ERR transaction exceeds ${MAX_TRANSACTION_BYTES} bytes; it will be discarded at EXEC`));
      }
      this.queue.push([...args]);
      return replyPlan(QUEUED);
    }
    switch (name) {
      case "multi":
        this.queue = [];
        this.queuedBytes = 0;
        return replyPlan(OK);
      case "exec":
        return replyPlan(errorReply("ERR EXEC without MULTI"));
      case "discard":
        return replyPlan(errorReply("ERR DISCARD without MULTI"));
      case "unwatch":
        this.unwatch();
        return replyPlan(OK);
      case "watch": {
        const watches = args.slice(1).map((key): Watch => ({ generation: this.generation, key, version: null }));
        this.watches.push(...watches);
        return readPlan((sm) => {
          for (const w of watches) w.version = sm.versionOf(w.key);
          return OK;
        });
      }
    }
    return this.planner.plan(args);
  }

  private denyInner(args: readonly Buffer[]): Reply | null {
    const spec = this.planner.lookup(args);
    return "kind" in spec ? null : this.deny(spec.name);
  }

  private unwatch(): void {
    this.generation++;
    this.watches = this.watches.filter((w) => this.pending.has(w.generation));
  }

  /** `session`: EXEC under a client session (applied at most once per client id and seq). */
  private exec(session?: { clientId: number; seq: number }): Plan {
    const queued = this.queue!;
    const failed = this.failed;
    this.queue = null;
    this.failed = false;
    const generation = this.generation;
    if (failed) {
      this.unwatch();
      return replyPlan(EXECABORT);
    }
    const items: TransactionItem[] = [];
    const reads: ReadRun[] = [];
    for (const args of queued) {
      // UNWATCH queued in a transaction answers OK; the watches are over with EXEC anyway.
      const plan = args[0]!.toString("latin1").toLowerCase() === "unwatch" ? replyPlan(OK) : this.planner.plan(args);
      if (plan.kind === "reply") items.push({ kind: "reply", reply: plan.reply });
      else if (plan.kind === "write") {
        const command = decodeCommand(plan.command);
        if (command.op === "register" || command.op === "session" || command.op === "timed" || command.op === "multi" || command.op === "resolve") {
          items.push({ kind: "reply", reply: errorReply(`ERR ${command.op} is not allowed in a transaction`) });
        } else items.push({ kind: "write", command });
      } else {
        items.push({ kind: "read" });
        const run = plan.run;
        reads.push((sm) => run(sm, IN_TRANSACTION));
      }
    }
    const hasWatches = this.watches.some((w) => w.generation === generation);
    this.pending.add(generation);
    this.unwatch();
    if (items.length === 0 && !hasWatches) {
      this.pending.delete(generation);
      return replyPlan(EMPTY);
    }
    const self = this;
    let built: Uint8Array | null = null;
    return {
      kind: "write",
      reads,
      get command(): Uint8Array {
        if (built === null) {
          const watches = self.watches
            .filter((w) => w.generation === generation)
            .map((w) => ({ key: w.key, version: w.version ?? Number.MAX_SAFE_INTEGER }));
          self.pending.delete(generation);
          self.watches = self.watches.filter((w) => w.generation !== generation);
          built = encodeCommand({ op: "multi", watches, items });
          if (session !== undefined) built = encodeSessionCommand(session.clientId, session.seq, built);
        }
        return built;
      },
    };
  }
}

