// Multi-key operations and transactions in kvModel: partitions are joined
// by the keys an operation touches, a transaction takes effect at one point
// (all of it, nothing in between), and WATCH/EXEC is checked both ways: an
// EXEC that ran although a watched key changed is refused, and so is an
// EXEC that aborted (nil) although nothing changed.
//
// Each history that must be refused comes with a control: the same
// history with the one property at stake repaired (or with the transaction
// split into independent commands), which the checker accepts. So these
// tests fail if the checker accepted everything, and also if it refused
// everything involving a transaction.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  checkLinearizability,
  kvModel,
  kvState,
  UNKNOWN,
  type KvInput,
  type KvOutput,
  type Operation,
} from "../../src/check/linearizability.js";

type Op = Operation<KvInput, KvOutput>;

function op(clientId: number, call: number, ret: number, input: KvInput, output?: KvOutput): Op {
  return output === undefined ? { clientId, input, call, return: ret, unknown: true } : { clientId, input, output, call, return: ret };
}

function verdict(history: readonly Op[]): true | false {
  const result = checkLinearizability(kvModel, history, { timeoutMs: 10_000 });
  assert.notEqual(result.ok, "unknown");
  return result.ok === true;
}

function refused(history: readonly Op[]): string {
  const result = checkLinearizability(kvModel, history, { timeoutMs: 10_000 });
  assert.equal(result.ok, false, "the checker accepted a history it must refuse");
  return result.ok === false ? result.explanation : "";
}

describe("partitions join the keys an operation touches", () => {
  test("a transaction, MSET and RENAME join partitions (union-find); other keys stay apart", () => {
    const history = [
      op(1, 0, 1, { op: "set", key: "a", value: "1" }, "OK"),
      op(1, 2, 3, { op: "set", key: "d", value: "1" }, "OK"),
      op(2, 0, 1, { op: "exec", ops: [{ op: "incr", key: "b" }, { op: "get", key: "c" }] }, [1, null]),
      op(3, 0, 1, { op: "mset", pairs: [["e", "1"], ["f", "2"]] }, "OK"),
      op(3, 2, 3, { op: "rename", key: "f", to: "a" }, "OK"),
      op(4, 0, 1, { op: "mget", keys: ["c", "e"] }, [null, null]),
      op(4, 2, 3, { op: "watch", tx: "t", keys: ["g"] }, "OK"),
      op(4, 4, 5, { op: "exec", tx: "t", watch: ["g"], ops: [{ op: "set", key: "h", value: "x" }] }, ["OK"]),
    ];
    const partitions = kvModel.partition!(history).map((p) => [p.key, p.operations.length]);
    assert.deepEqual(partitions, [
      ["a b c e f", 5],
      ["d", 1],
      ["g h", 2],
    ]);
    assert.equal(verdict(history), true);
  });

  test("an unknown read-only transaction is left out; an unknown one that writes is kept", () => {
    const history = [
      op(1, 0, Infinity, { op: "exec", ops: [{ op: "get", key: "a" }, { op: "mget", keys: ["b"] }] }),
      op(2, 0, Infinity, { op: "exec", ops: [{ op: "get", key: "c" }, { op: "incr", key: "c" }] }),
    ];
    assert.deepEqual(kvModel.partition!(history).map((p) => p.key), ["c"]);
  });
});

describe("a transaction takes effect all at once", () => {
  // Client 1's transaction sets a and b; client 2, while it runs, reads a
  // new and then b old: a saw the transaction, b did not.
  const torn = (asTransaction: boolean): Op[] => [
    ...(asTransaction
      ? [op(1, 0, 10, { op: "exec", ops: [{ op: "set", key: "a", value: "1" }, { op: "set", key: "b", value: "1" }] }, ["OK", "OK"])]
      : [op(1, 0, 10, { op: "set", key: "a", value: "1" }, "OK"), op(3, 0, 10, { op: "set", key: "b", value: "1" }, "OK")]),
    op(2, 1, 2, { op: "get", key: "a" }, "1"),
    op(2, 3, 4, { op: "get", key: "b" }, null),
  ];

  test("reads that see half of a transaction are refused", () => {
    const why = refused(torn(true));
    assert.match(why, /partition "a b"/);
    assert.match(why, /multi; set a "1"; set b "1"; exec -> \[OK, OK\]/);
  });

  test("control: the same two writes as independent commands are linearizable", () => {
    assert.equal(verdict(torn(false)), true);
  });

  test("a transaction's own reads see one state: a snapshot read of half a write is refused", () => {
    const writer = op(1, 0, 10, { op: "exec", ops: [{ op: "set", key: "a", value: "1" }, { op: "set", key: "b", value: "1" }] }, ["OK", "OK"]);
    const half = op(2, 0, 10, { op: "exec", ops: [{ op: "get", key: "a" }, { op: "get", key: "b" }] }, ["1", null]);
    refused([writer, half]);
    assert.equal(verdict([writer, { ...half, output: ["1", "1"] }]), true);
    assert.equal(verdict([writer, { ...half, output: [null, null] }]), true);
  });

  test("MGET of half an MSET is refused; of all or none of it, accepted", () => {
    const mset = op(1, 0, 10, { op: "mset", pairs: [["a", "1"], ["b", "1"]] }, "OK");
    const mget = (output: KvOutput) => op(2, 0, 10, { op: "mget", keys: ["a", "b"] }, output);
    refused([mset, mget([null, "1"])]);
    assert.equal(verdict([mset, mget(["1", "1"])]), true);
    assert.equal(verdict([mset, mget([null, null])]), true);
  });

  test("RENAME moves the value at one point: seeing it in both places is refused", () => {
    const history = [
      op(1, 0, 1, { op: "set", key: "a", value: "v" }, "OK"),
      op(1, 2, 10, { op: "rename", key: "a", to: "b" }, "OK"),
      op(2, 3, 4, { op: "get", key: "b" }, "v"),
      op(2, 5, 6, { op: "get", key: "a" }, "v"),
    ];
    refused(history);
    assert.equal(verdict([...history.slice(0, 3), { ...history[3]!, output: null }]), true);
    assert.equal(verdict([history[1]!]), false, "RENAME of a missing key is an error, not OK");
  });
});

describe("transactions are isolated", () => {
  // Two transactions on one counter, concurrent: nothing may run between the two INCRs of the first.
  const interleaved = (first: KvOutput, second: KvOutput): Op[] => [
    op(1, 0, 10, { op: "exec", ops: [{ op: "incr", key: "c" }, { op: "incr", key: "c" }] }, first),
    op(2, 0, 10, { op: "exec", ops: [{ op: "incr", key: "c" }] }, second),
  ];

  test("another transaction's write between two commands of one is refused", () => {
    refused(interleaved([1, 3], [2]));
  });

  test("control: either order of the whole transactions is accepted", () => {
    assert.equal(verdict(interleaved([1, 2], [3])), true);
    assert.equal(verdict(interleaved([2, 3], [1])), true);
  });

  test("an error inside a transaction is a reply like any other, and the rest still runs", () => {
    const history = [
      op(1, 0, 1, { op: "set", key: "a", value: "x" }, "OK"),
      op(1, 2, 3, { op: "exec", ops: [{ op: "incr", key: "a" }, { op: "set", key: "b", value: "y" }] }, ["ERR value is not an integer or out of range", "OK"]),
      op(1, 4, 5, { op: "get", key: "b" }, "y"),
    ];
    assert.equal(verdict(history), true);
    refused([...history.slice(0, 2), { ...history[2]!, output: null }]);
  });
});

describe("WATCH and EXEC", () => {
  /** A client's optimistic increment of `key` from "0" to "1": WATCH, GET, EXEC. */
  const increment = (client: number, tx: string, execOutput: KvOutput): Op[] => [
    op(client, 0, 1, { op: "watch", tx, keys: ["k"] }, "OK"),
    op(client, 2, 3, { op: "get", key: "k" }, "0"),
    op(client, 4, 10, { op: "exec", tx, watch: ["k"], ops: [{ op: "set", key: "k", value: "1" }] }, execOutput),
  ];
  const start = op(0, -2, -1, { op: "set", key: "k", value: "0" }, "OK");

  test("a lost update (two clients read 0 under WATCH, both EXECs commit) is refused", () => {
    refused([start, ...increment(1, "t1", ["OK"]), ...increment(2, "t2", ["OK"])]);
  });

  test("control: one of the two EXECs aborting (nil) is accepted, either one", () => {
    assert.equal(verdict([start, ...increment(1, "t1", ["OK"]), ...increment(2, "t2", null)]), true);
    assert.equal(verdict([start, ...increment(1, "t1", null), ...increment(2, "t2", ["OK"])]), true);
  });

  test("control: the same two transactions without WATCH are accepted (the check is the WATCH's)", () => {
    const unwatched = (client: number) => op(client, 4, 10, { op: "exec", ops: [{ op: "set", key: "k", value: "1" }] }, ["OK"]);
    assert.equal(verdict([start, op(1, 2, 3, { op: "get", key: "k" }, "0"), op(2, 2, 3, { op: "get", key: "k" }, "0"), unwatched(1), unwatched(2)]), true);
  });

  test("EXEC returning nil is an observation: with no write to a watched key in between, it is refused", () => {
    const alone = increment(1, "t1", null);
    const why = refused([start, ...alone]);
    assert.match(why, /watch k; multi; set k "1"; exec \(tx t1\) -> nil/);
    // A write to the key after the WATCH explains the abort...
    assert.equal(verdict([start, ...alone, op(2, 3, 5, { op: "set", key: "k", value: "0" }, "OK")]), true);
    // ...but not one that finished before the WATCH began,
    refused([start, op(2, -1, -0.5, { op: "set", key: "k", value: "0" }, "OK"), ...alone]);
    // nor a write to another key,
    refused([start, ...alone, op(2, 3, 5, { op: "set", key: "other", value: "0" }, "OK")]);
    // nor a SET NX that did not set, nor a DEL of a missing key (Redis touches nothing then).
    refused([start, ...alone, op(2, 3, 5, { op: "set", key: "k", value: "9", condition: "NX" }, null)]);
    refused([...alone.map((o) => (o.input.op === "get" ? { ...o, output: null } : o)), op(2, 3, 5, { op: "del", key: "k" }, 0)]);
  });

  test("a write of the same value counts as a change, as in Redis", () => {
    assert.equal(verdict([start, ...increment(1, "t1", null), op(2, 3, 5, { op: "set", key: "k", value: "0" }, "OK")]), true);
  });

  test("an EXEC whose WATCH is not in the history is refused", () => {
    refused([start, increment(1, "t1", ["OK"])[2]!]);
  });

  test("an EXEC of unknown outcome takes effect whole or not at all", () => {
    const lost = op(1, 0, Infinity, { op: "exec", ops: [{ op: "set", key: "a", value: "1" }, { op: "set", key: "b", value: "1" }] });
    assert.equal(verdict([lost, op(2, 5, 6, { op: "mget", keys: ["a", "b"] }, ["1", "1"])]), true);
    assert.equal(verdict([lost, op(2, 5, 6, { op: "mget", keys: ["a", "b"] }, [null, null])]), true);
    refused([lost, op(2, 5, 6, { op: "mget", keys: ["a", "b"] }, ["1", null])]);
  });

  test("the model: WATCH marks, writes dirty, EXEC aborts on dirty and ends the WATCH", () => {
    const watched = kvModel.step(kvState({ k: "0" }), { op: "watch", tx: "t", keys: ["k"] }, "OK").state;
    const exec = { op: "exec", tx: "t", watch: ["k"], ops: [{ op: "incr", key: "k" }] } as const;
    assert.deepEqual(kvModel.step(watched, exec, [1]).ok, true);
    const dirty = kvModel.step(watched, { op: "append", key: "k", value: "" }, 1).state;
    assert.equal(kvModel.equal(dirty, watched), false, "a dirty WATCH is another state");
    assert.notEqual(kvModel.hash!(dirty), kvModel.hash!(watched));
    const aborted = kvModel.step(dirty, exec, null);
    assert.equal(aborted.ok, true);
    assert.equal(aborted.state.watches.size, 0);
    assert.equal(aborted.state.values.get("k"), "0");
    assert.equal(kvModel.step(dirty, exec, UNKNOWN).state.values.get("k"), "0");
    assert.equal(kvModel.step(dirty, exec, [1]).ok, false);
    // Equal states built in different orders are equal, with equal hashes.
    const ab = kvModel.step(kvModel.step(kvState(), { op: "set", key: "a", value: "1" }, "OK").state, { op: "set", key: "b", value: "2" }, "OK").state;
    const ba = kvModel.step(kvModel.step(kvState(), { op: "set", key: "b", value: "2" }, "OK").state, { op: "set", key: "a", value: "1" }, "OK").state;
    assert.equal(kvModel.equal(ab, ba), true);
    assert.equal(kvModel.hash!(ab), kvModel.hash!(ba));
    assert.equal(kvModel.hash!(ab), kvModel.hash!(kvState({ a: "1", b: "2" })));
  });
});
