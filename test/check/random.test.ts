// The checker against the definition: random small histories, checked both
// by the real search and by trying every order. Each search strategy is
// also checked on its own, since the checker reports whichever answers first.

import assert from "node:assert/strict";
import { test } from "node:test";
import { checkLinearizability, kvModel } from "../../src/check/linearizability.js";
import { searchPartition, type Strategy } from "../../src/check/search.js";
import { bruteForceLinearizable, generateLinearizable, mutateOutput, Rng, type GenerateOptions, type KvOp } from "./support.js";

const SEEDS = 1000;

const shapes: GenerateOptions[] = [
  { clients: 3, opsPerClient: 2, keys: ["a", "b"], values: ["1", "2", "x"], unknownRate: 0.15, maxGap: 3 },
  { clients: 3, opsPerClient: 2, keys: ["a"], values: ["1", "", "7"], unknownRate: 0.3, maxGap: 2 },
  { clients: 2, opsPerClient: 4, keys: ["a", "b", "c"], values: ["1", "2", "x"], unknownRate: 0.1, maxGap: 4 },
  { clients: 4, opsPerClient: 2, keys: ["a"], values: ["0", "9", "y"], unknownRate: 0.4, maxGap: 3 },
];

function show(history: readonly KvOp[]): string {
  return JSON.stringify(history, (_, v: unknown) => (v === Infinity ? "Infinity" : v), 1);
}

/** One strategy alone, with no budget, over every partition. */
function linearizableBy(strategy: Strategy, history: readonly KvOp[]): boolean {
  return kvModel.partition!(history).every(({ operations }) => {
    const search = searchPartition(kvModel, operations, strategy);
    let ran = search.next();
    while (ran.done !== true) ran = search.next(1_000_000);
    return ran.value.kind === "linearizable";
  });
}

/** Moves one operation's interval, which can reorder it against the others in real time. */
function shiftInterval(rng: Rng, history: readonly KvOp[]): KvOp[] {
  const index = rng.int(history.length);
  const op = history[index]!;
  const call = Math.max(0, op.call + rng.int(9) - 4);
  const ret = op.return === Infinity ? Infinity : Math.max(call, op.return + call - op.call + rng.int(3) - 1);
  const mutated = [...history];
  mutated[index] = { ...op, call, return: ret };
  return mutated;
}

function mutate(rng: Rng, history: readonly KvOp[], values: readonly string[]): KvOp[] {
  let mutated = [...history];
  for (let i = 1 + rng.int(2); i > 0; i--) {
    mutated = rng.chance(0.7) ? mutateOutput(rng, mutated, values) : shiftInterval(rng, mutated);
  }
  return mutated;
}

test("histories from a linearizable execution pass", () => {
  for (let seed = 0; seed < SEEDS; seed++) {
    const history = generateLinearizable(new Rng(seed), shapes[seed % shapes.length]!);
    assert.equal(bruteForceLinearizable(history), true, `brute force refuses seed ${seed}: ${show(history)}`);
    const result = checkLinearizability(kvModel, history);
    assert.equal(result.ok, true, `seed ${seed}: ${result.ok === false ? result.explanation : ""}\n${show(history)}`);
  }
});

test("on mutated histories the checker and each strategy agree with brute force", () => {
  let failures = 0;
  for (let seed = 0; seed < SEEDS; seed++) {
    const rng = new Rng(1_000_000 + seed);
    const shape = shapes[seed % shapes.length]!;
    const history = mutate(rng, generateLinearizable(rng, shape), shape.values);
    const expected = bruteForceLinearizable(history);
    const context = `seed ${seed}: brute force says ${expected}\n${show(history)}`;
    assert.equal(checkLinearizability(kvModel, history).ok, expected, context);
    assert.equal(linearizableBy("greedy", history), expected, `greedy, ${context}`);
    assert.equal(linearizableBy("thorough", history), expected, `thorough, ${context}`);
    if (!expected) failures++;
  }
  // Both verdicts must be common, or the comparison proves little.
  assert.ok(failures > SEEDS / 5 && failures < (SEEDS * 4) / 5, `${failures} of ${SEEDS} mutated histories fail`);
});

test("on histories too long for brute force, with many lost operations, the strategies agree", () => {
  const shape: GenerateOptions = { clients: 4, opsPerClient: 10, keys: ["a", "b"], values: ["1", "2", "x"], unknownRate: 0.3, maxGap: 4 };
  let failures = 0;
  for (let seed = 0; seed < 300; seed++) {
    const rng = new Rng(2_000_000 + seed);
    const generated = generateLinearizable(rng, shape);
    const history = seed % 2 === 0 ? generated : mutate(rng, generated, shape.values);
    const greedy = linearizableBy("greedy", history);
    assert.equal(linearizableBy("thorough", history), greedy, `seed ${seed}: greedy says ${greedy}\n${show(history)}`);
    if (seed % 2 === 0) assert.equal(greedy, true, `seed ${seed}: a linearizable execution fails\n${show(history)}`);
    if (!greedy) failures++;
  }
  assert.ok(failures > 30, `only ${failures} of 150 mutated histories fail`);
});
