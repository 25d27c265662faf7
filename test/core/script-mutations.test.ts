// The interaction scripts must be able to fail. Here the runner itself is
// checked (a changed transcript is reported where it changed; rewriting a
// passing script gives the same file back), and each defence that can be
// switched off from outside the core is switched off: its script must fail.
// (Defences that cannot be switched off without editing the core were
// checked by mutating it: see test/core/testdata/README.md.)

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TESTDATA, parseScript, renderScript, runScript, scriptFiles, type ScriptOptions } from "./script-runner.js";

const read = (file: string): string => readFileSync(join(TESTDATA, file), "utf8");

/** Runs a script on a changed core: true if it failed (a transcript differs, or a command could not run). */
function fails(file: string, options: ScriptOptions): boolean {
  try {
    return runScript(read(file), options).mismatches.length > 0;
  } catch {
    return true;
  }
}

describe("the script runner", () => {
  test("a changed transcript line is reported under its command", () => {
    const source = read("election.txt");
    const changed = source.replace("2->1 VoteResp term=1 granted", "2->1 VoteResp term=1 rejected");
    assert.notEqual(changed, source);
    const r = runScript(changed);
    assert.equal(r.mismatches.length, 1);
    assert.equal(r.mismatches[0]!.block.command, "stabilize");
    assert.ok(r.mismatches[0]!.actual.includes("2->1 VoteResp term=1 granted"));
  });

  test("rewriting a passing script gives the same file back", () => {
    for (const file of scriptFiles()) {
      const source = read(file);
      assert.equal(renderScript(parseScript(source), runScript(source).actual), source, file);
    }
  });

  test("a command without its separator, or an unknown command, is an error", () => {
    assert.throws(() => parseScript("cluster 1 2 3\nok\n"), /line 2: expected "----"/);
    assert.throws(() => runScript("cluster 1 2 3\n----\nok\n\nfrobnicate 1\n----\nok\n"), /line 5: frobnicate 1: unknown command/);
  });
});

describe("switching a defence off makes its script fail", () => {
  test("pre-vote off: prevote.txt fails", () => {
    assert.equal(fails("prevote.txt", {}), false);
    assert.ok(fails("prevote.txt", { configure: (c) => ({ ...c, preVote: false }) }));
  });

  test("check-quorum off: checkquorum.txt fails", () => {
    assert.equal(fails("checkquorum.txt", {}), false);
    assert.ok(fails("checkquorum.txt", { configure: (c) => ({ ...c, checkQuorum: false }) }));
  });

  test("check-quorum off also removes the §4.2.3 rule (it applies only with check-quorum): vote_rule.txt fails", () => {
    assert.equal(fails("vote_rule.txt", {}), false);
    assert.ok(fails("vote_rule.txt", { configure: (c) => ({ ...c, checkQuorum: false }) }));
  });
});
