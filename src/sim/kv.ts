// The simulator's state machine: a key-value map with the semantics of the
// linearizability checker's kvModel (GET, SET, DEL, INCR, APPEND on strings).
// Commands travel through the log as small JSON texts: the simulator is not
// a hot path, and readable entries make readable traces.

import type { KvCommand, KvOutput } from "../check/linearizability.js";
import { KV_ERRORS } from "../check/linearizability.js";

export function encodeOp(input: KvCommand): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(input));
}

export function decodeOp(data: Uint8Array): KvCommand {
  return JSON.parse(new TextDecoder().decode(data)) as KvCommand;
}

export class SimKv {
  private map = new Map<string, string>();

  apply(input: KvCommand): KvOutput {
    const old = this.map.get(input.key) ?? null;
    switch (input.op) {
      case "get":
        return old;
      case "set":
        this.map.set(input.key, input.value);
        return "OK";
      case "del":
        return this.map.delete(input.key) ? 1 : 0;
      case "incr":
      case "incrby": {
        const by = input.op === "incr" ? 1n : BigInt(input.by);
        if (old !== null && !/^-?\d+$/.test(old)) return KV_ERRORS.notInteger;
        const v = BigInt(old ?? "0") + by;
        this.map.set(input.key, v.toString());
        return v;
      }
      case "append": {
        const v = (old ?? "") + input.value;
        this.map.set(input.key, v);
        return v.length;
      }
    }
  }

  /** The whole state as text (the simulator's maps are tiny), to compare replicas. */
  digest(): string {
    return JSON.stringify([...this.map].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  }

  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify([...this.map]));
  }

  static restore(data: Uint8Array | null): SimKv {
    const kv = new SimKv();
    if (data && data.length > 0) kv.map = new Map(JSON.parse(new TextDecoder().decode(data)) as [string, string][]);
    return kv;
  }
}
