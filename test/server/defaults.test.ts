// The timing and size defaults are the ones measured and chosen in
// docs/PERFORMANCE.md ("Leadership under load", issue 11 finding 7), and
// REFERENCE documents the same: a cluster file that leaves them out, and the
// file `raftkv cluster` writes, get them.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { DEFAULT_CLIENT_LIMITS, localClusterConfig, parseClusterConfig } from "../../src/server/config.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const doc = (name: string) => readFileSync(join(ROOT, "docs", name), "utf8");

test("election timeout, heartbeat and largest request: the code's defaults are PERFORMANCE's choice and REFERENCE's table", () => {
  const chosen = /election timeout \*\*(\d+)–(\d+) ms\*\*,\s+heartbeat \*\*(\d+) ms\*\*.*?largest request of \*\*(\d+) MiB\*\*/s.exec(doc("PERFORMANCE.md"));
  assert.ok(chosen, "docs/PERFORMANCE.md names the defaults it chose");
  const [lo, hi, heartbeat, mib] = chosen.slice(1).map(Number) as [number, number, number, number];

  const reference = doc("REFERENCE.md");
  assert.match(reference, new RegExp(`\\| \`electionTimeoutMs\` \\|[^\\n]*\\| \`\\[${lo}, ${hi}\\]\``));
  assert.match(reference, new RegExp(`\\| \`heartbeatMs\` \\|[^\\n]*\\| \`${heartbeat}\` \\|`));
  assert.match(reference, new RegExp(`\\| \`maxCommandBytes\` \\|[^\\n]*\\| ${mib} MiB`));

  const file = parseClusterConfig(JSON.stringify({ nodes: [{ id: 1, peer: "127.0.0.1:7001", client: "127.0.0.1:6381", admin: "127.0.0.1:8081" }] }));
  for (const config of [file, localClusterConfig(3)]) {
    assert.deepEqual(config.electionTimeoutMs, [lo, hi]);
    assert.equal(config.heartbeatMs, heartbeat);
  }
  assert.equal(DEFAULT_CLIENT_LIMITS.maxCommandBytes, mib * 1024 * 1024);
  // The bound on failover after kill -9 (2 s) leaves room for more than one election round.
  assert.ok(hi * 2 < 2000);
});
