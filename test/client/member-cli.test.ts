// `raftkv member list | add | promote | remove` end to end: `node
// bin/raftkv.js member ...` as a child process against scripted admin ports
// in this process. The cluster file names a follower and a dead node; the
// leader and a member added since are found through the follower's answer.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closedPort, startScriptedAdmin, type AdminRequest } from "./fakes.js";
import { runRaftkv, type Run } from "../helpers/raftkv-cli.js";

/** `raftkv member ARGS`; the admin token comes only from `env`, never from this process's environment. */
function raftkv(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return runRaftkv(["member", ...args], { env, unset: "RAFTKV_ADMIN_TOKEN" in env ? [] : ["RAFTKV_ADMIN_TOKEN"] });
}

type Fake = Awaited<ReturnType<typeof startScriptedAdmin>>;

describe("raftkv member", () => {
  let dir: string;
  let config: string;
  let deadConfig: string;
  let follower: Fake;
  let leader: Fake;
  let joined: Fake;
  /** What the leader answers to a change; the test sets it. */
  let leaderAnswer: (req: AdminRequest) => { code: number; body: unknown } | Promise<{ code: number; body: unknown }>;
  const members = () => [
    { id: 1, peer: "127.0.0.1:7001", client: "127.0.0.1:6001", admin: follower.text, role: "voter", state: "voter" },
    { id: 2, peer: "127.0.0.1:7002", client: "127.0.0.1:6002", admin: leader.text, role: "voter", state: "voter" },
    { id: 4, peer: "127.0.0.1:7004", client: "127.0.0.1:6004", admin: joined.text, role: "learner", state: "joining" },
  ];
  const view = (fromLeader: boolean) => ({
    leader: 2,
    configIndex: 12,
    committed: true,
    joint: false,
    members: members().map((m) => ({ ...m, reachable: fromLeader ? m.id !== 4 || false : null, matchIndex: fromLeader ? (m.id === 4 ? 3 : 40) : null, waiting: fromLeader && m.id === 4 ? "node 4 has not answered the leader within the last election timeout" : null })),
    pending: null,
  });

  before(async () => {
    dir = mkdtempSync(join(process.env.TMPDIR ?? tmpdir(), "raftkv-member-cli-"));
    follower = await startScriptedAdmin((req) => {
      if (req.method === "GET" && req.url === "/members") return { code: 200, body: view(false) };
      return { code: 421, body: { error: "not the leader", leader: 2, admin: leader.text } };
    });
    leader = await startScriptedAdmin((req) => {
      if (req.method === "GET" && req.url === "/members") return { code: 200, body: view(true) };
      return leaderAnswer(req);
    });
    joined = await startScriptedAdmin((req) => {
      if (req.method === "GET" && req.url === "/members") return { code: 200, body: view(false) };
      return { code: 421, body: { error: "not the leader", leader: 2, admin: leader.text } };
    });
    const dead = `127.0.0.1:${await closedPort()}`;
    config = join(dir, "cluster.json");
    // The cluster file of the bootstrap membership: node 1 (alive, a follower) and node 3 (gone since).
    writeFileSync(
      config,
      JSON.stringify({
        nodes: [
          { id: 1, peer: "127.0.0.1:7001", client: "127.0.0.1:6001", admin: follower.text },
          { id: 3, peer: "127.0.0.1:7003", client: "127.0.0.1:6003", admin: dead },
        ],
      }),
    );
    deadConfig = join(dir, "dead.json");
    writeFileSync(deadConfig, JSON.stringify({ nodes: [{ id: 1, peer: "127.0.0.1:7001", client: "127.0.0.1:6001", admin: dead }] }));
  });

  after(async () => {
    await Promise.all([follower.close(), leader.close(), joined.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  test("list: one line per live member, found through a follower the cluster file names; the leader's view of reachability and match index", async () => {
    const r = await raftkv(["list", "--config", config]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^ID\s+PEER\s+CLIENT\s+ADMIN\s+ROLE\s+STATE\s+REACHABLE\s+MATCH$/);
    assert.match(lines[1]!, new RegExp(`^1 +127\\.0\\.0\\.1:7001 +127\\.0\\.0\\.1:6001 +${follower.text} +voter +voter +yes +40$`));
    assert.match(lines[2]!, /^2\* .* voter +voter +yes +40$/);
    assert.match(lines[3]!, /^4 .* learner +joining +no +3$/);
    assert.match(lines[4]!, /^leader: node 2 \(marked \*\); configuration at index 12, committed$/);
    assert.equal(lines[5], "node 4 is joining: the leader promotes it once it can; not yet: node 4 has not answered the leader within the last election timeout");
    assert.equal(lines.length, 6, "the dead node 3 of the cluster file is not a member any more");
  });

  test("list --json prints the leader's answer", async () => {
    const r = await raftkv(["list", "--config", config, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), view(true));
  });

  test("add: sent to the leader (after the follower's 421), with the new node's addresses; exit 0", async () => {
    leaderAnswer = () => ({ code: 200, body: { ok: true, index: 13 } });
    const before = leader.requests.length;
    const r = await raftkv(["add", "5", "--peer", "127.0.0.1:7005", "--client", "127.0.0.1:6005", "--admin", "127.0.0.1:8005", "--learner", "--config", config]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /node 5 added as a learner \(configuration entry at index 13\)/);
    const posts = leader.requests.slice(before).filter((q) => q.method === "POST");
    assert.equal(posts.length, 1);
    assert.equal(posts[0]!.url, "/members");
    assert.deepEqual(posts[0]!.body, { id: 5, peer: "127.0.0.1:7005", client: "127.0.0.1:6005", admin: "127.0.0.1:8005", learner: true });
    const r2 = await raftkv(["add", "6", "--peer", "127.0.0.1:7006", "--client", "127.0.0.1:6006", "--admin", "127.0.0.1:8006", "--config", config]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal((leader.requests.at(-1)!.body as { learner: boolean }).learner, false);
    assert.match(r2.stdout, /promotes it to voter once it has caught up/);
  });

  test("a 421 names the leader: the change follows it there, even when the leader is in no list the command had", async () => {
    leaderAnswer = () => ({ code: 200, body: { ok: true, index: 14 } });
    // A node that knows no leader and no other member (say, just restarted) but answers 421 with the leader's address.
    const lost = await startScriptedAdmin((req) => {
      if (req.method === "GET") return { code: 200, body: { leader: null, configIndex: 12, committed: true, joint: false, members: [{ ...members()[0]!, admin: lost.text }], pending: null } };
      return { code: 421, body: { error: "not the leader", leader: 2, admin: leader.text } };
    });
    try {
      const only = join(dir, "only-lost.json");
      writeFileSync(only, JSON.stringify({ nodes: [{ id: 1, peer: "127.0.0.1:7001", client: "127.0.0.1:6001", admin: lost.text }] }));
      const r = await raftkv(["promote", "4", "--config", only]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(lost.requests.map((q) => `${q.method} ${q.url}`), ["GET /members", "POST /members/4/promote"]);
      assert.equal(leader.requests.at(-1)!.url, "/members/4/promote");
      assert.match(r.stdout, /node 4 promoted to voter/);
    } finally {
      await lost.close();
    }
  });

  test("promote of a learner that is behind: exit 2 with the server's reason", async () => {
    leaderAnswer = () => ({ code: 409, body: { error: "node 4 is 37 entries behind the leader (at most 10 allowed)" } });
    const r = await raftkv(["promote", "4", "--config", config]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /refused: node 4 is 37 entries behind/);
    assert.equal(r.stdout, "");
  });

  test("remove: refused (422) when it would lose quorum; --force sends force=1", async () => {
    leaderAnswer = (req) =>
      req.url.endsWith("?force=1") ? { code: 200, body: { ok: true, index: 15 } } : { code: 422, body: { error: "removing node 1 would leave 1 of 2 voters reachable: no quorum; use --force" } };
    const r = await raftkv(["remove", "1", "--config", config]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /would leave 1 of 2 voters reachable/);
    assert.equal(leader.requests.at(-1)!.method, "DELETE");
    const forced = await raftkv(["remove", "1", "--force", "--config", config]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(leader.requests.at(-1)!.url, "/members/1?force=1");
    assert.match(forced.stdout, /node 1 removed/);
  });

  test("a leader just elected (409 with retry): asked again until it takes the change", async () => {
    let asked = 0;
    leaderAnswer = () => (++asked < 3 ? { code: 409, body: { error: "this leader was just elected", retry: true } } : { code: 200, body: { ok: true, index: 17 } });
    const r = await raftkv(["promote", "4", "--force", "--config", config]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(asked, 3);
    assert.equal(leader.requests.at(-1)!.url, "/members/4/promote?force=1");
  });

  test("the server's advice to add ?force=1 reads as the CLI's --force", async () => {
    leaderAnswer = () => ({ code: 422, body: { error: "removing node 2 is refused: node 3 is not reachable; add ?force=1 to do it anyway" } });
    const r = await raftkv(["remove", "2", "--config", config]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not reachable; give --force to do it anyway/);
  });

  test("a change while another is pending: exit 2 with the server's reason", async () => {
    leaderAnswer = () => ({ code: 409, body: { error: "a membership change is pending (index 15)" } });
    const r = await raftkv(["remove", "4", "--config", config]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pending/);
  });

  test("the admin token goes as a bearer token; a 401 says how to give it", async () => {
    leaderAnswer = (req) => (req.authorization === "Bearer s3cret" ? { code: 200, body: { ok: true, index: 16 } } : { code: 401, body: { error: "admin token required" } });
    const without = await raftkv(["promote", "4", "--config", config]);
    assert.equal(without.code, 2);
    assert.match(without.stderr, /admin token required.*RAFTKV_ADMIN_TOKEN/);
    const withToken = await raftkv(["promote", "4", "--config", config], { RAFTKV_ADMIN_TOKEN: "s3cret" });
    assert.equal(withToken.code, 0, withToken.stderr);
  });

  test("an answer that never comes: exit 1, and the change is not sent twice", async () => {
    let posts = 0;
    leaderAnswer = () => {
      posts++;
      return new Promise(() => {});
    };
    const r = await raftkv(["promote", "4", "--config", config, "--timeout", "600"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /may or may not have been made/);
    assert.equal(posts, 1);
  });

  test("no node answers: exit 1", async () => {
    for (const args of [["list"], ["promote", "4"]]) {
      const r = await raftkv([...args, "--config", deadConfig, "--timeout", "1000"]);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /no node answered .*connection refused/);
    }
  });

  test("usage errors exit 2 and say what is wrong; --help describes every subcommand", async () => {
    const cases: [string[], RegExp][] = [
      [[], /expects list, add, promote or remove/],
      [["grow"], /got 'grow'/],
      [["add", "5", "--peer", "127.0.0.1:7005", "--client", "127.0.0.1:6005"], /needs --admin/],
      [["add", "5", "--peer", "nohost", "--client", "127.0.0.1:6005", "--admin", "127.0.0.1:8005"], /--peer must be HOST:PORT/],
      [["promote"], /one node ID/],
      [["promote", "x"], /positive integer/],
      [["remove", "4", "--learner"], /takes no --learner/],
      [["list", "--force"], /takes no --force/],
    ];
    for (const [args, message] of cases) {
      const r = await raftkv([...args, "--config", config]);
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.stderr, message, args.join(" "));
      assert.equal(r.stdout, "");
    }
    const help = await raftkv(["--help"]);
    assert.equal(help.code, 0);
    for (const word of ["list", "add ID --peer H:P --client H:P --admin H:P [--learner]", "promote ID", "remove ID [--force]", "RAFTKV_ADMIN_TOKEN", "exit codes"]) assert.ok(help.stdout.includes(word), word);
  });
});
