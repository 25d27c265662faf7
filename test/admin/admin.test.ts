// The admin port (SPEC §5) of a real 3-node cluster: /status has every
// field with the right type, /metrics is valid Prometheus text with the
// metrics SPEC §5 lists, and the numbers move when the cluster works.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { TestCluster, type TestNode } from "../helpers/cluster.js";
import { ExpositionError, parseExposition, value, type Family } from "./prometheus.js";

const ROLES = ["follower", "precandidate", "candidate", "leader"];

const url = (n: TestNode, path: string): string => `http://${n.host}:${n.adminPort}${path}`;

async function get(n: TestNode, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url(n, path), { ...init, signal: AbortSignal.timeout(5000) });
}

async function metrics(n: TestNode): Promise<Map<string, Family>> {
  const res = await get(n, "/metrics");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

const isIndex = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;

describe("admin port", () => {
  let cluster: TestCluster;
  let leader: number;

  before(async () => {
    cluster = await TestCluster.start();
    leader = await cluster.waitForLeader();
    await cluster.leaderCommand(10_000, "SET", "warm", "up");
  });

  after(async () => {
    await cluster?.stop();
  });

  test("GET /status answers with every field of SPEC §5, typed", async () => {
    for (const n of cluster.nodes) {
      const res = await get(n, "/status");
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
      // The dashboard of one node reads the others' /status from the browser.
      assert.equal(res.headers.get("access-control-allow-origin"), "*");
      const s = (await res.json()) as Record<string, unknown>;
      const at = `node ${n.id}: ${JSON.stringify(s)}`;
      assert.equal(s.id, n.id, at);
      assert.ok(ROLES.includes(s.role as string), at);
      assert.ok(Number.isInteger(s.term) && (s.term as number) >= 1, at);
      assert.ok(s.votedFor === null || cluster.nodes.some((m) => m.id === s.votedFor), at);
      assert.ok(s.leader === null || cluster.nodes.some((m) => m.id === s.leader), at);
      for (const k of ["commitIndex", "lastApplied", "lastLogIndex", "lastLogTerm", "snapshotIndex", "keys"]) assert.ok(isIndex(s[k]), `${k} of ${at}`);
      assert.ok((s.lastApplied as number) <= (s.commitIndex as number) && (s.commitIndex as number) <= (s.lastLogIndex as number), at);
      assert.ok((s.snapshotIndex as number) <= (s.lastLogIndex as number), at);
      if (s.leader !== null) {
        const l = cluster.node(s.leader as number);
        assert.equal(s.leaderClient, `${l.host}:${l.clientPort}`, at);
      }
      const peers = s.peers as Record<string, unknown>[];
      assert.deepEqual(
        peers.map((p) => p.id).sort(),
        cluster.nodes.filter((m) => m.id !== n.id).map((m) => m.id),
        at,
      );
      for (const p of peers) {
        assert.equal(typeof p.reachable, "boolean", at);
        if (s.role === "leader") {
          assert.ok(isIndex(p.matchIndex) && isIndex(p.nextIndex), at);
          assert.ok((p.matchIndex as number) < (p.nextIndex as number), at);
          assert.equal(typeof p.state, "string", at);
        }
      }
      for (const e of s.events as Record<string, unknown>[]) {
        assert.ok(Number.isFinite(e.time) && Number.isInteger(e.term) && typeof e.event === "string", at);
      }
      // Every node's admin and client address, so that one node's dashboard can watch them all.
      assert.deepEqual(
        s.nodes,
        cluster.nodes.map((m) => ({ id: m.id, admin: `${m.host}:${m.adminPort}`, client: `${m.host}:${m.clientPort}` })),
        `${at}: /status must list every node (id, admin, client) for the dashboard`,
      );
    }
    const l = (await (await get(cluster.node(leader), "/status")).json()) as { role: string; peers: { reachable: boolean }[] };
    assert.equal(l.role, "leader");
    assert.ok(l.peers.every((p) => p.reachable), "a leader of a healthy cluster reaches every peer");
  });

  test("GET /metrics is Prometheus text with the metrics SPEC §5 lists, agreeing with /status", async () => {
    for (const n of cluster.nodes) {
      const m = await metrics(n);
      const expect: [string, string][] = [
        ["raftkv_term", "gauge"],
        ["raftkv_role", "gauge"],
        ["raftkv_commit_index", "gauge"],
        ["raftkv_applied_index", "gauge"],
        ["raftkv_proposals_total", "counter"],
        ["raftkv_elections_total", "counter"],
        ["raftkv_append_entries_sent_total", "counter"],
        ["raftkv_append_entries_received_total", "counter"],
        ["raftkv_fsync_duration_seconds", "histogram"],
        ["raftkv_request_duration_seconds", "histogram"],
      ];
      for (const [name, type] of expect) {
        const f = m.get(name);
        assert.ok(f, `node ${n.id}: no metric ${name}`);
        assert.equal(f.type, type, `node ${n.id}: ${name}`);
        assert.ok(f.help && f.help.length > 0, `node ${n.id}: ${name} has no HELP`);
        assert.ok(f.samples.length > 0, `node ${n.id}: ${name} has no samples`);
      }
      const roles = m.get("raftkv_role")!.samples;
      assert.deepEqual(roles.map((s) => s.labels.role).sort(), [...ROLES].sort());
      assert.equal(roles.filter((s) => s.value === 1).length, 1, `node ${n.id}: exactly one role is 1`);
      const s = (await (await get(n, "/status")).json()) as { term: number; role: string };
      const now = await metrics(n);
      // A quiet healthy cluster: term and role do not change between the two reads.
      assert.equal(value(now, "raftkv_term"), s.term);
      assert.equal(value(now, "raftkv_role", { role: s.role }), 1);
    }
  });

  test("the numbers move when writes happen", async () => {
    const sum = async (name: string): Promise<number> => {
      let total = 0;
      for (const n of cluster.nodes) total += value(await metrics(n), name);
      return total;
    };
    const max = async (name: string): Promise<number> => Math.max(...(await Promise.all(cluster.nodes.map(async (n) => value(await metrics(n), name)))));
    // Summed over the nodes, so that an election in between cannot fool the test.
    const names = ["raftkv_proposals_total", "raftkv_fsync_duration_seconds_count", "raftkv_request_duration_seconds_count", "raftkv_append_entries_sent_total", "raftkv_append_entries_received_total"];
    const before = Object.fromEntries(await Promise.all(names.map(async (k) => [k, await sum(k)] as const)));
    const commitBefore = await max("raftkv_commit_index");
    const appliedBefore = await max("raftkv_applied_index");
    const writes = 25;
    for (let i = 0; i < writes; i++) {
      const r = await cluster.leaderCommand(10_000, "SET", `k${i}`, `v${i}`);
      assert.deepEqual(r, { kind: "simple", value: "OK" });
    }
    const after = Object.fromEntries(await Promise.all(names.map(async (k) => [k, await sum(k)] as const)));
    assert.ok(after.raftkv_proposals_total! >= before.raftkv_proposals_total! + writes, `proposals ${before.raftkv_proposals_total} -> ${after.raftkv_proposals_total}`);
    assert.ok(after.raftkv_request_duration_seconds_count! >= before.raftkv_request_duration_seconds_count! + writes, "every write is a timed request");
    assert.ok(after.raftkv_fsync_duration_seconds_count! > before.raftkv_fsync_duration_seconds_count!, "writes are fsynced");
    assert.ok(after.raftkv_append_entries_sent_total! > before.raftkv_append_entries_sent_total!, "the leader sends AppendEntries");
    assert.ok(after.raftkv_append_entries_received_total! > before.raftkv_append_entries_received_total!, "followers receive AppendEntries");
    assert.ok((await max("raftkv_commit_index")) >= commitBefore + writes, "the commit index grows");
    assert.ok((await max("raftkv_applied_index")) >= appliedBefore + writes, "the applied index grows");
  });

  test("a killed node shows as unreachable in the leader's /status", async () => {
    leader = await cluster.waitForLeader();
    const victim = cluster.nodes.find((n) => n.id !== leader)!;
    await cluster.kill(victim.id);
    let last = "";
    for (let i = 0; i < 100; i++) {
      const s = (await (await get(cluster.node(leader), "/status")).json()) as { peers: { id: number; reachable: boolean }[] };
      last = JSON.stringify(s.peers);
      if (s.peers.find((p) => p.id === victim.id)?.reachable === false) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(last, new RegExp(`"id":${victim.id},[^}]*"reachable":false`), `peers seen by the leader: ${last}`);
    await cluster.restart(victim.id);
  });

  test("without an admin token, a state-changing request from a web page of another origin gets 403 and no CORS header", async () => {
    // Issue 11, finding 5: POST /transfer-leadership answered any page with Access-Control-Allow-Origin: *.
    const n = cluster.node(leader);
    const res = await fetch(`http://${n.host}:${n.adminPort}/transfer-leadership`, { method: "POST", headers: { origin: "http://evil.example" } });
    assert.equal(res.status, 403, await res.text());
    assert.equal(res.headers.get("access-control-allow-origin"), null);
    assert.equal((await cluster.status(leader))!.role, "leader", "nothing moved");
  });

  test("GET / serves the dashboard; other paths and methods are refused", async () => {
    const n = cluster.nodes[0]!;
    const page = await get(n, "/");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    const html = await page.text();
    assert.match(html, /^<!doctype html>/i);
    assert.doesNotMatch(html, /\b(src|href)\s*=\s*["']?(https?:)?\/\//i, "the page loads nothing from elsewhere");
    assert.equal((await get(n, "/nope")).status, 404);
    assert.equal((await get(n, "/status", { method: "POST" })).status, 405);
  });
});

describe("the test's exposition parser", () => {
  const histogram = (buckets: string, count: number): string =>
    `# HELP h_seconds A histogram.\n# TYPE h_seconds histogram\n${buckets}h_seconds_sum 1.5\nh_seconds_count ${count}\n`;

  test("reads families, labels with escapes, special values", () => {
    const m = parseExposition(`# HELP a_total Things.\n# TYPE a_total counter\na_total{k="x\\"y\\\\z\\n",j="2"} 3\n# TYPE g gauge\ng -Inf\n` + histogram(`h_seconds_bucket{le="0.1"} 1\nh_seconds_bucket{le="+Inf"} 2\n`, 2));
    assert.equal(value(m, "a_total", { k: 'x"y\\z\n' }), 3);
    assert.equal(value(m, "g"), -Infinity);
    assert.equal(m.get("h_seconds")!.samples.length, 4);
  });

  test("refuses broken text", () => {
    const bad = [
      "a 1", // no final newline
      "a{b=1} 2\n", // unquoted label value
      "a one\n",
      "# TYPE a counter\n# TYPE a gauge\na 1\n",
      "# TYPE a thing\n",
      histogram(`h_seconds_bucket{le="0.1"} 2\nh_seconds_bucket{le="+Inf"} 1\n`, 1), // not cumulative
      histogram(`h_seconds_bucket{le="0.1"} 1\nh_seconds_bucket{le="1"} 2\n`, 2), // no +Inf
      histogram(`h_seconds_bucket{le="0.1"} 1\nh_seconds_bucket{le="+Inf"} 2\n`, 3), // +Inf != count
    ];
    for (const text of bad) assert.throws(() => parseExposition(text), ExpositionError, JSON.stringify(text));
  });
});

describe("the election history on /status", () => {
  test("outlives a restart: a node killed with kill -9 still reports the election it won before (the dashboard's history)", async () => {
    const c = await TestCluster.start({ nodes: 3 });
    try {
      const leader = await c.waitForLeader(15_000);
      const term = (await c.status(leader))!.term;
      const won = `node ${leader} became leader`;
      const events = async () => ((await (await fetch(url(c.node(leader), "/status"))).json()) as { events: { term: number; event: string }[] }).events;
      assert.ok((await events()).some((e) => e.event === won && e.term === term));
      await c.kill(leader);
      await c.restart(leader);
      const after = await events();
      assert.ok(after.some((e) => e.event === won && e.term === term), `the restarted node remembers winning term ${term}: ${JSON.stringify(after)}`);
    } finally {
      await c.stop();
    }
  });
});
