// The client commands end to end: `node bin/raftkv.js ...` as a child
// process, against fake nodes and fake admin ports in this process.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NodeAddress } from "../../src/client/address.js";
import { CLUSTERDOWN, closedPort, FakeNode, FakeStore, moved, startAdmin, untrustedTlsPort } from "./fakes.js";
import { runRaftkv, type Run } from "../helpers/raftkv-cli.js";

/** Runs raftkv in `cwd`: the fakes answering it live in this process's event loop. */
function raftkv(args: readonly string[], cwd: string): Promise<Run> {
  return runRaftkv(args, { cwd });
}

const text = (a: NodeAddress) => `${a.host}:${a.port}`;

/** Writes a cluster file for nodes 1..n with these client and admin addresses (peer ports are never used). */
async function writeClusterFile(path: string, nodes: readonly { client: NodeAddress; admin: NodeAddress }[]): Promise<void> {
  const entries = [];
  for (const [i, n] of nodes.entries()) {
    entries.push({ id: i + 1, peer: `127.0.0.1:${await closedPort()}`, client: text(n.client), admin: text(n.admin) });
  }
  writeFileSync(path, JSON.stringify({ nodes: entries }, null, 2));
}

describe("raftkv set/get/delete/incr/status", () => {
  const store = new FakeStore();
  const cleanup: (() => Promise<void>)[] = [];
  /** A directory holding data/cluster.json, as `npm start` leaves it: the commands need no --config there. */
  let clusterDir: string;
  /** A directory with no cluster file. */
  let emptyDir: string;
  /** Nodes that know no leader or are down, admin ports all down. */
  let deadConfig: string;

  before(async () => {
    clusterDir = mkdtempSync(join(tmpdir(), "raftkv-client-cli-"));
    emptyDir = mkdtempSync(join(tmpdir(), "raftkv-client-cli-empty-"));
    cleanup.push(async () => rmSync(clusterDir, { recursive: true, force: true }));
    cleanup.push(async () => rmSync(emptyDir, { recursive: true, force: true }));

    const leader = await FakeNode.start((args) => store.apply(args));
    const followers = [await FakeNode.start(() => moved(leader)), await FakeNode.start(() => moved(leader))];
    const admins = [
      await startAdmin({ id: 1, role: "follower", term: 7, leader: 2, commitIndex: 41, lastApplied: 40, lastLogIndex: 42, snapshotIndex: 0, peers: [] }),
      await startAdmin({
        id: 2,
        role: "leader",
        term: 7,
        leader: 2,
        commitIndex: 1234,
        lastApplied: 1234,
        lastLogIndex: 1234,
        snapshotIndex: 1000,
        peers: [
          { id: 1, matchIndex: 42, nextIndex: 43, reachable: true },
          { id: 3, matchIndex: 0, nextIndex: 1, reachable: false },
        ],
      }),
    ];
    for (const n of [leader, ...followers]) cleanup.push(() => n.close());
    for (const a of admins) cleanup.push(() => a.close());
    const deadAdmin = { host: "127.0.0.1", port: await closedPort() };

    mkdirSync(join(clusterDir, "data"));
    // Node 1 is a follower (the commands start there and get redirected), 2 leads, 3's admin port is down.
    await writeClusterFile(join(clusterDir, "data", "cluster.json"), [
      { client: followers[0]!.address, admin: admins[0]!.address },
      { client: leader.address, admin: admins[1]!.address },
      { client: followers[1]!.address, admin: deadAdmin },
    ]);

    const noLeader = await FakeNode.start(() => CLUSTERDOWN);
    cleanup.push(() => noLeader.close());
    deadConfig = join(clusterDir, "dead.json");
    await writeClusterFile(deadConfig, [
      { client: noLeader.address, admin: { host: "127.0.0.1", port: await closedPort() } },
      { client: { host: "127.0.0.1", port: await closedPort() }, admin: { host: "127.0.0.1", port: await closedPort() } },
    ]);
  });

  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  test("set prints ok, get prints the value, incr the new value, delete ok; the leader is found from a follower", async () => {
    assert.deepEqual(await raftkv(["set", "greeting", "héllo wörld"], clusterDir), { code: 0, stdout: "ok\n", stderr: "" });
    assert.deepEqual(await raftkv(["get", "greeting"], clusterDir), { code: 0, stdout: "héllo wörld\n", stderr: "" });
    assert.deepEqual(await raftkv(["incr", "visits"], clusterDir), { code: 0, stdout: "1\n", stderr: "" });
    assert.deepEqual(await raftkv(["incr", "visits"], clusterDir), { code: 0, stdout: "2\n", stderr: "" });
    assert.deepEqual(await raftkv(["delete", "greeting"], clusterDir), { code: 0, stdout: "ok\n", stderr: "" });
    assert.equal(store.data.has("greeting"), false);
    assert.equal(store.data.get("visits"), "2");
  });

  test("get of a missing key exits 1 and prints nothing", async () => {
    assert.deepEqual(await raftkv(["get", "no-such-key"], clusterDir), { code: 1, stdout: "", stderr: "" });
  });

  test("delete of a missing key still prints ok", async () => {
    assert.deepEqual(await raftkv(["delete", "no-such-key"], clusterDir), { code: 0, stdout: "ok\n", stderr: "" });
  });

  test("--config names the cluster file; a value may follow --", async () => {
    const config = join(clusterDir, "data", "cluster.json");
    assert.deepEqual(await raftkv(["set", "--config", config, "flag", "--", "--not-an-option"], emptyDir), { code: 0, stdout: "ok\n", stderr: "" });
    assert.deepEqual(await raftkv(["get", "flag", `--config=${config}`], emptyDir), { code: 0, stdout: "--not-an-option\n", stderr: "" });
  });

  test("each command has --help", async () => {
    for (const command of ["set", "get", "delete", "incr", "status"]) {
      const run = await raftkv([command, "--help"], emptyDir);
      assert.equal(run.code, 0, command);
      assert.match(run.stdout, new RegExp(`^usage: raftkv ${command}`), command);
      assert.match(run.stdout, /--config FILE/, command);
    }
  });

  test("usage errors exit 2 with a message on stderr and nothing on stdout", async () => {
    const cases: [string[], RegExp][] = [
      [["get"], /raftkv get: expects KEY \(got 0 arguments\)/],
      [["set", "k"], /raftkv set: expects KEY VALUE \(got 1 argument\)/],
      [["delete", "a", "b"], /raftkv delete: expects KEY \(got 2 arguments\)/],
      [["incr", "k", "--bogus"], /unknown option --bogus/],
      [["get", "k", "--timeout", "soon"], /--timeout must be an integer/],
      [["status", "extra"], /raftkv status: expects no arguments/],
    ];
    for (const [args, message] of cases) {
      const run = await raftkv(args, clusterDir);
      assert.equal(run.code, 2, args.join(" "));
      assert.equal(run.stdout, "", args.join(" "));
      assert.match(run.stderr, message, args.join(" "));
    }
  });

  test("a missing cluster file: exit 2, with a message that suggests npm start", async () => {
    for (const command of [["get", "k"], ["set", "k", "v"], ["status"]]) {
      const run = await raftkv(command, emptyDir);
      assert.equal(run.code, 2);
      assert.equal(run.stdout, "");
      assert.match(run.stderr, /cluster file \.\/data\/cluster\.json does not exist/);
      assert.match(run.stderr, /npm start/);
      assert.match(run.stderr, /raftkv cluster/);
    }
  });

  test("a malformed cluster file: exit 2, naming the file and the problem", async () => {
    const bad = join(clusterDir, "bad.json");
    writeFileSync(bad, "{ nodes: ");
    const run = await raftkv(["get", "k", "--config", bad], emptyDir);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /bad\.json: not valid JSON/);
  });

  test("an unavailable cluster: exit 3 with a clear message", async () => {
    const run = await raftkv(["set", "k", "v", "--config", deadConfig, "--timeout", "300"], emptyDir);
    assert.equal(run.code, 3);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /raftkv set: cluster unavailable: the operation did not complete within 300 ms/);
  });

  test("every node refusing connections: exit 3 with 'no node is reachable', long before --timeout", { timeout: 40_000 }, async () => {
    const down = join(clusterDir, "down.json");
    const ports = [await closedPort(), await closedPort(), await closedPort()];
    const admins = [await closedPort(), await closedPort(), await closedPort()];
    await writeClusterFile(down, ports.map((port, i) => ({ client: { host: "127.0.0.1", port }, admin: { host: "127.0.0.1", port: admins[i]! } })));
    // With a 10-minute --timeout, only the fast failure can end this within the test's timeout.
    for (const command of [["get", "k"], ["set", "k", "v"]]) {
      const run = await raftkv([...command, "--config", down, "--timeout", "600000"], emptyDir);
      assert.equal(run.code, 3, run.stderr);
      assert.equal(run.stdout, "");
      assert.match(run.stderr, new RegExp(`^raftkv ${command[0]}: no node is reachable: ${ports.map((p) => `127\\.0\\.0\\.1:${p}`).join(", ")} all refuse connections; is the cluster running\\?`));
    }
    const move = await raftkv(["move-leader", "--config", down], emptyDir);
    assert.equal(move.code, 3);
    assert.match(move.stderr, /^raftkv move-leader: no node is reachable: node 1 \(127\.0\.0\.1:\d+: connection refused\)/);
    assert.doesNotMatch(move.stderr, /leads/);
  });

  test("a --cacert that did not sign the nodes' certificates: exit 3 within about a second, naming the reason, not 'is the cluster running?'", { timeout: 40_000 }, async (t) => {
    const { port, wrongCa } = await untrustedTlsPort(t);
    const file = join(clusterDir, "wrong-ca.json");
    await writeClusterFile(file, [{ client: { host: "127.0.0.1", port }, admin: { host: "127.0.0.1", port: await closedPort() } }]);
    // With a 10-minute --timeout, only the fast failure can end this within the test's timeout.
    const run = await raftkv(["get", "k", "--config", file, "--tls", "--cacert", wrongCa, "--timeout", "600000"], emptyDir);
    assert.equal(run.code, 3, run.stderr);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, new RegExp(`^raftkv get: no node is reachable: 127\\.0\\.0\\.1:${port}: TLS: the node's certificate is not accepted \\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\\); is --cacert the CA that signed it\\?\n$`));
  });

  test("move-leader with an ID that is not a number is a usage error that says so", async () => {
    const run = await raftkv(["move-leader", "abc"], clusterDir);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /raftkv move-leader: ID must be a node id \(a positive integer\), got 'abc'/);
  });

  test("an unknown command is one short line, not the whole usage", async () => {
    const run = await raftkv(["stauts"], emptyDir);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, "");
    assert.equal(run.stderr, "raftkv: unknown command 'stauts' (did you mean 'status'?); 'raftkv --help' lists the commands\n");
  });

  test("a range error names only the bound that matters", async () => {
    const run = await raftkv(["get", "k", "--timeout", "0"], clusterDir);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--timeout must be at least 1, got 0\n/);
    assert.doesNotMatch(run.stderr, /9007199254740991/);
  });

  test("a command the server refuses: exit 2 with the server's error", async () => {
    assert.equal((await raftkv(["set", "name", "alice"], clusterDir)).code, 0);
    const run = await raftkv(["incr", "name"], clusterDir);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /raftkv incr: the server refused the command: ERR value is not an integer or out of range/);
  });

  test("status: one aligned line per node under a header, an unreachable node marked so", async () => {
    const run = await raftkv(["status"], clusterDir);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 4);
    const split = (line: string) => line.trim().split(/\s{2,}/);
    assert.deepEqual(split(lines[0]!), ["ID", "ADDRESS", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "REACHABLE"]);
    const [one, two, three] = lines.slice(1).map(split);
    assert.deepEqual([one![0], ...one!.slice(2)], ["1", "follower", "7", "2", "41", "40", "yes"]);
    assert.deepEqual([two![0], ...two!.slice(2)], ["2", "leader", "7", "2", "1234", "1234", "yes"]);
    assert.deepEqual([three![0], ...three!.slice(2)], ["3", "-", "-", "-", "-", "-", "no (connection refused)"]);
    // Columns line up: text starts where its header starts, numbers end where theirs ends.
    const header = lines[0]!;
    for (const line of lines.slice(1)) {
      assert.equal(line.search(/yes|no \(/), header.indexOf("REACHABLE"), line);
      assert.equal(line.indexOf("127.0.0.1:"), header.indexOf("ADDRESS"), line);
    }
    const applied = header.indexOf("APPLIED") + "APPLIED".length;
    assert.equal(lines[1]!.slice(applied - 2, applied), "40");
    assert.equal(lines[2]!.slice(applied - 4, applied), "1234");
  });

  test("status exits 3 when no node answers", async () => {
    const run = await raftkv(["status", "--config", deadConfig, "--timeout", "1000"], emptyDir);
    assert.equal(run.code, 3);
    assert.match(run.stdout, /no \(connection refused\)/);
    assert.match(run.stderr, /no node answered/);
  });
});
