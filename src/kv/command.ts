// The write commands that travel through the Raft log, and their compact
// binary encoding. Only writes are logged; plan() has already checked arity,
// syntax and size limits, so every logged command is well formed and its
// outcome (including its error, if any) depends only on the state it is
// applied to.
//
// Encoding: one opcode byte, then the fields; integers are LEB128 varints,
// byte strings are varint-length-prefixed, deltas are 8-byte little-endian.

import { assertNever } from "../util/assert.js";
import { ByteReader, ByteWriter, DecodeError } from "./binary.js";
import { readReplyBinary, writeReplyBinary } from "./replyCodec.js";
import type { Reply } from "../resp/writer.js";

export type SetCondition = "always" | "nx" | "xx";

/** A command that changes keys. */
export type DataCommand =
  | { readonly op: "set"; readonly key: Buffer; readonly value: Buffer; readonly condition: SetCondition; readonly get: boolean }
  | { readonly op: "del"; readonly keys: readonly Buffer[] }
  /** INCR, DECR, INCRBY and DECRBY. */
  | { readonly op: "incrby"; readonly key: Buffer; readonly delta: bigint }
  /** `maxLength` is the value limit of the node that planned it, so every replica enforces the same one. */
  | { readonly op: "append"; readonly key: Buffer; readonly value: Buffer; readonly maxLength: number }
  /** Keys and values alternate: key, value, key, value... */
  | { readonly op: "mset"; readonly pairs: readonly Buffer[] }
  /**
   * Every other write (keyspace, hashes, expiry, SET with expiry options):
   * the command name and its arguments, already checked and normalised by
   * its planner (see the apply side in stateMachine.ts for each name's form).
   */
  | { readonly op: "call"; readonly name: string; readonly args: readonly Buffer[] }
  /** Nothing but time: the leader's clock, so expired keys go when no other write comes (active expiry). */
  | { readonly op: "tick" };

/**
 * One queued command of a transaction: its reply when planning already
 * decided it (an error, PING...), a write, or a read (run by the leader, in
 * its place, while the transaction applies; no bytes of it are logged).
 */
export type TransactionItem =
  | { readonly kind: "reply"; readonly reply: Reply }
  | { readonly kind: "write"; readonly command: DataCommand }
  | { readonly kind: "read" };

/**
 * MULTI ... EXEC: applied as one entry, all or nothing, after checking that
 * every WATCHed key still has the version WATCH saw (else nothing is applied).
 */
export type TransactionCommand = { readonly op: "multi"; readonly watches: readonly { readonly key: Buffer; readonly version: number }[]; readonly items: readonly TransactionItem[] };

/**
 * Only under a session (RAFTKV.SESSION id seq EXEC outside MULTI): the reply
 * of write `seq` if it was applied; else -NOTAPPLIED, and `seq` is used up,
 * so the write it names can never apply later.
 */
export type ResolveCommand = { readonly op: "resolve" };

export type KvCommand =
  | DataCommand
  | TransactionCommand
  /** Opens a client session (Raft thesis §6.3); its id is the log index of this command. */
  | { readonly op: "register" }
  /** A data command or a transaction sent under a client session, applied at most once per (clientId, seq). */
  | { readonly op: "session"; readonly clientId: number; readonly seq: number; readonly command: DataCommand | TransactionCommand | ResolveCommand }
  | ResolveCommand
  /**
   * The leader's clock (ms since the epoch) when it proposed `command`: the
   * time every replica uses to apply it (expiry), so none reads its own clock.
   */
  | { readonly op: "timed"; readonly now: number; readonly command: Exclude<KvCommand, { op: "timed" }> };

const enum Op {
  Set = 1,
  Del = 2,
  IncrBy = 3,
  Append = 4,
  MSet = 5,
  Register = 6,
  Session = 7,
  Call = 8,
  Tick = 9,
  Timed = 10,
  Multi = 11,
  Resolve = 12,
}

const CONDITION_CODES: Record<SetCondition, number> = { always: 0, nx: 1, xx: 2 };
const CONDITIONS: readonly SetCondition[] = ["always", "nx", "xx"];
const SET_GET_FLAG = 0x04;

export function encodeCommand(command: KvCommand): Uint8Array {
  const w = new ByteWriter(sizeHint(command));
  write(w, command);
  return w.finish();
}

/**
 * Puts an encoded data command (from encodeCommand) under a client session
 * without decoding it: the session form is a prefix followed by the command.
 */
export function encodeSessionCommand(clientId: number, seq: number, dataCommand: Uint8Array): Uint8Array {
  const w = new ByteWriter(24 + dataCommand.length);
  w.u8(Op.Session);
  w.varint(clientId);
  w.varint(seq);
  w.raw(dataCommand);
  return w.finish();
}

/**
 * Stamps an encoded command (from encodeCommand or encodeSessionCommand)
 * with the proposing leader's clock, without decoding it.
 */
export function encodeTimedCommand(now: number, command: Uint8Array): Uint8Array {
  const w = new ByteWriter(12 + command.length);
  w.u8(Op.Timed);
  w.varint(Math.max(0, Math.floor(now)));
  w.raw(command);
  return w.finish();
}

/** Throws DecodeError on bytes that encodeCommand did not produce. */
export function decodeCommand(data: Uint8Array): KvCommand {
  const r = new ByteReader(data);
  let command: KvCommand;
  if (data[0] === Op.Timed) {
    r.u8();
    const now = r.varint();
    const inner = read(r, true);
    command = { op: "timed", now, command: inner as Exclude<KvCommand, { op: "timed" }> };
  } else {
    command = read(r, true);
  }
  if (!r.done) throw new DecodeError("trailing bytes after command");
  return command;
}

function write(w: ByteWriter, c: KvCommand): void {
  switch (c.op) {
    case "set":
      w.u8(Op.Set);
      w.u8(CONDITION_CODES[c.condition] | (c.get ? SET_GET_FLAG : 0));
      w.bytes(c.key);
      w.bytes(c.value);
      return;
    case "del":
      w.u8(Op.Del);
      w.varint(c.keys.length);
      for (const key of c.keys) w.bytes(key);
      return;
    case "incrby":
      w.u8(Op.IncrBy);
      w.bytes(c.key);
      w.i64(c.delta);
      return;
    case "append":
      w.u8(Op.Append);
      w.varint(c.maxLength);
      w.bytes(c.key);
      w.bytes(c.value);
      return;
    case "mset":
      w.u8(Op.MSet);
      w.varint(c.pairs.length / 2);
      for (const b of c.pairs) w.bytes(b);
      return;
    case "call":
      w.u8(Op.Call);
      w.latin1(c.name);
      w.varint(c.args.length);
      for (const a of c.args) w.bytes(a);
      return;
    case "tick":
      w.u8(Op.Tick);
      return;
    case "timed":
      w.u8(Op.Timed);
      w.varint(c.now);
      write(w, c.command);
      return;
    case "multi":
      w.u8(Op.Multi);
      w.varint(c.watches.length);
      for (const { key, version } of c.watches) {
        w.bytes(key);
        w.varint(version);
      }
      w.varint(c.items.length);
      for (const item of c.items) {
        if (item.kind === "reply") {
          w.u8(0);
          writeReplyBinary(w, item.reply);
        } else if (item.kind === "write") {
          w.u8(1);
          write(w, item.command);
        } else {
          w.u8(2);
        }
      }
      return;
    case "register":
      w.u8(Op.Register);
      return;
    case "resolve":
      w.u8(Op.Resolve);
      return;
    case "session":
      w.u8(Op.Session);
      w.varint(c.clientId);
      w.varint(c.seq);
      write(w, c.command);
      return;
    default:
      assertNever(c);
  }
}

/** `inSession`: the command a session wraps (a transaction or a resolve may be one). */
function read(r: ByteReader, outermost: boolean, inSession = false): KvCommand {
  const op = r.u8();
  switch (op) {
    case Op.Set: {
      const flags = r.u8();
      const condition = CONDITIONS[flags & 0x03];
      if (condition === undefined || (flags & ~0x07) !== 0) throw new DecodeError(`bad SET flags ${flags}`);
      return { op: "set", condition, get: (flags & SET_GET_FLAG) !== 0, key: r.bytes(), value: r.bytes() };
    }
    case Op.Del: {
      const keys: Buffer[] = [];
      for (let n = r.varint(); n > 0; n--) keys.push(r.bytes());
      return { op: "del", keys };
    }
    case Op.IncrBy:
      return { op: "incrby", key: r.bytes(), delta: r.i64() };
    case Op.Append:
      return { op: "append", maxLength: r.varint(), key: r.bytes(), value: r.bytes() };
    case Op.MSet: {
      const pairs: Buffer[] = [];
      for (let n = r.varint(); n > 0; n--) pairs.push(r.bytes(), r.bytes());
      return { op: "mset", pairs };
    }
    case Op.Call: {
      const name = r.latin1();
      const args: Buffer[] = [];
      for (let n = r.varint(); n > 0; n--) args.push(r.bytes());
      return { op: "call", name, args };
    }
    case Op.Tick:
      return { op: "tick" };
    case Op.Multi: {
      if (!outermost && !inSession) break;
      const watches: { key: Buffer; version: number }[] = [];
      for (let n = r.varint(); n > 0; n--) watches.push({ key: r.bytes(), version: r.varint() });
      const items: TransactionItem[] = [];
      for (let n = r.varint(); n > 0; n--) {
        const kind = r.u8();
        if (kind === 0) items.push({ kind: "reply", reply: readReplyBinary(r) });
        else if (kind === 1) {
          const command = read(r, false);
          if (command.op === "register" || command.op === "session" || command.op === "timed" || command.op === "multi" || command.op === "resolve") {
            throw new DecodeError(`a ${command.op} command inside a transaction`);
          }
          items.push({ kind: "write", command });
        } else if (kind === 2) items.push({ kind: "read" });
        else throw new DecodeError(`unknown transaction item kind ${kind}`);
      }
      return { op: "multi", watches, items };
    }
    case Op.Register:
      if (outermost) return { op: "register" };
      break;
    case Op.Session:
      if (outermost) {
        const clientId = r.varint();
        const seq = r.varint();
        const command = read(r, false, true);
        if (command.op === "register" || command.op === "session" || command.op === "timed") break;
        return { op: "session", clientId, seq, command };
      }
      break;
    case Op.Resolve:
      if (inSession) return { op: "resolve" };
      break;
  }
  throw new DecodeError(`unknown or misplaced command opcode ${op}`);
}

/** Enough room for the encoding, so the writer never has to grow. */
function sizeHint(c: KvCommand): number {
  switch (c.op) {
    case "set":
    case "append":
      return 32 + c.key.length + c.value.length;
    case "incrby":
      return 32 + c.key.length;
    case "del":
      return 16 + c.keys.reduce((n, k) => n + k.length + 8, 0);
    case "mset":
      return 16 + c.pairs.reduce((n, b) => n + b.length + 8, 0);
    case "call":
      return 16 + c.name.length + c.args.reduce((n, a) => n + a.length + 8, 0);
    case "multi":
      return 64 + c.watches.reduce((n, w) => n + w.key.length + 16, 0) + c.items.reduce((n, i) => n + (i.kind === "write" ? sizeHint(i.command) : 64), 0);
    case "register":
    case "tick":
    case "resolve":
      return 1;
    case "timed":
      return 12 + sizeHint(c.command);
    case "session":
      return 24 + sizeHint(c.command);
    default:
      return assertNever(c);
  }
}
