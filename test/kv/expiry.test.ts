// Expiry decided by the log: every entry carries the leader's clock, each
// replica applies it at that time (never its own clock), the log's time
// never goes back, reads hide what is due by the reader's clock without
// changing the state, and a TICK removes due keys on every replica alike.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { encodeCommand, encodeTimedCommand } from "../../src/kv/command.js";
import { CommandPlanner } from "../../src/kv/planner.js";
import { KvStateMachine } from "../../src/kv/stateMachine.js";
import { Harness, LEADER, wire } from "./harness.js";
import type { Reply } from "../../src/resp/writer.js";
import { Rng } from "../helpers/prng.js";

const planner = new CommandPlanner();

/** The logged bytes of a write command, stamped with `now`. */
function entry(now: number, ...args: string[]): Uint8Array {
  const plan = planner.plan(args.map((a) => Buffer.from(a, "latin1")));
  assert.equal(plan.kind, "write", args.join(" "));
  return encodeTimedCommand(now, (plan as { command: Uint8Array }).command);
}

function runRead(sm: KvStateMachine, args: string[]): Reply {
  const plan = planner.plan(args.map((a) => Buffer.from(a, "latin1")));
  if (plan.kind !== "read") throw new Error(`${args.join(" ")} is not a read`);
  return plan.run(sm, LEADER);
}

function read(sm: KvStateMachine, ...args: string[]): string {
  return wire(runRead(sm, args));
}

const tick = (now: number) => encodeTimedCommand(now, encodeCommand({ op: "tick" }));

describe("expiry by the log's time", () => {
  test("replicas with different clocks apply the same log to the same state: no replica reads its own clock to apply", () => {
    const log = [
      entry(1000, "SET", "a", "1", "PX", "100"),
      entry(1050, "SET", "b", "2", "EX", "1"),
      entry(1099, "INCR", "a"),
      entry(1100, "INCR", "a"), // a expired at 1100: INCR starts from nothing
      entry(1200, "HSET", "h", "f", "v"),
      entry(1300, "PEXPIRE", "h", "50"),
      tick(1400),
      tick(2100),
    ];
    const clocks = [() => 0, () => 5_000_000, () => Date.now()];
    const replicas = clocks.map((clock) => new KvStateMachine({ clock }));
    const replies = replicas.map((sm) => log.map((e, i) => wire(sm.apply(i + 1, e))));
    for (const r of replies) assert.deepEqual(r, replies[0]);
    assert.deepEqual(replies[0]!.slice(2, 4), [":2\r\n", ":1\r\n"]);
    const snapshots = replicas.map((sm) => Buffer.from(sm.snapshot()).toString("hex"));
    assert.equal(new Set(snapshots).size, 1);
    // After the tick at 2100 the keys with a time to live are gone, on every replica; "a", made again by INCR, has none.
    for (const sm of replicas) assert.deepEqual([...sm.liveKeys(0)], ["a"]);
    for (const sm of replicas) assert.equal(sm.size, 1);
  });

  test("the log's time never goes back: an entry stamped by a leader with a slower clock applies at the later time", () => {
    const sm = new KvStateMachine({ clock: () => 0 });
    sm.apply(1, entry(10_000, "SET", "k", "v", "PX", "100"));
    assert.equal(sm.logTime, 10_000);
    sm.apply(2, entry(5_000, "SET", "k2", "v", "PX", "100")); // a new leader, 5 s behind
    assert.equal(sm.logTime, 10_000);
    assert.equal(sm.nextExpiry(), 10_100);
    sm.apply(3, tick(10_099));
    assert.equal(sm.size, 2);
    sm.apply(4, tick(10_100));
    assert.equal(sm.size, 0, "both keys expire at 10 100 by the log's time");
  });

  test("a read hides a key due by the reader's clock before any entry removed it, and changes nothing", () => {
    let now = 1000;
    const sm = new KvStateMachine({ clock: () => now });
    sm.apply(1, entry(1000, "SET", "k", "v", "PX", "100"));
    const before = Buffer.from(sm.snapshot()).toString("hex");
    assert.equal(read(sm, "GET", "k"), "$1\r\nv\r\n");
    now = 1100;
    assert.equal(read(sm, "GET", "k"), "$-1\r\n");
    assert.equal(read(sm, "EXISTS", "k"), ":0\r\n");
    assert.equal(read(sm, "TTL", "k"), ":-2\r\n");
    assert.equal(read(sm, "DBSIZE"), ":0\r\n");
    assert.equal(read(sm, "KEYS", "*"), "*0\r\n");
    assert.equal(read(sm, "SCAN", "0"), "*2\r\n$1\r\n0\r\n*0\r\n");
    assert.equal(Buffer.from(sm.snapshot()).toString("hex"), before, "reads do not change the state");
    // A reader's clock behind the log's time does not bring a key back.
    sm.apply(2, tick(1200));
    now = 0;
    assert.equal(read(sm, "GET", "k"), "$-1\r\n");
  });

  test("times to live, the log's time and SCAN's order survive a snapshot", () => {
    const sm = new KvStateMachine({ clock: () => 1000 });
    sm.apply(1, entry(1000, "SET", "a", "1", "PX", "5000"));
    sm.apply(2, entry(1000, "HSET", "h", "f", "v", "g", "w"));
    sm.apply(3, entry(1000, "EXPIREAT", "h", "100"));
    sm.apply(4, entry(1000, "SET", "b", "2"));
    const copy = new KvStateMachine({ clock: () => 1000 });
    copy.restore(sm.snapshot());
    assert.equal(copy.logTime, 1000);
    assert.equal(read(copy, "PEXPIRETIME", "a"), ":6000\r\n");
    assert.equal(read(copy, "PEXPIRETIME", "h"), ":100000\r\n");
    assert.equal(read(copy, "HGETALL", "h"), "*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n$1\r\nw\r\n");
    assert.equal(read(copy, "SCAN", "0", "COUNT", "1"), read(sm, "SCAN", "0", "COUNT", "1"));
    assert.deepEqual(Buffer.from(copy.snapshot()), Buffer.from(sm.snapshot()));
    assert.equal(copy.nextExpiry(), 6000);
    copy.apply(5, tick(6000));
    assert.equal(copy.size, 2);
  });

  test("an RKV1 snapshot (strings, no time) is still read", () => {
    const v1 = Buffer.concat([Buffer.from("RKV1"), Buffer.from([7, 0, 1, 1, 0x6b, 1, 0x76])]);
    const sm = new KvStateMachine();
    sm.restore(v1);
    assert.equal(sm.lastApplied, 7);
    assert.equal(sm.get(Buffer.from("k"))?.toString(), "v");
  });

  test("EXPIRE's NX, XX, GT and LT against the current time to live", () => {
    const now = 1_000_000;
    const h = new Harness({ clock: () => now });
    h.run("SET", "k", "v");
    assert.equal(h.run("EXPIRE", "k", "100", "XX"), ":0\r\n");
    assert.equal(h.run("EXPIRE", "k", "100", "GT"), ":0\r\n", "no time to live counts as forever");
    assert.equal(h.run("EXPIRE", "k", "100", "LT"), ":1\r\n");
    assert.equal(h.run("EXPIRE", "k", "50", "NX"), ":0\r\n");
    assert.equal(h.run("EXPIRE", "k", "200", "GT"), ":1\r\n");
    assert.equal(h.run("EXPIRE", "k", "200", "GT"), ":0\r\n");
    assert.equal(h.run("EXPIRE", "k", "150", "XX", "LT"), ":1\r\n");
    assert.equal(h.run("TTL", "k"), ":150\r\n");
    assert.equal(h.run("PERSIST", "k"), ":1\r\n");
    assert.equal(h.run("PERSIST", "k"), ":0\r\n");
    assert.equal(h.run("EXPIRE", "k", "-1"), ":1\r\n");
    assert.equal(h.run("EXISTS", "k"), ":0\r\n");
  });
});

describe("SCAN", () => {
  test("a key present for the whole scan is returned, whatever is added and removed meanwhile; the cursor survives a new leader (snapshot)", () => {
    for (let seed = 1; seed <= 50; seed++) {
      const rng = new Rng(seed);
      const h = new Harness({ clock: () => 1000 });
      const stable = new Set<string>();
      for (let i = 0; i < 60; i++) {
        h.run("SET", `s${i}`, "v");
        stable.add(`s${i}`);
      }
      let sm = h.sm;
      let cursor = "0";
      const seen = new Set<string>();
      let n = 0;
      do {
        const reply = runRead(sm, ["SCAN", cursor, "COUNT", String(1 + rng.int(7))]);
        assert.ok(reply.kind === "array" && reply.items !== null);
        const [c, keys] = reply.items as [Reply, Reply];
        assert.ok(c.kind === "bulk" && keys.kind === "array");
        cursor = Buffer.from(c.value!).toString();
        for (const k of keys.items!) seen.add(Buffer.from((k as { value: Uint8Array }).value).toString());
        // Churn: other keys come and go, and stable keys are overwritten (still present).
        for (let j = 0; j < 5; j++) {
          const k = `t${rng.int(40)}`;
          h.run(rng.chance(0.5) ? "SET" : "DEL", k, ...(rng.chance(0.5) ? ["v"] : []));
          h.run("SET", `s${rng.int(60)}`, "w");
        }
        if (rng.chance(0.2)) {
          // The scan goes on at another replica, restored from a snapshot.
          const next = new KvStateMachine({ clock: () => 1000 });
          next.restore(h.sm.snapshot());
          sm = next;
          h.replicas[0] = next;
        }
        assert.ok(n++ < 1000, "the scan ends");
      } while (cursor !== "0");
      for (const k of stable) assert.ok(seen.has(k), `seed ${seed}: ${k} was present throughout but not returned`);
    }
  });
});
