// `npm run sim:sweep`'s command line: --help prints the usage, and an unknown
// or incomplete argument is refused at once instead of starting the default
// sweep (ten minutes of CPU per bug) with the argument ignored.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { argumentProblem } from "../../bench/sim-sweep.js";

const SWEEP = fileURLToPath(new URL("../../bench/sim-sweep.js", import.meta.url));

test("sim-sweep's arguments: known ones pass, unknown or valueless ones are named", () => {
  assert.equal(argumentProblem(["--bugs", "figure8", "--seeds", "1-3", "--budget", "30", "--plain", "--no-swarm", "--energy"]), null);
  assert.equal(argumentProblem(["--seed", "1"]), "unknown argument --seed");
  assert.equal(argumentProblem(["--budget"]), "--budget needs a value");
  assert.equal(argumentProblem(["--bugs", "--plain"]), "--bugs needs a value");
});

test("sim-sweep --help prints the usage; a wrong argument exits 2 before any search", () => {
  const help = spawnSync(process.execPath, [SWEEP, "--help"], { encoding: "utf8", timeout: 30_000 });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^usage: npm run sim:sweep/);
  assert.doesNotMatch(help.stdout, /^sweep:/m);
  const wrong = spawnSync(process.execPath, [SWEEP, "--seed", "1"], { encoding: "utf8", timeout: 30_000 });
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /sim-sweep: unknown argument --seed/);
  assert.equal(wrong.stdout, "", "no sweep started");
});
