// Planners of the keyspace and expiry commands (Redis's db.c and expire.c):
// TYPE, KEYS, SCAN, RENAME, RENAMENX, COPY, UNLINK, FLUSHALL, EXPIRE,
// PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST,
// and the string commands that set times to live or delete (GETDEL, GETSET,
// GETEX, SETNX, SETEX, PSETEX, MSETNX). Errors Redis gives before looking at
// the data are given here; the rest is decided in KvStateMachine.apply, at
// the log's time.
//
// Times: a relative time is logged as "r<ms>" and turned into an absolute
// one by the log's time when applied; an absolute one as "a<ms>". Times
// past 2^53 ms (about the year 287000) are refused as invalid, where Redis
// takes them up to 2^63 (docs/REDIS.md).

import { parseInteger } from "../resp/integer.js";
import { array, bulk, bulkString, errorReply, integer, simple, type Reply } from "../resp/writer.js";
import { encodeCommand } from "./command.js";
import {
  cString,
  DB_INDEX_OUT_OF_RANGE,
  INVALID_CURSOR,
  invalidExpireTime,
  NOT_INTEGER,
  SAME_OBJECT,
  SYNTAX_ERROR,
  WRONGTYPE,
  wrongArity,
} from "./errors.js";
import { globMatch } from "./glob.js";
import { readPlan, replyPlan, writePlan, type Plan, type PlanContext, type PlanLimits } from "./plan.js";
import { typeName } from "./stateMachine.js";

type Args = readonly Buffer[];

const b = (s: string) => Buffer.from(s, "latin1");

export function call(name: string, args: readonly Buffer[]): Plan {
  return writePlan(encodeCommand({ op: "call", name, args }));
}

export function checkKeys(limits: PlanLimits, keys: readonly Buffer[]): Plan | null {
  for (const key of keys) if (key.length > limits.maxKeyBytes) return replyPlan(errorReply(`ERR key exceeds maximum allowed size (${limits.maxKeyBytes} bytes)`));
  return null;
}

export function checkValue(limits: PlanLimits, value: Buffer): Plan | null {
  return value.length > limits.maxValueBytes ? replyPlan(errorReply(`ERR string exceeds maximum allowed size (${limits.maxValueBytes} bytes)`)) : null;
}

/** Lower case; a huge argument is no option, so it is not decoded. */
export function optionName(arg: Buffer): string {
  return arg.length > 8 ? "" : arg.toString("latin1").toLowerCase();
}

// --- times -----------------------------------------------------------------

/**
 * SET EX/PX/EXAT/PXAT, SETEX, PSETEX and GETEX's time (Redis's
 * getExpireMillisecondsOrReply): a positive integer; the logged form, or
 * the error. `option` is "ex", "px", "exat" or "pxat".
 */
export function setExpiry(arg: Buffer, option: string, command: string, now = Date.now()): Buffer | Reply {
  const n = parseInteger(arg);
  if (n === null) return NOT_INTEGER;
  const seconds = option === "ex" || option === "exat";
  let ms = BigInt(n);
  if (ms <= 0n) return invalidExpireTime(command);
  if (seconds) ms *= 1000n;
  const relative = option === "ex" || option === "px";
  if ((relative ? ms + BigInt(now) : ms) > BigInt(Number.MAX_SAFE_INTEGER)) return invalidExpireTime(command);
  return b(`${relative ? "r" : "a"}${ms}`);
}

function isReply(x: Buffer | Reply): x is Reply {
  return !Buffer.isBuffer(x);
}

// --- strings with times ----------------------------------------------------

export function planSetex(args: Args, ctx: PlanContext): Plan {
  return setexPlan(args, ctx, "ex", "setex");
}

export function planPsetex(args: Args, ctx: PlanContext): Plan {
  return setexPlan(args, ctx, "px", "psetex");
}

function setexPlan(args: Args, ctx: PlanContext, option: string, command: string): Plan {
  const [, key, time, value] = args as [Buffer, Buffer, Buffer, Buffer];
  const expiry = setExpiry(time, option, command);
  if (isReply(expiry)) return replyPlan(expiry);
  return checkKeys(ctx.limits, [key]) ?? checkValue(ctx.limits, value) ?? call("set", [key, value, b(""), expiry]);
}

export function planSetnx(args: Args, ctx: PlanContext): Plan {
  const [, key, value] = args as [Buffer, Buffer, Buffer];
  return checkKeys(ctx.limits, [key]) ?? checkValue(ctx.limits, value) ?? call("set", [key, value, b("ni"), b("")]);
}

export function planGetset(args: Args, ctx: PlanContext): Plan {
  const [, key, value] = args as [Buffer, Buffer, Buffer];
  return checkKeys(ctx.limits, [key]) ?? checkValue(ctx.limits, value) ?? writePlan(encodeCommand({ op: "set", key, value, condition: "always", get: true }));
}

export function planGetdel(args: Args, ctx: PlanContext): Plan {
  return checkKeys(ctx.limits, [args[1]!]) ?? call("getdel", [args[1]!]);
}

export function planMsetnx(args: Args, ctx: PlanContext): Plan {
  if (args.length % 2 === 0) return replyPlan(wrongArity("msetnx"));
  const pairs = args.slice(1);
  for (let i = 0; i < pairs.length; i += 2) {
    const refusal = checkKeys(ctx.limits, [pairs[i]!]) ?? checkValue(ctx.limits, pairs[i + 1]!);
    if (refusal !== null) return refusal;
  }
  return call("msetnx", pairs);
}

const EXPIRY_OPTIONS: ReadonlySet<string> = new Set(["ex", "px", "exat", "pxat"]);

/** GETEX key [EX s | PX ms | EXAT t | PXAT t | PERSIST]; without an option it is a read. */
export function planGetex(args: Args, ctx: PlanContext): Plan {
  const key = args[1]!;
  let expiry: string | null = null;
  let persist = false;
  let time: Buffer | null = null;
  for (let j = 2; j < args.length; j++) {
    const option = optionName(args[j]!);
    const hasNext = j < args.length - 1;
    if (option === "persist" && expiry === null) {
      persist = true;
    } else if (EXPIRY_OPTIONS.has(option) && !persist && (expiry === null || expiry === option) && hasNext) {
      expiry = option;
      time = args[++j]!;
    } else {
      return replyPlan(SYNTAX_ERROR);
    }
  }
  const refusal = checkKeys(ctx.limits, [key]);
  if (refusal !== null) return refusal;
  if (persist) return call("getex", [key, b("p")]);
  if (expiry === null) {
    return readPlan((sm) => {
      const v = sm.lookup(key);
      return v === undefined ? bulk(null) : Buffer.isBuffer(v) ? bulk(v) : WRONGTYPE;
    });
  }
  const logged = setExpiry(time!, expiry, "getex");
  // Redis finds a bad time only after finding the key a string: the error goes with the command.
  if (isReply(logged)) return call("getex", [key, b("a1"), b(logged.kind === "error" ? logged.message : "ERR")]);
  return call("getex", [key, logged]);
}

// --- EXPIRE and friends ----------------------------------------------------

export const planExpire = (args: Args, ctx: PlanContext) => expirePlan(args, ctx, "expire", true, false);
export const planPexpire = (args: Args, ctx: PlanContext) => expirePlan(args, ctx, "pexpire", false, false);
export const planExpireat = (args: Args, ctx: PlanContext) => expirePlan(args, ctx, "expireat", true, true);
export const planPexpireat = (args: Args, ctx: PlanContext) => expirePlan(args, ctx, "pexpireat", false, true);

const INT64_MAX = 9223372036854775807n;

/** Redis's expireGenericCommand: options, then the time (an integer; no overflow), then the key. */
function expirePlan(args: Args, ctx: PlanContext, command: string, seconds: boolean, absolute: boolean): Plan {
  const flags = new Set<string>();
  for (let j = 3; j < args.length; j++) {
    const option = optionName(args[j]!);
    if (option === "nx" || option === "xx" || option === "gt" || option === "lt") flags.add(option);
    else return replyPlan(errorReply(`ERR Unsupported option ${cString(args[j]!)}`));
  }
  if (flags.has("nx") && (flags.has("xx") || flags.has("gt") || flags.has("lt"))) {
    return replyPlan(errorReply("ERR NX and XX, GT or LT options at the same time are not compatible"));
  }
  if (flags.has("gt") && flags.has("lt")) return replyPlan(errorReply("ERR GT and LT options at the same time are not compatible"));
  const n = parseInteger(args[2]!);
  if (n === null) return replyPlan(NOT_INTEGER);
  let when = BigInt(n);
  if (seconds) {
    if (when > INT64_MAX / 1000n || when < -INT64_MAX / 1000n) return replyPlan(invalidExpireTime(command));
    when *= 1000n;
  }
  const base = absolute ? 0n : BigInt(Date.now());
  if (when + base > BigInt(Number.MAX_SAFE_INTEGER)) return replyPlan(invalidExpireTime(command));
  // Far in the past is as good as the epoch (and keeps the number exact).
  if (when + base < 0n) when = -base;
  const key = args[1]!;
  const condition = [...flags].map((f) => (f === "gt" ? "g" : f === "lt" ? "l" : f[0])).join("");
  return checkKeys(ctx.limits, [key]) ?? call("expire", [key, b(`${absolute ? "a" : "r"}${when}`), b(condition)]);
}

export function planPersist(args: Args, ctx: PlanContext): Plan {
  return checkKeys(ctx.limits, [args[1]!]) ?? call("persist", [args[1]!]);
}

export const planTtl = (args: Args, ctx: PlanContext) => ttlPlan(args, ctx, false, false);
export const planPttl = (args: Args, ctx: PlanContext) => ttlPlan(args, ctx, true, false);
export const planExpiretime = (args: Args, ctx: PlanContext) => ttlPlan(args, ctx, false, true);
export const planPexpiretime = (args: Args, ctx: PlanContext) => ttlPlan(args, ctx, true, true);

function ttlPlan(args: Args, ctx: PlanContext, ms: boolean, absolute: boolean): Plan {
  const key = args[1]!;
  return (
    checkKeys(ctx.limits, [key]) ??
    readPlan((sm) => {
      const now = sm.readTime();
      const at = sm.expiryOf(key, now);
      if (at === undefined) return integer(-2);
      if (at === null) return integer(-1);
      const value = absolute ? at : Math.max(0, at - now);
      return integer(ms ? value : Math.floor((value + 500) / 1000));
    })
  );
}

// --- the keyspace ----------------------------------------------------------

export function planType(args: Args, ctx: PlanContext): Plan {
  const key = args[1]!;
  return checkKeys(ctx.limits, [key]) ?? readPlan((sm) => simple(typeName(sm.lookup(key))));
}

export function planKeys(args: Args): Plan {
  const pattern = args[1]!.toString("latin1");
  return readPlan((sm) => {
    const keys: Reply[] = [];
    for (const k of sm.liveKeys()) if (pattern === "*" || globMatch(pattern, k, false)) keys.push(bulk(Buffer.from(k, "latin1")));
    return array(keys);
  });
}

/** SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]. The cursor is raftkv's own (a key creation number); 0 starts and ends. */
export function planScan(args: Args): Plan {
  const text = args[1]!.toString("latin1");
  if (!/^[0-9]{1,20}$/.test(text) || BigInt(text) > 18446744073709551615n) return replyPlan(INVALID_CURSOR);
  const cursor = Number(BigInt(text) > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : text);
  let count = 10;
  let pattern: string | null = null;
  let type: string | null = null;
  for (let j = 2; j < args.length; j++) {
    const option = optionName(args[j]!);
    const hasNext = j < args.length - 1;
    if (option === "count" && hasNext) {
      const n = parseInteger(args[++j]!);
      if (n === null) return replyPlan(NOT_INTEGER);
      if (n < 1) return replyPlan(SYNTAX_ERROR);
      count = Number(n > 100_000 ? 100_000 : n);
    } else if (option === "match" && hasNext) {
      pattern = args[++j]!.toString("latin1");
      if (pattern === "*") pattern = null;
    } else if (option === "type" && hasNext) {
      type = args[++j]!.toString("latin1").toLowerCase();
    } else {
      return replyPlan(SYNTAX_ERROR);
    }
  }
  return readPlan((sm) => {
    const now = sm.readTime();
    const { keys, next } = sm.scan(cursor, count, now);
    const items: Reply[] = [];
    for (const k of keys) {
      if (pattern !== null && !globMatch(pattern, k, false)) continue;
      if (type !== null && typeName(sm.lookup(k, now)) !== type) continue;
      items.push(bulk(Buffer.from(k, "latin1")));
    }
    return array([bulkString(String(next)), array(items)]);
  });
}

export function planRename(args: Args, ctx: PlanContext): Plan {
  return checkKeys(ctx.limits, [args[1]!, args[2]!]) ?? call("rename", [args[1]!, args[2]!, b("0")]);
}

export function planRenamenx(args: Args, ctx: PlanContext): Plan {
  return checkKeys(ctx.limits, [args[1]!, args[2]!]) ?? call("rename", [args[1]!, args[2]!, b("1")]);
}

/** COPY source destination [DB 0] [REPLACE]: one database, so DB must be 0. */
export function planCopy(args: Args, ctx: PlanContext): Plan {
  let replace = false;
  let db = 0;
  for (let j = 3; j < args.length; j++) {
    const option = optionName(args[j]!);
    if (option === "replace") replace = true;
    else if (option === "db" && j < args.length - 1) {
      const n = parseInteger(args[++j]!);
      if (n === null) return replyPlan(NOT_INTEGER);
      db = Number(n);
    } else return replyPlan(SYNTAX_ERROR);
  }
  if (db !== 0) return replyPlan(DB_INDEX_OUT_OF_RANGE);
  if (args[1]!.equals(args[2]!)) return replyPlan(SAME_OBJECT);
  return checkKeys(ctx.limits, [args[1]!, args[2]!]) ?? call("copy", [args[1]!, args[2]!, b(replace ? "1" : "0")]);
}

export function planFlushall(args: Args): Plan {
  if (args.length > 2) return replyPlan(SYNTAX_ERROR);
  if (args.length === 2 && !["sync", "async"].includes(optionName(args[1]!))) return replyPlan(SYNTAX_ERROR);
  return call("flushall", []);
}
