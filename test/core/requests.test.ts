// The one outcome policy of client requests (src/core/requests.ts), which the
// server and the simulator both run: each way a request can end.

import assert from "node:assert/strict";
import test from "node:test";
import { Requests, snapshotDue, type Outcome } from "../../src/core/requests.js";
import { EntryType, type Entry } from "../../src/core/types.js";

function tracker() {
  const ended: [string, Outcome<string>][] = [];
  const refused: [string, number | null][] = [];
  const r = new Requests<string, string, string>(
    (p, o) => ended.push([p, o]),
    (q, leader) => refused.push([q, leader]),
  );
  return { r, ended, refused };
}

const entry = (index: number, term: number, type = EntryType.Normal): Entry => ({ index, term, type, data: new Uint8Array() });

test("a proposal whose own entry is applied gets the state machine's result", () => {
  const { r, ended } = tracker();
  r.proposed(5, 2, "set x");
  r.applied(entry(5, 2), "OK");
  assert.deepEqual(ended, [["set x", { kind: "applied", result: "OK" }]]);
  assert.equal(r.pendingProposals, 0);
});

test("another leader's entry at the proposal's index means it was never executed: replaced (a no-op too)", () => {
  const { r, ended } = tracker();
  r.proposed(5, 2, "a");
  r.proposed(6, 2, "b");
  r.applied(entry(5, 3), "OK");
  r.applied(entry(6, 3, EntryType.Noop));
  assert.deepEqual(ended, [
    ["a", { kind: "replaced" }],
    ["b", { kind: "replaced" }],
  ]);
});

test("a snapshot covering a proposal leaves its outcome unknown, unless the log shows another term there", () => {
  const { r, ended } = tracker();
  r.proposed(3, 1, "covered");
  r.proposed(4, 1, "overwritten");
  r.proposed(9, 1, "later");
  r.snapshotInstalled(8, (i) => (i === 4 ? 2 : undefined));
  assert.deepEqual(ended, [
    ["covered", { kind: "unknown", why: "snapshot" }],
    ["overwritten", { kind: "replaced" }],
  ]);
  assert.equal(r.pendingProposals, 1);
});

test("a forgotten proposal is the driver's to answer: applying its entry later says nothing", () => {
  const { r, ended } = tracker();
  r.proposed(5, 2, "slow");
  assert.equal(r.forget(5), "slow");
  r.applied(entry(5, 2), "OK");
  assert.deepEqual(ended, []);
});

test("reads: refused by the core, or served in arrival order once their index is applied", () => {
  const { r, refused } = tracker();
  r.readRequested(1, "get a");
  r.readRequested(2, "get b");
  r.readRequested(3, "get c");
  r.readResult({ id: 1, ok: true, index: 7 });
  r.readResult({ id: 2, ok: false, leader: 3 });
  r.readResult({ id: 3, ok: true, index: 5 });
  r.readResult({ id: 99, ok: true, index: 1 }); // not ours: ignored
  assert.deepEqual(refused, [["get b", 3]]);
  assert.ok(r.hasRead("get a") && !r.hasRead("get b"));
  assert.deepEqual(r.readsServable(4), []);
  assert.deepEqual(r.readsServable(5), ["get c"]);
  assert.deepEqual(r.readsServable(9), ["get a"]);
  assert.ok(!r.hasRead("get a"));
});

test("a crash or stop: every proposal's outcome is unknown, every read was never executed", () => {
  const { r, ended, refused } = tracker();
  r.proposed(5, 2, "w");
  r.readRequested(1, "unconfirmed");
  r.readRequested(2, "confirmed");
  r.readResult({ id: 2, ok: true, index: 9 });
  r.abandonAll("crash");
  assert.deepEqual(ended, [["w", { kind: "unknown", why: "crash" }]]);
  assert.deepEqual(refused, [
    ["unconfirmed", null],
    ["confirmed", null],
  ]);
  assert.equal(r.pendingProposals, 0);
});

test("snapshot policy: due once `every` entries were applied since the last snapshot", () => {
  assert.equal(snapshotDue(139, 100, 40), false);
  assert.equal(snapshotDue(140, 100, 40), true);
});
