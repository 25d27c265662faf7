// Every command against Redis's behaviour: replies in wire form, exactly as
// Redis 7 sends them for the same input.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Harness, wire } from "./harness.js";

const OK = "+OK\r\n";
const NIL = "$-1\r\n";
const NOT_INTEGER = "-ERR value is not an integer or out of range\r\n";
const OVERFLOW = "-ERR increment or decrement would overflow\r\n";
const SYNTAX = "-ERR syntax error\r\n";
const bulk = (s: string) => `$${Buffer.byteLength(s, "latin1")}\r\n${s}\r\n`;
const int = (n: number | bigint | string) => `:${n}\r\n`;
const arity = (name: string) => `-ERR wrong number of arguments for '${name}' command\r\n`;

describe("GET and SET", () => {
  test("basic", () => {
    const h = new Harness();
    assert.equal(h.run("GET", "k"), NIL);
    assert.equal(h.run("SET", "k", "v"), OK);
    assert.equal(h.run("GET", "k"), bulk("v"));
    assert.equal(h.run("set", "k", "w"), OK);
    assert.equal(h.run("gEt", "k"), bulk("w"));
    assert.equal(h.run("SET", "empty", ""), OK);
    assert.equal(h.run("GET", "empty"), bulk(""));
  });

  test("keys and values are binary-safe", () => {
    const h = new Harness();
    const key = Buffer.from([0, 255, 13, 10, 128]);
    const value = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    assert.equal(h.run("SET", key, value), OK);
    assert.equal(h.run("GET", key), `$256\r\n${value.toString("latin1")}\r\n`);
    assert.equal(h.run("GET", Buffer.from([0, 255, 13, 10])), NIL);
  });

  test("NX and XX", () => {
    const h = new Harness();
    assert.equal(h.run("SET", "k", "1", "XX"), NIL);
    assert.equal(h.run("GET", "k"), NIL);
    assert.equal(h.run("SET", "k", "1", "NX"), OK);
    assert.equal(h.run("SET", "k", "2", "NX"), NIL);
    assert.equal(h.run("GET", "k"), bulk("1"));
    assert.equal(h.run("SET", "k", "3", "xx"), OK);
    assert.equal(h.run("GET", "k"), bulk("3"));
    assert.equal(h.run("SET", "k", "4", "NX", "NX"), NIL);
  });

  test("GET option returns the old value", () => {
    const h = new Harness();
    assert.equal(h.run("SET", "k", "1", "GET"), NIL);
    assert.equal(h.run("GET", "k"), bulk("1"));
    assert.equal(h.run("SET", "k", "2", "GET"), bulk("1"));
    assert.equal(h.run("SET", "k", "3", "NX", "GET"), bulk("2"));
    assert.equal(h.run("GET", "k"), bulk("2"));
    assert.equal(h.run("SET", "other", "x", "XX", "GET"), NIL);
    assert.equal(h.run("GET", "other"), NIL);
    assert.equal(h.run("SET", "k", "4", "GET", "XX"), bulk("2"));
    assert.equal(h.run("GET", "k"), bulk("4"));
  });

  test("syntax errors write nothing", () => {
    const h = new Harness();
    for (const extra of [["NX", "XX"], ["XX", "NX"], ["FOO"], ["EX"], ["KEEPTTL", "EX", "10"], ["EX", "10", "PX", "10"], ["EX", "10", "KEEPTTL"]]) {
      assert.equal(h.run("SET", "k", "v", ...extra), SYNTAX, extra.join(" "));
      assert.equal(h.plan("SET", "k", "v", ...extra).kind, "reply");
    }
    assert.equal(h.run("DBSIZE"), int(0));
  });

  test("EX, PX, EXAT, PXAT set a time to live by the log's time; KEEPTTL keeps it; a plain SET drops it", () => {
    let now = 1_000_000;
    const h = new Harness({ clock: () => now });
    assert.equal(h.run("SET", "k", "v", "EX", "10"), OK);
    assert.equal(h.run("PTTL", "k"), int(10_000));
    assert.equal(h.run("SET", "k", "v", "PX", "500"), OK);
    assert.equal(h.run("PEXPIRETIME", "k"), int(1_000_500));
    assert.equal(h.run("SET", "k", "v", "EXAT", "2000"), OK);
    assert.equal(h.run("PEXPIRETIME", "k"), int(2_000_000));
    assert.equal(h.run("SET", "k", "w", "KEEPTTL"), OK);
    assert.equal(h.run("PEXPIRETIME", "k"), int(2_000_000));
    assert.equal(h.run("SET", "k", "x"), OK);
    assert.equal(h.run("TTL", "k"), int(-1));
    assert.equal(h.run("SET", "k", "y", "PXAT", "1000001"), OK);
    now += 1;
    assert.equal(h.run("GET", "k"), NIL);
    assert.equal(h.run("SET", "k", "v", "EX", "0"), "-ERR invalid expire time in 'set' command\r\n");
  });

  test("arity", () => {
    const h = new Harness();
    assert.equal(h.run("GET"), arity("get"));
    assert.equal(h.run("GET", "a", "b"), arity("get"));
    assert.equal(h.run("SET", "k"), arity("set"));
    assert.equal(h.run("SET"), arity("set"));
  });
});

describe("DEL and EXISTS", () => {
  test("count keys", () => {
    const h = new Harness();
    h.run("MSET", "a", "1", "b", "2", "c", "3");
    assert.equal(h.run("EXISTS", "a"), int(1));
    assert.equal(h.run("EXISTS", "a", "a", "nope", "b"), int(3));
    assert.equal(h.run("DEL", "a", "b", "nope"), int(2));
    assert.equal(h.run("DEL", "c", "c"), int(1));
    assert.equal(h.run("DEL", "c"), int(0));
    assert.equal(h.run("EXISTS", "a", "b", "c"), int(0));
    assert.equal(h.run("DEL"), arity("del"));
    assert.equal(h.run("EXISTS"), arity("exists"));
  });
});

describe("INCR, DECR, INCRBY, DECRBY", () => {
  test("count from a missing key, store the decimal text", () => {
    const h = new Harness();
    assert.equal(h.run("INCR", "n"), int(1));
    assert.equal(h.run("INCR", "n"), int(2));
    assert.equal(h.run("GET", "n"), bulk("2"));
    assert.equal(h.run("DECR", "n"), int(1));
    assert.equal(h.run("INCRBY", "n", "10"), int(11));
    assert.equal(h.run("DECRBY", "n", "20"), int(-9));
    assert.equal(h.run("GET", "n"), bulk("-9"));
    assert.equal(h.run("DECR", "m"), int(-1));
    assert.equal(h.run("INCRBY", "n", "-1"), int(-10));
    assert.equal(h.run("DECRBY", "n", "-10"), int(0));
    h.run("SET", "s", "41");
    assert.equal(h.run("INCR", "s"), int(42));
  });

  test("a stored value that is not an integer (Redis's string2ll rules)", () => {
    const h = new Harness();
    for (const value of ["abc", " 1", "1 ", "1 2", "01", "+1", "-0", "1.5", "", "9223372036854775808"]) {
      h.run("SET", "s", value);
      assert.equal(h.run("INCR", "s"), NOT_INTEGER, JSON.stringify(value));
      assert.equal(h.run("DECRBY", "s", "1"), NOT_INTEGER, JSON.stringify(value));
      assert.equal(h.run("GET", "s"), bulk(value));
    }
  });

  test("an increment that is not an integer", () => {
    const h = new Harness();
    for (const delta of ["x", "1.0", " 1", "", "9223372036854775808"]) {
      assert.equal(h.run("INCRBY", "n", delta), NOT_INTEGER);
      assert.equal(h.run("DECRBY", "n", delta), NOT_INTEGER);
      assert.equal(h.plan("INCRBY", "n", delta).kind, "reply");
    }
    assert.equal(h.run("EXISTS", "n"), int(0));
  });

  test("overflow at the 64-bit limits leaves the value alone", () => {
    const h = new Harness();
    h.run("SET", "max", "9223372036854775807");
    assert.equal(h.run("INCR", "max"), OVERFLOW);
    assert.equal(h.run("INCRBY", "max", "0"), int("9223372036854775807"));
    assert.equal(h.run("DECR", "max"), int("9223372036854775806"));
    assert.equal(h.run("INCRBY", "max", "1"), int("9223372036854775807"));
    h.run("SET", "min", "-9223372036854775808");
    assert.equal(h.run("DECR", "min"), OVERFLOW);
    assert.equal(h.run("INCRBY", "min", "-1"), OVERFLOW);
    assert.equal(h.run("GET", "min"), bulk("-9223372036854775808"));
    assert.equal(h.run("INCRBY", "zero", "-9223372036854775808"), int("-9223372036854775808"));
    assert.equal(h.run("DECRBY", "zero2", "-9223372036854775808"), "-ERR decrement would overflow\r\n");
    assert.equal(h.run("DECRBY", "big", "-9223372036854775807"), int("9223372036854775807"));
  });

  test("arity", () => {
    const h = new Harness();
    assert.equal(h.run("INCR"), arity("incr"));
    assert.equal(h.run("INCR", "a", "b"), arity("incr"));
    assert.equal(h.run("DECR"), arity("decr"));
    assert.equal(h.run("INCRBY", "a"), arity("incrby"));
    assert.equal(h.run("DECRBY", "a", "1", "2"), arity("decrby"));
  });
});

describe("APPEND and STRLEN", () => {
  test("append creates, then extends", () => {
    const h = new Harness();
    assert.equal(h.run("STRLEN", "k"), int(0));
    assert.equal(h.run("APPEND", "k", "Hello"), int(5));
    assert.equal(h.run("APPEND", "k", " World"), int(11));
    assert.equal(h.run("GET", "k"), bulk("Hello World"));
    assert.equal(h.run("STRLEN", "k"), int(11));
    assert.equal(h.run("APPEND", "k", ""), int(11));
    assert.equal(h.run("INCR", "n"), int(1));
    assert.equal(h.run("APPEND", "n", "0"), int(2));
    assert.equal(h.run("INCR", "n"), int(11));
    assert.equal(h.run("APPEND", "k"), arity("append"));
    assert.equal(h.run("STRLEN"), arity("strlen"));
  });

  test("append past the value limit is refused and changes nothing", () => {
    const h = new Harness({ limits: { maxValueBytes: 5 } });
    assert.equal(h.run("APPEND", "k", "abc"), int(3));
    assert.equal(h.run("APPEND", "k", "def"), "-ERR string exceeds maximum allowed size (5 bytes)\r\n");
    assert.equal(h.run("APPEND", "k", "de"), int(5));
    assert.equal(h.run("GET", "k"), bulk("abcde"));
  });
});

describe("MGET and MSET", () => {
  test("multiple keys, missing ones are nil", () => {
    const h = new Harness();
    assert.equal(h.run("MSET", "a", "1", "b", "2"), OK);
    assert.equal(h.run("MGET", "a", "nope", "b"), `*3\r\n${bulk("1")}${NIL}${bulk("2")}`);
    assert.equal(h.run("MSET", "a", "x", "a", "y"), OK);
    assert.equal(h.run("GET", "a"), bulk("y"));
  });

  test("odd arity", () => {
    const h = new Harness();
    assert.equal(h.run("MSET", "a"), arity("mset"));
    assert.equal(h.run("MSET", "a", "1", "b"), arity("mset"));
    assert.equal(h.run("MSET"), arity("mset"));
    assert.equal(h.run("MGET"), arity("mget"));
    assert.equal(h.run("DBSIZE"), int(0));
  });
});

describe("size limits", () => {
  const h = new Harness({ limits: { maxKeyBytes: 4, maxValueBytes: 8 } });
  const KEY = "-ERR key exceeds maximum allowed size (4 bytes)\r\n";
  const VALUE = "-ERR string exceeds maximum allowed size (8 bytes)\r\n";

  test("an oversized key or value gets -ERR and nothing is written", () => {
    const refused: [string[], string][] = [
      [["SET", "kkkkk", "v"], KEY],
      [["SET", "k", "vvvvvvvvv"], VALUE],
      [["MSET", "a", "1", "kkkkk", "2"], KEY],
      [["MSET", "a", "1", "b", "vvvvvvvvv"], VALUE],
      [["APPEND", "k", "vvvvvvvvv"], VALUE],
      [["APPEND", "kkkkk", "v"], KEY],
      [["INCR", "kkkkk"], KEY],
      [["DEL", "a", "kkkkk"], KEY],
      [["GET", "kkkkk"], KEY],
      [["MGET", "a", "kkkkk"], KEY],
    ];
    for (const [command, error] of refused) {
      assert.equal(h.plan(...command).kind, "reply", command.join(" "));
      assert.equal(h.run(...command), error, command.join(" "));
    }
    assert.equal(h.run("DBSIZE"), int(0));
  });

  test("at the limits, accepted", () => {
    assert.equal(h.run("SET", "kkkk", "vvvvvvvv"), OK);
    assert.equal(h.run("DBSIZE"), int(1));
  });
});

describe("connection and server commands", () => {
  const h = new Harness();

  test("PING and ECHO", () => {
    assert.equal(h.run("PING"), "+PONG\r\n");
    assert.equal(h.run("ping", "hi"), bulk("hi"));
    assert.equal(h.run("PING", "a", "b"), arity("ping"));
    assert.equal(h.run("ECHO", "x\r\ny"), bulk("x\r\ny"));
    assert.equal(h.run("ECHO"), arity("echo"));
  });

  test("SELECT: one database", () => {
    assert.equal(h.run("SELECT", "0"), OK);
    assert.equal(h.run("SELECT", "1"), "-ERR DB index is out of range\r\n");
    assert.equal(h.run("SELECT", "-1"), "-ERR DB index is out of range\r\n");
    assert.equal(h.run("SELECT", "x"), NOT_INTEGER);
    assert.equal(h.run("SELECT", "2147483648"), "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n");
    assert.equal(h.run("SELECT", "9223372036854775808"), NOT_INTEGER);
    assert.equal(h.run("SELECT"), arity("select"));
  });

  test("QUIT answers OK and asks for the connection to close", () => {
    assert.deepEqual(h.plan("QUIT"), { kind: "reply", reply: { kind: "simple", value: "OK" }, close: true });
    assert.deepEqual(h.plan("PING"), { kind: "reply", reply: { kind: "simple", value: "PONG" }, close: false });
  });

  test("unknown commands", () => {
    assert.equal(h.run("FOO", "a", "b"), "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n");
    assert.equal(h.run("foo"), "-ERR unknown command 'foo', with args beginning with: \r\n");
    assert.equal(h.run("HELLO", "3"), "-ERR unknown command 'HELLO', with args beginning with: '3' \r\n");
    assert.equal(h.run("X", "a\r\nb"), "-ERR unknown command 'X', with args beginning with: 'a  b' \r\n");
    // Arguments are quoted up to 128 characters in all, each cut to what is left.
    const long = "y".repeat(200);
    assert.equal(h.run("X", long, "z"), `-ERR unknown command 'X', with args beginning with: '${"y".repeat(128)}' \r\n`);
    const many = Array.from({ length: 40 }, () => "ab");
    assert.equal(h.run("X", ...many), `-ERR unknown command 'X', with args beginning with: ${"'ab' ".repeat(26)}\r\n`);
    const cut = [...Array.from({ length: 20 }, () => "abc"), "0123456789", "more"];
    assert.equal(h.run("X", ...cut), `-ERR unknown command 'X', with args beginning with: ${"'abc' ".repeat(20)}'01234567' \r\n`);
    assert.equal(h.run("Z".repeat(300)), `-ERR unknown command '${"Z".repeat(128)}', with args beginning with: \r\n`);
    assert.equal(h.run("X\0hidden", "a\0b"), "-ERR unknown command 'X', with args beginning with: 'a' \r\n");
  });

  test("CONFIG GET: a few parameters, empty list for the rest", () => {
    assert.equal(h.run("CONFIG", "GET", "save"), `*2\r\n${bulk("save")}${bulk("")}`);
    assert.equal(h.run("config", "get", "APPENDONLY"), `*2\r\n${bulk("appendonly")}${bulk("yes")}`);
    assert.equal(h.run("CONFIG", "GET", "maxmemory"), "*0\r\n");
    assert.equal(h.run("CONFIG", "GET", "a*"), `*4\r\n${bulk("appendonly")}${bulk("yes")}${bulk("appendfsync")}${bulk("always")}`);
    assert.equal(h.run("CONFIG", "GET", "save", "s?ve", "*"), h.run("CONFIG", "GET", "*"));
    assert.equal(h.run("CONFIG", "GET", "*").split("\r\n")[0], "*8");
    assert.equal(h.run("CONFIG", "GET", "[sd]a*"), `*4\r\n${bulk("save")}${bulk("")}${bulk("databases")}${bulk("1")}`);
  });

  test("CONFIG errors", () => {
    assert.equal(h.run("CONFIG"), arity("config"));
    assert.equal(h.run("CONFIG", "GET"), arity("config|get"));
    assert.equal(h.run("CONFIG", "foo"), "-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n");
    assert.equal(h.run("config", "resetstat"), "-ERR unknown subcommand 'resetstat'. Try CONFIG HELP.\r\n");
    assert.equal(h.run("CONFIG", "SET", "save", ""), "-ERR Unknown option or number of arguments for CONFIG SET - 'save'\r\n");
    assert.equal(h.run("CONFIG", "SET", "save"), arity("config|set"));
    assert.match(h.run("CONFIG", "HELP"), /^\*\d+\r\n\+CONFIG <subcommand> \[<arg> \[value\] \[opt\] \.\.\.\]\. Subcommands are:\r\n/);
  });

  test("COMMAND", () => {
    const count = h.planner.commands.size;
    assert.equal(h.run("COMMAND", "COUNT"), int(count));
    assert.equal(h.run("COMMAND").split("\r\n")[0], `*${count}`);
    assert.equal(
      h.run("COMMAND", "INFO", "get", "nosuch"),
      `*2\r\n*10\r\n${bulk("get")}:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*0\r\n*0\r\n${NIL}`,
    );
    assert.match(h.run("COMMAND", "INFO", "CONFIG|GET"), /^\*1\r\n\*10\r\n\$10\r\nconfig\|get\r\n:-3\r\n/);
    assert.match(h.run("COMMAND", "INFO", "mset"), /^\*1\r\n\*10\r\n\$4\r\nmset\r\n:-3\r\n\*2\r\n\+write\r\n\+denyoom\r\n:1\r\n:-1\r\n:2\r\n/);
    assert.equal(h.run("COMMAND", "DOCS"), "*0\r\n");
    assert.equal(h.run("COMMAND", "DOCS", "get"), "*0\r\n");
    assert.equal(h.run("COMMAND", "COUNT", "x"), arity("command|count"));
    assert.equal(h.run("COMMAND", "nope"), "-ERR unknown subcommand 'nope'. Try COMMAND HELP.\r\n");
    assert.match(h.run("COMMAND", "HELP"), /^\*\d+\r\n\+COMMAND <subcommand> .*\+HELP\r\n\+    Print this help\.\r\n$/s);
  });

  test("every COMMAND entry has Redis's 10-field shape, as redis-cli expects", () => {
    const all = h.plan("COMMAND");
    assert.equal(all.kind, "reply");
    if (all.kind !== "reply" || all.reply.kind !== "array") return assert.fail("COMMAND must answer an array");
    for (const entry of all.reply.items!) {
      assert.ok(entry.kind === "array" && entry.items !== null && entry.items.length === 10);
      assert.deepEqual(entry.items.map((i) => i.kind), ["bulk", "integer", "array", "integer", "integer", "integer", "array", "array", "array", "array"]);
    }
  });

  test("CLIENT SETINFO and SETNAME, as client libraries send them on connect", () => {
    assert.equal(h.run("CLIENT", "SETINFO", "LIB-NAME", "node-redis"), OK);
    assert.equal(h.run("CLIENT", "setinfo", "lib-ver", "4.6.13"), OK);
    assert.equal(h.run("CLIENT", "SETINFO", "LIB-VER", "1 2"), "-ERR LIB-VER cannot contain spaces, newlines or special characters.\r\n");
    assert.equal(h.run("CLIENT", "SETINFO", "color", "red"), "-ERR Unrecognized option 'color'\r\n");
    assert.equal(h.run("CLIENT", "SETNAME", "worker-1"), OK);
    assert.equal(h.run("CLIENT", "SETNAME", ""), OK);
    assert.equal(h.run("CLIENT", "SETNAME", "a b"), "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
    assert.equal(h.run("CLIENT", "LIST"), "-ERR unknown subcommand 'LIST'. Try CLIENT HELP.\r\n");
    assert.equal(h.run("CLIENT"), arity("client"));
    assert.equal(h.run("CLIENT", "SETNAME"), arity("client|setname"));
  });
});

describe("INFO and DBSIZE", () => {
  test("DBSIZE is a read; INFO is answered by any node from its own state", () => {
    const h = new Harness();
    assert.equal(h.plan("INFO").kind, "local");
    assert.equal(h.plan("DBSIZE").kind, "read");
    assert.equal(h.run("DBSIZE", "x"), arity("dbsize"));
  });

  test("INFO sections", () => {
    const h = new Harness();
    const info = (...sections: string[]) => {
      const reply = h.run("INFO", ...sections);
      const header = reply.indexOf("\r\n");
      assert.equal(Number(reply.slice(1, header)), Buffer.byteLength(reply) - header - 4, "bulk length");
      return reply.slice(header + 2, -2);
    };
    const all = info();
    assert.ok(all.startsWith("# Server\r\nredis_version:7.0.0\r\n"), all);
    assert.match(all, /\r\n\r\n# Persistence\r\nloading:0\r\n/);
    assert.match(all, /# Replication\r\nrole:master\r\n/);
    assert.match(all, /# Raftkv\r\nraftkv_node_id:1\r\nraftkv_role:leader\r\nraftkv_term:3\r\nraftkv_leader_id:1\r\nraftkv_commit_index:10\r\n/);
    assert.ok(all.endsWith("# Keyspace\r\n"), "no db0 line while empty");
    h.run("SET", "a", "1");
    assert.equal(info("keyspace"), "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n");
    h.run("HSET", "h", "f", "v");
    h.run("EXPIRE", "h", "100");
    assert.equal(info("keyspace"), "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n");
    h.run("DEL", "h");
    assert.equal(info("SERVER"), "# Server\r\nredis_version:7.0.0\r\nredis_mode:standalone\r\narch_bits:64\r\n");
    assert.equal(info("server", "keyspace").split("\r\n\r\n").length, 2);
    assert.equal(info("nosuch"), "");
    assert.equal(info("all"), info());
    assert.equal(h.run("DBSIZE"), int(1));
  });

  test("INFO on a node that is not the leader leaves out the key count (it would be a read from a follower)", () => {
    const h = new Harness();
    h.run("SET", "a", "1");
    const plan = h.plan("INFO");
    assert.equal(plan.kind, "local");
    if (plan.kind !== "local") return;
    const follower = { id: 2, role: "follower" as const, term: 3, leaderId: 1, commitIndex: 10, lastApplied: 10 };
    const reply = wire(plan.run(h.sm, follower));
    assert.match(reply, /# Replication\r\nrole:slave\r\n/);
    assert.match(reply, /raftkv_role:follower\r\nraftkv_term:3\r\nraftkv_leader_id:1\r\n/);
    assert.doesNotMatch(reply, /Keyspace|db0/);
    assert.doesNotMatch(wire((h.plan("INFO", "keyspace") as { run: typeof plan.run }).run(h.sm, follower)), /Keyspace/);
  });
});

describe("plans", () => {
  test("writes go to the log, reads run against the state, the rest is answered at once", () => {
    const h = new Harness();
    const kinds: [string[], string][] = [
      [["SET", "k", "v"], "write"],
      [["DEL", "k"], "write"],
      [["INCR", "k"], "write"],
      [["DECRBY", "k", "2"], "write"],
      [["APPEND", "k", "v"], "write"],
      [["MSET", "k", "v"], "write"],
      [["GET", "k"], "read"],
      [["MGET", "k"], "read"],
      [["EXISTS", "k"], "read"],
      [["STRLEN", "k"], "read"],
      [["PING"], "reply"],
      [["ECHO", "x"], "reply"],
      [["COMMAND"], "reply"],
      [["CONFIG", "GET", "*"], "reply"],
      [["SELECT", "0"], "reply"],
      [["NOPE"], "reply"],
    ];
    for (const [command, kind] of kinds) assert.equal(h.plan(...command).kind, kind, command.join(" "));
  });

  test("plan() needs at least a command name", () => {
    const h = new Harness();
    assert.throws(() => h.planner.plan([]), RangeError);
  });
});
