// docs/COURSE.md works as printed: every command in it runs here, from the
// project directory, in order. A comment after a command says what to
// expect: `background: until "TEXT"` (started, and waited for until it
// prints TEXT; stopped at the end), `exit N` (that exit status), or the
// exact output (`# ok`, `# hello`); no comment means exit 0. Every file
// and directory the page names exists. The page's cluster directory
// (/tmp/raftkv-course) and ports are replaced by a directory and free ports
// of this run's own, so that two runs (or anything else on the machine) do
// not collide.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitUntil } from "../server/support.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const PAGE = readFileSync(join(ROOT, "docs", "COURSE.md"), "utf8");
/** The directory the page's cluster lives in, as printed; the test runs it in a directory of its own. */
const PAGE_CLUSTER_DIR = "/tmp/raftkv-course";
const CLUSTER_DIR = mkdtempSync(join(tmpdir(), "raftkv-course-"));

export interface CourseCommand {
  readonly section: string;
  readonly command: string;
  readonly expect: { readonly kind: "background"; readonly until: string } | { readonly kind: "exit"; readonly code: number } | { readonly kind: "output"; readonly text: string };
}

/** The commands of the page: indented code lines starting with npx or node, with what their comments expect. */
export function courseCommands(page: string): CourseCommand[] {
  const out: CourseCommand[] = [];
  let section = "";
  for (const line of page.split("\n")) {
    if (line.startsWith("## ")) section = line.slice(3);
    const m = /^ {4}((?:npx|node) .*?)(?:\s{2,}#\s*(.*))?$/.exec(line);
    if (!m) continue;
    const note = m[2]?.trim() ?? "";
    const bg = /^background: until "([^"]+)"$/.exec(note);
    if (note.startsWith("background") && !bg) throw new Error(`write a background command's comment as: background: until "TEXT" (${line.trim()})`);
    const exit = /^exit (\d+)$/.exec(note);
    out.push({
      section,
      command: m[1]!.trim(),
      expect: bg ? { kind: "background", until: bg[1]! } : exit ? { kind: "exit", code: Number(exit[1]) } : note !== "" ? { kind: "output", text: note } : { kind: "exit", code: 0 },
    });
  }
  return out;
}

/** Whether every port in `ports` can be listened on at 127.0.0.1 now. */
async function free(ports: number[]): Promise<boolean> {
  const servers: ReturnType<typeof createServer>[] = [];
  try {
    for (const port of ports) {
      const s = createServer();
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.listen(port, "127.0.0.1", () => resolve());
      });
      servers.push(s);
    }
    return true;
  } catch {
    return false;
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/**
 * The page's command with its fixed directory and ports replaced by this run's own (two runs of this test at
 * once, or anything else on the machine using the page's ports, would otherwise collide). `ports` maps each
 * port the page names to the one used here, chosen once per page port.
 */
async function localize(command: string, ports: Map<number, number>): Promise<string> {
  const pick = async (pagePort: number, span: number[]): Promise<number> => {
    const known = ports.get(pagePort);
    if (known !== undefined) return known;
    for (;;) {
      const base = 20_000 + Math.floor(Math.random() * (60_000 - 20_000 - 2000));
      if ([...ports.values()].some((p) => Math.abs(p - base) < 2000)) continue;
      if (await free(span.map((d) => base + d))) {
        ports.set(pagePort, base);
        return base;
      }
    }
  };
  let out = command.replaceAll(PAGE_CLUSTER_DIR, CLUSTER_DIR);
  // `raftkv cluster --base-port P` listens on P.., P+620.. and P+1700.. (three nodes).
  for (const m of [...out.matchAll(/--base-port (\d+)/g)]) {
    const port = await pick(Number(m[1]), [0, 1, 2, 620, 621, 622, 1700, 1701, 1702]);
    out = out.replace(m[0], `--base-port ${port}`);
  }
  for (const m of [...out.matchAll(/127\.0\.0\.1:(\d+)/g)]) {
    const port = await pick(Number(m[1]), [0]);
    out = out.replace(m[0], `127.0.0.1:${port}`);
  }
  return out;
}

test("a command is run in this test's own directory and ports, the same page port mapped to the same port each time", async () => {
  const ports = new Map<number, number>();
  const a = await localize("npx raftkv kv server --listen 127.0.0.1:16389", ports);
  const b = await localize("npx raftkv kv get k --connect 127.0.0.1:16389", ports);
  const c = await localize("npx raftkv cluster --dir /tmp/raftkv-course --base-port 16390", ports);
  const port = /127\.0\.0\.1:(\d+)/.exec(a)![1]!;
  assert.equal(b, `npx raftkv kv get k --connect 127.0.0.1:${port}`);
  assert.match(c, new RegExp(`^npx raftkv cluster --dir ${CLUSTER_DIR} --base-port \\d+$`));
  assert.notEqual(port, "16389");
  assert.equal(ports.size, 2);
});

const background: ChildProcess[] = [];
/** The environment the commands run in: a reader's (a nested `node --test` must not report to this test runner). */
const ENV: NodeJS.ProcessEnv = { ...process.env, RAFTKV_LOG_LEVEL: "warn" };
delete ENV.NODE_TEST_CONTEXT;

after(async () => {
  for (const child of background) {
    try {
      process.kill(-child.pid!, "SIGTERM"); // its whole process group: npx, raftkv, and a cluster's nodes
    } catch {
      // already gone
    }
  }
  await Promise.all(background.map((c) => (c.exitCode !== null || c.signalCode !== null ? null : new Promise((r) => c.once("exit", r)))));
  rmSync(CLUSTER_DIR, { recursive: true, force: true });
});

test("the page's commands are found, with a command for each step of the course", () => {
  const commands = courseCommands(PAGE);
  assert.ok(commands.length >= 20, `${commands.length} commands`);
  const sections = new Set(commands.map((c) => c.section));
  for (const step of ["Warm-up", "1b", "1c", "2 ", "3 ", "4 ", "5 ", "6 ", "7 ", "8 ", "9 ", "10 ", "11 ", "The testing challenge"]) {
    assert.ok([...sections].some((s) => s.startsWith(step)), `a command in the step "${step}"`);
  }
  assert.deepEqual(courseCommands('    npx raftkv kv get k --connect x:1         # exit 1\n    npx a b  # background: until "go"\n    node x.mjs  # hello'), [
    { section: "", command: "npx raftkv kv get k --connect x:1", expect: { kind: "exit", code: 1 } },
    { section: "", command: "npx a b", expect: { kind: "background", until: "go" } },
    { section: "", command: "node x.mjs", expect: { kind: "output", text: "hello" } },
  ]);
});

test("every file and directory the page names exists", () => {
  const named = [...PAGE.matchAll(/`((?:src|test|docs|examples|bench|spec)\/[^`\s]*)`/g)].map((m) => m[1]!);
  assert.ok(named.length >= 30, `${named.length} paths`);
  assert.deepEqual(named.filter((p) => !existsSync(join(ROOT, p))), []);
});

test("every command on the page runs as printed and does what its comment says", { timeout: 600_000 }, async (t) => {
  const ports = new Map<number, number>();
  for (const printed of courseCommands(PAGE)) {
    const c = { ...printed, command: await localize(printed.command, ports) };
    if (c.expect.kind === "background") {
      const child = spawn("sh", ["-c", c.command], { cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"], env: ENV });
      background.push(child);
      let output = "";
      child.stdout!.on("data", (b: Buffer) => (output += b.toString()));
      child.stderr!.on("data", (b: Buffer) => (output += b.toString()));
      const until = c.expect.until;
      await waitUntil(`${c.command} to print "${until}"`, () => {
        if (child.exitCode !== null) throw new Error(`${c.command} exited with ${child.exitCode}:\n${output}`);
        return output.includes(until);
      }, 60_000);
      continue;
    }
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn("sh", ["-c", c.command], { cwd: ROOT, detached: true, env: ENV });
      // A command that does not end (a server run in the foreground by mistake) fails the test instead of hanging it.
      const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), 300_000);
      child.on("close", () => clearTimeout(timer));
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
      child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
      child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
    t.diagnostic(`${c.section}: ${c.command} -> exit ${r.status}`);
    const where = `[${c.section}] ${c.command}\n${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`;
    if (c.expect.kind === "exit") assert.equal(r.status, c.expect.code, where);
    else {
      assert.equal(r.status, 0, where);
      assert.equal(r.stdout.trim(), c.expect.text, where);
    }
    if (c.command.startsWith("node --test")) assert.match(r.stdout, /^# pass [1-9]/m, `${where}\nthe pattern must select at least one test`);
  }
});

