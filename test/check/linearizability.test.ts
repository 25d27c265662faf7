import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  checkLinearizability,
  HistoryError,
  kvModel,
  registerModel,
  type CheckResult,
  type KvInput,
  type KvOutput,
  type Operation,
  type RegisterInput,
  type RegisterOutput,
} from "../../src/check/linearizability.js";

type RegOp = Operation<RegisterInput<number>, RegisterOutput<number>>;
const register = registerModel<number>();

function write(clientId: number, call: number, ret: number, value: number): RegOp {
  return { clientId, input: { op: "write", value }, output: undefined, call, return: ret };
}
function read(clientId: number, call: number, ret: number, value: number | null): RegOp {
  return { clientId, input: { op: "read" }, output: value, call, return: ret };
}
/** A write nobody heard back from: it returns never. */
function lostWrite(clientId: number, call: number, value: number): RegOp {
  return { clientId, input: { op: "write", value }, call, return: Infinity };
}

function checkRegister(history: RegOp[]): CheckResult<RegisterInput<number>, RegisterOutput<number>> {
  return checkLinearizability(register, history);
}

function assertFails<I, O>(result: CheckResult<I, O>): asserts result is Extract<CheckResult<I, O>, { ok: false }> {
  assert.equal(result.ok, false, `expected a violation, got ${JSON.stringify(result)}`);
}

describe("linearizable histories pass", () => {
  test("the empty history", () => {
    assert.equal(checkRegister([]).ok, true);
  });

  test("a sequential history", () => {
    const history = [read(1, 0, 1, null), write(1, 2, 3, 1), read(2, 4, 5, 1), write(2, 6, 7, 2), read(1, 8, 9, 2)];
    assert.equal(checkRegister(history).ok, true);
  });

  test("after two concurrent writes, a read may see either, but not neither", () => {
    const writes = [write(1, 0, 10, 1), write(2, 0, 10, 2)];
    assert.equal(checkRegister([...writes, read(3, 11, 12, 1)]).ok, true);
    assert.equal(checkRegister([...writes, read(3, 11, 12, 2)]).ok, true);
    assertFails(checkRegister([...writes, read(3, 11, 12, null)]));
  });

  test("a read concurrent with a write may see the old or the new value", () => {
    const history = [write(1, 0, 1, 1), write(1, 2, 10, 2)];
    assert.equal(checkRegister([...history, read(2, 3, 4, 1)]).ok, true);
    assert.equal(checkRegister([...history, read(2, 3, 4, 2)]).ok, true);
  });

  test("overlapping reads may see a concurrent write in either order", () => {
    // The later-starting read sees the old value: fine, because the reads overlap.
    const history = [write(1, 0, 1, 1), write(1, 2, 20, 2), read(2, 3, 6, 2), read(3, 5, 7, 1)];
    assert.equal(checkRegister(history).ok, true);
  });

  test("operations whose intervals only touch count as concurrent", () => {
    assert.equal(checkRegister([write(1, 0, 5, 1), read(2, 5, 6, null)]).ok, true);
    assertFails(checkRegister([write(1, 0, 5, 1), read(2, 6, 7, null)]));
  });
});

describe("non-linearizable histories fail", () => {
  test("a read returns a value never written", () => {
    const alone = checkRegister([read(1, 0, 1, 7)]);
    assertFails(alone);
    assert.match(
      alone.explanation,
      /This operation must take effect first, since it returned first, but cannot \(state null\):\n  client 1 \[0, 1\] read -> 7/,
    );
    const result = checkRegister([write(1, 0, 1, 1), read(2, 2, 3, 7)]);
    assertFails(result);
    assert.equal(result.blocked.output, 7);
    assert.deepEqual(
      result.candidates.map((c) => c.verdict),
      ["rejected"],
    );
  });

  test("a stale read after a write completed", () => {
    const result = checkRegister([write(1, 0, 1, 1), write(1, 2, 3, 2), read(2, 4, 5, 1)]);
    assertFails(result);
    assert.equal(result.prefix.length, 2);
    assert.deepEqual(result.blocked.input, { op: "read" });
  });

  test("new-old inversion: a read sees the new value, a later read the old one", () => {
    const history = [write(1, 0, 1, 1), write(1, 2, 20, 2), read(2, 3, 4, 2), read(3, 5, 6, 1)];
    assertFails(checkRegister(history));
  });

  test("two readers see two concurrent writes in opposite orders", () => {
    const history = [
      write(1, 0, 10, 1),
      write(2, 0, 10, 2),
      read(3, 1, 2, 1),
      read(3, 3, 4, 2),
      read(4, 1, 2, 2),
      read(4, 3, 4, 1),
    ];
    assertFails(checkRegister(history));
  });

  test("the explanation names the partition, the prefix and the blocked operation", () => {
    const a = (call: number, ret: number, input: KvInput, output: KvOutput): Operation<KvInput, KvOutput> => ({
      clientId: call,
      input,
      output,
      call,
      return: ret,
    });
    const history = [
      a(0, 1, { op: "set", key: "fine", value: "x" }, "OK"),
      a(0, 1, { op: "set", key: "k", value: "old" }, "OK"),
      a(2, 3, { op: "set", key: "k", value: "new" }, "OK"),
      a(2, 3, { op: "get", key: "fine" }, "x"),
      a(4, 5, { op: "get", key: "k" }, "old"),
    ];
    const result = checkLinearizability(kvModel, history);
    assertFails(result);
    assert.equal(result.partition, "k");
    assert.deepEqual(result.prefix, [history[1], history[2]]);
    assert.equal(result.blocked, history[4]);
    assert.match(result.explanation, /partition "k" is not linearizable \(3 operations\)/);
    assert.match(result.explanation, /set k "new" -> OK\s+=> \{k="new"\}/);
    assert.match(result.explanation, /Then this operation must take effect, since it returned, but cannot \(state \{k="new"\}\):/);
    assert.match(result.explanation, /client 4 \[4, 5\] get k -> "old"\s+rejected by the model here/);
  });

  test("a candidate that fits but leads nowhere is called a dead end", () => {
    // The lost write could take effect, but the read of 5 is wrong whatever happens.
    const history = [write(1, 0, 1, 1), lostWrite(2, 2, 2), read(3, 3, 4, 5)];
    const result = checkRegister(history);
    assertFails(result);
    assert.deepEqual(result.prefix, [history[0]]);
    assert.equal(result.blocked, history[2]);
    assert.deepEqual(
      result.candidates.map((c) => [c.operation, c.verdict]),
      [
        [history[1], "dead end"],
        [history[2], "rejected"],
      ],
    );
    assert.match(result.explanation, /client 2 \[2, \?\] write 2\s+fits here, but no order of the rest works after it/);
  });

  test("the explanation prefers the prefix that places the most operations that returned", () => {
    // Taking the lost write first would make the prefix longer, but explain nothing.
    const history = [lostWrite(1, 0, 9), write(2, 1, 2, 1), read(3, 3, 4, 1), read(3, 5, 6, 7)];
    const result = checkRegister(history);
    assertFails(result);
    assert.deepEqual(result.prefix, [history[1], history[2]]);
    assert.equal(result.blocked, history[3]);
  });
});

describe("operations with an unknown outcome", () => {
  test("a lost write may have happened or not", () => {
    const history = [write(1, 0, 1, 1), lostWrite(1, 2, 2)];
    assert.equal(checkRegister([...history, read(2, 5, 6, 2)]).ok, true);
    assert.equal(checkRegister([...history, read(2, 5, 6, 1)]).ok, true);
    assertFails(checkRegister([...history, read(2, 5, 6, 3)]));
  });

  test("a timed-out write may take effect after the client gave up", () => {
    const timedOut: RegOp = { clientId: 1, input: { op: "write", value: 2 }, call: 2, return: 3, unknown: true };
    const history = [write(1, 0, 1, 1), timedOut, read(2, 10, 11, 1), read(2, 12, 13, 2)];
    assert.equal(checkRegister(history).ok, true);
  });

  test("a lost write cannot take effect before its call", () => {
    assertFails(checkRegister([read(2, 0, 5, 2), lostWrite(1, 10, 2)]));
    assertFails(checkRegister([write(1, 0, 1, 1), read(2, 2, 5, 2), lostWrite(1, 6, 2)]));
  });

  test("a lost write takes effect at most once", () => {
    const history = [write(1, 0, 1, 1), lostWrite(1, 2, 2), read(2, 3, 4, 2), write(3, 5, 6, 3), read(2, 7, 8, 2)];
    assertFails(checkRegister(history));
  });

  test("a lost write spent early on one path stays available on another", () => {
    // Writing 2 then 1 forces the lost write of 2 before the read of 2, and
    // then nothing explains the last read. Writing 1 then 2 reaches the same
    // operations and state WITHOUT the lost write, which can then explain
    // the last read. The first configuration must not rule out the second.
    const history = [
      write(2, 0, 10, 2),
      write(1, 1, 5, 1),
      lostWrite(3, 0, 2),
      read(4, 6, 10, 2),
      write(5, 15, 16, 3),
      read(6, 20, 21, 2),
    ];
    assert.equal(checkRegister(history).ok, true);
  });

  test("the output of an unknown operation is not checked", () => {
    const lostRead: RegOp = { clientId: 1, input: { op: "read" }, output: 99, call: 0, return: 5, unknown: true };
    assert.equal(checkRegister([write(2, 0, 1, 1), lostRead]).ok, true);
  });

  test("a lost INCR counts once or not at all", () => {
    const incr = (clientId: number, call: number, ret: number, output?: number): Operation<KvInput, KvOutput> =>
      output === undefined
        ? { clientId, input: { op: "incr", key: "n" }, call, return: ret, unknown: true }
        : { clientId, input: { op: "incr", key: "n" }, output, call, return: ret };
    const get = (call: number, output: string | null): Operation<KvInput, KvOutput> => ({
      clientId: 9,
      input: { op: "get", key: "n" },
      output,
      call,
      return: call + 1,
    });
    const base = [incr(1, 0, 1, 1), incr(2, 2, 3)];
    assert.equal(checkLinearizability(kvModel, [...base, get(10, "1"), incr(3, 12, 13, 2)]).ok, true);
    assert.equal(checkLinearizability(kvModel, [...base, get(10, "2"), incr(3, 12, 13, 3)]).ok, true);
    assertFails(checkLinearizability(kvModel, [...base, get(10, "3")]));
    assertFails(checkLinearizability(kvModel, [...base, get(10, "2"), get(12, "1")]));
  });

  test("a history of only lost operations passes", () => {
    assert.equal(checkRegister([lostWrite(1, 0, 1), lostWrite(2, 0, 2)]).ok, true);
  });
});

describe("budget", () => {
  const hard = [write(1, 0, 10, 1), write(2, 0, 10, 2), read(3, 1, 2, 1), read(3, 3, 4, 2), read(4, 1, 2, 2), read(4, 3, 4, 1)];

  test("running out of steps gives 'unknown', not a verdict", () => {
    const result = checkLinearizability(register, hard, { maxSteps: 3 });
    assert.equal(result.ok, "unknown");
    assert.ok(result.ok === "unknown");
    assert.equal(result.reason, "steps");
    assert.equal(result.partition, "all");
    assert.match(result.message, /not a pass/);
  });

  test("running out of time gives 'unknown', not a verdict", () => {
    const result = checkLinearizability(register, hard, { timeoutMs: 0 });
    assert.ok(result.ok === "unknown");
    assert.equal(result.reason, "timeout");
  });

  test("partitions decided before the budget ran out are counted", () => {
    const set = (key: string, t: number): Operation<KvInput, KvOutput> => ({
      clientId: 1,
      input: { op: "set", key, value: "v" },
      output: "OK",
      call: t,
      return: t + 1,
    });
    const result = checkLinearizability(kvModel, [set("a", 0), set("b", 2), set("b", 4), set("b", 6)], { maxSteps: 2 });
    assert.ok(result.ok === "unknown");
    assert.equal(result.partition, "b");
    assert.equal(result.checked, 1);
    assert.equal(result.partitions, 2);
  });

  test("a large enough budget decides", () => {
    const result = checkLinearizability(register, hard, { maxSteps: 10_000 });
    assert.equal(result.ok, false);
  });
});

describe("malformed histories are refused", () => {
  test("a return before its call", () => {
    assert.throws(() => checkRegister([write(1, 0, 1, 1), write(1, 5, 4, 2)]), (err: unknown) => {
      assert.ok(err instanceof HistoryError);
      assert.equal(err.index, 1);
      assert.match(err.message, /history\[1\]: returned at 4, before its call at 5/);
      return true;
    });
  });

  test("a time that is not a number", () => {
    assert.throws(() => checkRegister([write(1, NaN, 1, 1)]), HistoryError);
    assert.throws(() => checkRegister([write(1, 0, NaN, 1)]), HistoryError);
    assert.throws(() => checkRegister([write(1, Infinity, Infinity, 1)]), HistoryError);
  });

  test("a completed operation without an output", () => {
    const noOutput: RegOp = { clientId: 1, input: { op: "read" }, call: 0, return: 1 };
    assert.throws(() => checkRegister([noOutput]), /has no output/);
  });
});
