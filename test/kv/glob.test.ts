import { test } from "node:test";
import assert from "node:assert/strict";
import { globMatch, isGlob } from "../../src/kv/glob.js";

test("Redis glob patterns, case-insensitive", () => {
  const cases: [string, string, boolean][] = [
    ["*", "appendonly", true],
    ["*", "", true],
    ["", "", true],
    ["", "a", false],
    ["append*", "appendonly", true],
    ["*only", "appendonly", true],
    ["*end*", "appendonly", true],
    ["a*d*y", "appendonly", true],
    ["a*d*x", "appendonly", false],
    ["s?ve", "save", true],
    ["s?ve", "sve", false],
    ["SAVE", "save", true],
    ["[sd]*", "save", true],
    ["[sd]*", "databases", true],
    ["[sd]*", "appendonly", false],
    ["[^sd]*", "appendonly", true],
    ["[a-c]ppend*", "appendonly", true],
    ["[c-a]ppend*", "appendonly", true],
    ["[x-z]ppend*", "appendonly", false],
    ["\\*", "*", true],
    ["\\*", "a", false],
    ["[\\]]", "]", true],
    ["[abc", "b", true],
    ["**a**", "banana", true],
  ];
  for (const [pattern, text, expected] of cases) assert.equal(globMatch(pattern, text), expected, `${pattern} ~ ${text}`);
});

test("a pathological pattern stays cheap", () => {
  assert.equal(globMatch(`${"*a".repeat(5000)}b`, "a".repeat(100)), false);
});

test("which arguments are patterns", () => {
  assert.equal(isGlob("save"), false);
  assert.equal(isGlob("sa*"), true);
  assert.equal(isGlob("s?ve"), true);
  assert.equal(isGlob("[s]ave"), true);
});
