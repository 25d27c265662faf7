// A node that cannot serve says so and exits 2, before it touches its data
// directory (issue 11): a port another process holds (peer, client or admin)
// or a host this machine does not have. `raftkv cluster` whose nodes all fail
// exits non-zero and prints each node's reason.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { BIN } from "../helpers/cluster.js";
import { freePort } from "../transport/support.js";

const dirs: string[] = [];
const servers: net.Server[] = [];
after(() => {
  for (const s of servers) s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function run(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    const t = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`raftkv ${args.join(" ")} kept running: ${stderr}`));
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

async function occupy(host: string, port: number): Promise<void> {
  const s = net.createServer();
  servers.push(s);
  await new Promise<void>((r) => s.listen(port, host, r));
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "raftkv-loud-"));
  dirs.push(d);
  return d;
}

describe("a node that cannot serve exits 2 with one line, before touching its data", () => {
  for (const kind of ["peer", "client", "admin"] as const) {
    test(`its ${kind} port is in use`, async () => {
      const host = "127.0.4.1";
      const ports = { peer: await freePort(host), client: await freePort(host), admin: await freePort(host) };
      const dir = tempDir();
      const config = join(dir, "cluster.json");
      writeFileSync(config, JSON.stringify({ nodes: [{ id: 1, peer: `${host}:${ports.peer}`, client: `${host}:${ports.client}`, admin: `${host}:${ports.admin}` }] }));
      await occupy(host, ports[kind]);
      const data = join(dir, "node-1");
      const r = await run(["server", "--config", config, "--id", "1", "--data", data]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^raftkv server: cannot start node 1: cannot listen for \\w[\\w ]* on ${host.replace(/\./g, "\\.")}:${ports[kind]}: the address is in use`, "m"));
      assert.equal(r.stderr.trim().split("\n").filter((l) => l.startsWith("raftkv server:")).length, 1);
      assert.ok(!existsSync(data), "the data directory was not created");
    });
  }

  test("its cluster file names a host this machine does not have", async () => {
    const dir = tempDir();
    const config = join(dir, "cluster.json");
    writeFileSync(config, JSON.stringify({ nodes: [{ id: 1, peer: "192.0.2.1:7000", client: "192.0.2.1:6379", admin: "192.0.2.1:8080" }] }));
    const data = join(dir, "node-1");
    const r = await run(["server", "--config", config, "--id", "1", "--data", data]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /192\.0\.2\.1 is not an address of this machine/);
    assert.ok(!existsSync(data));
  });
});

test("raftkv cluster whose nodes all fail to start exits non-zero and prints each node's reason", async () => {
  const dir = tempDir();
  // Find a base port whose nine ports are free, then take the three client ports.
  let base = 0;
  for (let attempt = 0; attempt < 50 && base === 0; attempt++) {
    const b = 20_000 + ((process.pid * 11 + attempt * 97) % 700) * 20;
    const all = [0, 1, 2].flatMap((i) => [b + i, b + 620 + i, b + 1700 + i]);
    const free = await Promise.all(all.map((p) => new Promise<boolean>((r) => {
      const s = net.createServer();
      s.once("error", () => r(false));
      s.listen(p, "127.0.0.1", () => s.close(() => r(true)));
    })));
    if (free.every(Boolean)) base = b;
  }
  assert.ok(base > 0, "a free port range");
  for (let i = 0; i < 3; i++) await occupy("127.0.0.1", base + i);
  const r = await run(["cluster", "--dir", dir, "--base-port", String(base)]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  for (let i = 0; i < 3; i++) assert.match(r.stderr, new RegExp(`node ${i + 1}: cannot start node ${i + 1}: cannot listen for clients on 127\\.0\\.0\\.1:${base + i}: the address is in use`));
  assert.doesNotMatch(r.stdout, /dashboard:/, "no banner for a cluster that is not running");
});
