// The entry point from the client port: one parsed command in, one Plan out.
// Lookup and arity checks follow Redis's processCommand (server.c): unknown
// command, unknown subcommand of a container (CONFIG, COMMAND, CLIENT), then
// wrong number of arguments, each with Redis's error text.

import { COMMANDS } from "./commandTable.js";
import { unknownCommand, unknownSubcommand, wrongArity } from "./errors.js";
import { DEFAULT_PLAN_LIMITS, replyPlan, type CommandSpec, type CommandTable, type Plan, type PlanContext, type PlanLimits } from "./plan.js";
import type { Reply } from "../resp/writer.js";

export class CommandPlanner implements PlanContext {
  readonly limits: PlanLimits;
  readonly commands: CommandTable = COMMANDS;

  constructor(limits: Partial<PlanLimits> = {}) {
    this.limits = { ...DEFAULT_PLAN_LIMITS, ...limits };
  }

  /** `args`: the command name and its arguments, as the RESP parser yields them (at least the name). */
  plan(args: readonly Buffer[]): Plan {
    const target = this.lookup(args);
    return "kind" in target ? replyPlan(target) : target.plan!(args, this);
  }

  /**
   * The command `args` names, or the error Redis gives before running
   * anything (unknown command or subcommand, wrong number of arguments):
   * in a transaction, those errors discard it at EXEC.
   */
  lookup(args: readonly Buffer[]): CommandSpec | Reply {
    if (args.length === 0) throw new RangeError("plan() needs a command: got no arguments");
    const command = this.commands.get(lowerName(args[0]!));
    if (command === undefined) return unknownCommand(args);
    let target = command;
    if (command.subcommands !== undefined && args.length >= 2) {
      const sub = command.subcommands.get(lowerName(args[1]!));
      if (sub === undefined) return unknownSubcommand(args);
      target = sub;
    }
    const arityOk = target.arity >= 0 ? args.length === target.arity : args.length >= -target.arity;
    if (!arityOk || target.plan === null) return wrongArity(target.name);
    return target;
  }
}

/** Longer than any command name: no need to decode a huge argument to know it is none. */
const MAX_NAME_BYTES = 32;

function lowerName(arg: Buffer): string {
  return arg.length > MAX_NAME_BYTES ? "" : arg.toString("latin1").toLowerCase();
}
