import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ReplyParseError } from "../../src/client/errors.js";
import { ReplyParser, type ReplyParserLimits } from "../../src/client/replyParser.js";
import { array, bulk, bulkString, encodeReplies, errorReply, integer, NIL, NIL_ARRAY, simple, type Reply } from "../../src/resp/writer.js";
import { prng } from "../helpers/prng.js";

/** Feeds `chunks` one by one, draining after each. */
function parse(chunks: readonly Buffer[], limits: Partial<ReplyParserLimits> = {}): { replies: Reply[]; error: string | null } {
  const parser = new ReplyParser(limits);
  const replies: Reply[] = [];
  for (const chunk of chunks) {
    parser.push(chunk);
    for (;;) {
      let reply: Reply | null;
      try {
        reply = parser.next();
      } catch (e) {
        assert.ok(e instanceof ReplyParseError, `unexpected error ${String(e)}`);
        return { replies, error: e.message };
      }
      if (reply === null) break;
      replies.push(reply);
    }
  }
  return { replies, error: null };
}

function whole(text: string, limits: Partial<ReplyParserLimits> = {}) {
  return parse([Buffer.from(text, "latin1")], limits);
}

/** Every way of cutting `bytes` into two chunks, then three, plus one byte at a time. */
function allSplits(bytes: Buffer): Buffer[][] {
  const splits: Buffer[][] = [];
  for (let i = 0; i <= bytes.length; i++) {
    splits.push([bytes.subarray(0, i), bytes.subarray(i)]);
    for (let j = i; j <= bytes.length; j += 3) splits.push([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]);
  }
  splits.push([...bytes].map((b) => Buffer.from([b])));
  return splits;
}


function randomReply(random: () => number, depth: number): Reply {
  const pick = Math.floor(random() * (depth > 0 ? 8 : 6));
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
  switch (pick) {
    case 0:
      return simple(`status ${Math.floor(random() * 1000)}`);
    case 1:
      return errorReply(`ERR something ${Math.floor(random() * 1000)}`);
    case 2:
      return integer(random() < 0.2 ? -9223372036854775808n : Math.floor((random() - 0.5) * 1e12));
    case 3:
      return bulk(bytes(Math.floor(random() * 40)));
    case 4:
      return NIL;
    case 5:
      return NIL_ARRAY;
    default:
      return array(Array.from({ length: Math.floor(random() * 5) }, () => randomReply(random, depth - 1)));
  }
}

const SAMPLES: readonly { name: string; text: string; replies: Reply[] }[] = [
  { name: "simple string", text: "+OK\r\n", replies: [simple("OK")] },
  { name: "empty simple string", text: "+\r\n", replies: [simple("")] },
  { name: "error", text: "-MOVED 0 127.0.0.1:6382\r\n", replies: [errorReply("MOVED 0 127.0.0.1:6382")] },
  { name: "integer", text: ":42\r\n", replies: [integer(42)] },
  { name: "negative integer", text: ":-7\r\n", replies: [integer(-7)] },
  { name: "zero", text: ":0\r\n", replies: [integer(0)] },
  { name: "int64 beyond 2^53 is a bigint", text: ":9223372036854775807\r\n", replies: [integer(9223372036854775807n)] },
  { name: "bulk string", text: "$5\r\nhello\r\n", replies: [bulkString("hello")] },
  { name: "bulk string holding CR LF", text: "$4\r\na\r\nb\r\n", replies: [bulkString("a\r\nb")] },
  { name: "empty bulk string", text: "$0\r\n\r\n", replies: [bulkString("")] },
  { name: "nil bulk string", text: "$-1\r\n", replies: [NIL] },
  { name: "nil array", text: "*-1\r\n", replies: [NIL_ARRAY] },
  { name: "empty array", text: "*0\r\n", replies: [array([])] },
  {
    name: "array of every type",
    text: "*6\r\n+OK\r\n-ERR no\r\n:1\r\n$1\r\nx\r\n$-1\r\n*-1\r\n",
    replies: [array([simple("OK"), errorReply("ERR no"), integer(1), bulkString("x"), NIL, NIL_ARRAY])],
  },
  {
    name: "nested arrays, one ending where another ends",
    text: "*2\r\n*2\r\n:1\r\n*1\r\n:2\r\n*0\r\n",
    replies: [array([array([integer(1), array([integer(2)])]), array([])])],
  },
  {
    name: "pipelined replies",
    text: "+OK\r\n:3\r\n$3\r\nabc\r\n*1\r\n$-1\r\n-ERR x\r\n",
    replies: [simple("OK"), integer(3), bulkString("abc"), array([NIL]), errorReply("ERR x")],
  },
];

describe("ReplyParser", () => {
  for (const sample of SAMPLES) {
    test(`${sample.name}: whole and in every fragmentation`, () => {
      const bytes = Buffer.from(sample.text, "latin1");
      for (const chunks of allSplits(bytes)) {
        assert.deepEqual(parse(chunks), { replies: sample.replies, error: null }, `chunks ${JSON.stringify(chunks.map((c) => c.toString("latin1")))}`);
      }
    });
  }

  test("waits for the rest of a reply and returns null meanwhile", () => {
    const parser = new ReplyParser();
    parser.push(Buffer.from("$10\r\n01234"));
    assert.equal(parser.next(), null);
    parser.push(Buffer.from("56789"));
    assert.equal(parser.next(), null);
    parser.push(Buffer.from("\r\n+O"));
    assert.deepEqual(parser.next(), bulkString("0123456789"));
    assert.equal(parser.next(), null);
    parser.push(Buffer.from("K\r\n"));
    assert.deepEqual(parser.next(), simple("OK"));
  });

  test("a large bulk value arriving in many small chunks", () => {
    const value = Buffer.alloc(1 << 20, 7);
    const frame = encodeReplies([bulk(value), simple("after")]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < frame.length; i += 1000) chunks.push(frame.subarray(i, i + 1000));
    const { replies, error } = parse(chunks);
    assert.equal(error, null);
    assert.equal(replies.length, 2);
    assert.deepEqual(replies[1], simple("after"));
    const first = replies[0]!;
    assert.ok(first.kind === "bulk" && first.value !== null && Buffer.from(first.value).equals(value));
  });

  test("a large array arriving in many chunks", () => {
    const items = Array.from({ length: 5000 }, (_, i) => (i % 3 === 0 ? NIL : bulkString(`value-${i}`)));
    const frame = encodeReplies([array(items)]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < frame.length; i += 97) chunks.push(frame.subarray(i, i + 97));
    assert.deepEqual(parse(chunks), { replies: [array(items)], error: null });
  });

  test("random replies round-trip through the writer, in random fragments", () => {
    const random = prng(20240501);
    for (let round = 0; round < 200; round++) {
      const replies = Array.from({ length: 1 + Math.floor(random() * 5) }, () => randomReply(random, 3));
      const frame = encodeReplies(replies);
      const chunks: Buffer[] = [];
      for (let i = 0; i < frame.length; ) {
        const n = 1 + Math.floor(random() * 20);
        chunks.push(frame.subarray(i, i + n));
        i += n;
      }
      assert.deepEqual(parse(chunks), { replies, error: null }, `round ${round}`);
    }
  });

  const MALFORMED: readonly [string, string, RegExp][] = [
    ["unknown type byte", "?what\r\n", /unknown reply type '\?'/],
    ["RESP3 type", "_\r\n", /unknown reply type '_'/],
    ["a line ended by LF alone", "+OK\n", /not ended by CRLF/],
    ["integer that is not one", ":12a\r\n", /integer reply ':12a'/],
    ["integer beyond 64 bits", ":9223372036854775808\r\n", /not a 64-bit integer/],
    ["bulk length below -1", "$-2\r\n", /invalid bulk length '-2'/],
    ["bulk length not a number", "$x\r\n", /invalid bulk length 'x'/],
    ["bulk data not followed by CRLF", "$3\r\nabcd\r\n", /bulk string of 3 bytes not followed by CRLF/],
    ["array length below -1", "*-5\r\n", /invalid array length '-5'/],
    ["an error inside an array", "*2\r\n:1\r\n!\r\n", /unknown reply type '!'/],
  ];
  for (const [name, text, message] of MALFORMED) {
    test(`malformed: ${name}`, () => {
      const { error } = whole(text);
      assert.ok(error !== null, "no error");
      assert.match(error, message);
    });
  }

  test("limits: bulk length, array length, line length", () => {
    assert.match(whole("$11\r\n", { maxBulkBytes: 10 }).error ?? "", /invalid bulk length '11'/);
    assert.equal(whole("$10\r\n0123456789\r\n", { maxBulkBytes: 10 }).error, null);
    assert.match(whole("*4\r\n", { maxArrayItems: 3 }).error ?? "", /invalid array length '4'/);
    assert.match(whole(`+${"x".repeat(100)}\r\n`, { maxLineBytes: 50 }).error ?? "", /longer than 50 bytes/);
    // A line that never ends is refused once it is too long, not buffered forever.
    const chunks = Array.from({ length: 20 }, () => Buffer.from("y".repeat(10)));
    assert.match(parse([Buffer.from("+"), ...chunks], { maxLineBytes: 50 }).error ?? "", /longer than 50 bytes/);
  });

  test("after an error every call throws again, whatever arrives", () => {
    const parser = new ReplyParser();
    parser.push(Buffer.from("+OK\r\n%oops\r\n"));
    assert.deepEqual(parser.next(), simple("OK"));
    assert.throws(() => parser.next(), ReplyParseError);
    parser.push(Buffer.from("+OK\r\n"));
    assert.throws(() => parser.next(), ReplyParseError);
  });
});
