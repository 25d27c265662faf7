// The package as a user gets it: `npm pack`, installed from the tarball into
// an empty directory, offline. Its three entry points import (and typecheck
// from their declarations), an example runs, and so does the raftkv binary.
// The tarball holds what a user needs and nothing else: no tests, no
// benchmarks, no source maps, nothing stale from the developer's dist/.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

let work: string;
let tarball: string;
let files: string[];

before(() => {
  work = mkdtempSync(join(tmpdir(), "raftkv-pack-"));
  // dist/ is built already (npm test builds first); --ignore-scripts skips the prepack build.
  const out = execFileSync(NPM, ["pack", "--json", "--ignore-scripts", "--pack-destination", work], { cwd: ROOT, encoding: "utf8" });
  const info = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, info[0]!.filename);
  files = info[0]!.files.map((f) => f.path);
  const app = join(work, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", type: "module", private: true }));
  execFileSync(NPM, ["install", "--offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball], { cwd: app, stdio: "pipe" });
});

after(() => rmSync(work, { recursive: true, force: true }));

const app = () => join(work, "app");

test("the tarball holds the built library, the binaries, the docs and the examples, and no tests, benchmarks or source maps", () => {
  for (const f of ["package.json", "README.md", "bin/raftkv.js", "dist/src/index.js", "dist/src/index.d.ts", "dist/src/server/index.d.ts", "dist/src/client/index.d.ts", "docs/LIBRARY.md", "docs/REFERENCE.md", "examples/counter-service.mjs"]) {
    assert.ok(files.includes(f), `${f} is in the tarball`);
  }
  const unwanted = files.filter((f) => /^(dist\/(test|bench)\/|test\/|bench\/|src\/|spec\/|data\/|node_modules\/)|\.map$|\.tgz$/.test(f));
  assert.deepEqual(unwanted, []);
  // Nothing stale: every compiled file has its source.
  const stale = files.filter((f) => f.startsWith("dist/src/") && f.endsWith(".js")).filter((f) => !existsSync(join(ROOT, f.replace(/^dist\//, "").replace(/\.js$/, ".ts"))));
  assert.deepEqual(stale, [], "compiled files without a source: `npm run build` starts from an empty dist/, as `npm pack` (prepack) and `npm test` (pretest) do");
});

test("installed from the tarball: raftkv, raftkv/server and raftkv/client import by name", () => {
  const script = `
    import * as core from "raftkv";
    import * as server from "raftkv/server";
    import * as client from "raftkv/client";
    console.log(typeof core.RaftNode, core.EntryKind.Normal, typeof server.startNode, typeof server.loadClusterFile, typeof client.RaftKvClient, typeof client.NoNodeReachableError);
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: app(), encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "function 0 function function function function\n");
  // Internals are not reachable by deep import: only the entry points are the API.
  const deep = spawnSync(process.execPath, ["--input-type=module", "-e", `import "raftkv/dist/src/core/node.js";`], { cwd: app(), encoding: "utf8" });
  assert.notEqual(deep.status, 0);
  assert.match(deep.stderr, /ERR_PACKAGE_PATH_NOT_EXPORTED/);
});

test("installed from the tarball: the declarations typecheck a TypeScript user's code", () => {
  writeFileSync(
    join(app(), "use.ts"),
    `import { RaftNode, type Ready } from "raftkv";
import { startNode, type StateMachine } from "raftkv/server";
import { RaftKvClient } from "raftkv/client";
class Flag implements StateMachine<boolean> {
  on = false;
  apply(command: Buffer): boolean { this.on = command.toString() === "on"; return this.on; }
  snapshot(): Uint8Array { return Buffer.from(this.on ? "on" : "off"); }
  restore(data: Uint8Array): void { this.on = Buffer.from(data).toString() === "on"; }
}
export async function main(): Promise<boolean> {
  const n = new RaftNode({ id: 1, members: [1], electionTimeoutTicks: [10, 20], heartbeatTicks: 1, random: () => 0 });
  const rd: Ready | null = n.hasReady() ? n.ready() : null;
  const node = await startNode({ cluster: "cluster.json", id: 1, stateMachine: new Flag() });
  const on: boolean = await node.propose("on");
  const c = new RaftKvClient({ nodes: [{ host: "127.0.0.1", port: 6381 }] });
  await c.set("k", "v");
  return on && rd !== null;
}
`,
  );
  writeFileSync(join(app(), "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", strict: true, noEmit: true, types: ["node"], typeRoots: [join(ROOT, "node_modules/@types")] }, files: ["use.ts"] }));
  const r = spawnSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "."], { cwd: app(), encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("installed from the tarball: an example runs, and so does the raftkv binary", () => {
  copyFileSync(join(app(), "node_modules/raftkv/examples/in-memory-cluster.mjs"), join(app(), "example.mjs"));
  const ex = spawnSync(process.execPath, ["example.mjs"], { cwd: app(), encoding: "utf8" });
  assert.equal(ex.status, 0, ex.stderr);
  assert.match(ex.stdout, /all three nodes applied the same commands in the same order/);

  const bin = join(app(), "node_modules/.bin/raftkv");
  const version = spawnSync(bin, ["--version"], { cwd: app(), encoding: "utf8" });
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout, /^raftkv \d+\.\d+\.\d+\n$/);
  const sim = spawnSync(bin, ["sim", "--seeds", "2", "--nodes", "3", "--steps", "200"], { cwd: app(), encoding: "utf8" });
  assert.equal(sim.status, 0, sim.stderr);
  assert.match(sim.stdout, /violations: 0/);
  assert.ok(readdirSync(app()).every((f) => f !== "data"), "nothing written where it was not asked to");
  assert.equal(relative(app(), bin), join("node_modules", ".bin", "raftkv"));
});
