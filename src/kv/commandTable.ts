// Every command raftkv understands, with the metadata Redis 7 gives it in
// COMMAND (arity, flags, key positions, ACL categories). One table serves
// both dispatch and COMMAND's answers, so they cannot disagree.

import { replyPlan, type CommandSpec, type CommandTable, type Plan, type PlanContext } from "./plan.js";
import { errorReply } from "../resp/writer.js";
import * as s from "./stringCommands.js";
import * as srv from "./serverCommands.js";
import * as k from "./keyCommands.js";
import * as h from "./hashCommands.js";
import { planRegister, planSession } from "./sessionCommands.js";

type Planner = (args: readonly Buffer[], ctx: PlanContext) => Plan;

function spec(
  name: string,
  arity: number,
  flags: string,
  keys: readonly [first: number, last: number, step: number],
  categories: string,
  plan: Planner | null,
  subcommands?: readonly CommandSpec[],
): CommandSpec {
  return {
    name,
    arity,
    flags: words(flags),
    firstKey: keys[0],
    lastKey: keys[1],
    keyStep: keys[2],
    categories: words(categories),
    plan,
    ...(subcommands && { subcommands: table(subcommands) }),
  };
}

function words(text: string): readonly string[] {
  return text === "" ? [] : text.split(" ");
}

/** Keyed by the last part of the name: "config|get" is "get" among CONFIG's subcommands. */
function table(specs: readonly CommandSpec[]): CommandTable {
  return new Map(specs.map((c) => [c.name.slice(c.name.indexOf("|") + 1), c]));
}

/**
 * MULTI, EXEC, DISCARD, WATCH, UNWATCH: a connection's state (transaction.ts);
 * AUTH: answered by the client port (src/server/clientPort.ts), which knows
 * the passwords. Never planned alone (e.g. inside RAFTKV.SESSION).
 */
function connectionOnly(args: readonly Buffer[]): Plan {
  return replyPlan(errorReply(`ERR ${args[0]!.toString("latin1").toUpperCase()} works on a client connection only`));
}

const NO_KEYS = [0, 0, 0] as const;
const ONE_KEY = [1, 1, 1] as const;
const ALL_KEYS = [1, -1, 1] as const;

export const COMMANDS: CommandTable = table([
  spec("get", 2, "readonly fast", ONE_KEY, "@read @string @fast", s.planGet),
  spec("set", -3, "write denyoom", ONE_KEY, "@write @string @slow", s.planSet),
  spec("del", -2, "write", ALL_KEYS, "@keyspace @write @slow", s.planDel),
  spec("exists", -2, "readonly fast", ALL_KEYS, "@keyspace @read @fast", s.planExists),
  spec("incr", 2, "write denyoom fast", ONE_KEY, "@write @string @fast", s.planIncr),
  spec("decr", 2, "write denyoom fast", ONE_KEY, "@write @string @fast", s.planDecr),
  spec("incrby", 3, "write denyoom fast", ONE_KEY, "@write @string @fast", s.planIncrby),
  spec("decrby", 3, "write denyoom fast", ONE_KEY, "@write @string @fast", s.planDecrby),
  spec("append", 3, "write denyoom fast", ONE_KEY, "@write @string @fast", s.planAppend),
  spec("strlen", 2, "readonly fast", ONE_KEY, "@read @string @fast", s.planStrlen),
  spec("mget", -2, "readonly fast", ALL_KEYS, "@read @string @fast", s.planMget),
  spec("mset", -3, "write denyoom", [1, -1, 2], "@write @string @slow", s.planMset),
  spec("getdel", 2, "write fast", ONE_KEY, "@write @string @fast", k.planGetdel),
  spec("getset", 3, "write denyoom fast", ONE_KEY, "@write @string @fast", k.planGetset),
  spec("getex", -2, "write fast", ONE_KEY, "@write @string @fast", k.planGetex),
  spec("setnx", 3, "write denyoom fast", ONE_KEY, "@write @string @fast", k.planSetnx),
  spec("setex", 4, "write denyoom", ONE_KEY, "@write @string @slow", k.planSetex),
  spec("psetex", 4, "write denyoom", ONE_KEY, "@write @string @slow", k.planPsetex),
  spec("msetnx", -3, "write denyoom", [1, -1, 2], "@write @string @slow", k.planMsetnx),
  spec("unlink", -2, "write fast", ALL_KEYS, "@keyspace @write @fast", s.planDel),
  spec("type", 2, "readonly fast", ONE_KEY, "@keyspace @read @fast", k.planType),
  spec("keys", 2, "readonly", NO_KEYS, "@keyspace @read @slow @dangerous", k.planKeys),
  spec("scan", -2, "readonly", NO_KEYS, "@keyspace @read @slow", k.planScan),
  spec("rename", 3, "write", [1, 2, 1], "@keyspace @write @slow", k.planRename),
  spec("renamenx", 3, "write fast", [1, 2, 1], "@keyspace @write @fast", k.planRenamenx),
  spec("copy", -3, "write denyoom", [1, 2, 1], "@keyspace @write @slow", k.planCopy),
  spec("flushall", -1, "write", NO_KEYS, "@keyspace @write @slow @dangerous", k.planFlushall),
  // One database: FLUSHDB is FLUSHALL.
  spec("flushdb", -1, "write", NO_KEYS, "@keyspace @write @slow @dangerous", k.planFlushall),
  spec("expire", -3, "write fast", ONE_KEY, "@keyspace @write @fast", k.planExpire),
  spec("pexpire", -3, "write fast", ONE_KEY, "@keyspace @write @fast", k.planPexpire),
  spec("expireat", -3, "write fast", ONE_KEY, "@keyspace @write @fast", k.planExpireat),
  spec("pexpireat", -3, "write fast", ONE_KEY, "@keyspace @write @fast", k.planPexpireat),
  spec("ttl", 2, "readonly fast", ONE_KEY, "@keyspace @read @fast", k.planTtl),
  spec("pttl", 2, "readonly fast", ONE_KEY, "@keyspace @read @fast", k.planPttl),
  spec("expiretime", 2, "readonly fast", ONE_KEY, "@keyspace @read @fast", k.planExpiretime),
  spec("pexpiretime", 2, "readonly fast", ONE_KEY, "@keyspace @read @fast", k.planPexpiretime),
  spec("persist", 2, "write fast", ONE_KEY, "@keyspace @write @fast", k.planPersist),
  spec("hset", -4, "write denyoom fast", ONE_KEY, "@write @hash @fast", h.planHset),
  spec("hsetnx", 4, "write denyoom fast", ONE_KEY, "@write @hash @fast", h.planHsetnx),
  spec("hget", 3, "readonly fast", ONE_KEY, "@read @hash @fast", h.planHget),
  spec("hmget", -3, "readonly fast", ONE_KEY, "@read @hash @fast", h.planHmget),
  spec("hdel", -3, "write fast", ONE_KEY, "@write @hash @fast", h.planHdel),
  spec("hgetall", 2, "readonly", ONE_KEY, "@read @hash @slow", h.planHgetall),
  spec("hkeys", 2, "readonly", ONE_KEY, "@read @hash @slow", h.planHkeys),
  spec("hvals", 2, "readonly", ONE_KEY, "@read @hash @slow", h.planHvals),
  spec("hlen", 2, "readonly fast", ONE_KEY, "@read @hash @fast", h.planHlen),
  spec("hexists", 3, "readonly fast", ONE_KEY, "@read @hash @fast", h.planHexists),
  spec("hincrby", 4, "write denyoom fast", ONE_KEY, "@write @hash @fast", h.planHincrby),
  spec("multi", 1, "noscript loading stale fast allow_busy", NO_KEYS, "@fast @transaction", connectionOnly),
  spec("exec", 1, "noscript loading stale skip_slowlog", NO_KEYS, "@slow @transaction", connectionOnly),
  spec("discard", 1, "noscript loading stale fast allow_busy", NO_KEYS, "@fast @transaction", connectionOnly),
  spec("watch", -2, "noscript loading stale fast allow_busy", ALL_KEYS, "@fast @transaction", connectionOnly),
  spec("unwatch", 1, "noscript loading stale fast allow_busy", NO_KEYS, "@fast @transaction", connectionOnly),
  spec("dbsize", 1, "readonly fast", NO_KEYS, "@keyspace @read @fast", s.planDbsize),
  spec("info", -1, "loading stale", NO_KEYS, "@slow @dangerous", srv.planInfo),
  spec("ping", -1, "fast", NO_KEYS, "@fast @connection", srv.planPing),
  spec("echo", 2, "loading stale fast", NO_KEYS, "@fast @connection", srv.planEcho),
  spec("select", 2, "loading stale fast", NO_KEYS, "@fast @connection", srv.planSelect),
  spec("auth", -2, "noscript loading stale fast no_auth allow_busy", NO_KEYS, "@fast @connection", connectionOnly),
  spec("quit", -1, "noscript loading stale fast no_auth allow_busy", NO_KEYS, "@fast @connection", srv.planQuit),
  spec("command", -1, "loading stale", NO_KEYS, "@slow @connection", srv.planCommand, [
    spec("command|count", 2, "loading stale", NO_KEYS, "@slow @connection", srv.planCommandCount),
    spec("command|info", -2, "loading stale", NO_KEYS, "@slow @connection", srv.planCommandInfo),
    spec("command|docs", -2, "loading stale", NO_KEYS, "@slow @connection", srv.planCommandDocs),
    spec("command|help", 2, "loading stale", NO_KEYS, "@slow @connection", srv.planCommandHelp),
  ]),
  spec("config", -2, "", NO_KEYS, "@slow", null, [
    spec("config|get", -3, "admin noscript loading stale", NO_KEYS, "@admin @slow @dangerous", srv.planConfigGet),
    spec("config|set", -4, "admin noscript loading stale", NO_KEYS, "@admin @slow @dangerous", srv.planConfigSet),
    spec("config|help", 2, "loading stale", NO_KEYS, "@slow", srv.planConfigHelp),
  ]),
  spec("client", -2, "", NO_KEYS, "@slow", null, [
    spec("client|setinfo", 4, "noscript loading stale", NO_KEYS, "@slow @connection", srv.planClientSetinfo),
    spec("client|setname", 3, "noscript loading stale", NO_KEYS, "@slow @connection", srv.planClientSetname),
    spec("client|help", 2, "loading stale", NO_KEYS, "@slow @connection", srv.planClientHelp),
  ]),
  spec("raftkv.register", 1, "write", NO_KEYS, "@write @slow", planRegister),
  spec("raftkv.session", -4, "write movablekeys", NO_KEYS, "@write @slow", planSession),
]);
