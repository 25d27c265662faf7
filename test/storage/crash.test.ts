// kill -9 in the middle of a stream of appends: every entry whose sync()
// had resolved before the kill must come back, byte for byte.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { Wal } from "../../src/storage/wal.js";
import { dataFor, tempDir } from "./support.js";

// The writer runs in a child process, so that it can be killed for real.
// It appends batches of entries (data from dataFor) with overlapping sync()
// calls, and prints "synced <index>" once an entry's sync has resolved
// (stdout to a pipe is synchronous: a printed line was printed before the kill).
const writer = `
const [walUrl, supportUrl, dir] = process.argv.slice(1);
const { Wal } = await import(walUrl);
const { dataFor } = await import(supportUrl);
const { wal, state } = await Wal.open(dir, { segmentBytes: 64 * 1024 });
let next = (state.entries.at(-1)?.index ?? 0) + 1;
const term = (state.hardState?.currentTerm ?? 0) + 1;
wal.setHardState({ currentTerm: term, votedFor: 1 });
for (;;) {
  for (let k = 0; k < 4; k++) {
    const batch = [];
    for (let n = 1 + (next % 5); n > 0; n--, next++) batch.push({ index: next, term, type: 0, data: dataFor(next, term, next % 3000) });
    wal.append(batch);
    const last = next - 1;
    wal.sync().then(() => process.stdout.write("synced " + last + "\\n"));
  }
  await wal.sync();
}
`;

/** Runs the writer until it has reported `atLeast` more synced entries, then SIGKILLs it; returns the highest index reported. */
async function runAndKill(dir: string, atLeast: number): Promise<number> {
  const walUrl = new URL("../../src/storage/wal.js", import.meta.url).href;
  const supportUrl = new URL("./support.js", import.meta.url).href;
  const child = spawn(process.execPath, ["--input-type=module", "-e", writer, walUrl, supportUrl, dir], { stdio: ["ignore", "pipe", "pipe"] });
  let reported = 0;
  let firstReported: number | null = null;
  let stderr = "";
  let pending = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  child.stdout.on("data", (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      const index = Number(line.split(" ")[1]);
      reported = Math.max(reported, index);
      firstReported ??= index;
      if (reported - firstReported >= atLeast) child.kill("SIGKILL");
    }
  });
  const signal = await exited;
  assert.equal(signal, "SIGKILL", `the writer stopped by itself: ${stderr}`);
  return reported;
}

test("after kill -9, every entry whose sync resolved is recovered intact", { timeout: 120_000 }, async () => {
  const dir = await tempDir();
  let previousTerm = 0;
  for (let round = 0; round < 4; round++) {
    const reported = await runAndKill(dir, 500 + 700 * round);
    const { wal, state } = await Wal.open(dir);
    await wal.close();
    assert.ok(state.entries.length >= reported, `round ${round}: ${state.entries.length} entries recovered, ${reported} were acknowledged`);
    // Entries the writer had not yet seen acknowledged may be there too; whatever is there must be right.
    state.entries.forEach((e, i) => {
      assert.equal(e.index, i + 1);
      assert.ok(Buffer.compare(e.data, dataFor(e.index, e.term, e.index % 3000)) === 0, `round ${round}: entry ${e.index} is damaged`);
    });
    assert.ok(state.hardState !== null && state.hardState.currentTerm > previousTerm, "the writer's hard state was synced with its first entries");
    // A crash is not damage: no lost mark, nothing moved aside (no false alarm).
    assert.deepEqual(state.damage, [], `round ${round}`);
    assert.equal(state.hardState.lost, undefined);
    previousTerm = state.hardState.currentTerm;
  }
});
