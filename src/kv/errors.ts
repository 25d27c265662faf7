// Error replies, worded exactly as Redis words them (server.c, t_string.c,
// object.c) where Redis has the same error; raftkv's own errors follow the
// same style. Client bytes quoted in an error are cut at NUL and at 128
// bytes, as Redis's C formatting does; CR/LF become spaces (errorReply).

import { errorReply, type Reply } from "../resp/writer.js";

export const SYNTAX_ERROR = errorReply("ERR syntax error");
export const NOT_INTEGER = errorReply("ERR value is not an integer or out of range");
export const OVERFLOW = errorReply("ERR increment or decrement would overflow");
export const DECREMENT_OVERFLOW = errorReply("ERR decrement would overflow");
export const INT_OUT_OF_RANGE = errorReply("ERR value is out of range, value must between -2147483648 and 2147483647");
export const DB_INDEX_OUT_OF_RANGE = errorReply("ERR DB index is out of range");

export function wrongArity(fullName: string): Reply {
  return errorReply(`ERR wrong number of arguments for '${fullName}' command`);
}

/** "unknown command 'FOO', with args beginning with: 'a' 'b' " (note the trailing space). */
export function unknownCommand(args: readonly Buffer[]): Reply {
  let quoted = "";
  for (let i = 1; i < args.length && quoted.length < 128; i++) {
    quoted += `'${cString(args[i]!).slice(0, 128 - quoted.length)}' `;
  }
  return errorReply(`ERR unknown command '${cString(args[0]!).slice(0, 128)}', with args beginning with: ${quoted}`);
}

/** "unknown subcommand 'foo'. Try CONFIG HELP." */
export function unknownSubcommand(args: readonly Buffer[]): Reply {
  // C's toupper: ASCII letters only.
  const container = cString(args[0]!).replace(/[a-z]+/g, (m) => m.toUpperCase());
  return errorReply(`ERR unknown subcommand '${cString(args[1]!).slice(0, 128)}'. Try ${container} HELP.`);
}

export function stringTooLong(maxBytes: number): Reply {
  return errorReply(`ERR string exceeds maximum allowed size (${maxBytes} bytes)`);
}

export function keyTooLong(maxBytes: number): Reply {
  return errorReply(`ERR key exceeds maximum allowed size (${maxBytes} bytes)`);
}

/** The bytes as a byte string, ending at the first NUL as C's "%s" would. */
export function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString("latin1", 0, nul === -1 ? b.length : nul);
}

export const WRONGTYPE = errorReply("WRONGTYPE Operation against a key holding the wrong kind of value");
export const NO_SUCH_KEY = errorReply("ERR no such key");
export const SAME_OBJECT = errorReply("ERR source and destination objects are the same");
export const HASH_NOT_INTEGER = errorReply("ERR hash value is not an integer");
export const INVALID_CURSOR = errorReply("ERR invalid cursor");

/** "invalid expire time in 'set' command" */
export function invalidExpireTime(command: string): Reply {
  return errorReply(`ERR invalid expire time in '${command}' command`);
}
