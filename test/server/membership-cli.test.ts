// `raftkv server --join` refusals (SPEC §10): each exits 2 with one line
// before the node serves anything.

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runRaftkv } from "./support.js";

test("raftkv server --join refuses a data directory with state, a cluster file naming nobody else, and --accept-data-loss", async () => {
  const dir = mkdtempSync(join(tmpdir(), "raftkv-join-"));
  try {
    const node = (id: number) => ({ id, peer: `127.0.3.${id}:7000`, client: `127.0.3.${id}:6379`, admin: `127.0.3.${id}:8080` });
    const both = join(dir, "both.json");
    const alone = join(dir, "alone.json");
    writeFileSync(both, JSON.stringify({ nodes: [node(1), node(2)] }));
    writeFileSync(alone, JSON.stringify({ nodes: [node(2)] }));

    const used = join(dir, "used");
    mkdirSync(used);
    writeFileSync(join(used, "members.json"), "{}");
    const r1 = await runRaftkv(["server", "--join", "--config", both, "--id", "2", "--data", used]);
    assert.equal(r1.code, 2, r1.stderr);
    assert.match(r1.stderr, /raftkv server: cannot start node 2: data directory .*used already holds this node's state: --join is for a new node with an empty data directory \(restart this node without --join\)\n$/);

    const fresh = join(dir, "fresh");
    const r2 = await runRaftkv(["server", "--join", "--config", alone, "--id", "2", "--data", fresh]);
    assert.equal(r2.code, 2, r2.stderr);
    assert.match(r2.stderr, /--join: the cluster file names no node but 2; it must also name the cluster's current members/);
    assert.deepEqual(readdirSync(fresh).filter((f) => f !== "LOCK"), [], "nothing written");

    const r3 = await runRaftkv(["server", "--join", "--accept-data-loss", "--config", both, "--id", "2", "--data", fresh]);
    assert.equal(r3.code, 2, r3.stderr);
    assert.match(r3.stderr, /--join is for a new, empty node; --accept-data-loss for one with data: not both/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
