// The simulator's state machine is the server's: src/kv's KvStateMachine,
// fed the same encoded, leader-stamped commands the server logs (as
// TigerBeetle's simulator runs the real state machine). This file only
// translates between the linearizability checker's words ({ op: "set",
// key, value }, replies as plain values) and the state machine's (encoded
// commands, RESP replies).
//
// Time: the simulator's virtual tick is the leader's clock. The plans use
// no expiry, but the stamp travels through the log exactly as in the server.

import type { KvCommand, KvOutput } from "../check/linearizability.js";
import { encodeCommand, encodeTimedCommand } from "../kv/command.js";
import { KvStateMachine } from "../kv/stateMachine.js";
import type { Reply } from "../resp/writer.js";
import { assertNever } from "../util/assert.js";

/** The log entry for a write, as the leader would propose it at virtual time `now`. */
export function encodeOp(input: KvCommand, now: number): Uint8Array {
  const key = Buffer.from(input.key, "latin1");
  switch (input.op) {
    case "set":
      return stamp(now, encodeCommand({ op: "set", key, value: Buffer.from(input.value, "latin1"), condition: "always", get: false }));
    case "del":
      return stamp(now, encodeCommand({ op: "del", keys: [key] }));
    case "incr":
      return stamp(now, encodeCommand({ op: "incrby", key, delta: 1n }));
    case "incrby":
      return stamp(now, encodeCommand({ op: "incrby", key, delta: BigInt(input.by) }));
    case "append":
      return stamp(now, encodeCommand({ op: "append", key, value: Buffer.from(input.value, "latin1"), maxLength: 512 * 1024 * 1024 }));
    default:
      throw new Error(`the simulator does not propose ${input.op}`);
  }
}

function stamp(now: number, command: Uint8Array): Uint8Array {
  return encodeTimedCommand(now, command);
}

/** A reply as a client library returns it, in the checker's terms. */
export function output(reply: Reply): KvOutput {
  switch (reply.kind) {
    case "simple":
      return reply.value;
    case "error":
      return reply.message;
    case "integer":
      return reply.value;
    case "bulk":
      return reply.value === null ? null : Buffer.from(reply.value).toString("latin1");
    case "array":
      return reply.items === null ? null : reply.items.map(output);
    default:
      return assertNever(reply);
  }
}

export class SimKv {
  private constructor(private readonly sm: KvStateMachine) {}

  /** An empty state machine, or one restored from a snapshot's bytes. `clock`: the virtual time reads use. */
  static restore(data: Uint8Array | null, clock: () => number): SimKv {
    const sm = new KvStateMachine({ clock });
    if (data && data.length > 0) sm.restore(data);
    return new SimKv(sm);
  }

  /** Applies the committed entry at `index` and returns the reply the proposer's client gets. */
  apply(index: number, data: Uint8Array): KvOutput {
    return output(this.sm.apply(index, data));
  }

  /** A linearizable read (GET), answered from the state as it is now. */
  read(input: KvCommand): KvOutput {
    if (input.op !== "get") throw new Error(`the simulator reads only with get, not ${input.op}`);
    const v = this.sm.get(Buffer.from(input.key, "latin1"));
    return v === undefined ? null : v.toString("latin1");
  }

  /**
   * The whole state, to compare replicas at the same index: the exact
   * snapshot bytes, which cover everything the state machine keeps (keys,
   * values, versions, creation order, sessions, log time). Compared byte for
   * byte (Buffer.compare); `describe` renders them readably for a violation.
   */
  state(): Uint8Array {
    return this.sm.snapshot();
  }

  /** The keys and values of a state (from `state`), readably, and its size. */
  static describe(state: Uint8Array): string {
    const kv = SimKv.restore(state, () => 0);
    const pairs: [string, string][] = [];
    for (const k of kv.sm.liveKeys()) pairs.push([k, kv.sm.get(Buffer.from(k, "latin1"))!.toString("latin1")]);
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return `${JSON.stringify(pairs)} (${state.length} bytes)`;
  }

  snapshot(): Uint8Array {
    return this.sm.snapshot();
  }
}
