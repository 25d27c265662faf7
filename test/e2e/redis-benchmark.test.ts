// redis-benchmark, unchanged, against the leader of a real 3-node cluster
// (SPEC §4): it must start quietly (CONFIG GET), run SET and GET to the end
// and see no error, without and with pipelining.

import assert from "node:assert/strict";
import { test } from "node:test";
import type { TestCluster } from "../helpers/cluster.js";
import { show } from "../server/support.js";
import { roles, runTool, withCluster, type ToolRun } from "./support.js";

/**
 * Runs redis-benchmark at the leader. If leadership moved during the run
 * (the machine is shared, elections can happen), errors are expected:
 * the run is repeated, up to three times.
 */
async function benchmark(c: TestCluster, extra: string[]): Promise<ToolRun> {
  for (let attempt = 1; ; attempt++) {
    const { leader } = await roles(c);
    const term = (await c.status(leader))?.term;
    const n = c.node(leader);
    const r = await runTool("redis-benchmark", ["-h", n.host, "-p", String(n.clientPort), "-t", "set,get", "-n", "20000", "-q", ...extra], "", 180_000);
    const after = await c.status(leader);
    const moved = after?.role !== "leader" || after.term !== term;
    if (!moved || attempt === 3) return r;
    const errors = (r.stdout + r.stderr).split(/[\r\n]/).filter((l) => /error|MOVED|CLUSTERDOWN|TIMEOUT/i.test(l));
    console.error(`leadership moved during redis-benchmark ${extra.join(" ")} (${errors.length} error lines, e.g. ${JSON.stringify(errors[0] ?? "none")}); running it again`);
  }
}

function assertClean(r: ToolRun, what: string): void {
  const output = r.stdout + r.stderr;
  assert.equal(r.code, 0, `${what} exit code; output:\n${output}`);
  // -q prints progress lines ending in \r, then one final line per test.
  const final = output.split(/[\r\n]/).filter((l) => / requests per second/.test(l));
  assert.match(final.join("\n"), /^SET: [\d.]+ requests per second/m, `${what}: no SET result in\n${output}`);
  assert.match(final.join("\n"), /^GET: [\d.]+ requests per second/m, `${what}: no GET result in\n${output}`);
  assert.doesNotMatch(output, /error|MOVED|CLUSTERDOWN|TIMEOUT/i, `${what} reported errors`);
  console.log(`${what}: ${final.join("; ")}`);
}

test("redis-benchmark -t set,get -n 20000 completes without errors, then with -P 16", async () => {
  await withCluster({ nodes: 3 }, async (c) => {
    assertClean(await benchmark(c, []), "redis-benchmark");
    assertClean(await benchmark(c, ["-P", "16"]), "redis-benchmark -P 16");
    // The benchmark's SETs are committed: its key holds its 3-byte payload.
    const value = show(await c.leaderCommand(15_000, "GET", "key:__rand_int__"));
    assert.match(value, /^\$.{3}$/, `GET key:__rand_int__ after the benchmark answered ${value}`);
  });
});
