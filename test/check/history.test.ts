import assert from "node:assert/strict";
import { test } from "node:test";
import { HistoryRecorder, type KvInput, type KvOutput } from "../../src/check/linearizability.js";

function recorder(): { rec: HistoryRecorder<KvInput, KvOutput>; advance: (dt: number) => void } {
  let now = 0;
  return { rec: new HistoryRecorder<KvInput, KvOutput>(() => now), advance: (dt) => void (now += dt) };
}

test("records calls, returns, unknown and discarded operations", () => {
  const { rec, advance } = recorder();
  const set = rec.invoke(1, { op: "set", key: "k", value: "v" });
  advance(1);
  const get = rec.invoke(2, { op: "get", key: "k" });
  const refused = rec.invoke(3, { op: "del", key: "k" });
  advance(2);
  set.returned("OK");
  get.unknown();
  refused.discard();
  const inFlight = rec.invoke(4, { op: "incr", key: "n" });
  advance(1);

  assert.deepEqual(rec.history(), [
    { clientId: 1, input: { op: "set", key: "k", value: "v" }, output: "OK", call: 0, return: 3 },
    { clientId: 2, input: { op: "get", key: "k" }, call: 1, return: 3, unknown: true },
    { clientId: 4, input: { op: "incr", key: "n" }, call: 3, return: Infinity, unknown: true },
  ]);

  inFlight.returned(1);
  assert.deepEqual(rec.history()[2], { clientId: 4, input: { op: "incr", key: "n" }, output: 1, call: 3, return: 4 });
});

test("an operation settles once", () => {
  const { rec } = recorder();
  const op = rec.invoke(1, { op: "get", key: "k" });
  op.returned(null);
  assert.throws(() => op.unknown(), /client 1 settled twice \(was returned, now unknown\)/);
});
