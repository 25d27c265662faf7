// Test harness: plays the server's part for the kv layer. Commands are
// planned; writes get the next log index and are applied to every replica
// (which must all answer the same); reads run on every replica (which must
// all agree). Replies come back in wire form, so tests compare them with
// exactly what Redis sends.

import assert from "node:assert/strict";
import { encodeReply, type Reply } from "../../src/resp/writer.js";
import type { NodeStatus } from "../../src/kv/info.js";
import type { Plan, PlanLimits } from "../../src/kv/plan.js";
import { CommandPlanner } from "../../src/kv/planner.js";
import { ClientConnection } from "../../src/kv/transaction.js";
import { KvStateMachine, type KvStateMachineOptions } from "../../src/kv/stateMachine.js";
import { encodeTimedCommand } from "../../src/kv/command.js";
export { prng } from "../helpers/prng.js";

export const LEADER: NodeStatus = { id: 1, role: "leader", term: 3, leaderId: 1, commitIndex: 10, lastApplied: 10 };

export function args(...parts: (string | Buffer)[]): Buffer[] {
  return parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : p));
}

export function wire(reply: Reply): string {
  return encodeReply(reply).toString("latin1");
}

export interface HarnessOptions {
  readonly replicas?: number;
  readonly limits?: Partial<PlanLimits>;
  readonly machine?: KvStateMachineOptions;
  /**
   * The leader's clock (ms): writes are stamped with it, as the server
   * stamps them, and reads use it. Default Date.now; null: writes are not
   * stamped (the log's time stays 0).
   */
  readonly clock?: (() => number) | null;
}

export class Harness {
  readonly planner: CommandPlanner;
  /** The one client connection `run` and `plan` go through (MULTI, WATCH...). */
  readonly client: ClientConnection;
  readonly replicas: KvStateMachine[];
  /** The log so far: what a replica joining late would replay. */
  readonly log: { index: number; command: Uint8Array }[] = [];
  private nextIndex = 1;
  private readonly clock: (() => number) | null;
  /** While a read runs on every replica, the time they all see. */
  private frozen: number | null = null;

  constructor(options: HarnessOptions = {}) {
    this.planner = new CommandPlanner(options.limits);
    this.client = new ClientConnection(this.planner);
    this.clock = options.clock === undefined ? Date.now : options.clock;
    const clock = this.clock;
    const machine = { ...options.machine, ...(clock !== null && { clock: () => this.frozen ?? clock() }) };
    this.replicas = Array.from({ length: options.replicas ?? 2 }, () => new KvStateMachine(machine));
  }

  get sm(): KvStateMachine {
    return this.replicas[0]!;
  }

  plan(...parts: (string | Buffer)[]): Plan {
    return this.client.plan(args(...parts));
  }

  /** Runs one command the way the server would; returns the reply in wire form. */
  run(...parts: (string | Buffer)[]): string {
    return wire(this.execute(this.plan(...parts)));
  }

  execute(plan: Plan): Reply {
    switch (plan.kind) {
      case "reply":
        return plan.reply;
      case "write":
        return this.applyWrite(this.clock === null ? plan.command : encodeTimedCommand(this.clock(), plan.command), plan.reads);
      case "local":
        return plan.run(this.sm, LEADER);
      case "read": {
        this.frozen = this.clock?.() ?? null;
        try {
          const replies = this.replicas.map((sm) => wire(plan.run(sm, LEADER)));
          for (const r of replies) assert.equal(r, replies[0], "replicas disagree on a read");
          return plan.run(this.sm, LEADER);
        } finally {
          this.frozen = null;
        }
      }
    }
  }

  /** Appends `command` to the log and applies it everywhere (also used to replay a retried entry). */
  applyWrite(command: Uint8Array, reads?: Plan extends infer P ? (P extends { kind: "write"; reads?: infer R } ? R : never) : never): Reply {
    const index = this.nextIndex++;
    this.log.push({ index, command });
    // The first replica proposed it (it runs a transaction's reads); the others only apply.
    const replies = this.replicas.map((sm, i) => sm.apply(index, command, i === 0 ? reads : undefined));
    if (reads === undefined || reads.length === 0) {
      for (const r of replies) assert.equal(wire(r), wire(replies[0]!), `replicas disagree at index ${index}`);
    }
    const snapshots = this.replicas.map((sm) => Buffer.from(sm.snapshot()).toString("hex"));
    for (const s of snapshots) assert.equal(s, snapshots[0], `replicas' states differ after index ${index}`);
    return replies[0]!;
  }

  /** Skips log indexes (no-op entries the state machine never sees). */
  skip(n: number): void {
    this.nextIndex += n;
  }
}
