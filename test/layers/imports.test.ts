// The layer diagram (docs/ARCHITECTURE.md), enforced: every import between
// folders of src/ must be an arrow of LAYERS, and no file imports itself
// back through others (no cycle at file level, type-only imports included:
// a cycle of types is still two files that cannot be read one at a time).

import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import test from "node:test";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../../../src/", import.meta.url));

/** Which folders each folder may import. A new folder must be placed here. */
const LAYERS: Readonly<Record<string, readonly string[]>> = {
  util: [],
  core: ["util"],
  codec: ["core", "util"],
  resp: ["util"],
  kv: ["core", "resp", "util"],
  check: ["util"],
  explore: ["util"],
  client: ["resp", "util"],
  transport: ["codec", "core", "util"],
  storage: ["codec", "core", "util"],
  sim: ["check", "core", "explore", "kv", "resp", "util"],
  traffic: ["explore", "util"],
  server: ["codec", "core", "kv", "resp", "storage", "transport", "util"],
  /** Files directly under src/: the package's entry points (package.json "exports"). */
  "(package)": ["client", "codec", "core", "kv", "resp", "server", "storage", "transport", "util"],
  cli: ["check", "client", "codec", "core", "explore", "kv", "resp", "server", "sim", "storage", "traffic", "transport", "util"],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** file (relative to src/) -> the files it imports (relative to src/). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const text = readFileSync(file, "utf8");
    const targets: string[] = [];
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+["'](\.{1,2}\/[^"']+)["']/gms)) {
      targets.push(relative(SRC, resolve(dirname(file), m[1]!.replace(/\.js$/, ".ts"))));
    }
    for (const m of text.matchAll(/\bimport\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g)) {
      targets.push(relative(SRC, resolve(dirname(file), m[1]!.replace(/\.js$/, ".ts"))));
    }
    graph.set(relative(SRC, file), targets);
  }
  return graph;
}

const folderOf = (file: string): string => (file.includes("/") ? file.split("/")[0]! : "(package)");

test("every import between folders follows the layer diagram", () => {
  const graph = importGraph();
  assert.ok(graph.size > 50, `found the sources in ${SRC}`);
  const wrong: string[] = [];
  for (const [file, targets] of graph) {
    const from = folderOf(file);
    const allowed = LAYERS[from];
    if (allowed === undefined) {
      wrong.push(`src/${file}: folder ${from}/ is not in the layer table`);
      continue;
    }
    for (const t of targets) {
      const to = folderOf(t);
      if (to !== from && !allowed.includes(to)) wrong.push(`src/${file} imports src/${t}: ${from}/ may not import ${to}/`);
    }
  }
  assert.deepEqual(wrong, []);
});

test("the layer table itself has no cycle", () => {
  const seen = new Set<string>();
  const onPath: string[] = [];
  const visit = (folder: string): void => {
    assert.ok(!onPath.includes(folder), `folder cycle: ${[...onPath, folder].join(" -> ")}`);
    if (seen.has(folder)) return;
    onPath.push(folder);
    for (const to of LAYERS[folder] ?? []) visit(to);
    onPath.pop();
    seen.add(folder);
  };
  for (const folder of Object.keys(LAYERS)) visit(folder);
});

test("no file imports itself back through other files", () => {
  const graph = importGraph();
  // Tarjan's strongly connected components: any component of two or more files is a cycle.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  assert.deepEqual(cycles, []);
});
