// Planners of the string commands (Redis's t_string.c and db.c): parse and
// check the arguments, then turn the command into a logged write or a read.
// What depends on the stored data happens in KvStateMachine.apply.

import { parseInteger, INT64_MIN } from "../resp/integer.js";
import { array, bulk, integer } from "../resp/writer.js";
import { encodeCommand, type SetCondition } from "./command.js";
import { DECREMENT_OVERFLOW, keyTooLong, NOT_INTEGER, stringTooLong, SYNTAX_ERROR, WRONGTYPE, wrongArity } from "./errors.js";
import { call, setExpiry } from "./keyCommands.js";
import { readPlan, replyPlan, writePlan, type Plan, type PlanContext, type PlanLimits } from "./plan.js";

type Args = readonly Buffer[];

export function planGet(args: Args, ctx: PlanContext): Plan {
  const key = args[1]!;
  return checkKeys(ctx.limits, [key]) ?? readPlan((sm) => {
    const v = sm.lookup(key);
    return v === undefined ? bulk(null) : Buffer.isBuffer(v) ? bulk(v) : WRONGTYPE;
  });
}

export function planStrlen(args: Args, ctx: PlanContext): Plan {
  const key = args[1]!;
  return checkKeys(ctx.limits, [key]) ?? readPlan((sm) => {
    const v = sm.lookup(key);
    return v === undefined ? integer(0) : Buffer.isBuffer(v) ? integer(v.length) : WRONGTYPE;
  });
}

export function planExists(args: Args, ctx: PlanContext): Plan {
  const keys = args.slice(1);
  // Like Redis, a key named twice counts twice.
  return checkKeys(ctx.limits, keys) ?? readPlan((sm) => integer(keys.reduce((n, k) => (sm.has(k) ? n + 1 : n), 0)));
}

export function planMget(args: Args, ctx: PlanContext): Plan {
  const keys = args.slice(1);
  return checkKeys(ctx.limits, keys) ?? readPlan((sm) => array(keys.map((k) => bulk(sm.get(k) ?? null))));
}

export function planDbsize(): Plan {
  return readPlan((sm) => integer(sm.liveCounts().keys));
}

/** SET key value [NX | XX] [GET] [EX s | PX ms | EXAT t | PXAT t | KEEPTTL]. */
export function planSet(args: Args, ctx: PlanContext): Plan {
  let condition: SetCondition = "always";
  let get = false;
  let keepTtl = false;
  let expiry: string | null = null;
  let time: Buffer | null = null;
  // Redis's parseExtendedStringArgumentsOrReply: each option is accepted only if it does not conflict with an earlier one.
  for (let j = 3; j < args.length; j++) {
    const option = optionName(args[j]!);
    const hasNext = j < args.length - 1;
    if (option === "nx" && condition !== "xx") {
      condition = "nx";
    } else if (option === "xx" && condition !== "nx") {
      condition = "xx";
    } else if (option === "get") {
      get = true;
    } else if (option === "keepttl" && expiry === null) {
      keepTtl = true;
    } else if (EXPIRY_OPTIONS.has(option) && !keepTtl && (expiry === null || expiry === option) && hasNext) {
      expiry = option;
      time = args[++j]!;
    } else {
      return replyPlan(SYNTAX_ERROR);
    }
  }
  const [, key, value] = args as [Buffer, Buffer, Buffer];
  const refusal = checkKeys(ctx.limits, [key]) ?? checkValue(ctx.limits, value);
  if (refusal !== null) return refusal;
  if (expiry === null && !keepTtl) return writePlan(encodeCommand({ op: "set", key, value, condition, get }));
  let logged: Buffer = Buffer.alloc(0);
  if (expiry !== null) {
    const t = setExpiry(time!, expiry, "set");
    if (!Buffer.isBuffer(t)) return replyPlan(t);
    logged = t;
  }
  const flags = (condition === "nx" ? "n" : condition === "xx" ? "x" : "") + (get ? "g" : "") + (keepTtl ? "k" : "");
  return call("set", [key, value, Buffer.from(flags, "latin1"), logged]);
}

export function planDel(args: Args, ctx: PlanContext): Plan {
  const keys = args.slice(1);
  return checkKeys(ctx.limits, keys) ?? writePlan(encodeCommand({ op: "del", keys }));
}

export function planIncr(args: Args, ctx: PlanContext): Plan {
  return incrementPlan(args[1]!, 1n, ctx);
}

export function planDecr(args: Args, ctx: PlanContext): Plan {
  return incrementPlan(args[1]!, -1n, ctx);
}

export function planIncrby(args: Args, ctx: PlanContext): Plan {
  const delta = parseInteger(args[2]!);
  if (delta === null) return replyPlan(NOT_INTEGER);
  return incrementPlan(args[1]!, BigInt(delta), ctx);
}

export function planDecrby(args: Args, ctx: PlanContext): Plan {
  const delta = parseInteger(args[2]!);
  if (delta === null) return replyPlan(NOT_INTEGER);
  // -INT64_MIN does not fit in 64 bits.
  if (BigInt(delta) === INT64_MIN) return replyPlan(DECREMENT_OVERFLOW);
  return incrementPlan(args[1]!, -BigInt(delta), ctx);
}

export function planAppend(args: Args, ctx: PlanContext): Plan {
  const [, key, value] = args as [Buffer, Buffer, Buffer];
  return (
    checkKeys(ctx.limits, [key]) ??
    checkValue(ctx.limits, value) ??
    writePlan(encodeCommand({ op: "append", key, value, maxLength: ctx.limits.maxValueBytes }))
  );
}

export function planMset(args: Args, ctx: PlanContext): Plan {
  if (args.length % 2 === 0) return replyPlan(wrongArity("mset"));
  const pairs = args.slice(1);
  for (let i = 0; i < pairs.length; i += 2) {
    const refusal = checkKeys(ctx.limits, [pairs[i]!]) ?? checkValue(ctx.limits, pairs[i + 1]!);
    if (refusal !== null) return refusal;
  }
  return writePlan(encodeCommand({ op: "mset", pairs }));
}

const EXPIRY_OPTIONS: ReadonlySet<string> = new Set(["ex", "px", "exat", "pxat"]);

/** Lower case; a huge argument is no option, so it is not decoded. */
function optionName(arg: Buffer): string {
  return arg.length > 8 ? "" : arg.toString("latin1").toLowerCase();
}

function incrementPlan(key: Buffer, delta: bigint, ctx: PlanContext): Plan {
  return checkKeys(ctx.limits, [key]) ?? writePlan(encodeCommand({ op: "incrby", key, delta }));
}

function checkKeys(limits: PlanLimits, keys: readonly Buffer[]): Plan | null {
  for (const key of keys) if (key.length > limits.maxKeyBytes) return replyPlan(keyTooLong(limits.maxKeyBytes));
  return null;
}

function checkValue(limits: PlanLimits, value: Buffer): Plan | null {
  return value.length > limits.maxValueBytes ? replyPlan(stringTooLong(limits.maxValueBytes)) : null;
}
