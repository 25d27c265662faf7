// Seeded fuzzing of the RESP parser: random bytes and mutated valid frames,
// fed in random chunks. Properties: the parser throws nothing but its own
// ProtocolError, always terminates (each command consumes input), and the
// outcome does not depend on how the input was cut.

import { test } from "node:test";
import assert from "node:assert/strict";
import { ProtocolError, RespParser, type ParserLimits } from "../../src/resp/parser.js";
import { prng } from "../helpers/prng.js";

const LIMITS: Partial<ParserLimits> = { maxBulkBytes: 64, maxArgs: 16, maxCommandBytes: 200, maxLineBytes: 48 };

interface Outcome {
  commands: string[];
  error: string | null;
}

function run(input: Buffer, cuts: readonly number[]): Outcome {
  const parser = new RespParser(LIMITS);
  const commands: string[] = [];
  let start = 0;
  for (const end of [...cuts, input.length]) {
    parser.push(input.subarray(start, end));
    start = end;
    for (;;) {
      let command: Buffer[] | null;
      try {
        command = parser.next();
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        return { commands, error: e.message };
      }
      if (command === null) break;
      assert.ok(command.length > 0, "a command has at least its name");
      commands.push(JSON.stringify(command.map((a) => a.toString("latin1"))));
      // Termination: every command consumes at least one byte of input.
      assert.ok(commands.length <= input.length, "more commands than input bytes: the parser loops");
    }
  }
  return { commands, error: null };
}

function randomCuts(rand: () => number, length: number): number[] {
  const cuts: number[] = [];
  let at = 0;
  while (at < length) {
    at += 1 + Math.floor(rand() * (rand() < 0.5 ? 4 : 64));
    if (at < length) cuts.push(at);
  }
  return cuts;
}

const TOKENS = ["*", "$", "\r\n", "\r", "\n", "-1", "0", "1", "2", "3", "10", "99", '"', "'", "\\", "\\x4", " ", "\0", "PING", "SET", "a", ":"];

function validFrame(rand: () => number): string {
  if (rand() < 0.3) return `${["PING", "GET k", 'SET k "v w"', "ECHO 'x'"][Math.floor(rand() * 4)]}\r\n`;
  const n = 1 + Math.floor(rand() * 4);
  let frame = `*${n}\r\n`;
  for (let i = 0; i < n; i++) {
    const arg = "x".repeat(Math.floor(rand() * 12));
    frame += `$${arg.length}\r\n${arg}\r\n`;
  }
  return frame;
}

function mutate(rand: () => number, text: string): Buffer {
  const bytes = [...Buffer.from(text, "latin1")];
  const edits = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rand() * (bytes.length + 1));
    const kind = rand();
    if (kind < 0.3) bytes.splice(at, 1);
    else if (kind < 0.6) bytes.splice(at, 0, ...Buffer.from(TOKENS[Math.floor(rand() * TOKENS.length)]!, "latin1"));
    else bytes[at] = Math.floor(rand() * 256);
  }
  return Buffer.from(bytes.filter((b) => b !== undefined));
}

function randomInput(rand: () => number): Buffer {
  const kind = rand();
  if (kind < 0.25) {
    return Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
  }
  if (kind < 0.5) {
    return Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 30) }, () => TOKENS[Math.floor(rand() * TOKENS.length)]).join(""), "latin1");
  }
  let text = "";
  for (let n = 1 + Math.floor(rand() * 5); n > 0; n--) text += validFrame(rand);
  return kind < 0.6 ? Buffer.from(text, "latin1") : mutate(rand, text);
}

test("parser fuzz: only ProtocolError, always terminates, outcome independent of chunking", () => {
  const rand = prng(20240601);
  let errors = 0;
  let commands = 0;
  for (let i = 0; i < 4000; i++) {
    const input = randomInput(rand);
    const reference = run(input, []);
    for (let k = 0; k < 3; k++) {
      const cuts = randomCuts(rand, input.length);
      assert.deepEqual(run(input, cuts), reference, `input ${JSON.stringify(input.toString("latin1"))} cut at ${cuts}`);
    }
    assert.deepEqual(run(input, Array.from({ length: Math.max(0, input.length - 1) }, (_, j) => j + 1)), reference);
    if (reference.error !== null) errors++;
    commands += reference.commands.length;
  }
  // The generator must exercise both paths, or the test proves little.
  assert.ok(errors > 500, `only ${errors} inputs hit a protocol error`);
  assert.ok(commands > 2000, `only ${commands} commands parsed`);
});
