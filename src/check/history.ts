// Records a history as clients run: each operation's call and return time,
// its reply, or the fact that nobody knows what became of it.

import { assertNever } from "../util/assert.js";
import type { Operation } from "./model.js";

/** An operation in flight; settle it exactly once. */
export interface PendingOperation<O> {
  /** The reply arrived (errors that are replies, like INCR's "not an integer", included). */
  returned(output: O): void;
  /** Timeout, lost connection or crash: the command may still take effect. */
  unknown(): void;
  /** Certainly not executed (e.g. refused with MOVED or CLUSTERDOWN): leave it out. */
  discard(): void;
}

interface Entry<I, O> {
  readonly clientId: number | string;
  readonly input: I;
  readonly call: number;
  status: "pending" | "returned" | "unknown" | "discarded";
  output?: O;
  return: number;
}

export class HistoryRecorder<I, O> {
  private readonly entries: Entry<I, O>[] = [];

  /** `now`: a monotonic clock; performance.now by default, the virtual clock in a simulation. */
  constructor(private readonly now: () => number = () => performance.now()) {}

  invoke(clientId: number | string, input: I): PendingOperation<O> {
    const entry: Entry<I, O> = { clientId, input, call: this.now(), status: "pending", return: Infinity };
    this.entries.push(entry);
    const settle = (status: Entry<I, O>["status"]): void => {
      if (entry.status !== "pending") {
        throw new Error(`operation of client ${clientId} settled twice (was ${entry.status}, now ${status})`);
      }
      entry.status = status;
      entry.return = this.now();
    };
    return {
      returned: (output) => {
        settle("returned");
        entry.output = output;
      },
      unknown: () => settle("unknown"),
      discard: () => settle("discarded"),
    };
  }

  /** The history so far; operations still in flight count as unknown. */
  history(): Operation<I, O>[] {
    const ops: Operation<I, O>[] = [];
    for (const e of this.entries) {
      switch (e.status) {
        case "returned":
          ops.push({ clientId: e.clientId, input: e.input, output: e.output, call: e.call, return: e.return });
          break;
        case "unknown":
        case "pending":
          ops.push({ clientId: e.clientId, input: e.input, call: e.call, return: e.return, unknown: true });
          break;
        case "discarded":
          break;
        default:
          assertNever(e.status);
      }
    }
    return ops;
  }
}
