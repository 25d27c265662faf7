import { test } from "node:test";
import assert from "node:assert/strict";
import { parseInt64, parseInteger } from "../../src/resp/integer.js";

const parse = (s: string) => parseInteger(Buffer.from(s, "latin1"));

test("integers Redis accepts (string2ll)", () => {
  assert.equal(parse("0"), 0);
  assert.equal(parse("7"), 7);
  assert.equal(parse("-7"), -7);
  assert.equal(parse("123456789012345"), 123456789012345);
  assert.equal(parse("9007199254740991"), 9007199254740991);
  assert.equal(parse("9007199254740993"), 9007199254740993n);
  assert.equal(parse("9223372036854775807"), 9223372036854775807n);
  assert.equal(parse("-9223372036854775808"), -9223372036854775808n);
});

test("integers Redis refuses", () => {
  for (const s of ["", "-", "+1", " 1", "1 ", "01", "-0", "00", "1.0", "1e3", "0x10", "abc", "１",
    "9223372036854775808", "-9223372036854775809", "99999999999999999999", "123456789012345678901"]) {
    assert.equal(parse(s), null, JSON.stringify(s));
  }
});

test("a slice of a buffer", () => {
  assert.equal(parseInteger(Buffer.from("*123\r\n"), 1, 4), 123);
  assert.equal(parseInt64(Buffer.from("-5")), -5n);
  assert.equal(parseInt64(Buffer.from("x")), null);
});
