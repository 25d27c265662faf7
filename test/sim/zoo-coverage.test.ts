// Every variant of the bug zoo has a zoo test (zooTest in zoo-support.ts),
// which checks that the search finds it breaking what it is pinned to and
// that its shrunk find is told in at most MAX_STORY items. A variant added
// to zoo.ts without one would have neither checked.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BUGS } from "../../src/sim/zoo.js";

test("every bug-zoo variant has a zoo test (found, pinned verdict, story of at most MAX_STORY items)", () => {
  const dir = fileURLToPath(new URL(".", import.meta.url));
  const tested = new Set<string>();
  for (const f of readdirSync(dir).filter((f) => /^zoo.*\.test\.js$/.test(f)))
    for (const m of readFileSync(`${dir}/${f}`, "utf8").matchAll(/zooTest\("([a-z0-9-]+)"/g)) tested.add(m[1]!);
  assert.deepEqual(BUGS.map((b) => b.name).filter((n) => !tested.has(n)), [], "variants without a zoo test");
});
