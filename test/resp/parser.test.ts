import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ProtocolError, RespParser, type ParserLimits } from "../../src/resp/parser.js";

/** Feeds `chunks` one by one, draining after each; returns the commands as strings, and the protocol error if one came. */
function parse(chunks: readonly Buffer[], limits: Partial<ParserLimits> = {}): { commands: string[][]; error: string | null } {
  const parser = new RespParser(limits);
  const commands: string[][] = [];
  for (const chunk of chunks) {
    parser.push(chunk);
    for (;;) {
      let command: Buffer[] | null;
      try {
        command = parser.next();
      } catch (e) {
        assert.ok(e instanceof ProtocolError, `unexpected error ${String(e)}`);
        return { commands, error: e.message };
      }
      if (command === null) break;
      commands.push(command.map((a) => a.toString("latin1")));
    }
  }
  return { commands, error: null };
}

function whole(text: string, limits: Partial<ParserLimits> = {}) {
  return parse([Buffer.from(text, "latin1")], limits);
}

/** Every way of cutting `text` into two chunks, plus one byte at a time. */
function allSplits(text: string): Buffer[][] {
  const bytes = Buffer.from(text, "latin1");
  const splits: Buffer[][] = [];
  for (let i = 0; i <= bytes.length; i++) splits.push([bytes.subarray(0, i), bytes.subarray(i)]);
  splits.push([...bytes].map((b) => Buffer.from([b])));
  return splits;
}

const SAMPLES: readonly { name: string; text: string; commands: string[][] }[] = [
  {
    name: "multibulk pipeline",
    text: "*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\n*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n*1\r\n$4\r\nPING\r\n",
    commands: [["SET", "foo", "bar"], ["GET", "foo"], ["PING"]],
  },
  {
    name: "binary values with CR, LF and NUL inside",
    text: "*3\r\n$3\r\nSET\r\n$4\r\nk\r\nx\r\n$5\r\n\0\r\n\n$\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
    commands: [["SET", "k\r\nx", "\0\r\n\n$"], ["ECHO", ""]],
  },
  {
    name: "inline commands mixed with multibulk",
    text: "PING\r\nSET a \"b c\"\n*1\r\n$4\r\nQUIT\r\n  get   'x y'  \r\n",
    commands: [["PING"], ["SET", "a", "b c"], ["QUIT"], ["get", "x y"]],
  },
  {
    name: "empty commands are skipped",
    text: "\r\n*0\r\n*-1\r\n   \r\nPING\r\n",
    commands: [["PING"]],
  },
];

describe("RespParser: valid input, however it is cut", () => {
  for (const sample of SAMPLES) {
    test(sample.name, () => {
      for (const chunks of allSplits(sample.text)) {
        assert.deepEqual(parse(chunks), { commands: sample.commands, error: null }, `chunks: ${JSON.stringify(chunks.map(String))}`);
      }
    });
  }

  test("every three-way cut of a pipeline", () => {
    const sample = SAMPLES[0]!;
    const bytes = Buffer.from(sample.text, "latin1");
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const chunks = [bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)];
        assert.deepEqual(parse(chunks).commands, sample.commands, `cut at ${i}, ${j}`);
      }
    }
  });

  test("a command is returned only once complete", () => {
    const parser = new RespParser();
    parser.push(Buffer.from("*2\r\n$3\r\nGET\r\n$3\r\nfo"));
    assert.equal(parser.next(), null);
    assert.equal(parser.next(), null);
    parser.push(Buffer.from("o\r"));
    assert.equal(parser.next(), null);
    parser.push(Buffer.from("\n"));
    assert.deepEqual(parser.next()?.map(String), ["GET", "foo"]);
    assert.equal(parser.next(), null);
    assert.equal(parser.bufferedBytes, 0);
  });

  test("a large value arriving in many chunks", () => {
    const value = Buffer.alloc(1_000_000, "v");
    const frame = Buffer.concat([Buffer.from(`*2\r\n$4\r\nECHO\r\n$${value.length}\r\n`), value, Buffer.from("\r\n")]);
    const parser = new RespParser();
    let command: Buffer[] | null = null;
    for (let i = 0; i < frame.length; i += 4096) {
      assert.equal(command, null);
      parser.push(frame.subarray(i, i + 4096));
      command = parser.next();
    }
    assert.ok(command !== null);
    assert.ok(command[1]!.equals(value));
  });

  test("bulk lengths up to the limit are accepted", () => {
    assert.deepEqual(whole("*1\r\n$4\r\nPING\r\n", { maxBulkBytes: 4 }).commands, [["PING"]]);
  });
});

describe("RespParser: inline commands (sdssplitargs)", () => {
  const cases: [string, string[]][] = [
    ["SET  a\tb\r\n", ["SET", "a", "b"]],
    ['SET k "a\\x41\\n\\r\\t\\b\\a\\"\\\\z"\r\n', ["SET", "k", 'aA\n\r\t\b\x07"\\z']],
    ["SET k 'it\\'s \\n'\r\n", ["SET", "k", "it's \\n"]],
    ['SET k ab"cd ef"\r\n', ["SET", "k", "abcd ef"]],
    ['SET k ""\r\n', ["SET", "k", ""]],
    ['SET k "\\xZZ"\r\n', ["SET", "k", "xZZ"]],
    ["PING\n", ["PING"]],
    ["PING\0ignored after NUL\r\n", ["PING"]],
    ["SET a\rb\r\n", ["SET", "a", "b"]],
  ];
  for (const [line, args] of cases) {
    test(JSON.stringify(line), () => {
      assert.deepEqual(whole(line), { commands: [args], error: null });
    });
  }

  for (const line of ['SET k "abc\r\n', "SET k 'abc\r\n", 'SET k "a"b\r\n', "SET k 'a'b\r\n", 'SET k "a\\\r\n']) {
    test(`unbalanced: ${JSON.stringify(line)}`, () => {
      assert.deepEqual(whole(line), { commands: [], error: "Protocol error: unbalanced quotes in request" });
    });
  }
});

describe("RespParser: malformed frames get Redis's protocol errors", () => {
  const cases: [string, string, Partial<ParserLimits>?][] = [
    ["*x\r\n", "Protocol error: invalid multibulk length"],
    ["*01\r\n", "Protocol error: invalid multibulk length"],
    ["*\r\n", "Protocol error: invalid multibulk length"],
    ["* 1\r\n", "Protocol error: invalid multibulk length"],
    ["*3\r\n", "Protocol error: invalid multibulk length", { maxArgs: 2 }],
    ["*99999999999999999999\r\n", "Protocol error: invalid multibulk length"],
    ["*1\r\n$-1\r\n", "Protocol error: invalid bulk length"],
    ["*1\r\n$x\r\n", "Protocol error: invalid bulk length"],
    ["*1\r\n$\r\n", "Protocol error: invalid bulk length"],
    ["*1\r\n$5\r\n", "Protocol error: invalid bulk length", { maxBulkBytes: 4 }],
    ["*2\r\n$3\r\nabc\r\n$3\r\n", "Protocol error: too big command", { maxCommandBytes: 5 }],
    ["*1\r\n:1\r\n", "Protocol error: expected '$', got ':'"],
    ["*2\r\n$1\r\na\r\n\r\n", "Protocol error: expected '$', got ' '"],
    ["x".repeat(101), "Protocol error: too big inline request", { maxLineBytes: 100 }],
    [`${"x".repeat(101)}\r\n`, "Protocol error: too big inline request", { maxLineBytes: 100 }],
    [`*${"1".repeat(101)}`, "Protocol error: too big mbulk count string", { maxLineBytes: 100 }],
    [`*1\r\n$${"1".repeat(101)}`, "Protocol error: too big bulk count string", { maxLineBytes: 100 }],
  ];
  for (const [text, error, limits] of cases) {
    test(JSON.stringify(text.length > 40 ? text.slice(0, 40) + "..." : text), () => {
      for (const chunks of allSplits(text)) assert.equal(parse(chunks, limits).error, error);
    });
  }

  test("commands before the bad frame are delivered, then the error, then the same error forever", () => {
    const parser = new RespParser();
    parser.push(Buffer.from("PING\r\n*1\r\n$4\r\nECHO\r\n*1\r\n:1\r\nPING\r\n"));
    assert.deepEqual(parser.next()?.map(String), ["PING"]);
    assert.deepEqual(parser.next()?.map(String), ["ECHO"]);
    assert.throws(() => parser.next(), { name: "ProtocolError", message: "Protocol error: expected '$', got ':'" });
    assert.throws(() => parser.next(), { name: "ProtocolError", message: "Protocol error: expected '$', got ':'" });
    parser.push(Buffer.from("PING\r\n"));
    assert.throws(() => parser.next(), ProtocolError);
  });

  test("the error carries the reply the connection owner sends", () => {
    const e = new ProtocolError("invalid bulk length");
    assert.deepEqual(e.reply, { kind: "error", message: "ERR Protocol error: invalid bulk length" });
  });

  test("a header line waiting for its end is bounded", () => {
    // No CR ever comes: the parser must give up at the line limit instead of buffering forever.
    const parser = new RespParser({ maxLineBytes: 1000 });
    parser.push(Buffer.from("*1"));
    let error: unknown = null;
    for (let i = 0; i < 2000 && error === null; i++) {
      parser.push(Buffer.from("1"));
      try {
        parser.next();
      } catch (e) {
        error = e;
      }
    }
    assert.ok(error instanceof ProtocolError);
    assert.equal(error.message, "Protocol error: too big mbulk count string");
  });
});
