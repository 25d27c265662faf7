// MULTI/EXEC as one log entry, WATCH by key versions checked where the
// entry applies (so every replica decides alike), and the connection state
// as Redis keeps it.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decodeCommand, encodeTimedCommand } from "../../src/kv/command.js";
import { CommandPlanner } from "../../src/kv/planner.js";
import { KvStateMachine } from "../../src/kv/stateMachine.js";
import { ClientConnection } from "../../src/kv/transaction.js";
import type { Plan } from "../../src/kv/plan.js";
import { Harness, args, wire } from "./harness.js";

const OK = "+OK\r\n";
const QUEUED = "+QUEUED\r\n";

describe("MULTI / EXEC", () => {
  test("queued commands run as one entry, in order, with their replies in one array", () => {
    const h = new Harness();
    assert.equal(h.run("SET", "n", "1"), OK);
    const before = h.log.length;
    assert.equal(h.run("MULTI"), OK);
    assert.equal(h.run("INCR", "n"), QUEUED);
    assert.equal(h.run("GET", "n"), QUEUED);
    assert.equal(h.run("HSET", "h", "f", "v"), QUEUED);
    assert.equal(h.run("SET", "n", "x", "BOGUS"), QUEUED, "a syntax error is found at EXEC, as in Redis");
    assert.equal(h.run("INCR", "h"), QUEUED);
    assert.equal(h.log.length, before, "nothing logged before EXEC");
    assert.equal(
      h.run("EXEC"),
      "*5\r\n:2\r\n$1\r\n2\r\n:1\r\n-ERR syntax error\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
    );
    assert.equal(h.log.length, before + 1, "the whole transaction is one entry");
    const entry = decodeCommand(h.log.at(-1)!.command);
    assert.equal(entry.op, "timed");
    assert.equal(entry.op === "timed" && entry.command.op, "multi");
  });

  test("an unknown command or a wrong arity while queueing discards the transaction at EXEC", () => {
    const h = new Harness();
    h.run("MULTI");
    h.run("SET", "k", "v");
    assert.equal(h.run("SET", "k"), "-ERR wrong number of arguments for 'set' command\r\n");
    assert.equal(h.run("EXEC"), "-EXECABORT Transaction discarded because of previous errors.\r\n");
    assert.equal(h.run("EXISTS", "k"), ":0\r\n");
    assert.equal(h.run("EXEC"), "-ERR EXEC without MULTI\r\n");
    assert.equal(h.run("DISCARD"), "-ERR DISCARD without MULTI\r\n");
    h.run("MULTI");
    assert.equal(h.run("MULTI"), "-ERR MULTI calls can not be nested\r\n");
    assert.equal(h.run("WATCH", "k"), "-ERR WATCH inside MULTI is not allowed\r\n");
    assert.equal(h.run("DISCARD"), OK);
    assert.equal(h.run("EXEC"), "-ERR EXEC without MULTI\r\n");
  });

  test("a transaction too large to replicate is refused while queueing and discarded at EXEC", () => {
    const h = new Harness({ replicas: 1 });
    const big = Buffer.alloc(8 * 1024 * 1024, 0x61);
    h.run("MULTI");
    for (let i = 0; i < 3; i++) assert.equal(h.run("SET", `k${i}`, big), QUEUED);
    assert.match(h.run("SET", "k3", big), /^-ERR transaction exceeds 33554432 bytes/);
    assert.match(h.run("SET", "k4", "small"), /^-ERR transaction exceeds/, "and so is everything after it");
    assert.equal(h.run("EXEC"), "-EXECABORT Transaction discarded because of previous errors.\r\n");
    assert.equal(h.run("DBSIZE"), ":0\r\n");
    // A new transaction starts from zero.
    h.run("MULTI");
    assert.equal(h.run("SET", "k", big), QUEUED);
    assert.equal(h.run("EXEC"), "*1\r\n+OK\r\n");
  });

  test("followers apply the transaction's writes without its reads, and end in the same state", () => {
    const h = new Harness({ replicas: 3 });
    h.run("MULTI");
    h.run("SET", "a", "1");
    h.run("GET", "a");
    h.run("APPEND", "a", "2");
    h.run("GET", "a");
    assert.equal(h.run("EXEC"), "*4\r\n+OK\r\n$1\r\n1\r\n:2\r\n$2\r\n12\r\n");
    const snapshots = h.replicas.map((sm) => Buffer.from(sm.snapshot()).toString("hex"));
    assert.equal(new Set(snapshots).size, 1);
  });
});

describe("WATCH", () => {
  test("EXEC does nothing (nil array) when a watched key changed; UNWATCH and EXEC end the watches", () => {
    const h = new Harness();
    h.run("SET", "k", "1");
    assert.equal(h.run("WATCH", "k", "absent"), OK);
    h.run("SET", "k", "1"); // the same value is still a change
    h.run("MULTI");
    h.run("SET", "k", "2");
    assert.equal(h.run("EXEC"), "*-1\r\n");
    assert.equal(h.run("GET", "k"), "$1\r\n1\r\n");
    // The watches ended with that EXEC.
    h.run("MULTI");
    h.run("SET", "k", "2");
    assert.equal(h.run("EXEC"), "*1\r\n+OK\r\n");
    // A key that did not exist, made and removed meanwhile, counts as changed (as in Redis).
    h.run("WATCH", "ghost");
    h.run("SET", "ghost", "x");
    h.run("DEL", "ghost");
    h.run("MULTI");
    h.run("SET", "k", "3");
    assert.equal(h.run("EXEC"), "*-1\r\n");
    // An untouched watched key lets EXEC run; a hash field or a time to live is a change.
    h.run("HSET", "h", "f", "v");
    h.run("WATCH", "h");
    h.run("MULTI");
    h.run("HGET", "h", "f");
    assert.equal(h.run("EXEC"), "*1\r\n$1\r\nv\r\n");
    for (const change of [["HSET", "h", "g", "w"], ["EXPIRE", "h", "100"], ["PERSIST", "h"], ["HINCRBY", "h", "n", "1"], ["FLUSHALL"]]) {
      h.run("HSET", "h", "f", "v");
      h.run("WATCH", "h");
      h.run(...change);
      h.run("MULTI");
      h.run("SET", "k", "x");
      assert.equal(h.run("EXEC"), "*-1\r\n", change.join(" "));
    }
    h.run("WATCH", "k");
    assert.equal(h.run("UNWATCH"), OK);
    h.run("SET", "k", "changed");
    h.run("MULTI");
    h.run("GET", "k");
    assert.equal(h.run("EXEC"), "*1\r\n$7\r\nchanged\r\n");
  });

  test("the version check happens where the entry applies: a write committed between EXEC's proposal and its turn aborts it", () => {
    // Two connections of one leader: A watches and proposes EXEC; B's write is ahead of it in the log.
    const planner = new CommandPlanner();
    const sm = new KvStateMachine({ clock: () => 1000 });
    let index = 0;
    const exec = (plan: Plan) => {
      if (plan.kind === "write") return wire(sm.apply(++index, encodeTimedCommand(1000, plan.command), plan.reads));
      if (plan.kind === "reply") return wire(plan.reply);
      return wire(plan.run(sm, { id: 1, role: "leader", term: 1, leaderId: 1, commitIndex: index, lastApplied: index }));
    };
    const a = new ClientConnection(planner);
    const b = new ClientConnection(planner);
    exec(b.plan(args("SET", "k", "1")));
    assert.equal(exec(a.plan(args("WATCH", "k"))), OK);
    a.plan(args("MULTI"));
    a.plan(args("INCR", "k"));
    const execPlan = a.plan(args("EXEC"));
    assert.equal(execPlan.kind, "write");
    const entry = (execPlan as { command: Uint8Array }).command; // proposed now...
    exec(b.plan(args("SET", "k", "5"))); // ...but B's write commits first
    assert.equal(wire(sm.apply(++index, encodeTimedCommand(1000, entry))), "*-1\r\n");
    assert.equal(exec(b.plan(args("GET", "k"))), "$1\r\n5\r\n");
  });

  test("pipelined WATCH ... EXEC: EXEC's entry is built when proposed, after WATCH's read; a WATCH that never ran fails the EXEC", () => {
    const planner = new CommandPlanner();
    const sm = new KvStateMachine({ clock: () => 1000 });
    const c = new ClientConnection(planner);
    sm.apply(1, encodeTimedCommand(1000, (planner.plan(args("SET", "k", "1")) as { command: Uint8Array }).command));
    // All planned at once, as the client port does with a pipelined batch.
    const watch = c.plan(args("WATCH", "k"));
    c.plan(args("MULTI"));
    c.plan(args("SET", "k", "2"));
    const exec = c.plan(args("EXEC"));
    assert.ok(watch.kind === "read" && exec.kind === "write");
    watch.run(sm, { id: 1, role: "leader", term: 1, leaderId: 1, commitIndex: 1, lastApplied: 1 });
    assert.equal(wire(sm.apply(2, encodeTimedCommand(1000, exec.command))), "*1\r\n+OK\r\n");
    // Same again, but WATCH's read failed (never ran): EXEC must not run unguarded.
    c.plan(args("WATCH", "k"));
    c.plan(args("MULTI"));
    c.plan(args("SET", "k", "3"));
    const exec2 = c.plan(args("EXEC"));
    assert.ok(exec2.kind === "write");
    assert.equal(wire(sm.apply(3, encodeTimedCommand(1000, exec2.command))), "*-1\r\n");
  });
});

describe("EXEC under a client session (RAFTKV.SESSION id seq EXEC)", () => {
  function register(h: Harness): string {
    const reply = h.run("RAFTKV.REGISTER");
    assert.match(reply, /^:\d+\r\n$/);
    return reply.slice(1, -2);
  }
  function pair(h: Harness, id: string, seq: string): string {
    assert.equal(h.run("MULTI"), OK);
    assert.equal(h.run("INCR", "n"), QUEUED);
    assert.equal(h.run("INCR", "m"), QUEUED);
    return h.run("RAFTKV.SESSION", id, seq, "EXEC");
  }

  test("a retried EXEC with the same seq gets the first reply and is not applied again", () => {
    const h = new Harness();
    const id = register(h);
    assert.equal(pair(h, id, "1"), "*2\r\n:1\r\n:1\r\n");
    const entry = decodeCommand(h.log.at(-1)!.command);
    assert.ok(entry.op === "timed" && entry.command.op === "session" && entry.command.command.op === "multi", "one entry: the transaction under the session");
    // The retry (say, on a new leader after the first reply was lost): the same commands, the same seq.
    assert.equal(pair(h, id, "1"), "*2\r\n:1\r\n:1\r\n");
    assert.equal(h.run("GET", "n"), "$1\r\n1\r\n");
    // The next seq applies.
    assert.equal(pair(h, id, "2"), "*2\r\n:2\r\n:2\r\n");
    assert.equal(pair(h, id, "1"), "-ERR RAFTKV.SESSION seq 1 is older than the last applied seq 2 of client " + id + "\r\n");
    assert.equal(h.run("GET", "m"), "$1\r\n2\r\n");
  });

  test("outside MULTI it asks what became of that EXEC: its reply, or -NOTAPPLIED, after which it can never apply", () => {
    const h = new Harness();
    const id = register(h);
    assert.equal(pair(h, id, "1"), "*2\r\n:1\r\n:1\r\n");
    assert.equal(h.run("RAFTKV.SESSION", id, "1", "EXEC"), "*2\r\n:1\r\n:1\r\n");
    // Seq 2 never reached the log (say, the leader died first): resolving it uses it up...
    const notApplied = `-NOTAPPLIED write 2 of client ${id} was not applied, and now never will be\r\n`;
    assert.equal(h.run("RAFTKV.SESSION", id, "2", "exec"), notApplied);
    // ...so if it does reach the log later, it is not applied.
    assert.equal(pair(h, id, "2"), notApplied);
    assert.equal(h.run("GET", "n"), "$1\r\n1\r\n");
    assert.equal(pair(h, id, "3"), "*2\r\n:2\r\n:2\r\n");
  });

  test("a WATCH abort is remembered like any reply; watches still work under a session", () => {
    const h = new Harness();
    const id = register(h);
    h.run("SET", "k", "1");
    assert.equal(h.run("WATCH", "k"), OK);
    h.execute(new ClientConnection(h.planner).plan(args("SET", "k", "2")));
    assert.equal(h.run("MULTI"), OK);
    assert.equal(h.run("SET", "k", "3"), QUEUED);
    assert.equal(h.run("RAFTKV.SESSION", id, "1", "EXEC"), "*-1\r\n");
    assert.equal(h.run("RAFTKV.SESSION", id, "1", "EXEC"), "*-1\r\n");
    assert.equal(h.run("GET", "k"), "$1\r\n2\r\n");
  });

  test("a bad client id or seq in MULTI is refused and discards the transaction; the session's reply survives a snapshot", () => {
    const h = new Harness();
    const id = register(h);
    h.run("MULTI");
    h.run("INCR", "n");
    assert.equal(h.run("RAFTKV.SESSION", "0", "1", "EXEC"), "-ERR RAFTKV.SESSION client id must be a positive integer (as returned by RAFTKV.REGISTER)\r\n");
    assert.equal(h.run("EXEC"), "-EXECABORT Transaction discarded because of previous errors.\r\n");
    assert.equal(pair(h, id, "1"), "*2\r\n:1\r\n:1\r\n");
    const copy = new KvStateMachine();
    copy.restore(h.sm.snapshot());
    assert.equal(wire(copy.apply(h.log.at(-1)!.index + 1, h.log.at(-1)!.command)), "*2\r\n:1\r\n:1\r\n", "a restored replica remembers the reply");
  });
});
