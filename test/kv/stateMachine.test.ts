// The state machine as the Raft layer sees it: log commands in, snapshots
// out; deterministic, and strict about what it is given.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { DecodeError } from "../../src/kv/binary.js";
import { decodeCommand, encodeCommand, encodeSessionCommand, type KvCommand } from "../../src/kv/command.js";
import { KvStateMachine } from "../../src/kv/stateMachine.js";
import { Harness, prng, wire } from "./harness.js";

const b = (s: string) => Buffer.from(s, "latin1");

describe("log command encoding", () => {
  const commands: KvCommand[] = [
    { op: "set", key: b("k"), value: b("v"), condition: "always", get: false },
    { op: "set", key: b(""), value: Buffer.from([0, 255, 13, 10]), condition: "nx", get: true },
    { op: "set", key: b("k"), value: b(""), condition: "xx", get: false },
    { op: "del", keys: [b("a"), b("b"), b("a")] },
    { op: "incrby", key: b("n"), delta: -9223372036854775808n },
    { op: "incrby", key: b("n"), delta: 9223372036854775807n },
    { op: "append", key: b("k"), value: b("x".repeat(300)), maxLength: 8 * 1024 * 1024 },
    { op: "mset", pairs: [b("a"), b("1"), b("b"), b("2")] },
    { op: "register" },
    { op: "session", clientId: 2 ** 53 - 1, seq: 1, command: { op: "incrby", key: b("n"), delta: 1n } },
  ];

  test("round trip", () => {
    for (const c of commands) assert.deepEqual(decodeCommand(encodeCommand(c)), c);
  });

  test("compact", () => {
    assert.equal(encodeCommand({ op: "set", key: b("key"), value: b("value"), condition: "always", get: false }).length, 12);
    assert.equal(encodeCommand({ op: "incrby", key: b("n"), delta: 1n }).length, 11);
  });

  test("a session prefix can be put on an encoded command", () => {
    const inner = { op: "del", keys: [b("x")] } as const;
    const wrapped = encodeSessionCommand(7, 3, encodeCommand(inner));
    assert.deepEqual(decodeCommand(wrapped), { op: "session", clientId: 7, seq: 3, command: inner });
  });

  test("anything else is refused", () => {
    const set = encodeCommand(commands[0]!);
    const bad: [string, Uint8Array][] = [
      ["empty", new Uint8Array()],
      ["unknown opcode", new Uint8Array([99])],
      ["truncated", set.subarray(0, set.length - 1)],
      ["trailing bytes", Buffer.concat([set, Buffer.from([0])])],
      ["bad SET flags", Buffer.from([1, 0x0b, 0, 0])],
      ["register in a session", encodeSessionCommand(1, 1, encodeCommand({ op: "register" }))],
      ["session in a session", encodeSessionCommand(1, 1, encodeCommand(commands[9]!))],
      ["endless varint", Buffer.from([2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
    ];
    for (const [name, data] of bad) assert.throws(() => decodeCommand(data), DecodeError, name);
  });
});

describe("apply", () => {
  test("a command that does not decode stops the node with the log index in the error, changing nothing", () => {
    const sm = new KvStateMachine();
    sm.apply(1, encodeCommand({ op: "set", key: b("k"), value: b("v"), condition: "always", get: false }));
    assert.throws(() => sm.apply(2, new Uint8Array([42])), { name: "DecodeError", message: /^log entry 2: / });
    assert.equal(sm.lastApplied, 1);
    assert.equal(sm.size, 1);
  });

  test("indexes must increase; gaps (no-op entries) are fine", () => {
    const sm = new KvStateMachine();
    const incr = encodeCommand({ op: "incrby", key: b("n"), delta: 1n });
    sm.apply(3, incr);
    sm.apply(7, incr);
    assert.throws(() => sm.apply(7, incr), RangeError);
    assert.throws(() => sm.apply(5, incr), RangeError);
    assert.throws(() => sm.apply(0, incr), RangeError);
    assert.equal(sm.lastApplied, 7);
    assert.equal(sm.get(b("n"))?.toString(), "2");
  });

  test("stored values are copies: the log entry's buffer can be reused", () => {
    const sm = new KvStateMachine();
    const entry = Buffer.from(encodeCommand({ op: "set", key: b("k"), value: b("value"), condition: "always", get: false }));
    sm.apply(1, entry);
    entry.fill(0);
    assert.equal(sm.get(b("k"))?.toString(), "value");
  });
});

describe("snapshots", () => {
  function populated(): Harness {
    const h = new Harness({ replicas: 1 });
    h.run("MSET", "a", "1", "b", "2", "c", "3");
    h.run("SET", Buffer.from([0, 1, 255]), Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
    h.run("DEL", "b");
    h.run("INCRBY", "n", "-5");
    h.run("APPEND", "a", "0");
    const id = h.run("RAFTKV.REGISTER").slice(1, -2);
    h.run("RAFTKV.SESSION", id, "1", "SET", "s", "x", "GET");
    h.run("RAFTKV.REGISTER");
    return h;
  }

  test("restore gives back the same state, and the same snapshot bytes", () => {
    const h = populated();
    const snapshot = h.sm.snapshot();
    const copy = new KvStateMachine();
    copy.restore(snapshot);
    assert.ok(Buffer.from(copy.snapshot()).equals(Buffer.from(snapshot)));
    assert.equal(copy.size, h.sm.size);
    assert.equal(copy.sessionCount, 2);
    assert.equal(copy.lastApplied, h.sm.lastApplied);
    for (const key of [b("a"), b("b"), b("c"), b("n"), b("s"), Buffer.from([0, 1, 255])]) {
      assert.deepEqual(copy.get(key), h.sm.get(key), key.toString("hex"));
    }
    assert.equal(copy.get(b("a"))?.toString(), "10");
  });

  test("restore replaces whatever was there", () => {
    const target = new KvStateMachine();
    target.apply(50, encodeCommand({ op: "set", key: b("old"), value: b("x"), condition: "always", get: false }));
    target.apply(51, encodeCommand({ op: "register" }));
    const empty = new KvStateMachine();
    target.restore(empty.snapshot());
    assert.equal(target.size, 0);
    assert.equal(target.sessionCount, 0);
    assert.equal(target.lastApplied, 0);
    assert.equal(target.has(b("old")), false);
  });

  test("a malformed snapshot is refused and leaves the state empty", () => {
    const snapshot = Buffer.from(populated().sm.snapshot());
    const bad: [string, Uint8Array][] = [
      ["empty", new Uint8Array()],
      ["bad magic", Buffer.concat([Buffer.from([1]), snapshot.subarray(1)])],
      ["truncated", snapshot.subarray(0, snapshot.length - 1)],
      ["trailing", Buffer.concat([snapshot, Buffer.from([0])])],
    ];
    for (const [name, data] of bad) {
      const sm = new KvStateMachine();
      sm.apply(1, encodeCommand({ op: "set", key: b("k"), value: b("v"), condition: "always", get: false }));
      assert.throws(() => sm.restore(data), { name: "DecodeError", message: /^snapshot: / }, name);
      assert.equal(sm.size, 0, name);
      assert.equal(sm.sessionCount, 0, name);
    }
  });

  test("a snapshot with more sessions than this node allows is refused", () => {
    const sm = new KvStateMachine({ maxSessions: 1 });
    assert.throws(() => sm.restore(populated().sm.snapshot()), /more than maxSessions/);
  });
});

describe("determinism", () => {
  const KEYS = ["a", "b", "c", "n", ""];
  const VALUES = ["1", "-1", "x", "", "9223372036854775807", "007"];
  const NAMES = ["SET", "GET", "DEL", "EXISTS", "INCR", "DECR", "INCRBY", "DECRBY", "APPEND", "STRLEN", "MGET", "MSET", "DBSIZE",
    "PING", "ECHO", "SELECT", "INFO", "CONFIG", "COMMAND", "CLIENT", "QUIT", "RAFTKV.REGISTER", "RAFTKV.SESSION", "NX", "GET"];
  const OPTIONS = ["NX", "XX", "GET", "KEEPTTL", "EX", "10", "GET", "COUNT", "INFO", "SETNAME", "1", "2", "3", "99999999999999999999", "-9223372036854775808"];

  function randomCommand(rand: () => number, clientIds: readonly string[]): string[] {
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
    if (rand() < 0.6) {
      // Mostly well-formed writes, so that plenty reach the log.
      const [k, v] = [pick(KEYS), pick(VALUES)];
      const seq = String(1 + Math.floor(rand() * 4));
      return pick([
        ["SET", k, v],
        ["SET", k, v, pick(["NX", "XX", "GET"])],
        ["INCR", k],
        ["DECRBY", k, v],
        ["APPEND", k, v],
        ["DEL", k, pick(KEYS)],
        ["MSET", k, v, pick(KEYS), pick(VALUES)],
        ["RAFTKV.REGISTER"],
        ["RAFTKV.SESSION", pick(clientIds), seq, "INCR", k],
        ["RAFTKV.SESSION", pick(clientIds), seq, "SET", k, v, "GET"],
      ]);
    }
    const command = [pick(NAMES)];
    for (let n = Math.floor(rand() * 6); n > 0; n--) command.push(pick(rand() < 0.4 ? KEYS : rand() < 0.5 ? VALUES : OPTIONS));
    return command;
  }

  test("replicas fed the same log agree on every reply and every snapshot; one restored midway catches up exactly", () => {
    const rand = prng(7);
    const h = new Harness({ replicas: 3, machine: { maxSessions: 3 } });
    let late: KvStateMachine | null = null;
    let writes = 0;
    // Registered ids, plus one that never was.
    const clientIds = ["999999"];
    for (let i = 0; i < 3000; i++) {
      const command = randomCommand(rand, clientIds);
      const plan = h.plan(...command);
      const reply = wire(h.execute(plan));
      if (command[0] === "RAFTKV.REGISTER" && command.length === 1) clientIds.push(reply.slice(1, -2));
      if (plan.kind === "write") {
        writes++;
        const entry = h.log[h.log.length - 1]!;
        if (late !== null) assert.equal(wire(late.apply(entry.index, entry.command)), reply, command.join(" "));
      }
      if (i === 1500) {
        late = new KvStateMachine({ maxSessions: 3 });
        late.restore(h.replicas[1]!.snapshot());
      }
    }
    assert.ok(writes > 1500, `only ${writes} writes`);
    const snapshots = [...h.replicas, late!].map((sm) => Buffer.from(sm.snapshot()).toString("hex"));
    assert.equal(new Set(snapshots).size, 1);
  });
});
