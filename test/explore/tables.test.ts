import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { NO_PARENT, ParentTable } from "../../src/explore/parents.js";
import { VisitedStates } from "../../src/explore/visited.js";

describe("VisitedStates", () => {
  test("gives dense ids and finds keys across shards", () => {
    const visited = new VisitedStates(3);
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
    assert.deepEqual(
      keys.map((key) => visited.add(key)),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.equal(visited.size, 10);
    keys.forEach((key, i) => assert.equal(visited.id(key), i));
    assert.equal(visited.id("k10"), undefined);
  });
});

describe("ParentTable", () => {
  test("keeps parent and event position per state as it grows", () => {
    const table = new ParentTable();
    const count = 5000;
    assert.equal(table.add(NO_PARENT, 0), 0);
    for (let id = 1; id < count; id++) assert.equal(table.add(id - 1, id % 7), id);
    assert.equal(table.parent(0), NO_PARENT);
    for (let id = 1; id < count; id++) {
      assert.equal(table.parent(id), id - 1);
      assert.equal(table.ordinal(id), id % 7);
    }
  });
});
