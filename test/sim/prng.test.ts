// The simulator's PRNG: one seed, one stream, on any machine and engine.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Prng } from "../../src/sim/prng.js";

describe("Prng", () => {
  test("the same seed gives the same stream; another seed another", () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const c = new Prng(8);
    const sa = Array.from({ length: 20 }, () => a.u32());
    assert.deepEqual(sa, Array.from({ length: 20 }, () => b.u32()));
    assert.notDeepEqual(sa, Array.from({ length: 20 }, () => c.u32()));
  });

  test("shuffle: a permutation, pinned for a seed, drawing n - 1 numbers, leaving its input alone", () => {
    const items = [1, 2, 3, 4, 5];
    const r = new Prng(42);
    const s = r.shuffle(items);
    assert.deepEqual(items, [1, 2, 3, 4, 5]);
    assert.deepEqual([...s].sort(), items);
    // Fisher–Yates with Prng.int: these are the draws, made by hand.
    const d = new Prng(42);
    const want = [...items];
    for (let i = want.length - 1; i > 0; i--) {
      const j = d.int(i + 1);
      [want[i], want[j]] = [want[j]!, want[i]!];
    }
    assert.deepEqual(s, want);
    assert.equal(r.u32(), d.u32(), "the shuffle made exactly n - 1 draws");
    assert.deepEqual(new Prng(1).shuffle([]), []);
    assert.deepEqual(new Prng(1).shuffle(["x"]), ["x"]);
  });

  test("shuffle is uniform: each of the 6 orders of 3 items about 1/6 of the time", () => {
    const r = new Prng(1);
    const counts = new Map<string, number>();
    const n = 60_000;
    for (let i = 0; i < n; i++) {
      const k = r.shuffle([1, 2, 3]).join("");
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    assert.equal(counts.size, 6);
    // A sort with a random comparator is biased far beyond this (some orders twice as likely as others).
    for (const [k, c] of counts) assert.ok(Math.abs(c - n / 6) < n / 60, `${k}: ${c} of ${n}`);
  });
});
