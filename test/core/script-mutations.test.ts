// The interaction scripts must be able to fail. Here the runner itself is
// checked (a changed transcript is reported where it changed; rewriting a
// passing script gives the same file back), and each defence that can be
// switched off from outside the core is switched off: its script must fail.
// Defences are switched off through the rule table (src/core/rules.ts), as
// the bug zoo breaks rules, or through the config.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RaftNode, type RaftConfig, type Ready, type RestoredState } from "../../src/core/node.js";
import { FIGURE2_RULES, type Rules } from "../../src/core/rules.js";
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

  test("a command without its separator, an unknown command or a malformed argument is an error with its line", () => {
    assert.throws(() => parseScript("cluster 1 2 3\nok\n"), /line 2: expected "----"/);
    assert.throws(() => runScript("cluster 1 2 3\n----\nok\n\nfrobnicate 1\n----\nok\n"), /line 5: frobnicate 1: unknown command/);
    const after = (command: string) => () => runScript(`cluster 1 2 3\n----\nok\n\n${command}\n----\nok\n`);
    assert.throws(after("propose 1 a b"), /propose: expected 2 plain arguments, got 3/);
    assert.throws(after("propose 1 a,b"), /no "," in a command/);
    assert.throws(after("deliver frm=1"), /deliver: unknown argument "frm="/);
    assert.throws(after("deliver type=Apps"), /unknown message type "Apps"/);
    assert.throws(after("tick 9"), /no node 9/);
    assert.throws(after("cluster 1 2"), /already set up/);
  });
});

describe("the runner's disk check (what a Ready asks to persist is what the node holds)", () => {
  // A core that keeps something from its driver: the runner must notice.
  class ForgetsEntries extends RaftNode {
    override ready(): Ready {
      return { ...super.ready(), entries: [] };
    }
  }
  class ForgetsVotes extends RaftNode {
    override ready(): Ready {
      return { ...super.ready(), hardState: null };
    }
  }

  test("entries not handed to the driver are caught", () => {
    assert.throws(() => runScript(read("election.txt"), { makeNode: (c, r) => new ForgetsEntries(c, r) }), /not everything was persisted: disk log ends at 0@0, node at 1@1/);
  });

  test("a term and vote not handed to the driver are caught", () => {
    assert.throws(() => runScript(read("election.txt"), { makeNode: (c, r) => new ForgetsVotes(c, r) }), /not everything was persisted: disk has term 0 vote -, node term 1 vote 1/);
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

  test("a candidate that adopts a higher term but stays a candidate: candidate_stepdown.txt fails", () => {
    // The rule table's entry for "a higher term makes us a follower", broken for candidates only (as the bug zoo breaks rules).
    const stayCandidate: Partial<Rules> = {
      observeHigherTerm(c, term, leader) {
        if (c.st.role === "candidate" || c.st.role === "precandidate") {
          c.st.currentTerm = term;
          c.st.votedFor = null;
          return;
        }
        FIGURE2_RULES.observeHigherTerm(c, term, leader);
      },
    };
    assert.equal(fails("candidate_stepdown.txt", {}), false);
    assert.ok(fails("candidate_stepdown.txt", { makeNode: (config, restored) => new RaftNode(config, restored, stayCandidate) }));
  });

  test("a server whose disk lost acknowledged entries campaigns anyway: recovery.txt fails", () => {
    assert.equal(fails("recovery.txt", {}), false);
    assert.ok(fails("recovery.txt", { makeNode: (config, restored) => new RaftNode(config, restored, { recovering: () => false }) }));
  });

  test("a leader that ignores the follower's backtracking hint (backs up one entry per refusal): backtrack_hint.txt and figure7.txt fail", () => {
    const oneByOne: Partial<Rules> = { backtrackHint: (c, m) => c.st.progress.get(m.from)!.nextIndex - 1 };
    const make = (config: RaftConfig, restored?: RestoredState) => new RaftNode(config, restored, oneByOne);
    assert.equal(fails("backtrack_hint.txt", {}), false);
    assert.ok(fails("backtrack_hint.txt", { makeNode: make }));
    assert.ok(fails("figure7.txt", { makeNode: make }));
  });

  test("the §4.2.3 rule alone off (check-quorum still on): vote_rule.txt fails", () => {
    assert.equal(fails("vote_rule.txt", {}), false);
    assert.ok(fails("vote_rule.txt", { makeNode: (config, restored) => new RaftNode(config, restored, { ignoreDisruptiveVote: () => false }) }));
  });

  test("a candidate refused by a majority keeps campaigning: candidate_stepdown.txt fails", () => {
    assert.equal(fails("candidate_stepdown.txt", {}), false);
    assert.ok(fails("candidate_stepdown.txt", { makeNode: (config, restored) => new RaftNode(config, restored, { stepsDownWhenRefused: () => false }) }));
  });
});
