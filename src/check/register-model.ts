// The plainest object to check: one register with write(v) and read() -> v.
// The simulator uses it for a single key; kvModel covers many keys.

import { assertNever } from "../util/assert.js";
import { UNKNOWN, type Model } from "./model.js";

export type RegisterInput<V> = { readonly op: "write"; readonly value: V } | { readonly op: "read" };

/** read: the value seen (the initial value before any write); write: not checked, anything goes. */
export type RegisterOutput<V> = V | null | undefined;

export function registerModel<V extends string | number>(
  initial: V | null = null,
): Model<V | null, RegisterInput<V>, RegisterOutput<V>> {
  return {
    init: () => initial,
    step(state, input, output) {
      switch (input.op) {
        case "write":
          return { ok: true, state: input.value };
        case "read":
          return { ok: output === UNKNOWN || output === state, state };
        default:
          return assertNever(input);
      }
    },
    equal: (a, b) => a === b,
    describe(input, output) {
      switch (input.op) {
        case "write":
          return `write ${JSON.stringify(input.value)}`;
        case "read":
          return `read -> ${output === UNKNOWN ? "?" : JSON.stringify(output)}`;
        default:
          return assertNever(input);
      }
    },
    describeState: (state) => JSON.stringify(state),
  };
}
