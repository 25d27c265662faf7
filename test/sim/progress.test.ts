// Progress of long simulator runs: one line rewritten in place on a
// terminal, nothing when stderr is a pipe or with --quiet.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Progress, formatCount, formatElapsed } from "../../src/cli/progress.js";

const BIN = fileURLToPath(new URL("../../../bin/raftkv.js", import.meta.url));

describe("Progress", () => {
  test("on a terminal: the first update at once, then at most one per interval, each rewriting the line; done() clears it", () => {
    const out: string[] = [];
    let now = 0;
    const p = new Progress({ isTTY: true, write: (t: string) => out.push(t) }, () => now, 500);
    let built = 0;
    const line = (s: string) => () => (built++, s);
    p.update(line("a"));
    now = 100;
    p.update(line("b"));
    now = 600;
    p.update(line("c"));
    p.done();
    assert.deepEqual(out, ["\ra\x1b[K", "\rc\x1b[K", "\r\x1b[K"]);
    assert.equal(built, 2, "a line is only built when it is shown");
  });

  test("not a terminal, or quiet: nothing at all", () => {
    const out: string[] = [];
    const stream = { isTTY: false, write: (t: string) => out.push(t) };
    const p = Progress.forTerminal(false, stream);
    p.update(() => "x");
    p.done();
    const q = Progress.forTerminal(true, { isTTY: true, write: (t: string) => out.push(t) });
    q.update(() => "y");
    q.done();
    assert.deepEqual(out, []);
    assert.equal(Progress.forTerminal(false, { isTTY: true, write: () => 0 }).enabled, true);
  });

  test("numbers and times read short", () => {
    assert.equal(formatCount(999), "999");
    assert.equal(formatCount(12_345), "12.3k");
    assert.equal(formatCount(2_500_000), "2.5M");
    assert.equal(formatElapsed(12_345), "12.3s");
    assert.equal(formatElapsed(65_000), "1m05s");
  });
});

describe("raftkv sim progress", () => {
  /** Runs the command under a pseudo-terminal (util-linux `script`), as a user at a terminal would. */
  const onTerminal = (args: string[]) =>
    spawnSync("script", ["-qec", [process.execPath, BIN, "sim", ...args].join(" "), "/dev/null"], { encoding: "utf8", maxBuffer: 64 << 20 });

  test("--time and --exhaustive show progress on a terminal; --quiet and a pipe show none", () => {
    const search = onTerminal(["--time", "2", "--nodes", "3"]);
    assert.equal(search.status, 0, search.stdout + search.stderr);
    assert.match(search.stdout, /\rsearching the real core: [\d.]+s of 2s, \d+ runs \(\d+\/s\), .* kinds of state, none found yet/);
    assert.match(search.stdout, /\r\x1b\[Kno violation with the real core/, "the progress line is cleared before the result");

    const model = onTerminal(["--exhaustive", "--nodes", "3", "--no-restarts", "--max-states", "3000"]);
    assert.match(model.stdout, /\rexhaustive: depth \d+, [\d.k]+ states/);

    const quiet = onTerminal(["--time", "1", "--nodes", "3", "--quiet"]);
    assert.equal(quiet.status, 0);
    assert.doesNotMatch(quiet.stdout, /searching/);
    assert.match(quiet.stdout, /no violation with the real core/);

    const piped = spawnSync(process.execPath, [BIN, "sim", "--time", "1", "--nodes", "3"], { encoding: "utf8" });
    assert.equal(piped.status, 0);
    assert.equal(piped.stderr, "");
    assert.doesNotMatch(piped.stdout, /searching|\x1b/);
  });
});
