// Planners of the connection and server commands: what Redis tools and
// client libraries send besides data commands (PING, ECHO, SELECT, QUIT,
// INFO, COMMAND, CONFIG, CLIENT). All answer at once except INFO, which
// any node answers about itself (role, term, leader, indexes), as a Redis
// replica does; the key count (the Keyspace section) is data, so only a
// leader gives it, after confirming its leadership like any read.
//
// Choices where raftkv differs from a Redis server:
// - One database: SELECT 0 works, any other index is "DB index is out of range".
// - COMMAND DOCS answers an empty list (no docs): redis-cli then starts
//   quietly, without inline hints.
// - CONFIG GET knows a few read-only parameters, chosen so redis-benchmark
//   starts quietly; any other name matches nothing (an empty list, as Redis
//   answers for unknown names). CONFIG SET refuses every parameter.
// - CLIENT SETNAME and CLIENT SETINFO validate as Redis does and answer OK,
//   but names are not kept: plans are pure and hold no connection state.
// - HELLO is not a command here, so it gets the unknown-command error and
//   clients stay with RESP2, as they do with Redis 5.

import { parseInteger } from "../resp/integer.js";
import { array, bulk, bulkString, EMPTY_ARRAY, errorReply, integer, NIL, OK, PONG, simple, type Reply } from "../resp/writer.js";
import { cString, DB_INDEX_OUT_OF_RANGE, INT_OUT_OF_RANGE, NOT_INTEGER, wrongArity } from "./errors.js";
import { globMatch, isGlob } from "./glob.js";
import { renderInfo } from "./info.js";
import { localPlan, replyPlan, type CommandSpec, type CommandTable, type Plan, type PlanContext } from "./plan.js";

type Args = readonly Buffer[];

export function planPing(args: Args): Plan {
  if (args.length > 2) return replyPlan(wrongArity("ping"));
  return replyPlan(args.length === 2 ? bulk(args[1]!) : PONG);
}

export function planEcho(args: Args): Plan {
  return replyPlan(bulk(args[1]!));
}

export function planQuit(): Plan {
  return { kind: "reply", reply: OK, close: true };
}

export function planSelect(args: Args): Plan {
  const index = parseInteger(args[1]!);
  if (index === null) return replyPlan(NOT_INTEGER);
  // Redis reads the index as a C int (getIntFromObjectOrReply).
  if (index < -0x80000000 || index > 0x7fffffff) return replyPlan(INT_OUT_OF_RANGE);
  return replyPlan(index === 0 ? OK : DB_INDEX_OUT_OF_RANGE);
}

export function planInfo(args: Args): Plan {
  const sections = args.slice(1).map((a) => a.toString("latin1"));
  return localPlan((sm, node) => bulkString(renderInfo(sections, sm, node)));
}

// --- COMMAND ---------------------------------------------------------------

export function planCommand(_args: Args, ctx: PlanContext): Plan {
  return replyPlan(array([...ctx.commands.values()].map(commandInfo)));
}

export function planCommandCount(_args: Args, ctx: PlanContext): Plan {
  return replyPlan(integer(ctx.commands.size));
}

export function planCommandInfo(args: Args, ctx: PlanContext): Plan {
  if (args.length === 2) return planCommand(args, ctx);
  return replyPlan(array(args.slice(2).map((name) => {
    const spec = lookupByFullName(ctx.commands, name.toString("latin1"));
    return spec === undefined ? NIL : commandInfo(spec);
  })));
}

export function planCommandDocs(): Plan {
  return replyPlan(EMPTY_ARRAY);
}

export function planCommandHelp(args: Args): Plan {
  return help(args, [
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands (raftkv has none).",
  ]);
}

/** COMMAND's 10-field entry (Redis 7): name, arity, flags, first/last key, key step, ACL categories, tips, key specs, subcommands. */
function commandInfo(spec: CommandSpec): Reply {
  return array([
    bulkString(spec.name),
    integer(spec.arity),
    array(spec.flags.map(simple)),
    integer(spec.firstKey),
    integer(spec.lastKey),
    integer(spec.keyStep),
    array(spec.categories.map(simple)),
    EMPTY_ARRAY,
    EMPTY_ARRAY,
    array([...(spec.subcommands?.values() ?? [])].map(commandInfo)),
  ]);
}

/** "get" or "config|get", any case. */
function lookupByFullName(commands: CommandTable, fullName: string): CommandSpec | undefined {
  const parts = fullName.toLowerCase().split("|");
  const spec = commands.get(parts[0]!);
  if (parts.length === 1) return spec;
  return parts.length === 2 ? spec?.subcommands?.get(parts[1]!) : undefined;
}

// --- CONFIG ----------------------------------------------------------------

/** Read-only parameters, with values that describe raftkv truthfully in Redis's terms. */
const CONFIG: ReadonlyMap<string, string> = new Map([
  ["save", ""], // no RDB snapshots on a timer
  ["appendonly", "yes"], // every write is in the Raft log
  ["appendfsync", "always"], // and fsynced before it is acknowledged
  ["databases", "1"],
]);

/** CONFIG GET parameter [parameter ...]: each a name or a glob pattern; a parameter is listed once. */
export function planConfigGet(args: Args): Plan {
  const matched = new Set<string>();
  for (const arg of args.slice(2)) {
    const pattern = cString(arg);
    if (!isGlob(pattern)) {
      const name = pattern.toLowerCase();
      if (CONFIG.has(name)) matched.add(name);
      continue;
    }
    for (const name of CONFIG.keys()) if (globMatch(pattern, name)) matched.add(name);
  }
  const items: Reply[] = [];
  for (const name of matched) items.push(bulkString(name), bulkString(CONFIG.get(name)!));
  return replyPlan(array(items));
}

export function planConfigSet(args: Args): Plan {
  return replyPlan(errorReply(`ERR Unknown option or number of arguments for CONFIG SET - '${cString(args[2]!)}'`));
}

export function planConfigHelp(args: Args): Plan {
  return help(args, [
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value> (raftkv has no settable parameters).",
  ]);
}

// --- CLIENT ----------------------------------------------------------------

export function planClientSetname(args: Args): Plan {
  const name = cString(args[2]!);
  if (!isClientAttribute(name)) return replyPlan(errorReply("ERR Client names cannot contain spaces, newlines or special characters."));
  return replyPlan(OK);
}

/** CLIENT SETINFO LIB-NAME|LIB-VER value, which client libraries send on connect. */
export function planClientSetinfo(args: Args): Plan {
  const attribute = cString(args[2]!);
  const lower = attribute.toLowerCase();
  if (lower !== "lib-name" && lower !== "lib-ver") return replyPlan(errorReply(`ERR Unrecognized option '${attribute}'`));
  if (!isClientAttribute(cString(args[3]!))) {
    return replyPlan(errorReply(`ERR ${attribute} cannot contain spaces, newlines or special characters.`));
  }
  return replyPlan(OK);
}

export function planClientHelp(args: Args): Plan {
  return help(args, [
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
  ]);
}

/** Printable ASCII without space, as Redis requires for what CLIENT LIST shows. */
function isClientAttribute(value: string): boolean {
  return /^[!-~]*$/.test(value);
}

/** Redis's help reply layout (addReplyHelp). */
function help(args: Args, lines: readonly string[]): Plan {
  const container = cString(args[0]!).replace(/[a-z]+/g, (m) => m.toUpperCase());
  return replyPlan(
    array([
      simple(`${container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`),
      ...lines.map(simple),
      simple("HELP"),
      simple("    Print this help."),
    ]),
  );
}
