import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { fetchStatus, parseStatus, StatusUnavailableError } from "../../src/client/status.js";
import { formatStatusTable } from "../../src/client/statusTable.js";
import { closedPort, startAdmin } from "./fakes.js";

const LEADER = { id: 2, role: "leader", term: 7, leader: 2, commitIndex: 12, lastApplied: 11, lastLogIndex: 12, snapshotIndex: 0, peers: [] };

describe("parseStatus", () => {
  test("reads the fields the table shows", () => {
    assert.deepEqual(parseStatus(JSON.stringify(LEADER)), { id: 2, role: "leader", term: 7, leader: 2, commitIndex: 12, lastApplied: 11 });
  });

  test("the node's membership state is read when /status has one", () => {
    assert.equal(parseStatus(JSON.stringify({ ...LEADER, membership: { state: "removed" } })).membership, "removed");
    assert.equal(parseStatus(JSON.stringify(LEADER)).membership, undefined);
    assert.equal(parseStatus(JSON.stringify({ ...LEADER, membership: { state: "bogus" } })).membership, undefined);
  });

  test("the table shows a removed node as removed and a learner as one", () => {
    const row = (id: number, membership: string) => ({ id, address: `127.0.0.1:${6380 + id}`, answer: { ok: true as const, status: { ...parseStatus(JSON.stringify(LEADER)), id, role: "follower", membership: membership as "voter" } } });
    const text = formatStatusTable([row(1, "voter"), row(3, "removed"), row(4, "learner")]);
    assert.match(text, /\n 1 .* follower /);
    assert.match(text, /\n 3 .* removed /);
    assert.match(text, /\n 4 .* follower \(learner\) /);
  });

  test("no known leader may be null, 0 or absent", () => {
    for (const leader of [null, 0, undefined]) {
      assert.equal(parseStatus(JSON.stringify({ ...LEADER, role: "follower", leader })).leader, null, String(leader));
    }
  });

  test("a body that is not a status names what is wrong", () => {
    const cases: [string, RegExp][] = [
      ["<html>", /did not answer JSON/],
      ["[1, 2]", /not answer a JSON object/],
      [JSON.stringify({ ...LEADER, term: "7" }), /"term" is not a non-negative integer/],
      [JSON.stringify({ ...LEADER, commitIndex: -1 }), /"commitIndex" is not a non-negative integer/],
      [JSON.stringify({ ...LEADER, role: 1 }), /"role" is not a string/],
      [JSON.stringify({ ...LEADER, leader: "two" }), /"leader" is not a non-negative integer/],
    ];
    for (const [body, message] of cases) assert.throws(() => parseStatus(body), (err: unknown) => err instanceof StatusUnavailableError && message.test(err.message), body);
  });
});

describe("fetchStatus", () => {
  test("GETs /status from the admin port", async () => {
    const admin = await startAdmin(LEADER);
    try {
      assert.equal((await fetchStatus(admin.address, 5_000)).commitIndex, 12);
    } finally {
      await admin.close();
    }
  });

  test("a node that is down, or answers nonsense, is reported as such", async () => {
    const port = await closedPort();
    await assert.rejects(fetchStatus({ host: "127.0.0.1", port }, 5_000), /connection refused/);
    const admin = await startAdmin("not json");
    try {
      await assert.rejects(fetchStatus(admin.address, 5_000), /did not answer JSON/);
    } finally {
      await admin.close();
    }
  });
});

describe("formatStatusTable", () => {
  test("aligns columns under a header: text left, numbers right", () => {
    const table = formatStatusTable([
      { id: 1, address: "127.0.0.1:6381", answer: { ok: true, status: { id: 1, role: "leader", term: 12, leader: 1, commitIndex: 100234, lastApplied: 100230 } } },
      { id: 2, address: "127.0.0.1:6382", answer: { ok: true, status: { id: 2, role: "candidate", term: 13, leader: null, commitIndex: 9, lastApplied: 9 } } },
      { id: 10, address: "127.0.0.1:6383", answer: { ok: false, reason: "connection refused" } },
    ]);
    assert.equal(
      table,
      [
        "ID  ADDRESS         ROLE       TERM  LEADER  COMMIT  APPLIED  REACHABLE",
        " 1  127.0.0.1:6381  leader       12       1  100234   100230  yes",
        " 2  127.0.0.1:6382  candidate    13       -       9        9  yes",
        "10  127.0.0.1:6383  -             -       -       -        -  no (connection refused)",
        "",
      ].join("\n"),
    );
  });
});
