// Binary form of a Reply, for the replies client sessions remember (they are
// part of the snapshot). Integers are stored as 64-bit values and come back
// as a number when safe, so re-encoding gives identical bytes.

import { assertNever } from "../util/assert.js";
import type { Reply } from "../resp/writer.js";
import { type ByteReader, type ByteWriter, DecodeError } from "./binary.js";

const enum Tag {
  Simple = 0,
  Error = 1,
  Integer = 2,
  Bulk = 3,
  NilBulk = 4,
  Array = 5,
  NilArray = 6,
}

export function writeReplyBinary(w: ByteWriter, reply: Reply): void {
  switch (reply.kind) {
    case "simple":
      w.u8(Tag.Simple);
      w.latin1(reply.value);
      return;
    case "error":
      w.u8(Tag.Error);
      w.latin1(reply.message);
      return;
    case "integer":
      w.u8(Tag.Integer);
      w.i64(BigInt(reply.value));
      return;
    case "bulk":
      if (reply.value === null) {
        w.u8(Tag.NilBulk);
      } else {
        w.u8(Tag.Bulk);
        w.bytes(reply.value);
      }
      return;
    case "array":
      if (reply.items === null) {
        w.u8(Tag.NilArray);
      } else {
        w.u8(Tag.Array);
        w.varint(reply.items.length);
        for (const item of reply.items) writeReplyBinary(w, item);
      }
      return;
    default:
      assertNever(reply);
  }
}

/** Byte strings are copied, so the reply does not pin the buffer it was read from. */
export function readReplyBinary(r: ByteReader): Reply {
  const tag = r.u8();
  switch (tag) {
    case Tag.Simple:
      return { kind: "simple", value: r.latin1() };
    case Tag.Error:
      return { kind: "error", message: r.latin1() };
    case Tag.Integer: {
      const value = r.i64();
      const n = Number(value);
      return { kind: "integer", value: Number.isSafeInteger(n) ? n : value };
    }
    case Tag.Bulk:
      return { kind: "bulk", value: Buffer.from(r.bytes()) };
    case Tag.NilBulk:
      return { kind: "bulk", value: null };
    case Tag.Array: {
      const items: Reply[] = [];
      for (let n = r.varint(); n > 0; n--) items.push(readReplyBinary(r));
      return { kind: "array", items };
    }
    case Tag.NilArray:
      return { kind: "array", items: null };
    default:
      throw new DecodeError(`unknown reply tag ${tag}`);
  }
}
