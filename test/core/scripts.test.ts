// Runs every interaction script in test/core/testdata (see the README there).
// REWRITE=1 writes each command's actual transcript back into the file
// instead of comparing: review the diff with git before committing it.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TESTDATA, parseScript, renderScript, runScript, scriptFiles, type ScriptResult } from "./script-runner.js";

/** A readable account of the first mismatch: where, the command, expected and actual. */
export function describeMismatch(file: string, r: ScriptResult): string {
  const m = r.mismatches[0]!;
  return [
    `${file}:${m.block.line}: transcript differs under "${m.block.command}" (${r.mismatches.length} command(s) differ; REWRITE=1 rewrites them)`,
    "--- expected",
    ...m.block.expected,
    "+++ actual",
    ...m.actual,
  ].join("\n");
}

describe("interaction scripts (test/core/testdata)", () => {
  const files = scriptFiles();
  test("there are scripts to run", () => assert.ok(files.length > 0));
  for (const file of files) {
    test(file, () => {
      const path = join(TESTDATA, file);
      const source = readFileSync(path, "utf8");
      const r = runScript(source);
      if (process.env.REWRITE === "1") {
        writeFileSync(path, renderScript(parseScript(source), r.actual));
        return;
      }
      if (r.mismatches.length > 0) assert.fail(describeMismatch(file, r));
    });
  }
});
