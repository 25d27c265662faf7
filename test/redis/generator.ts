// Random command sequences for the differential tests against redis-server.
// Small pools of keys and values so commands collide (the interesting
// cases: wrong types, existing keys, integers near the 64-bit edges), binary
// keys and values, and a share of malformed commands (arity, syntax, bad
// integers, unknown commands). Each family is one list of generators; the
// test runs the families raftkv supports.

import type { Rng } from "../helpers/prng.js";

/**
 * How the two replies must agree: "exact" byte for byte; "unordered" an
 * array compared as a multiset (KEYS: Redis's order is its hash table's);
 * "scan" a complete SCAN (cursor 0 exactly, the keys as a multiset);
 * "seconds"/"milliseconds" an integer that may differ by the time between
 * the two servers' clocks (2 s, 2000 ms), while -1 and -2 must be exact;
 * "exec" each reply of a transaction exactly, or as "unordered"/"scan".
 */
export type Compare = "exact" | "unordered" | "scan" | "seconds" | "milliseconds" | "exec";

export interface GeneratedCommand {
  readonly args: Buffer[];
  readonly compare: Compare;
}

const b = (s: string | Buffer): Buffer => (typeof s === "string" ? Buffer.from(s, "latin1") : s);

export const KEYS: readonly Buffer[] = [b("k1"), b("k2"), b("k3"), b("key:1"), b(Buffer.from([0, 0xff, 0x0d, 0x0a, 0x20])), b("")];

const VALUES: readonly Buffer[] = [
  b("1"),
  b("-5"),
  b("0"),
  b("10"),
  b("9223372036854775807"),
  b("-9223372036854775808"),
  b("abc"),
  b(""),
  b(" 1"),
  b("01"),
  b("3.5"),
  b(Buffer.from([0, 1, 2, 0xfe, 0xff, 0x0d, 0x0a])),
  b("a somewhat longer value with spaces"),
];

const INTEGERS: readonly string[] = ["1", "-1", "0", "5", "100", "-9223372036854775808", "9223372036854775807", "x", "", "1.5", "99999999999999999999", " 3"];

export class Generator {
  constructor(private readonly rng: Rng) {}

  key(): Buffer {
    return this.rng.pick(KEYS);
  }

  value(): Buffer {
    return this.rng.chance(0.1) ? b(String(this.rng.int(2000) - 1000)) : this.rng.pick(VALUES);
  }

  integer(): string {
    return this.rng.chance(0.5) ? String(this.rng.int(40) - 20) : this.rng.pick(INTEGERS);
  }

  /** 1..n distinct-or-not keys. */
  keys(n = 3): Buffer[] {
    return Array.from({ length: 1 + this.rng.int(n) }, () => this.key());
  }

  /** Some of `options`, in random order, possibly repeated. */
  options(options: readonly string[], max = 2): string[] {
    return Array.from({ length: this.rng.int(max + 1) }, () => this.rng.pick(options));
  }
}

type Maker = (g: Generator, rng: Rng) => (string | Buffer)[];

function cmd(args: (string | Buffer)[], compare: Compare = "exact"): GeneratedCommand {
  return { args: args.map(b), compare };
}

/** The string commands (and the generic ones that came with them). */
export const STRING_FAMILY: readonly Maker[] = [
  (g) => ["GET", g.key()],
  (g) => ["SET", g.key(), g.value()],
  (g, r) => ["SET", g.key(), g.value(), ...g.options(["NX", "XX", "GET", "nx", "get", "KEEPTTL"], r.chance(0.2) ? 3 : 2)],
  (g) => ["DEL", ...g.keys()],
  (g) => ["EXISTS", ...g.keys()],
  (g) => ["INCR", g.key()],
  (g) => ["DECR", g.key()],
  (g) => ["INCRBY", g.key(), g.integer()],
  (g) => ["DECRBY", g.key(), g.integer()],
  (g) => ["APPEND", g.key(), g.value()],
  (g) => ["STRLEN", g.key()],
  (g) => ["MGET", ...g.keys(4)],
  (g, r) => ["MSET", ...Array.from({ length: 1 + r.int(3) }, () => [g.key(), g.value()]).flat()],
  () => ["DBSIZE"],
  (g) => ["ECHO", g.value()],
  () => ["PING"],
];

/** Malformed commands: every one is refused before it reaches the log. */
export const ERROR_FAMILY: readonly Maker[] = [
  (g, r) => [r.pick(["GET", "STRLEN", "INCR", "DECR", "get"]), ...(r.chance(0.5) ? [] : [g.key(), g.key()])],
  (g) => ["SET", g.key()],
  (g) => ["MSET", g.key(), g.value(), g.key()],
  (g) => ["INCRBY", g.key()],
  () => ["DEL"],
  (g) => ["SET", g.key(), g.value(), "BOGUS"],
  (g) => ["SET", g.key(), g.value(), "NX", "XX"],
  (g, r) => [r.pick(["NOSUCHCMD", "hget2", "x"]), ...g.keys(2)],
  (g) => ["PING", g.value(), g.value()],
];

const FIELDS: readonly Buffer[] = [b("f1"), b("f2"), b("f3"), b("field:4"), b(Buffer.from([0, 0x66, 0xff])), b("")];

function field(r: Rng): Buffer {
  return r.pick(FIELDS);
}

function fieldValues(g: Generator, r: Rng): Buffer[] {
  return Array.from({ length: 1 + r.int(3) }, () => [field(r), g.value()]).flat();
}

export const HASH_FAMILY: readonly Maker[] = [
  (g, r) => ["HSET", g.key(), ...fieldValues(g, r)],
  (g, r) => ["HSETNX", g.key(), field(r), g.value()],
  (g, r) => ["HGET", g.key(), field(r)],
  (g, r) => ["HMGET", g.key(), ...Array.from({ length: 1 + r.int(3) }, () => field(r))],
  (g, r) => ["HDEL", g.key(), ...Array.from({ length: 1 + r.int(3) }, () => field(r))],
  (g) => ["HGETALL", g.key()],
  (g) => ["HKEYS", g.key()],
  (g) => ["HVALS", g.key()],
  (g) => ["HLEN", g.key()],
  (g, r) => ["HEXISTS", g.key(), field(r)],
  (g, r) => ["HINCRBY", g.key(), field(r), g.integer()],
  (g, r) => ["HSET", g.key(), field(r)],
  (g, r) => ["HSET", g.key(), ...fieldValues(g, r), field(r)],
  (g) => ["HGET", g.key()],
];

const PATTERNS = ["*", "k*", "k?", "key:*", "[kh]*", "*1", "k[1-2]", "k[^1]", "\\k*", "*[", "?", ""];

export const KEYSPACE_FAMILY: readonly Maker[] = [
  (g) => ["TYPE", g.key()],
  (_g, r) => ["KEYS", r.pick(PATTERNS)],
  (_g, r) => ["SCAN", "0", "COUNT", "1000", ...(r.chance(0.5) ? ["MATCH", r.pick(PATTERNS)] : []), ...(r.chance(0.3) ? ["TYPE", r.pick(["string", "hash", "HASH", "list", "none"])] : [])],
  (_g, r) => ["SCAN", r.pick(["x", "-", "0 ", "1.5", "18446744073709551616"])],
  (_g, r) => ["SCAN", "0", ...r.pick([["COUNT", "0"], ["COUNT", "x"], ["MATCH"], ["FOO", "1"], ["COUNT", "-1"]])],
  (g) => ["RENAME", g.key(), g.key()],
  (g) => ["RENAMENX", g.key(), g.key()],
  (g) => ["GETDEL", g.key()],
  (g) => ["GETSET", g.key(), g.value()],
  (g) => ["SETNX", g.key(), g.value()],
  (g, r) => ["MSETNX", ...Array.from({ length: 1 + r.int(3) }, () => [g.key(), g.value()]).flat()],
  (g) => ["MSETNX", g.key(), g.value(), g.key()],
  (g, r) => ["COPY", g.key(), g.key(), ...g.options(["REPLACE", "replace"], 1), ...(r.chance(0.2) ? ["DB", r.pick(["0", "x"])] : [])],
  (g) => ["COPY", g.key(), g.key(), "BOGUS"],
  (g) => ["UNLINK", ...g.keys()],
  (_g, r) => (r.chance(0.1) ? [r.pick(["FLUSHALL", "FLUSHDB"]), ...r.pick([[], ["ASYNC"], ["sync"], ["foo"], ["SYNC", "x"]])] : ["DBSIZE"]),
];

/** Times far enough from now that the few milliseconds between the two servers never change an answer. */
function seconds(r: Rng): string {
  return r.pick(["100", "1000", "5000", "-5", "0", "x", "9223372036854775807", "9223372036854775"]);
}

function absoluteSeconds(r: Rng): string {
  const now = Math.floor(Date.now() / 1000);
  return r.pick([String(now + 100), String(now + 1000), String(now + 5000), String(now - 100), "1", "x"]);
}

export const EXPIRY_FAMILY: readonly Maker[] = [
  (g, r) => ["SET", g.key(), g.value(), ...r.pick([["EX", seconds(r)], ["PX", String(Number(r.pick(["100", "1000", "5000"])) * 1000)], ["EXAT", absoluteSeconds(r)], ["PXAT", `${absoluteSeconds(r)}000`], ["KEEPTTL"], ["EX", "100", "KEEPTTL"], ["EX", "100", "PX", "100"], ["EX"]]), ...g.options(["NX", "XX", "GET"], 1)],
  (g, r) => ["SETEX", g.key(), seconds(r), g.value()],
  (g, r) => ["PSETEX", g.key(), r.pick(["100000", "0", "-1", "x"]), g.value()],
  (g, r) => ["GETEX", g.key(), ...r.pick([[], ["PERSIST"], ["EX", seconds(r)], ["PX", "100000"], ["EXAT", absoluteSeconds(r)], ["PXAT", `${absoluteSeconds(r)}000`], ["EX", "100", "PX", "100"], ["PERSIST", "EX", "100"], ["FOO"]])],
  (g, r) => ["EXPIRE", g.key(), seconds(r), ...g.options(["NX", "XX"], 1)],
  (g, r) => ["PEXPIRE", g.key(), r.pick(["100000", "-1", "x"]), ...g.options(["NX", "XX"], 1)],
  (g, r) => ["EXPIREAT", g.key(), absoluteSeconds(r), ...g.options(["NX", "XX", "GT", "LT", "gt"], 2)],
  (g, r) => ["PEXPIREAT", g.key(), `${absoluteSeconds(r)}000`, ...g.options(["NX", "XX", "GT", "LT"], 2)],
  (g) => ["EXPIRE", g.key(), "100", "FOO"],
  (g) => ["TTL", g.key()],
  (g) => ["PTTL", g.key()],
  (g) => ["EXPIRETIME", g.key()],
  (g) => ["PEXPIRETIME", g.key()],
  (g) => ["PERSIST", g.key()],
];

/** Transactions: MULTI/EXEC/DISCARD/WATCH/UNWATCH among the other commands, in any order (nested MULTI, EXEC without MULTI...). */
export const TRANSACTION_FAMILY: readonly Maker[] = [
  () => ["MULTI"],
  () => ["MULTI"],
  () => ["EXEC"],
  () => ["EXEC"],
  () => ["DISCARD"],
  (g) => ["WATCH", ...g.keys(2)],
  () => ["UNWATCH"],
  (_g, r) => [r.pick(["MULTI", "EXEC", "WATCH", "UNWATCH", "DISCARD"]), "extra"],
];

/**
 * Keys that expire DURING a sequence, in real time: times of 1-25 ms, and
 * PAUSE (not a command: the runner lets 25 ms pass) so that later commands
 * meet keys whose time has come (lazy expiry on writes and reads: INCR,
 * APPEND, SET XX/KEEPTTL, HSET, RENAME, COPY, EXPIRE GT... of an expired
 * key). "@now+N" is an absolute time the runner fills in when it sends the
 * command. Neither server's clock can be set, so the runner ends a sequence
 * at a command during which some such time might have come (the two servers
 * may then have seen it on either side).
 */
export const SHORT_EXPIRY_FAMILY: readonly Maker[] = [
  (g, r) => ["SET", g.key(), g.value(), "PX", short(r), ...g.options(["NX", "XX", "GET"], 1)],
  (g, r) => ["SET", g.key(), g.value(), "PXAT", `@now+${short(r)}`],
  (g, r) => ["PSETEX", g.key(), short(r), g.value()],
  (g, r) => ["PEXPIRE", g.key(), short(r), ...g.options(["NX", "XX", "GT", "LT"], 1)],
  (g, r) => ["PEXPIREAT", g.key(), `@now+${short(r)}`, ...g.options(["GT", "LT"], 1)],
  (g, r) => ["GETEX", g.key(), "PX", short(r)],
  (g, r) => ["HSET", g.key(), "f", g.value(), ...(r.chance(0.5) ? ["g", g.value()] : [])],
  () => ["PAUSE"],
  () => ["PAUSE"],
];

function short(r: Rng): string {
  return String(1 + r.int(25));
}

export interface Family {
  readonly name: string;
  readonly makers: readonly Maker[];
  /** Relative weight of the family in a sequence. */
  readonly weight: number;
  /** How replies of some commands are compared (by command name, upper case); the rest exactly. */
  readonly compare?: Readonly<Record<string, Compare>>;
}

export const FAMILIES: readonly Family[] = [
  { name: "strings", makers: STRING_FAMILY, weight: 6 },
  { name: "errors", makers: ERROR_FAMILY, weight: 1 },
  { name: "hashes", makers: HASH_FAMILY, weight: 4 },
  { name: "keyspace", makers: KEYSPACE_FAMILY, weight: 3, compare: { KEYS: "unordered", SCAN: "scan" } },
  { name: "transactions", makers: TRANSACTION_FAMILY, weight: 3, compare: { EXEC: "exec" } },
  {
    name: "expiry",
    makers: EXPIRY_FAMILY,
    weight: 3,
    compare: { TTL: "seconds", EXPIRETIME: "seconds", PTTL: "milliseconds", PEXPIRETIME: "milliseconds" },
  },
];

export function generateSequence(rng: Rng, families: readonly Family[], length: number): GeneratedCommand[] {
  const total = families.reduce((n, f) => n + f.weight, 0);
  const compare = new Map(families.flatMap((f) => Object.entries(f.compare ?? {})));
  const g = new Generator(rng);
  const out: GeneratedCommand[] = [];
  for (let i = 0; i < length; i++) {
    let pick = rng.next() * total;
    let family = families[0]!;
    for (const f of families) {
      if (pick < f.weight) {
        family = f;
        break;
      }
      pick -= f.weight;
    }
    const args = rng.pick(family.makers)(g, rng);
    const name = b(args[0]!).toString("latin1").toUpperCase();
    out.push(cmd(args, compare.get(name) ?? "exact"));
  }
  return out;
}

/** A command as a line a person can read (and paste into redis-cli). */
export function showCommand(args: readonly Buffer[]): string {
  return args.map((a) => (/^[\x21-\x7e]+$/.test(a.toString("latin1")) ? a.toString("latin1") : JSON.stringify(a.toString("latin1")))).join(" ");
}
