// `raftkv server` refuses a bad cluster file or bad flags with exit code 2
// and a message that names the problem (SPEC §2, §3).

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { TestCa } from "../helpers/certs.js";
import { runRaftkv } from "./support.js";

/** A valid cluster file; its ports are never opened (every case below fails before listening). */
function clusterFile(): { nodes: Record<string, unknown>[]; electionTimeoutMs: number[]; heartbeatMs: number } {
  return {
    nodes: [1, 2, 3].map((id) => ({ id, peer: `127.0.0.1:${7000 + id}`, client: `127.0.0.1:${6380 + id}`, admin: `127.0.0.1:${8080 + id}` })),
    electionTimeoutMs: [150, 300],
    heartbeatMs: 50,
  };
}

describe("raftkv server refuses bad configuration with exit code 2", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "raftkv-config-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs `raftkv server` on a file with `content` (a string as is, else as JSON) and checks the refusal. */
  async function refused(name: string, content: string | object | null, args: string[], message: RegExp): Promise<void> {
    const file = join(dir, `${name}.json`);
    if (content !== null) writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
    const data = join(dir, `${name}-data`);
    const r = await runRaftkv(["server", "--config", file, ...args, "--data", data]);
    assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, "");
    assert.ok(!existsSync(data), "nothing was written to the data directory");
  }

  test("a missing file", async () => {
    await refused("missing", null, ["--id", "1"], /cluster file .*missing\.json does not exist/);
  });

  test("malformed JSON", async () => {
    await refused("malformed", '{ "nodes": [ { "id": 1, ', ["--id", "1"], /malformed\.json: not valid JSON/);
  });

  test("duplicate ids", async () => {
    const f = clusterFile();
    f.nodes[2]!.id = 1;
    await refused("duplicate-ids", f, ["--id", "1"], /duplicate-ids\.json: node id 1 appears twice/);
  });

  test("duplicate addresses", async () => {
    const f = clusterFile();
    f.nodes[1]!.client = f.nodes[0]!.client;
    await refused("duplicate-addresses", f, ["--id", "1"], /address 127\.0\.0\.1:6381 is used twice/);
  });

  test("an address shared between two roles counts as a duplicate", async () => {
    const f = clusterFile();
    f.nodes[2]!.admin = f.nodes[0]!.peer;
    await refused("duplicate-roles", f, ["--id", "1"], /address 127\.0\.0\.1:7001 is used twice/);
  });

  test("--id not in the file", async () => {
    await refused("unknown-id", clusterFile(), ["--id", "9"], /node id 9 is not in the cluster file \(ids: 1, 2, 3\)/);
  });

  test("a bad port", async () => {
    const f = clusterFile();
    f.nodes[1]!.peer = "127.0.0.1:70000";
    await refused("bad-port", f, ["--id", "1"], /nodes\[1\]\.peer "127\.0\.0\.1:70000" has port 70000, which is not between 1 and 65535/);
  });

  test("an address without a port", async () => {
    const f = clusterFile();
    f.nodes[0]!.client = "127.0.0.1";
    await refused("no-port", f, ["--id", "1"], /nodes\[0\]\.client "127\.0\.0\.1" is not of the form host:port/);
  });

  test("a heartbeat not below the minimum election timeout", async () => {
    const f = clusterFile();
    f.heartbeatMs = 150;
    await refused("heartbeat", f, ["--id", "1"], /"heartbeatMs" \(150\) must be below the minimum election timeout \(150\)/);
  });

  test("an election timeout range upside down", async () => {
    const f = clusterFile();
    f.electionTimeoutMs = [300, 150];
    await refused("election", f, ["--id", "1"], /"electionTimeoutMs" \[300, 150\]: min must be below max/);
  });

  test("an empty node list", async () => {
    await refused("empty", { nodes: [] }, ["--id", "1"], /"nodes" must be a non-empty list/);
  });

  test("snapshot settings that are not positive whole numbers, or a chunk too big for one peer frame", async () => {
    await refused("snapshot-every", { ...clusterFile(), snapshotEvery: 0 }, ["--id", "1"], /"snapshotEvery" must be a positive whole number, got 0/);
    await refused("snapshot-chunk", { ...clusterFile(), snapshotChunkBytes: "1MB" }, ["--id", "1"], /"snapshotChunkBytes" must be a positive whole number, got "1MB"/);
    await refused("snapshot-chunk-big", { ...clusterFile(), snapshotChunkBytes: 2 ** 30 }, ["--id", "1"], /"snapshotChunkBytes" must be at most 33554432/);
  });

  test("TLS settings: a missing file, a key that is not the certificate's, a bad authClients, a node certificate without a CA", async () => {
    const ca = TestCa.create();
    try {
      const a = ca.issue("a", ["IP:127.0.0.1"]);
      const b = ca.issue("b", ["IP:127.0.0.1"]);
      await refused("tls-missing", { ...clusterFile(), tls: { ca: join(dir, "nope.pem"), cert: a.cert, key: a.key } }, ["--id", "1"], /cannot read the TLS CA certificate .*nope\.pem/);
      await refused("tls-mismatch", { ...clusterFile(), tls: { ca: ca.pem, cert: a.cert, key: b.key } }, ["--id", "1"], /TLS certificate .*a\.pem with key .*b\.key: .*key values mismatch/);
      await refused("tls-not-pem", { ...clusterFile(), tls: { ca: a.key, cert: a.cert, key: a.key } }, ["--id", "1"], /TLS CA certificate .*a\.key is not a PEM certificate/);
      await refused("tls-auth", { ...clusterFile(), tls: { ca: ca.pem, cert: a.cert, key: a.key, authClients: "maybe" } }, ["--id", "1"], /"tls".authClients must be "no", "optional" or "yes", got "maybe"/);
      await refused("tls-no-cert", { ...clusterFile(), tls: { ca: ca.pem } }, ["--id", "1"], /"tls".cert must be the path of a PEM file/);
      const own = clusterFile();
      own.nodes[0]!.tls = { cert: a.cert, key: a.key };
      await refused("tls-node-only", own, ["--id", "1"], /nodes\[0\].tls gives a certificate, but there is no top-level "tls"/);
      await refused("tls-handshake", { ...clusterFile(), tls: { ca: ca.pem, cert: a.cert, key: a.key, handshakeTimeoutMs: 0 } }, ["--id", "1"], /"tls".handshakeTimeoutMs must be a positive whole number/);
    } finally {
      ca.dispose();
    }
  });

  test("client limits that are not positive whole numbers, or that contradict each other", async () => {
    await refused("limit-neg", { ...clusterFile(), protoMaxBulkLen: -1 }, ["--id", "1"], /"protoMaxBulkLen" must be a positive whole number of bytes, got -1/);
    await refused("limit-str", { ...clusterFile(), clientOutputBufferHardBytes: "1mb" }, ["--id", "1"], /"clientOutputBufferHardBytes" must be a positive whole number of bytes, got "1mb"/);
    await refused("limit-frac", { ...clusterFile(), clientInputTotalBytes: 1.5 }, ["--id", "1"], /"clientInputTotalBytes" must be a positive whole number/);
    await refused("limit-soft", { ...clusterFile(), clientOutputBufferSoftBytes: 2000, clientOutputBufferHardBytes: 1000 }, ["--id", "1"], /"clientOutputBufferHardBytes" \(1000\) must not be below "clientOutputBufferSoftBytes" \(2000\)/);
    await refused("limit-bulk", { ...clusterFile(), maxCommandBytes: 1000 }, ["--id", "1"], /"maxCommandBytes" \(1000\) must not be below "protoMaxBulkLen" \(16777216\)/);
    await refused("limit-input", { ...clusterFile(), clientInputTotalBytes: 1000, maxCommandBytes: 2000, protoMaxBulkLen: 100 }, ["--id", "1"], /"clientInputTotalBytes" \(1000\) must not be below "maxCommandBytes" \(2000\)/);
    // A write reaches the other nodes in one peer frame (64 MiB): a larger request could never be replicated.
    await refused("limit-frame", { ...clusterFile(), maxCommandBytes: 64 * 1024 * 1024 + 1, clientInputTotalBytes: 2 ** 30 }, ["--id", "1"], /"maxCommandBytes" \(67108865\) must be at most 67108864 \(64 MiB\): a write reaches the other nodes in one peer frame/);
    await refused("limit-frame-bulk", { ...clusterFile(), protoMaxBulkLen: 2 ** 30, maxCommandBytes: 2 ** 30, clientInputTotalBytes: 2 ** 31 }, ["--id", "1"], /"maxCommandBytes" \(1073741824\) must be at most 67108864/);
    await refused("limit-maxclients", { ...clusterFile(), maxclients: 0 }, ["--id", "1"], /"maxclients" must be a positive whole number, got 0/);
  });

  test("an unknown field (a typo must not be ignored)", async () => {
    await refused("typo", { ...clusterFile(), heartbeatMS: 50 }, ["--id", "1"], /unknown field "heartbeatMS"/);
  });

  test("usage: no --config", async () => {
    const r = await runRaftkv(["server", "--id", "1"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--config FILE is required/);
  });

  test("usage: no --id", async () => {
    const r = await runRaftkv(["server", "--config", join(dir, "whatever.json")]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--id ID is required/);
  });

  test("usage: an --id that is not a number", async () => {
    const r = await runRaftkv(["server", "--config", join(dir, "whatever.json"), "--id", "one"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--id must be a positive integer, got 'one'/);
  });

  test("usage: an unknown option", async () => {
    const r = await runRaftkv(["server", "--config", join(dir, "whatever.json"), "--id", "1", "--port", "6379"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /unknown option --port/);
  });
});
