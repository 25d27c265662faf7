// Random command sequences for the differential tests against redis-server.
// Small pools of keys and values so commands collide (the interesting
// cases: wrong types, existing keys, integers near the 64-bit edges), binary
// keys and values, and a share of malformed commands (arity, syntax, bad
// integers, unknown commands). Each family is one list of generators; the
// test runs the families raftkv supports.

import type { Rng } from "../helpers/prng.js";

/**
 * How the two replies must agree: "exact" byte for byte; "unordered" an
 * array compared as a multiset (KEYS: Redis's order is its hash table's).
 */
export type Compare = "exact" | "unordered";

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

export interface Family {
  readonly name: string;
  readonly makers: readonly Maker[];
  /** Relative weight of the family in a sequence. */
  readonly weight: number;
  /** Replies compared as multisets for these makers' commands (by command name, upper case). */
  readonly unordered?: readonly string[];
}

export const FAMILIES: readonly Family[] = [
  { name: "strings", makers: STRING_FAMILY, weight: 6 },
  { name: "errors", makers: ERROR_FAMILY, weight: 1 },
];

export function generateSequence(rng: Rng, families: readonly Family[], length: number): GeneratedCommand[] {
  const total = families.reduce((n, f) => n + f.weight, 0);
  const unordered = new Set(families.flatMap((f) => f.unordered ?? []));
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
    out.push(cmd(args, unordered.has(name) ? "unordered" : "exact"));
  }
  return out;
}

/** A command as a line a person can read (and paste into redis-cli). */
export function showCommand(args: readonly Buffer[]): string {
  return args.map((a) => (/^[\x21-\x7e]+$/.test(a.toString("latin1")) ? a.toString("latin1") : JSON.stringify(a.toString("latin1")))).join(" ");
}
