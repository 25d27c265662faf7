// COMMAND lists exactly the supported commands, and each one's metadata
// (arity, flags, key positions, ACL categories) is what redis-server says
// for the same command.

import assert from "node:assert/strict";
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
