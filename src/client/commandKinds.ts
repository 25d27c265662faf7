// Which commands change the store. Those go through a client session, which
// makes re-sending them after an unknown outcome safe; every other command
// (reads, PING, INFO, ...) changes nothing and is simply sent again.
//
// Must list every command that src/kv/commandTable.ts flags "write" (the
// client tests check it does), or a retried write could apply twice.

import type { Arg } from "./commandEncoder.js";

const WRITE_COMMANDS: ReadonlySet<string> = new Set([
  "set", "del", "incr", "decr", "incrby", "decrby", "append", "mset",
  "getdel", "getset", "getex", "setnx", "setex", "psetex", "msetnx", "unlink", "rename", "renamenx", "copy", "flushall", "flushdb",
  "expire", "pexpire", "expireat", "pexpireat", "persist",
  "hset", "hsetnx", "hdel", "hincrby",
]);

export function isWriteCommand(args: readonly Arg[]): boolean {
  const name = args[0];
  if (name === undefined) return false;
  const text = typeof name === "string" ? name : Buffer.from(name.buffer, name.byteOffset, name.length).toString("latin1");
  return WRITE_COMMANDS.has(text.toLowerCase());
}
