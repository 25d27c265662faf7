// What the server does with a client command, decided without touching the
// state: answer it at once, append it to the Raft log, or run it as a
// linearizable read. Everything that can be refused from the command alone
// (unknown command, arity, syntax, bad integers, size limits) is refused
// here, so nothing malformed ever reaches the log.

import type { Reply } from "../resp/writer.js";
import type { NodeStatus } from "./info.js";
import type { KvStateMachine } from "./stateMachine.js";

export type Plan =
  /** Answered by this node alone. `close`: send the reply, then close the connection (QUIT). */
  | { readonly kind: "reply"; readonly reply: Reply; readonly close: boolean }
  /**
   * Propose `command` to the Raft log; the client's reply is what
   * KvStateMachine.apply returns for it. `reads`: a transaction's queued
   * reads, for apply to run in their places on the node that proposed it.
   */
  | { readonly kind: "write"; readonly command: Uint8Array; readonly reads?: readonly ((sm: KvStateMachine) => Reply)[] }
  /** Once this node has confirmed it is still the leader (read index) and applied up to that index, run it. */
  | { readonly kind: "read"; readonly run: (sm: KvStateMachine, node: NodeStatus) => Reply }
  /**
   * Status questions any node answers about itself (INFO), as a Redis replica
   * or an etcd member does: on a leader, run as a read (after the read-index
   * confirmation); on any other node, at once, and `run` must then show no
   * data (it sees the node's role and leaves the key count out).
   */
  | { readonly kind: "local"; readonly run: (sm: KvStateMachine, node: NodeStatus) => Reply };

/** Size limits; the defaults follow SPEC §4. */
export interface PlanLimits {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
}

export const DEFAULT_PLAN_LIMITS: PlanLimits = {
  maxKeyBytes: 64 * 1024,
  maxValueBytes: 8 * 1024 * 1024,
};

/** What a command's planner may consult. */
export interface PlanContext {
  readonly limits: PlanLimits;
  readonly commands: CommandTable;
  /** Plans a whole command (for wrappers such as RAFTKV.SESSION). */
  plan(args: readonly Buffer[]): Plan;
}

/**
 * One command, described as Redis's COMMAND describes it (Redis 7 names and
 * conventions), plus how to plan it.
 */
export interface CommandSpec {
  /** Lower case; a subcommand is "container|sub", e.g. "config|get". */
  readonly name: string;
  /** n: exactly n arguments (the name included); -n: at least n. */
  readonly arity: number;
  readonly flags: readonly string[];
  readonly firstKey: number;
  readonly lastKey: number;
  readonly keyStep: number;
  readonly categories: readonly string[];
  /** null for a container that does nothing without a subcommand. */
  readonly plan: ((args: readonly Buffer[], ctx: PlanContext) => Plan) | null;
  readonly subcommands?: CommandTable;
}

/** Keyed by lower-case name (the part after "|" for subcommands). */
export type CommandTable = ReadonlyMap<string, CommandSpec>;

export function replyPlan(reply: Reply): Plan {
  return { kind: "reply", reply, close: false };
}

export function writePlan(command: Uint8Array): Plan {
  return { kind: "write", command };
}

export function readPlan(run: (sm: KvStateMachine, node: NodeStatus) => Reply): Plan {
  return { kind: "read", run };
}

export function localPlan(run: (sm: KvStateMachine, node: NodeStatus) => Reply): Plan {
  return { kind: "local", run };
}
