// RESP2 replies: the one type every command answers with, and the encoder
// that turns a batch of them (the answers to one pipelined read) into a
// single Buffer, so a batch costs one allocation and one socket write.
//
// Simple strings and errors are byte strings: each char is one byte
// (latin1). That lets an error quote a client's raw bytes back exactly as
// Redis does (e.g. in "unknown command 'x'").

import { assertNever } from "../util/assert.js";

export type Reply =
  | { readonly kind: "simple"; readonly value: string }
  /** `message` is the whole line after "-", starting with its code: "ERR syntax error". */
  | { readonly kind: "error"; readonly message: string }
  /** Redis integers are signed 64-bit: values beyond 2^53 come as bigint. */
  | { readonly kind: "integer"; readonly value: number | bigint }
  /** null is the nil bulk string ($-1). */
  | { readonly kind: "bulk"; readonly value: Uint8Array | null }
  /** null is the nil array (*-1). */
  | { readonly kind: "array"; readonly items: readonly Reply[] | null };

const LINE_BREAKS = /[\r\n]/g;

/** A status reply. CR and LF would break the frame, so they become spaces (as Redis does). */
export function simple(value: string): Reply {
  return { kind: "simple", value: value.replace(LINE_BREAKS, " ") };
}

/** An error reply; `message` starts with the error code, e.g. "ERR syntax error". CR/LF become spaces. */
export function errorReply(message: string): Reply {
  return { kind: "error", message: message.replace(LINE_BREAKS, " ") };
}

export function integer(value: number | bigint): Reply {
  return { kind: "integer", value };
}

export function bulk(value: Uint8Array | null): Reply {
  return { kind: "bulk", value };
}

export function bulkString(value: string): Reply {
  return { kind: "bulk", value: Buffer.from(value, "utf8") };
}

export function array(items: readonly Reply[] | null): Reply {
  return { kind: "array", items };
}

export const OK: Reply = simple("OK");
export const PONG: Reply = simple("PONG");
export const NIL: Reply = bulk(null);
export const NIL_ARRAY: Reply = array(null);
export const EMPTY_ARRAY: Reply = array([]);

/** Encodes one reply. */
export function encodeReply(reply: Reply): Buffer {
  const out = Buffer.allocUnsafe(encodedLength(reply));
  writeReply(reply, out, 0);
  return out;
}

/** Encodes the replies of a pipelined batch, in order, into one Buffer. */
export function encodeReplies(replies: readonly Reply[]): Buffer {
  let length = 0;
  for (const r of replies) length += encodedLength(r);
  const out = Buffer.allocUnsafe(length);
  let offset = 0;
  for (const r of replies) offset = writeReply(r, out, offset);
  return out;
}

/** The number of bytes `reply` takes on the wire. */
export function encodedLength(reply: Reply): number {
  switch (reply.kind) {
    case "simple":
      return reply.value.length + 3;
    case "error":
      return reply.message.length + 3;
    case "integer":
      return String(reply.value).length + 3;
    case "bulk":
      return reply.value === null ? 5 : headerLength(reply.value.length) + reply.value.length + 2;
    case "array": {
      if (reply.items === null) return 5;
      let length = headerLength(reply.items.length);
      for (const item of reply.items) length += encodedLength(item);
      return length;
    }
    default:
      return assertNever(reply);
  }
}

/** Writes `reply` into `out` at `offset` (which must have room); returns the offset after it. */
function writeReply(reply: Reply, out: Buffer, offset: number): number {
  switch (reply.kind) {
    case "simple":
      return writeLine(out, offset, 0x2b /* + */, reply.value);
    case "error":
      return writeLine(out, offset, 0x2d /* - */, reply.message);
    case "integer":
      return writeLine(out, offset, 0x3a /* : */, String(reply.value));
    case "bulk": {
      if (reply.value === null) return writeLine(out, offset, 0x24 /* $ */, "-1");
      offset = writeLine(out, offset, 0x24, String(reply.value.length));
      out.set(reply.value, offset);
      offset += reply.value.length;
      out[offset] = 13;
      out[offset + 1] = 10;
      return offset + 2;
    }
    case "array": {
      if (reply.items === null) return writeLine(out, offset, 0x2a /* * */, "-1");
      offset = writeLine(out, offset, 0x2a, String(reply.items.length));
      for (const item of reply.items) offset = writeReply(item, out, offset);
      return offset;
    }
    default:
      return assertNever(reply);
  }
}

function headerLength(n: number): number {
  return String(n).length + 3;
}

function writeLine(out: Buffer, offset: number, prefix: number, text: string): number {
  out[offset++] = prefix;
  offset += out.write(text, offset, "latin1");
  out[offset] = 13;
  out[offset + 1] = 10;
  return offset + 2;
}
