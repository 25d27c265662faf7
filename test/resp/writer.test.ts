import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  array,
  bulk,
  bulkString,
  encodedLength,
  encodeReplies,
  encodeReply,
  errorReply,
  integer,
  NIL,
  NIL_ARRAY,
  OK,
  simple,
  type Reply,
} from "../../src/resp/writer.js";

const wire = (r: Reply) => encodeReply(r).toString("latin1");

describe("reply encoding", () => {
  test("each kind, as Redis writes it", () => {
    assert.equal(wire(OK), "+OK\r\n");
    assert.equal(wire(errorReply("ERR syntax error")), "-ERR syntax error\r\n");
    assert.equal(wire(integer(-42)), ":-42\r\n");
    assert.equal(wire(integer(9223372036854775807n)), ":9223372036854775807\r\n");
    assert.equal(wire(bulkString("héllo")), "$6\r\nh\xc3\xa9llo\r\n");
    assert.equal(wire(bulk(Buffer.alloc(0))), "$0\r\n\r\n");
    assert.equal(wire(NIL), "$-1\r\n");
    assert.equal(wire(NIL_ARRAY), "*-1\r\n");
    assert.equal(wire(array([])), "*0\r\n");
    assert.equal(wire(array([integer(1), array([bulkString("a"), NIL])])), "*2\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n");
  });

  test("bulk strings are binary-safe", () => {
    const value = Buffer.from([0, 13, 10, 255, 36]);
    const out = encodeReply(bulk(value));
    assert.ok(out.equals(Buffer.concat([Buffer.from("$5\r\n"), value, Buffer.from("\r\n")])));
  });

  test("CR and LF in status and error lines become spaces, so a reply cannot break the frame", () => {
    assert.equal(wire(errorReply("ERR a\r\nb")), "-ERR a  b\r\n");
    assert.equal(wire(simple("x\ny")), "+x y\r\n");
  });

  test("status and error lines are byte strings (latin1)", () => {
    assert.ok(encodeReply(errorReply("ERR \xff")).equals(Buffer.from([0x2d, 0x45, 0x52, 0x52, 0x20, 0xff, 13, 10])));
  });

  test("a batch is the concatenation of its replies, in one buffer of the announced length", () => {
    const replies = [OK, integer(3), bulkString("abc"), NIL, array([OK, errorReply("ERR x")])];
    const batch = encodeReplies(replies);
    assert.ok(batch.equals(Buffer.concat(replies.map(encodeReply))));
    assert.equal(batch.length, replies.reduce((n, r) => n + encodedLength(r), 0));
    assert.equal(encodeReplies([]).length, 0);
  });
});
