// Planners of the hash commands (Redis's t_hash.c): HSET, HSETNX, HGET,
// HMGET, HDEL, HGETALL, HKEYS, HVALS, HLEN, HEXISTS, HINCRBY. A hash keeps
// its fields in insertion order (Redis does too while a hash is small, in
// its listpack encoding; a large Redis hash has its hash table's order).

import { parseInteger } from "../resp/integer.js";
import { array, bulk, integer, type Reply } from "../resp/writer.js";
import { NOT_INTEGER, WRONGTYPE, wrongArity } from "./errors.js";
import { call, checkKeys, checkValue } from "./keyCommands.js";
import { readPlan, replyPlan, type Plan, type PlanContext } from "./plan.js";
import { hashReply, type HashValue, type KvStateMachine } from "./stateMachine.js";

type Args = readonly Buffer[];

/** Runs `f` on the hash at `key`; missing: `missing`; another type: WRONGTYPE. */
function withHash(key: Buffer, missing: Reply, f: (hash: HashValue) => Reply): (sm: KvStateMachine) => Reply {
  return (sm) => {
    const v = sm.lookup(key);
    if (v === undefined) return missing;
    return Buffer.isBuffer(v) ? WRONGTYPE : f(v);
  };
}

function fieldsAndValues(args: Args, ctx: PlanContext, from: number): Plan | null {
  for (let i = from; i < args.length; i += 2) {
    const refusal = checkKeys(ctx.limits, [args[i]!]) ?? checkValue(ctx.limits, args[i + 1]!);
    if (refusal !== null) return refusal;
  }
  return null;
}

export function planHset(args: Args, ctx: PlanContext): Plan {
  if (args.length % 2 === 1) return replyPlan(wrongArity("hset"));
  return checkKeys(ctx.limits, [args[1]!]) ?? fieldsAndValues(args, ctx, 2) ?? call("hset", args.slice(1));
}

export function planHsetnx(args: Args, ctx: PlanContext): Plan {
  return checkKeys(ctx.limits, [args[1]!]) ?? fieldsAndValues(args, ctx, 2) ?? call("hsetnx", args.slice(1));
}

export function planHdel(args: Args, ctx: PlanContext): Plan {
  return checkKeys(ctx.limits, [args[1]!]) ?? call("hdel", args.slice(1));
}

export function planHincrby(args: Args, ctx: PlanContext): Plan {
  const delta = parseInteger(args[3]!);
  if (delta === null) return replyPlan(NOT_INTEGER);
  return checkKeys(ctx.limits, [args[1]!, args[2]!]) ?? call("hincrby", [args[1]!, args[2]!, Buffer.from(String(delta), "latin1")]);
}

export function planHget(args: Args, ctx: PlanContext): Plan {
  const [, key, field] = args as [Buffer, Buffer, Buffer];
  return checkKeys(ctx.limits, [key]) ?? readPlan(withHash(key, bulk(null), (h) => bulk(h.get(field.toString("latin1")) ?? null)));
}

export function planHmget(args: Args, ctx: PlanContext): Plan {
  const key = args[1]!;
  const fields = args.slice(2).map((f) => f.toString("latin1"));
  return (
    checkKeys(ctx.limits, [key]) ??
    readPlan(withHash(key, array(fields.map(() => bulk(null))), (h) => array(fields.map((f) => bulk(h.get(f) ?? null)))))
  );
}

export function planHgetall(args: Args, ctx: PlanContext): Plan {
  return checkKeys(ctx.limits, [args[1]!]) ?? readPlan(withHash(args[1]!, array([]), (h) => hashReply(h, true, true)));
}

export function planHkeys(args: Args, ctx: PlanContext): Plan {
  return checkKeys(ctx.limits, [args[1]!]) ?? readPlan(withHash(args[1]!, array([]), (h) => hashReply(h, true, false)));
}

export function planHvals(args: Args, ctx: PlanContext): Plan {
  return checkKeys(ctx.limits, [args[1]!]) ?? readPlan(withHash(args[1]!, array([]), (h) => hashReply(h, false, true)));
}

export function planHlen(args: Args, ctx: PlanContext): Plan {
  return checkKeys(ctx.limits, [args[1]!]) ?? readPlan(withHash(args[1]!, integer(0), (h) => integer(h.size)));
}

export function planHexists(args: Args, ctx: PlanContext): Plan {
  const [, key, field] = args as [Buffer, Buffer, Buffer];
  return checkKeys(ctx.limits, [key]) ?? readPlan(withHash(key, integer(0), (h) => integer(h.has(field.toString("latin1")) ? 1 : 0)));
}
