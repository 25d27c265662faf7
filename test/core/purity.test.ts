// The core must stay pure (GUIDE.md): no I/O, no clocks, no randomness of its
// own, so that the simulator and the server drive exactly the same code.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const coreDir = fileURLToPath(new URL("../../../src/core/", import.meta.url));

const forbidden: [RegExp, string][] = [
  [/from\s+["'](node:|fs|net|os|child_process|crypto|timers|http|dgram|worker_threads)/, "a Node.js module import"],
  [/\brequire\s*\(/, "require()"],
  [/\bimport\s*\(/, "a dynamic import"],
  [/\bDate\b/, "Date"],
  [/\bMath\.random\b/, "Math.random"],
  [/\b(setTimeout|setInterval|setImmediate|queueMicrotask)\b/, "a timer"],
  [/\bperformance\b/, "performance"],
  [/\bprocess\./, "process"],
  [/from\s+["']\.\.\/(?!util\/assert\.js["'])/, "an import from outside src/core (only src/util/assert.ts, pure itself, is shared)"],
];

test("src/core imports no node: module and uses no clock, timer or Math.random", () => {
  const files = readdirSync(coreDir).filter((f) => f.endsWith(".ts"));
  assert.ok(files.length >= 4, `found the core sources in ${coreDir}`);
  const problems: string[] = [];
  for (const f of files) {
    const lines = readFileSync(join(coreDir, f), "utf8").split("\n");
    lines.forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, "");
      for (const [re, what] of forbidden) if (re.test(code)) problems.push(`src/core/${f}:${i + 1}: ${what}: ${line.trim()}`);
    });
  }
  assert.deepEqual(problems, []);
});
