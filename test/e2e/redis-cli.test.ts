// redis-cli, unchanged, against a real 3-node cluster (SPEC §4): the exact
// text it prints for each command, MOVED from a follower, `-c` following the
// redirect, and pipelined commands (stdin, --pipe, one socket write)
// answered in order and run in order.
//
// stdout is a pipe, not a TTY, so redis-cli prints raw replies: a bulk
// string as its bytes, nil as an empty line, an integer as its digits, an
// error as its text (without the "(error) " a terminal gets).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { encodeCommand } from "../../src/client/commandEncoder.js";
import { TestCluster } from "../helpers/cluster.js";
import { clientAddress, parseReplies, rawExchange, redisCli, roles, type ToolRun } from "./support.js";

/** redis-cli's output for a command the node did not execute because it does not lead (safe to retry). */
const NOT_LEADER = /^(MOVED|CLUSTERDOWN) /;
/**
 * A leader change in the middle of a batch: refused (not the leader), or
 * accepted by the old leader and then of unknown outcome (its entries were
 * not committed before the new leader took over, and nothing commits at
 * their indexes until new writes come).
 */
const LEADER_CHANGED = /^(MOVED|CLUSTERDOWN|TIMEOUT) /;

describe("redis-cli against a 3-node cluster", () => {
  let c: TestCluster;

  before(async () => {
    c = await TestCluster.start({ nodes: 3 });
  });

  after(async () => {
    await c?.stop();
  });

  /**
   * Runs redis-cli at the leader. On a shared machine leadership can move
   * at any time; commands refused with MOVED or CLUSTERDOWN were not
   * executed, so when `retry` the whole input is sent again to the new
   * leader (the callers' inputs give the same output when repeated).
   */
  async function atLeader(args: string[], input = "", retry = true): Promise<ToolRun> {
    for (let attempt = 1; ; attempt++) {
      const leader = c.node((await roles(c)).leader);
      const r = await redisCli(leader, args, input);
      const refused = r.stdout.split("\n").find((line) => NOT_LEADER.test(line));
      if (refused === undefined || !retry || attempt === 10) return r;
      console.error(`redis-cli ${args.join(" ")}: ${refused} (leadership moved); sending it again`);
    }
  }

  /** Runs one redis-cli command at the leader; its stdout must be exactly `expected`. */
  async function expectPrints(args: string[], expected: string): Promise<void> {
    const r = await atLeader(args);
    assert.equal(r.stdout, expected, `redis-cli ${args.join(" ")} (stderr: ${r.stderr})`);
    assert.equal(r.code, 0, `redis-cli ${args.join(" ")} exit code`);
  }

  test("string commands print what they print against Redis", async () => {
    await expectPrints(["set", "foo", "bar"], "OK\n");
    await expectPrints(["get", "foo"], "bar\n");
    await expectPrints(["get", "missing"], "\n");
    await expectPrints(["exists", "foo", "missing", "foo"], "2\n");
    await expectPrints(["del", "foo", "missing"], "1\n");
    await expectPrints(["exists", "foo"], "0\n");
    await expectPrints(["incr", "counter"], "1\n");
    await expectPrints(["incr", "counter"], "2\n");
    await expectPrints(["mset", "a", "1", "b", "2"], "OK\n");
    await expectPrints(["mget", "a", "b", "missing"], "1\n2\n\n");
    await expectPrints(["append", "a", "xyz"], "4\n");
    await expectPrints(["strlen", "a"], "4\n");
    await expectPrints(["strlen", "missing"], "0\n");
    await expectPrints(["dbsize"], "3\n"); // counter, a, b
    await expectPrints(["ping"], "PONG\n");
    await expectPrints(["echo", "hello world"], "hello world\n");
    await expectPrints(["set", "spaced key", "a value\nwith a newline"], "OK\n");
    await expectPrints(["get", "spaced key"], "a value\nwith a newline\n");
  });

  test("errors print Redis's texts", async () => {
    const cases: [string[], string][] = [
      [["incr", "a"], "ERR value is not an integer or out of range"],
      [["set", "onlykey"], "ERR wrong number of arguments for 'set' command"],
      [["frobnicate", "x"], "ERR unknown command 'frobnicate', with args beginning with: 'x' "],
      [["set", "k", "v", "nx", "xx"], "ERR syntax error"],
    ];
    for (const [args, message] of cases) {
      const r = await atLeader(args);
      // redis-cli prints an error line and then an empty line; Redis's unknown-command text ends in a space.
      assert.equal(r.stdout.trimEnd(), message.trimEnd(), `redis-cli ${args.join(" ")}`);
    }
    // The failed commands wrote nothing.
    await expectPrints(["get", "a"], "1xyz\n");
    await expectPrints(["exists", "onlykey", "k"], "0\n");
  });

  test("a follower answers MOVED 0 with the leader's client address; -c follows it", async () => {
    // The leader seen before and after the command must be the one named (else leadership moved: look again).
    let moved = "";
    let leader = 0;
    for (let attempt = 1; attempt <= 10; attempt++) {
      const before = await roles(c);
      const r = await redisCli(c.node(before.followers[0]!), ["get", "a"]);
      moved = r.stdout.trimEnd();
      leader = (await roles(c)).leader;
      if (leader === before.leader) break;
    }
    assert.equal(moved, `MOVED 0 ${clientAddress(c.node(leader))}`);

    const follower = c.node(c.nodes.map((n) => n.id).find((id) => id !== leader)!);
    const write = await redisCli(follower, ["-c", "set", "via-follower", "42"]);
    assert.equal(write.stdout, "OK\n", `redis-cli -c set through a follower (stderr: ${write.stderr})`);
    const read = await redisCli(follower, ["-c", "get", "via-follower"]);
    assert.equal(read.stdout, "42\n");
    await expectPrints(["get", "via-follower"], "42\n");
  });

  test("INFO is answered by every node about itself: a follower names itself a replica and the leader, only the leader counts keys", async () => {
    for (let attempt = 1; ; attempt++) {
      const before = await roles(c);
      const answers = await Promise.all(c.nodes.map(async (n) => ({ id: n.id, r: await redisCli(n, ["info", "replication", "raftkv", "keyspace"]) })));
      if ((await roles(c)).leader !== before.leader && attempt < 10) continue; // leadership moved mid-way: look again
      for (const { id, r } of answers) {
        assert.equal(r.code, 0, `redis-cli info at node ${id} (stderr: ${r.stderr})`);
        const fields = new Map(r.stdout.split(/\r?\n/).filter((l) => l.includes(":")).map((l) => l.split(":", 2) as [string, string]));
        assert.equal(fields.get("raftkv_node_id"), String(id), r.stdout);
        assert.equal(fields.get("role"), id === before.leader ? "master" : "slave", r.stdout);
        assert.equal(fields.get("raftkv_role"), id === before.leader ? "leader" : "follower", r.stdout);
        assert.equal(fields.get("raftkv_leader_id"), String(before.leader), r.stdout);
        // The key count is data: the leader gives it (after a read-index round), a follower leaves it out.
        if (id === before.leader) assert.match(r.stdout, /# Keyspace\r?\ndb0:keys=\d+/, r.stdout);
        else assert.doesNotMatch(r.stdout, /Keyspace|db0/, r.stdout);
      }
      return;
    }
  });

  test("commands on stdin are answered one after the other, in order", async () => {
    const lines = ["set seq 0", ...Array.from({ length: 100 }, () => "incr seq"), "get seq", "ping", "echo done"];
    const r = await atLeader([], lines.join("\n") + "\n");
    const expected = ["OK", ...Array.from({ length: 100 }, (_, i) => String(i + 1)), "100", "PONG", "done"];
    assert.deepEqual(r.stdout.trimEnd().split("\n"), expected);
  });

  test("redis-cli --pipe: 2000 pipelined commands, every reply, no error", async () => {
    // A leader change in the middle refuses part of the batch or leaves it
    // unknown, and on a loaded machine a commit can take longer than the
    // node's commit timeout (-TIMEOUT, outcome unknown); then the batch runs
    // again on fresh keys. redis-cli --pipe prints error replies on stderr,
    // not stdout, so that is where they are looked for.
    for (let attempt = 1; ; attempt++) {
      const frames: Buffer[] = [];
      for (let i = 0; i < 1000; i++) frames.push(encodeCommand(["SET", `pipe${attempt}-${i}`, `v${i}`]));
      for (let i = 0; i < 1000; i++) frames.push(encodeCommand(["INCR", `pipe${attempt}-count`]));
      const r = await atLeader(["--pipe"], Buffer.concat(frames).toString("latin1"), false);
      // Looked at before the exit code: redis-cli --pipe exits 1 when any reply was an error.
      const refused = r.stderr.split("\n").filter((l) => LEADER_CHANGED.test(l));
      if (refused.length > 0 && attempt < 5) {
        console.error(`redis-cli --pipe: ${refused.length} commands refused (${refused[0]}); running the batch again`);
        continue;
      }
      assert.match(r.stdout, /errors: 0, replies: 2000/, r.stdout + r.stderr);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      await expectPrints(["get", `pipe${attempt}-count`], "1000\n");
      await expectPrints(["mget", `pipe${attempt}-0`, `pipe${attempt}-500`, `pipe${attempt}-999`], "v0\nv500\nv999\n");
      return;
    }
  });

  test("pipelined commands on one connection take effect in the order they were sent, as in Redis", async () => {
    // One socket write: SET i, GET, INCR, for i = 0..199. Redis runs a
    // connection's commands one after the other, so GET #i sees SET i: not
    // an older value, and not one of the SETs sent after it.
    const frames: Buffer[] = [];
    for (let i = 0; i < 200; i++) frames.push(encodeCommand(["SET", "order", String(i)]), encodeCommand(["GET", "order"]), encodeCommand(["INCR", "order-n"]));
    let got = parseReplies((await rawExchange(c.node((await roles(c)).leader), [Buffer.concat(frames)])).received);
    for (let attempt = 1; got.some((r) => NOT_LEADER.test(r.slice(1))) && attempt < 5; attempt++) {
      console.error("leadership moved during the pipelined batch; sending it again");
      got = parseReplies((await rawExchange(c.node((await roles(c)).leader), [encodeCommand(["DEL", "order-n"]), Buffer.concat(frames)])).received).slice(1);
    }
    assert.equal(got.length, 600, `600 replies, got ${got.length}`);
    const wrong: string[] = [];
    for (let i = 0; i < 200; i++) {
      const [set, get, incr] = got.slice(3 * i, 3 * i + 3);
      if (set !== "+OK" || get !== `$${i}` || incr !== `:${i + 1}`) wrong.push(`#${i}: SET order ${i} -> ${set}, GET order -> ${get}, INCR order-n -> ${incr}`);
    }
    assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of 200 SET/GET/INCR triples broke program order, e.g. the ones shown`);
  });
});
