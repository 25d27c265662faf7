import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  checkLinearizability,
  KV_ERRORS,
  kvModel,
  kvState,
  registerModel,
  UNKNOWN,
  type KvInput,
  type KvOutput,
  type KvState,
  type KvValue,
  type Operation,
} from "../../src/check/linearizability.js";

const key = "k";

/** A keyspace where only `key` may exist. */
function only(value: KvValue): KvState {
  return kvState(value === null ? {} : { [key]: value });
}
function valueOf(state: KvState): KvValue {
  return state.values.get(key) ?? null;
}

/** The reply the model accepts for `input` when `key` holds `value`, and the value after, or a failure if `output` is not it. */
function expectStep(value: KvValue, input: KvInput, output: KvOutput, after: KvValue): void {
  const state = only(value);
  const result = kvModel.step(state, input, output);
  assert.equal(result.ok, true, `${kvModel.describe(input, output)} refused in state ${kvModel.describeState!(state)}`);
  assert.equal(valueOf(result.state), after);
}
function expectRefused(value: KvValue, input: KvInput, output: KvOutput): void {
  assert.equal(kvModel.step(only(value), input, output).ok, false, `${kvModel.describe(input, output)} accepted`);
}

describe("kvModel follows Redis", () => {
  test("GET returns the value or nil", () => {
    expectStep(null, { op: "get", key }, null, null);
    expectStep("v", { op: "get", key }, "v", "v");
    expectRefused("v", { op: "get", key }, null);
    expectRefused(null, { op: "get", key }, "");
  });

  test("SET, SET NX and SET XX", () => {
    expectStep(null, { op: "set", key, value: "a" }, "OK", "a");
    expectStep(null, { op: "set", key, value: "a", condition: "NX" }, "OK", "a");
    expectStep("b", { op: "set", key, value: "a", condition: "NX" }, null, "b");
    expectRefused("b", { op: "set", key, value: "a", condition: "NX" }, "OK");
    expectStep(null, { op: "set", key, value: "a", condition: "XX" }, null, null);
    expectStep("b", { op: "set", key, value: "a", condition: "XX" }, "OK", "a");
    expectRefused(null, { op: "set", key, value: "a", condition: "XX" }, "OK");
  });

  test("SET ... GET returns the old value, whether or not it set", () => {
    expectStep(null, { op: "set", key, value: "a", get: true }, null, "a");
    expectStep("b", { op: "set", key, value: "a", get: true }, "b", "a");
    expectStep("b", { op: "set", key, value: "a", condition: "NX", get: true }, "b", "b");
    expectStep(null, { op: "set", key, value: "a", condition: "XX", get: true }, null, null);
    expectRefused("b", { op: "set", key, value: "a", get: true }, "OK");
  });

  test("DEL counts the keys it removed", () => {
    expectStep("v", { op: "del", key }, 1, null);
    expectStep(null, { op: "del", key }, 0, null);
    expectStep("v", { op: "del", key }, 1n, null);
    expectRefused(null, { op: "del", key }, 1);
  });

  test("INCR and INCRBY on integers, a missing key counting as 0", () => {
    expectStep(null, { op: "incr", key }, 1, "1");
    expectStep("41", { op: "incr", key }, 42, "42");
    expectStep("-1", { op: "incrby", key, by: -5 }, -6, "-6");
    expectStep("10", { op: "incrby", key, by: 5n }, 15n, "15");
    expectRefused("41", { op: "incr", key }, 41);
  });

  test("INCR of a value that is not a canonical integer is an error, and changes nothing", () => {
    for (const value of ["", "abc", "1.5", " 1", "01", "-0", "+1", "1e3", "99999999999999999999"]) {
      expectStep(value, { op: "incr", key }, KV_ERRORS.notInteger, value);
      expectRefused(value, { op: "incr", key }, Number(value) + 1);
    }
  });

  test("INCR past 64 bits is an overflow error", () => {
    const max = "9223372036854775807";
    expectStep(max, { op: "incr", key }, KV_ERRORS.overflow, max);
    expectStep("-9223372036854775808", { op: "incrby", key, by: -1 }, KV_ERRORS.overflow, "-9223372036854775808");
    expectStep("9223372036854775806", { op: "incr", key }, 9223372036854775807n, max);
    // A client that returns numbers rounds like the model does.
    expectStep("9223372036854775806", { op: "incr", key }, 9223372036854775807, max);
  });

  test("APPEND returns the new length in bytes", () => {
    expectStep(null, { op: "append", key, value: "ab" }, 2, "ab");
    expectStep("ab", { op: "append", key, value: "é" }, 4, "abé");
    expectRefused("ab", { op: "append", key, value: "c" }, 2);
  });

  test("an unknown output is never checked, but the effect still happens", () => {
    const step = (value: KvValue, input: KvInput): [boolean, KvValue] => {
      const result = kvModel.step(only(value), input, UNKNOWN);
      return [result.ok, valueOf(result.state)];
    };
    assert.deepEqual(step("v", { op: "get", key }), [true, "v"]);
    assert.deepEqual(step("1", { op: "incr", key }), [true, "2"]);
    assert.deepEqual(step("x", { op: "incr", key }), [true, "x"]);
    assert.deepEqual(step("x", { op: "set", key, value: "y", condition: "XX" }), [true, "y"]);
  });

  test("operations are described the way redis-cli users write them", () => {
    assert.equal(kvModel.describe({ op: "set", key, value: "a", condition: "NX", get: true }, null), 'set k "a" NX GET -> nil');
    assert.equal(kvModel.describe({ op: "get", key: "my key" }, "1"), 'get "my key" -> "1"');
    assert.equal(kvModel.describe({ op: "incr", key }, KV_ERRORS.notInteger), `incr k -> ${KV_ERRORS.notInteger}`);
    assert.equal(kvModel.describe({ op: "incrby", key, by: -3 }, UNKNOWN), "incrby k -3 -> ?");
    assert.equal(kvModel.describeState!(only("x".repeat(50))), `{k="${"x".repeat(16)}"..."${"x".repeat(16)}" (50 chars)}`);
  });
});

describe("kvModel partitions by key", () => {
  const op = (input: KvInput, output: KvOutput | undefined, call: number): Operation<KvInput, KvOutput> =>
    output === undefined
      ? { clientId: 1, input, call, return: Infinity }
      : { clientId: 1, input, output, call, return: call + 1 };

  test("one partition per key, in order, without reads whose reply was lost", () => {
    const history = [
      op({ op: "set", key: "a", value: "1" }, "OK", 0),
      op({ op: "get", key: "b" }, undefined, 1),
      op({ op: "get", key: "b" }, null, 2),
      op({ op: "set", key: "b", value: "2" }, undefined, 3),
      op({ op: "get", key: "a" }, "1", 4),
    ];
    assert.deepEqual(kvModel.partition!(history), [
      { key: "a", operations: [history[0], history[4]] },
      { key: "b", operations: [history[2], history[3]] },
    ]);
  });

  test("a violation on one key is found among linearizable others", () => {
    const history = [
      op({ op: "set", key: "a", value: "1" }, "OK", 0),
      op({ op: "set", key: "b", value: "1" }, "OK", 0),
      op({ op: "get", key: "a" }, "1", 2),
      op({ op: "get", key: "b" }, "2", 2),
    ];
    const result = checkLinearizability(kvModel, history);
    assert.ok(result.ok === false);
    assert.equal(result.partition, "b");
  });
});

describe("registerModel", () => {
  test("starts at its initial value", () => {
    const model = registerModel<string>("init");
    const read = { clientId: 1, input: { op: "read" as const }, output: "init", call: 0, return: 1 };
    assert.equal(checkLinearizability(model, [read]).ok, true);
    assert.equal(checkLinearizability(registerModel<string>(), [read]).ok, false);
  });
});
