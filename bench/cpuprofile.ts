// A text summary of a V8 .cpuprofile (node --cpu-prof): where the samples
// fall, by source area and by function (self time), so a profile can be read
// in a terminal and quoted in docs/PERFORMANCE.md.

import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** The source area of a frame: a raftkv directory, node:net, GC, idle, ... */
function area(url: string, name: string): string {
  if (name === "(idle)" || name === "(program)" || name === "(garbage collector)") return name;
  const m = /\/(src|bench|test)\/([a-z]+)\//.exec(url);
  if (m) return `${m[1]}/${m[2]}`;
  if (url.startsWith("node:")) return url.replace(/^node:internal\//, "node:").split("/").slice(0, 2).join("/");
  return url === "" ? "(native)" : url;
}

export function summarize(path: string, top = 25): string {
  const p = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const total = p.endTime - p.startTime;
  const idle = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName === "(idle)").reduce((s, [, t]) => s + t, 0);
  const busy = total - idle;
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, t] of self) {
    const f = byId.get(id)!.callFrame;
    if (f.functionName === "(idle)") continue;
    const a = area(f.url, f.functionName);
    areas.set(a, (areas.get(a) ?? 0) + t);
    const key = `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/(src|bench|test)\//, "$1/")}:${f.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + t);
  }
  const pct = (t: number) => `${((100 * t) / busy).toFixed(1).padStart(5)} %`;
  const lines = [`${path}: ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(2)} s busy (${((100 * busy) / total).toFixed(0)} %)`, "  by area (self time, share of busy):"];
  for (const [a, t] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, 14)) lines.push(`    ${pct(t)}  ${a}`);
  lines.push("  by function (self time):");
  for (const [f, t] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, top)) lines.push(`    ${pct(t)}  ${f}`);
  return lines.join("\n");
}

// Run directly: node dist/bench/cpuprofile.js FILE... [--top N]
if (process.argv[1]?.endsWith("cpuprofile.js")) {
  const args = process.argv.slice(2);
  const i = args.indexOf("--top");
  const top = i >= 0 ? Number(args.splice(i, 2)[1]) : 25;
  for (const f of args) console.log(summarize(f, top) + "\n");
}
