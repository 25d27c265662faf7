import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { KvStateMachine } from "../../src/kv/stateMachine.js";
import { Harness, wire } from "./harness.js";

const SESSION_EXPIRED = /^-SESSIONEXPIRED client \d+ has no session/;

/** Registers a client; returns its id. */
function register(h: Harness): string {
  const reply = h.run("RAFTKV.REGISTER");
  const match = /^:(\d+)\r\n$/.exec(reply);
  assert.ok(match, reply);
  return match[1]!;
}

describe("client sessions (Raft thesis §6.3)", () => {
  test("the client id is the log index of the registration", () => {
    const h = new Harness();
    h.run("SET", "a", "1");
    h.skip(3);
    assert.equal(register(h), "5");
    assert.equal(h.sm.sessionCount, 1);
    assert.equal(h.run("RAFTKV.REGISTER", "x"), "-ERR wrong number of arguments for 'raftkv.register' command\r\n");
  });

  test("a retried INCR applies exactly once", () => {
    const h = new Harness();
    const id = register(h);
    const plan = h.plan("RAFTKV.SESSION", id, "1", "INCR", "counter");
    assert.equal(plan.kind, "write");
    if (plan.kind !== "write") return;
    assert.equal(wire(h.applyWrite(plan.command)), ":1\r\n");
    // The leader crashed before answering; the client retries and a new leader logs the command again.
    assert.equal(wire(h.applyWrite(plan.command)), ":1\r\n");
    assert.equal(h.run("RAFTKV.SESSION", id, "1", "INCR", "counter"), ":1\r\n");
    assert.equal(h.run("GET", "counter"), "$1\r\n1\r\n");
    assert.equal(h.run("RAFTKV.SESSION", id, "2", "INCR", "counter"), ":2\r\n");
    assert.equal(h.run("RAFTKV.SESSION", id, "2", "INCR", "counter"), ":2\r\n");
    assert.equal(h.run("GET", "counter"), "$1\r\n2\r\n");
  });

  test("errors are remembered like any reply", () => {
    const h = new Harness();
    const id = register(h);
    h.run("SET", "s", "abc");
    const error = "-ERR value is not an integer or out of range\r\n";
    assert.equal(h.run("RAFTKV.SESSION", id, "1", "INCR", "s"), error);
    h.run("SET", "s", "5");
    assert.equal(h.run("RAFTKV.SESSION", id, "1", "INCR", "s"), error);
    assert.equal(h.run("GET", "s"), "$1\r\n5\r\n");
  });

  test("an older seq than the last applied is refused, not applied", () => {
    const h = new Harness();
    const id = register(h);
    assert.equal(h.run("RAFTKV.SESSION", id, "5", "INCR", "n"), ":1\r\n");
    assert.equal(h.run("RAFTKV.SESSION", id, "3", "INCR", "n"), `-ERR RAFTKV.SESSION seq 3 is older than the last applied seq 5 of client ${id}\r\n`);
    assert.equal(h.run("GET", "n"), "$1\r\n1\r\n");
    assert.equal(h.run("RAFTKV.SESSION", id, "9", "SET", "k", "v", "GET"), "$-1\r\n");
    assert.equal(h.run("RAFTKV.SESSION", id, "9", "SET", "k", "v", "GET"), "$-1\r\n");
  });

  test("a write for an unknown client is refused, not applied", () => {
    const h = new Harness();
    assert.match(h.run("RAFTKV.SESSION", "42", "1", "SET", "k", "v"), SESSION_EXPIRED);
    assert.equal(h.run("EXISTS", "k"), ":0\r\n");
  });

  test("the least recently used session is evicted, the same one on every replica", () => {
    const h = new Harness({ machine: { maxSessions: 2 }, replicas: 3 });
    const a = register(h);
    const b = register(h);
    assert.equal(h.run("RAFTKV.SESSION", a, "1", "INCR", "n"), ":1\r\n");
    const c = register(h);
    assert.equal(h.sm.sessionCount, 2);
    assert.match(h.run("RAFTKV.SESSION", b, "1", "INCR", "n"), SESSION_EXPIRED);
    assert.equal(h.run("RAFTKV.SESSION", a, "1", "INCR", "n"), ":1\r\n");
    assert.equal(h.run("RAFTKV.SESSION", c, "1", "INCR", "n"), ":2\r\n");
    assert.equal(h.run("GET", "n"), "$1\r\n2\r\n");
    const snapshots = h.replicas.map((sm) => Buffer.from(sm.snapshot()).toString("hex"));
    assert.equal(new Set(snapshots).size, 1);
  });

  test("sessions survive a snapshot: a retry after restore is still not applied twice", () => {
    const h = new Harness();
    const id = register(h);
    assert.equal(h.run("RAFTKV.SESSION", id, "1", "INCR", "n"), ":1\r\n");
    const restored = new KvStateMachine();
    restored.restore(h.sm.snapshot());
    const plan = h.plan("RAFTKV.SESSION", id, "1", "INCR", "n");
    assert.equal(plan.kind, "write");
    if (plan.kind !== "write") return;
    assert.equal(wire(restored.apply(100, plan.command)), ":1\r\n");
    assert.equal(restored.get(Buffer.from("n"))?.toString(), "1");
    assert.equal(restored.sessionCount, 1);
  });

  test("wrapped reads and connection commands are planned as if unwrapped", () => {
    const h = new Harness();
    const id = register(h);
    h.run("SET", "k", "v");
    assert.equal(h.plan("RAFTKV.SESSION", id, "7", "GET", "k").kind, "read");
    assert.equal(h.run("RAFTKV.SESSION", id, "7", "GET", "k"), "$1\r\nv\r\n");
    assert.equal(h.run("RAFTKV.SESSION", id, "7", "PING"), "+PONG\r\n");
  });

  test("malformed session commands are refused before the log", () => {
    const h = new Harness();
    const id = register(h);
    const refused: [string[], string][] = [
      [["RAFTKV.SESSION", id, "1"], "-ERR wrong number of arguments for 'raftkv.session' command\r\n"],
      [["RAFTKV.SESSION", id, "1", "INCR"], "-ERR wrong number of arguments for 'incr' command\r\n"],
      [["RAFTKV.SESSION", id, "1", "NOPE"], "-ERR unknown command 'NOPE', with args beginning with: \r\n"],
      [["RAFTKV.SESSION", "0", "1", "INCR", "n"], "-ERR RAFTKV.SESSION client id must be a positive integer (as returned by RAFTKV.REGISTER)\r\n"],
      [["RAFTKV.SESSION", "x", "1", "INCR", "n"], "-ERR RAFTKV.SESSION client id must be a positive integer (as returned by RAFTKV.REGISTER)\r\n"],
      [["RAFTKV.SESSION", "99999999999999999", "1", "INCR", "n"], "-ERR RAFTKV.SESSION client id must be a positive integer (as returned by RAFTKV.REGISTER)\r\n"],
      [["RAFTKV.SESSION", id, "0", "INCR", "n"], "-ERR RAFTKV.SESSION seq must be a positive integer\r\n"],
      [["RAFTKV.SESSION", id, "-1", "INCR", "n"], "-ERR RAFTKV.SESSION seq must be a positive integer\r\n"],
      [["RAFTKV.SESSION", id, "1", "RAFTKV.REGISTER"], "-ERR RAFTKV.SESSION cannot wrap RAFTKV.SESSION or RAFTKV.REGISTER\r\n"],
      [["RAFTKV.SESSION", id, "1", "raftkv.session", id, "2", "INCR", "n"], "-ERR RAFTKV.SESSION cannot wrap RAFTKV.SESSION or RAFTKV.REGISTER\r\n"],
    ];
    for (const [command, error] of refused) {
      assert.equal(h.plan(...command).kind, "reply", command.join(" "));
      assert.equal(h.run(...command), error, command.join(" "));
    }
    assert.equal(h.run("DBSIZE"), ":0\r\n");
  });
});
