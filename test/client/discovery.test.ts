// Clients follow the live membership (SPEC §10): a node list from an old
// membership still finds the cluster through any member it names, through
// -MOVED addresses and through GET /members (RaftKvClient's `discover`,
// membersDiscovery, and the raftkv client commands).

import { after, afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RaftKvClient } from "../../src/client/client.js";
import { NoNodeReachableError } from "../../src/client/errors.js";
import { membersDiscovery } from "../../src/client/members.js";
import type { NodeAddress } from "../../src/client/address.js";
import { CLUSTERDOWN, closedPort, FakeNode, FakeStore, moved, startScriptedAdmin } from "./fakes.js";
import { runRaftkv, type Run } from "../helpers/raftkv-cli.js";

const text = (a: NodeAddress) => `${a.host}:${a.port}`;

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function leaderNode(store = new FakeStore()): Promise<FakeNode> {
  const node = await FakeNode.start((args) => store.apply(args));
  cleanup.push(() => node.close());
  return node;
}

/** A GET /members answer naming these members (all voters; node `leader` leads). */
function membersBody(members: { id: number; client: string; admin: string }[], leader: number, configIndex = 9) {
  return {
    leader,
    configIndex,
    committed: true,
    joint: false,
    members: members.map((m) => ({ ...m, peer: `127.0.0.1:${7000 + m.id}`, role: "voter", state: "voter", reachable: null, matchIndex: null })),
    pending: null,
  };
}

describe("RaftKvClient follows the live membership", () => {
  test("every listed node is gone: `discover` names the live members, and the operation succeeds there", async () => {
    const live = await leaderNode();
    let asked = 0;
    const client = new RaftKvClient({
      nodes: [{ host: "127.0.0.1", port: await closedPort() }],
      timeoutMs: 5_000,
      discover: async () => {
        asked++;
        return [live.address];
      },
    });
    cleanup.push(() => client.close());
    await client.set("k", "v");
    assert.equal((await client.get("k"))?.toString(), "v");
    assert.ok(asked >= 1);
    assert.equal(text(client.knownNodes[0]!), live.addressText, "the live member goes first");
  });

  test("without `discover`, the same list ends in NoNodeReachableError (the refusal rule is kept)", async () => {
    const client = new RaftKvClient({ nodes: [{ host: "127.0.0.1", port: await closedPort() }], timeoutMs: 5_000, unreachableAfterMs: 100 });
    cleanup.push(() => client.close());
    await assert.rejects(client.get("k"), NoNodeReachableError);
  });

  test("discovery that names no new node still ends in NoNodeReachableError, not a loop", async () => {
    const dead = { host: "127.0.0.1", port: await closedPort() };
    let asked = 0;
    const client = new RaftKvClient({
      nodes: [dead],
      timeoutMs: 5_000,
      unreachableAfterMs: 100,
      discover: async () => {
        asked++;
        return [dead];
      },
    });
    cleanup.push(() => client.close());
    await assert.rejects(client.get("k"), NoNodeReachableError);
    assert.ok(asked >= 1);
  });

  test("a removed node that still runs and knows no leader (CLUSTERDOWN): after a round of those, discovery finds the cluster", async () => {
    const removed = await FakeNode.start(() => CLUSTERDOWN);
    cleanup.push(() => removed.close());
    const live = await leaderNode();
    const client = new RaftKvClient({ nodes: [removed.address], timeoutMs: 8_000, discover: async () => [live.address] });
    cleanup.push(() => client.close());
    assert.equal(await client.incr("n"), 1n);
    assert.ok(live.commands("RAFTKV.SESSION").length >= 1);
  });

  test("a node a MOVED reply named stays in the list after the leader moves on", async () => {
    const store = new FakeStore();
    const b = await leaderNode(store);
    const a = await FakeNode.start(() => moved(b));
    cleanup.push(() => a.close());
    const client = new RaftKvClient({ nodes: [a.address], timeoutMs: 5_000 });
    cleanup.push(() => client.close());
    await client.set("k", "v");
    assert.deepEqual(client.knownNodes.map(text), [a.addressText, b.addressText]);
  });
});

describe("membersDiscovery", () => {
  test("asks the admin ports for GET /members, takes the latest configuration, returns its client addresses; remembers the admin ports it learned", async () => {
    const second = await startScriptedAdmin(() => ({ code: 200, body: membersBody([{ id: 5, client: "127.0.0.1:6005", admin: second.text }], 5, 10) }));
    cleanup.push(() => second.close());
    let firstUp = true;
    // The first node lags: its configuration (index 9) still has nodes 1 and 4; node 4's admin port is the second fake.
    const first = await startScriptedAdmin(() =>
      firstUp ? { code: 200, body: membersBody([{ id: 1, client: "127.0.0.1:6001", admin: "127.0.0.1:2" }, { id: 4, client: "127.0.0.1:6004", admin: second.text }], 4, 9) } : { code: 503, body: {} },
    );
    cleanup.push(() => first.close());
    const discover = membersDiscovery([first.address], 1_000);
    assert.deepEqual((await discover()).map(text), ["127.0.0.1:6005"]);
    // The first node stops answering: the admin port learned through it still does.
    firstUp = false;
    const asked = second.requests.length;
    assert.deepEqual((await discover()).map(text), ["127.0.0.1:6005"]);
    assert.ok(second.requests.length > asked);
  });

  test("no admin port answers: an empty list", async () => {
    const discover = membersDiscovery([{ host: "127.0.0.1", port: await closedPort() }], 500);
    assert.deepEqual(await discover(), []);
  });
});

function raftkv(args: readonly string[]): Promise<Run> {
  return runRaftkv(args);
}

describe("raftkv client commands with a cluster file from an old membership", () => {
  const dir = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), "raftkv-discovery-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("set/get reach a member that is not in the file; status lists the live members", async () => {
    const live = await leaderNode();
    const statusBody = { id: 7, role: "leader", term: 3, leader: 7, commitIndex: 12, lastApplied: 12 };
    const liveAdmin = await startScriptedAdmin((req) => (req.url === "/status" ? { code: 200, body: statusBody } : { code: 200, body: membersBody([{ id: 7, client: live.addressText, admin: liveAdmin.text }], 7) }));
    cleanup.push(() => liveAdmin.close());
    // Node 1 of the file was removed: its client port is closed, its admin port still answers with the live membership.
    const oldAdmin = await startScriptedAdmin((req) =>
      req.url === "/members" ? { code: 200, body: membersBody([{ id: 7, client: live.addressText, admin: liveAdmin.text }], 7) } : { code: 503, body: {} },
    );
    cleanup.push(() => oldAdmin.close());
    const config = join(dir, "cluster.json");
    writeFileSync(config, JSON.stringify({ nodes: [{ id: 1, peer: `127.0.0.1:${await closedPort()}`, client: `127.0.0.1:${await closedPort()}`, admin: oldAdmin.text }] }));
    const set = await raftkv(["set", "k", "v", "--config", config]);
    assert.equal(set.code, 0, set.stderr);
    const get = await raftkv(["get", "k", "--config", config]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout, "v\n");
    const status = await raftkv(["status", "--config", config]);
    assert.equal(status.code, 0, status.stderr);
    const lines = status.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 3, status.stdout);
    assert.match(lines[1]!, /^ *1 .* no \(HTTP 503/);
    assert.match(lines[2]!, new RegExp(`^ *7  ${live.addressText.replace(/\./g, "\\.")} +leader .* yes$`));
  });
});
