// Every link in the README and docs/ resolves inside the repository: a clone
// has no ../shared or /home/... to follow. Anchors (#section) must name a
// heading of the target page, as GitHub renders it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The Markdown pages of the repository a reader meets: README.md, docs/, examples/. */
export function markdownPages(): string[] {
  const pages = ["README.md"];
  for (const dir of ["docs", "examples"]) {
    const walk = (d: string): void => {
      if (!existsSync(join(ROOT, d))) return;
      for (const name of readdirSync(join(ROOT, d))) {
        const rel = join(d, name);
        if (statSync(join(ROOT, rel)).isDirectory()) walk(rel);
        else if (name.endsWith(".md")) pages.push(rel);
      }
    };
    walk(dir);
  }
  return pages;
}

/** The links of a page: [text](target) and ![alt](target), outside code blocks and code spans. */
export function linksOf(markdown: string): string[] {
  const prose = markdown
    .replace(/^```[\s\S]*?^```/gm, "")
    .split("\n")
    .filter((line) => !/^( {4}|\t)/.test(line))
    .join("\n")
    .replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, "")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const counts = new Map<string, number>();
  for (const m of markdown.replace(/^```[\s\S]*?^```/gm, "").matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1]!);
    const n = counts.get(base) ?? 0;
    counts.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** What is wrong with one link of `page`, or null. */
function problem(page: string, link: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(link)) return /^(https?|mailto):/i.test(link) ? null : `scheme not allowed: ${link}`;
  if (link.includes("/shared/") || link.startsWith("../shared")) return `links to the session's shared files, which a clone does not have: ${link}`;
  if (link.startsWith("/")) return `absolute path: ${link}`;
  const [pathPart, anchor] = link.split("#", 2) as [string, string | undefined];
  const target = pathPart === "" ? join(ROOT, page) : resolve(ROOT, dirname(page), decodeURIComponent(pathPart));
  const rel = relative(ROOT, target);
  if (rel.startsWith("..") || resolve(ROOT, rel) !== target) return `leaves the repository: ${link}`;
  if (!existsSync(target)) return `no such file: ${link} (${rel})`;
  if (anchor !== undefined && target.endsWith(".md") && !anchorsOf(readFileSync(target, "utf8")).has(anchor))
    return `no heading for #${anchor} in ${rel}`;
  return null;
}

test("the pages it checks include the README and every page under docs/", () => {
  const pages = markdownPages();
  assert.ok(pages.includes("README.md"));
  assert.ok(pages.includes(join("docs", "REFERENCE.md")));
  assert.ok(pages.length >= 8, pages.join(", "));
});

test("every relative link in README.md, docs/ and examples/ resolves to a file inside the repository", () => {
  const bad: string[] = [];
  let checked = 0;
  for (const page of markdownPages()) {
    for (const link of linksOf(readFileSync(join(ROOT, page), "utf8"))) {
      checked++;
      const p = problem(page, link);
      if (p) bad.push(`${page}: ${p}`);
    }
  }
  assert.deepEqual(bad, []);
  assert.ok(checked >= 20, `only ${checked} links found: is the link pattern right?`);
});

test("the checker itself catches what it must", () => {
  assert.match(problem("README.md", "../shared/SPEC.md")!, /shared/);
  assert.match(problem("README.md", "docs/NOPE.md")!, /no such file/);
  assert.match(problem("docs/REFERENCE.md", "../../etc/passwd")!, /leaves the repository/);
  assert.match(problem("README.md", "/work/notes/x.md")!, /absolute path/);
  assert.match(problem("README.md", "docs/REFERENCE.md#no-such-heading")!, /no heading/);
  assert.equal(problem("README.md", "docs/REFERENCE.md#3-cluster-file-json"), null);
  assert.equal(problem("README.md", "https://raft.github.io/"), null);
  assert.deepEqual(linksOf("see [a](x.md) and ![img](i.png)\n\n    [not](code.md)\n`[nor](span.md)`"), ["x.md", "i.png"]);
  assert.equal(slug("4. Client port: the Redis protocol (RESP2)"), "4-client-port-the-redis-protocol-resp2");
});
