// COMMAND lists exactly the supported commands, and each one's metadata
// (arity, flags, key positions, ACL categories) is what redis-server says
// for the same command. The lists of supported commands in docs/REDIS.md
// and the README name exactly the command table's commands (and, in
// REDIS.md, their subcommands).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { ReplyParser } from "../../src/client/replyParser.js";
import { COMMANDS } from "../../src/kv/commandTable.js";
import type { Reply } from "../../src/resp/writer.js";
import { Harness } from "../kv/harness.js";
import { RawConnection, startRedis, type RedisServer } from "./resp.js";

/** name, arity, flags and categories (as sorted sets), key positions. */
function summary(info: Reply): string {
  assert.ok(info.kind === "array" && info.items !== null, "a COMMAND INFO entry");
  const it = info.items;
  const text = (r: Reply) => (r.kind === "bulk" ? Buffer.from(r.value!).toString("latin1") : r.kind === "simple" ? r.value : String((r as { value: unknown }).value));
  const list = (r: Reply) => (r.kind === "array" ? r.items!.map(text).sort().join(" ") : "?");
  return `${text(it[0]!)} arity=${text(it[1]!)} flags=[${list(it[2]!)}] keys=${text(it[3]!)},${text(it[4]!)},${text(it[5]!)} acl=[${list(it[6]!)}]`;
}

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The text between the line `start` and the next line starting with `end` (both excluded). */
function section(file: string, start: string, end: string): string {
  const text = readFileSync(ROOT + file, "utf8");
  const from = text.indexOf(`\n${start}\n`);
  assert.ok(from >= 0, `${file} has a "${start}" line`);
  const body = text.slice(from + start.length + 2);
  const to = body.indexOf(`\n${end}`);
  assert.ok(to >= 0, `${file}: "${end}" after "${start}"`);
  return body.slice(0, to);
}

/** Splits at `sep` outside brackets and parentheses. */
function splitTop(text: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "[" || ch === "(") depth++;
    else if (ch === "]" || ch === ")") depth--;
    else if (depth === 0 && text.startsWith(sep, i)) {
      parts.push(text.slice(from, i));
      from = i + sep.length;
    }
  }
  parts.push(text.slice(from));
  return parts;
}

/**
 * docs/REDIS.md's "Supported commands" bullets ("- Group: CMD [options], CMD
 * SUB|SUB, ... . Prose."): each command named, with the subcommands it
 * names (CONFIG GET|SET|HELP, COMMAND [COUNT|INFO]).
 */
function documentedCommands(text: string): Map<string, string[]> {
  const commands = new Map<string, string[]>();
  for (const bullet of text.split(/\n- /).slice(1)) {
    const flat = bullet.replace(/\s+/g, " ");
    const list = splitTop(flat.slice(flat.indexOf(": ") + 2), ". ")[0]!.replace(/\.$/, "");
    for (const item of splitTop(list, ", ")) {
      const [name, second] = item.trim().split(" ");
      const subs = second !== undefined && /^\[?[A-Z]+(\|[A-Z]+)+\]?$/.test(second) ? second.replace(/[[\]]/g, "").toLowerCase().split("|") : [];
      commands.set(name!.toLowerCase(), subs.sort());
    }
  }
  return commands;
}

function parse(bytes: Buffer): Reply {
  const p = new ReplyParser();
  p.push(bytes);
  return p.next() as Reply;
}

describe("COMMAND against redis-server", () => {
  let server: RedisServer;
  let redis: RawConnection;
  before(async () => {
    server = await startRedis("127.0.16.2");
    redis = await RawConnection.connect(server.host, server.port);
  });
  after(async () => {
    redis?.close();
    await server?.stop();
  });

  test("COMMAND lists exactly the command table; COUNT agrees", () => {
    const h = new Harness();
    const all = h.execute(h.plan("COMMAND"));
    assert.ok(all.kind === "array");
    const names = all.items!.map((e) => summary(e).split(" ")[0]).sort();
    assert.deepEqual(names, [...COMMANDS.keys()].sort());
    assert.equal(h.run("COMMAND", "COUNT"), `:${COMMANDS.size}\r\n`);
  });

  test("docs/REDIS.md lists exactly the command table's commands and subcommands; the README names each of them", () => {
    const table = new Map([...COMMANDS].map(([name, spec]) => [name, spec.subcommands ? [...spec.subcommands.keys()].sort() : []]));
    const documented = documentedCommands(section("docs/REDIS.md", "## Supported commands", "Wrong types answer"));
    assert.deepEqual([...documented.keys()].sort(), [...table.keys()].sort(), "docs/REDIS.md's list of supported commands against the command table");
    for (const [name, subs] of table) if (subs.length > 0) assert.deepEqual(documented.get(name), subs, `docs/REDIS.md: ${name.toUpperCase()}'s subcommands`);

    // The README's paragraph names every command, and no word in capitals there is anything but a command, a subcommand or an option.
    // (Links and file names, [REDIS](docs/REDIS.md), left out.)
    const readme = section("README.md", "### Redis compatibility", "Every data command is linearizable").replace(/\S*\.md\S*/g, "");
    const words = new Set(readme.match(/\b[A-Z][A-Z.]*[A-Z]\b/g));
    const options = ["NX", "XX", "GT", "LT", "EX", "PX", "EXAT", "PXAT", "KEEPTTL"];
    const known = new Set([...table.keys(), ...[...table.values()].flat(), ...options.map((o) => o.toLowerCase())]);
    assert.deepEqual([...table.keys()].filter((name) => !words.has(name.toUpperCase())), [], "commands the README does not name");
    assert.deepEqual([...words].filter((w) => !known.has(w.toLowerCase())), [], "words in the README's list that are not commands");
  });

  test("every Redis command raftkv has: the same arity, flags, key positions and ACL categories", async () => {
    const h = new Harness();
    const differences: string[] = [];
    for (const name of COMMANDS.keys()) {
      if (name.startsWith("raftkv.")) continue;
      const theirs = parse(await redis.command([Buffer.from("COMMAND"), Buffer.from("INFO"), Buffer.from(name)]));
      assert.ok(theirs.kind === "array" && theirs.items !== null);
      const ours = h.execute(h.plan("COMMAND", "INFO", name));
      assert.ok(ours.kind === "array" && ours.items !== null);
      const a = summary(ours.items[0]!);
      const b = summary(theirs.items[0]!);
      if (a !== b) differences.push(`raftkv: ${a}\nredis:  ${b}`);
    }
    assert.deepEqual(differences, []);
  });
});
