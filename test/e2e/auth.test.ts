// Client AUTH (Redis requirepass) and the admin token on a real cluster
// (docs/SECURITY.md): -NOAUTH before AUTH, -WRONGPASS for a wrong password,
// `AUTH pw` and `AUTH default pw`; redis-cli -a, redis-benchmark -a, ioredis
// `password` and the raftkv client commands all work; a state-changing admin
// request without the token gets 401 and no wildcard CORS; FLUSHALL and
// FLUSHDB are refused (-NOPERM) to the default user, directly, queued in a
// transaction or wrapped in RAFTKV.SESSION, and allowed to `AUTH admin TOKEN`.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { Connection } from "../../src/client/connection.js";
import { BIN, respCommand, TestCluster } from "../helpers/cluster.js";
import { roles, runTool } from "./support.js";

const PASSWORD = "s3cret-pass word";
const TOKEN = "an admin token long enough";

function raftkv(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("AUTH and the admin token", () => {
  let c: TestCluster;
  before(async () => {
    c = await TestCluster.start({
      extra: (dir) => {
        writeFileSync(join(dir, "admin-token"), TOKEN + "\n", { mode: 0o600 });
        return { requirepass: PASSWORD, adminTokenFile: "admin-token" };
      },
    });
  });
  after(async () => {
    await c?.stop();
  });

  test("Redis requirepass semantics on the client port", async () => {
    const { leader } = await roles(c);
    const n = c.node(leader);
    assert.deepEqual(await respCommand(n.host, n.clientPort, ["GET", "k"]), { kind: "error", message: "NOAUTH Authentication required." });
    assert.deepEqual(await respCommand(n.host, n.clientPort, ["AUTH", "nope"]), { kind: "error", message: "WRONGPASS invalid username-password pair or user is disabled." });
    assert.deepEqual(await respCommand(n.host, n.clientPort, ["AUTH", "someone", PASSWORD]), { kind: "error", message: "WRONGPASS invalid username-password pair or user is disabled." });
    assert.deepEqual(await respCommand(n.host, n.clientPort, ["AUTH", "default", PASSWORD, "more"]), { kind: "error", message: "ERR syntax error" });
    assert.deepEqual(await respCommand(n.host, n.clientPort, ["AUTH", PASSWORD]), { kind: "simple", value: "OK" });
    assert.deepEqual(await respCommand(n.host, n.clientPort, ["AUTH", "default", PASSWORD]), { kind: "simple", value: "OK" });
    // One connection: AUTH, then commands run.
    const r = await runTool("redis-cli", ["-h", n.host, "-p", String(n.clientPort), "--no-auth-warning", "-a", PASSWORD, "SET", "viacli", "1"]);
    assert.equal(r.stdout.trim(), "OK", r.stderr);
    const noauth = await runTool("redis-cli", ["-h", n.host, "-p", String(n.clientPort), "GET", "viacli"]);
    assert.match(noauth.stdout, /NOAUTH/);
  });

  test("redis-benchmark -a and ioredis password work", async () => {
    const { leader } = await roles(c);
    const n = c.node(leader);
    const bench = await runTool("redis-benchmark", ["-h", n.host, "-p", String(n.clientPort), "-a", PASSWORD, "-t", "set,get", "-n", "200", "-c", "4", "-q"]);
    assert.match(bench.stdout, /SET: .*requests per second/, bench.stdout + bench.stderr);
    assert.match(bench.stdout, /GET: .*requests per second/);
    const redis = new Redis({ host: n.host, port: n.clientPort, password: PASSWORD });
    assert.equal(await redis.set("io", "x"), "OK");
    assert.equal(await redis.get("io"), "x");
    redis.disconnect();
  });

  test("the raftkv client commands take the password from the cluster file or RAFTKV_PASSWORD", async () => {
    const set = await raftkv(["set", "cli", "v", "--config", c.configPath]);
    assert.equal(set.code, 0, set.stderr);
    const get = await raftkv(["get", "cli", "--config", c.configPath]);
    assert.deepEqual([get.code, get.stdout], [0, "v\n"]);
    const wrong = await raftkv(["get", "cli", "--config", c.configPath], { RAFTKV_PASSWORD: "wrong" });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /WRONGPASS/);
  });

  test("FLUSHALL and FLUSHDB are for the admin user only (AUTH admin <admin token>)", async () => {
    const { leader } = await roles(c);
    const n = c.node(leader);
    const conn = await Connection.connect({ host: n.host, port: n.clientPort }, { connectTimeoutMs: 5000 });
    try {
      const send = async (...args: string[]) => conn.send(args, 10_000);
      const noPerm = (name: string) => ({ kind: "error", message: `NOPERM User default has no permissions to run the '${name}' command` });
      assert.deepEqual(await send("AUTH", PASSWORD), { kind: "simple", value: "OK" });
      assert.deepEqual(await send("SET", "precious", "1"), { kind: "simple", value: "OK" });
      assert.deepEqual(await send("FLUSHALL"), noPerm("flushall"));
      assert.deepEqual(await send("flushdb", "ASYNC"), noPerm("flushdb"));
      // Queued: refused at once, and the transaction is discarded at EXEC (as Redis's ACL check does).
      assert.deepEqual(await send("MULTI"), { kind: "simple", value: "OK" });
      assert.deepEqual(await send("SET", "other", "1"), { kind: "simple", value: "QUEUED" });
      assert.deepEqual(await send("FLUSHALL"), noPerm("flushall"));
      assert.deepEqual(await send("EXEC"), { kind: "error", message: "EXECABORT Transaction discarded because of previous errors." });
      // Wrapped in a client session: still refused.
      const id = await send("RAFTKV.REGISTER");
      assert.equal(id.kind, "integer");
      assert.deepEqual(await send("RAFTKV.SESSION", String((id as { value: number }).value), "1", "FLUSHDB"), noPerm("flushdb"));
      assert.deepEqual(await send("GET", "precious"), { kind: "bulk", value: Buffer.from("1") });
      assert.deepEqual(await send("EXISTS", "other"), { kind: "integer", value: 0 });
      // The admin user: the admin token is its password. A wrong one changes nothing.
      assert.deepEqual(await send("AUTH", "admin", PASSWORD), { kind: "error", message: "WRONGPASS invalid username-password pair or user is disabled." });
      assert.deepEqual(await send("FLUSHALL"), noPerm("flushall"));
      assert.deepEqual(await send("AUTH", "admin", TOKEN), { kind: "simple", value: "OK" });
      assert.deepEqual(await send("FLUSHALL"), { kind: "simple", value: "OK" });
      assert.deepEqual(await send("GET", "precious"), { kind: "bulk", value: null });
      // Back to the default user: refused again.
      assert.deepEqual(await send("AUTH", "default", PASSWORD), { kind: "simple", value: "OK" });
      assert.deepEqual(await send("FLUSHDB"), noPerm("flushdb"));
    } finally {
      conn.close();
    }
    // A fresh connection may log in as the admin user directly.
    assert.deepEqual(await respCommand(n.host, n.clientPort, ["AUTH", "admin", TOKEN]), { kind: "simple", value: "OK" });
  });

  test("state-changing admin requests need the token; reads stay open", async () => {
    const { leader, followers } = await roles(c);
    const n = c.node(leader);
    const url = `http://${n.host}:${n.adminPort}/transfer-leadership?to=${followers[0]}`;
    const none = await fetch(url, { method: "POST" });
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("access-control-allow-origin"), null, "no wildcard CORS on a state-changing endpoint");
    assert.equal((await fetch(url, { method: "POST", headers: { authorization: "Bearer wrong token" } })).status, 401);
    // A web page of another origin, even with the token (which it should not have): refused.
    assert.equal((await fetch(url, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, origin: "http://evil.example" } })).status, 403);
    assert.equal((await c.status(leader))!.role, "leader", "nothing moved");
    const status = await fetch(`http://${n.host}:${n.adminPort}/status`);
    assert.equal(status.status, 200);
    assert.equal(status.headers.get("access-control-allow-origin"), "*");
    const ok = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200, await ok.text());
    // raftkv move-leader reads the token file named in the cluster file.
    const back = await raftkv(["move-leader", String(leader), "--config", c.configPath]);
    assert.equal(back.code, 0, back.stderr);
  });
});
