// State Machine Safety for whole states (Invariants.stateAfter): every
// server's state machine after index i is the same, byte for byte. The
// simulator compares the state machine's snapshot bytes (SimKv.state) rather
// than a rendering of them; these tests hold that the comparison fails on
// any difference, including one no GET would see, and passes on equal states.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Invariants } from "../../src/sim/invariants.js";
import { encodeOp, SimKv } from "../../src/sim/kv.js";

function checker(): { inv: Invariants; failures: { invariant: string; message: string }[] } {
  const failures: { invariant: string; message: string }[] = [];
  return { inv: new Invariants((invariant, message) => failures.push({ invariant, message })), failures };
}

function kvAfter(ops: { value: string; now: number }[]): SimKv {
  const kv = SimKv.restore(null, () => 0);
  ops.forEach((o, i) => kv.apply(i + 1, encodeOp({ op: "set", key: "k0", value: o.value }, o.now)));
  return kv;
}

describe("State Machine Safety on whole states", () => {
  test("equal states at an index pass, from entries or from a snapshot", () => {
    const { inv, failures } = checker();
    const a = kvAfter([{ value: "x", now: 5 }]);
    const b = SimKv.restore(a.snapshot(), () => 0);
    inv.stateAfter(1, 1, a.state(), "applied");
    inv.stateAfter(2, 1, kvAfter([{ value: "x", now: 5 }]).state(), "applied");
    inv.stateAfter(3, 1, b.state(), "snapshot");
    assert.deepEqual(failures, []);
  });

  test("a different value at the same index fails, and the message shows both states", () => {
    const { inv, failures } = checker();
    inv.stateAfter(1, 1, kvAfter([{ value: "x", now: 5 }]).state(), "applied");
    inv.stateAfter(2, 1, kvAfter([{ value: "y", now: 5 }]).state(), "snapshot");
    assert.equal(failures.length, 1);
    assert.equal(failures[0]!.invariant, "State Machine Safety");
    assert.match(failures[0]!.message, /n2's state after index 1 \(snapshot\) is \[\["k0","y"\]\].*another server's was \[\["k0","x"\]\]/);
  });

  test("a difference no read would see (the leader's time stamp) fails too, and says so", () => {
    const { inv, failures } = checker();
    inv.stateAfter(1, 1, kvAfter([{ value: "x", now: 5 }]).state(), "applied");
    inv.stateAfter(2, 1, kvAfter([{ value: "x", now: 9 }]).state(), "applied");
    assert.equal(failures.length, 1);
    assert.match(failures[0]!.message, /the same keys and values: they differ in versions, sessions or log time/);
  });

  test("states are compared per index: a later index does not meet an earlier one's state", () => {
    const { inv, failures } = checker();
    inv.stateAfter(1, 1, kvAfter([{ value: "x", now: 5 }]).state(), "applied");
    inv.stateAfter(1, 2, kvAfter([{ value: "x", now: 5 }, { value: "z", now: 6 }]).state(), "applied");
    assert.deepEqual(failures, []);
  });
});
