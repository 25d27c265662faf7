// RAFTKV.REGISTER and RAFTKV.SESSION: the wire form of client sessions
// (see sessions.ts), sent by raftkv's own client library.
//
//   RAFTKV.REGISTER                                   -> :<client id>
//   RAFTKV.SESSION <client id> <seq> <command> [arg ...]
//
// A wrapped write is applied at most once per (client id, seq); a wrapped
// read or connection command is planned as if it were not wrapped.

import { parseInteger } from "../resp/integer.js";
import { errorReply } from "../resp/writer.js";
import { encodeCommand, encodeSessionCommand } from "./command.js";
import { replyPlan, writePlan, type Plan, type PlanContext } from "./plan.js";

type Args = readonly Buffer[];

const BAD_CLIENT_ID = errorReply("ERR RAFTKV.SESSION client id must be a positive integer (as returned by RAFTKV.REGISTER)");
const BAD_SEQ = errorReply("ERR RAFTKV.SESSION seq must be a positive integer");
const NESTED = errorReply("ERR RAFTKV.SESSION cannot wrap RAFTKV.SESSION or RAFTKV.REGISTER");

export function planRegister(): Plan {
  return writePlan(encodeCommand({ op: "register" }));
}

/** RAFTKV.SESSION's client id and seq, or the error for a bad one. */
export function sessionOf(args: Args): { clientId: number; seq: number } | Plan {
  const clientId = positiveInteger(args[1]!);
  if (clientId === null) return replyPlan(BAD_CLIENT_ID);
  const seq = positiveInteger(args[2]!);
  if (seq === null) return replyPlan(BAD_SEQ);
  return { clientId, seq };
}

export function planSession(args: Args, ctx: PlanContext): Plan {
  const session = sessionOf(args);
  if ("kind" in session) return session;
  const { clientId, seq } = session;
  const inner = args.slice(3);
  if (inner[0]!.toString("latin1").toLowerCase().startsWith("raftkv.")) return replyPlan(NESTED);
  const plan = ctx.plan(inner);
  return plan.kind === "write" ? writePlan(encodeSessionCommand(clientId, seq, plan.command)) : plan;
}

function positiveInteger(arg: Buffer): number | null {
  const n = parseInteger(arg);
  return typeof n === "number" && n > 0 ? n : null;
}
