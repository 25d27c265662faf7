import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay, DEFAULT_BACKOFF } from "../../src/client/backoff.js";
import { formatHostPort, parseHostPort } from "../../src/client/address.js";

describe("backoffDelay", () => {
  test("doubles from the initial delay up to the cap, jittered over the upper half of each step", () => {
    const policy = { initialMs: 10, maxMs: 100 };
    const low = [0, 1, 2, 3, 4, 10].map((retry) => backoffDelay(retry, policy, () => 0));
    const high = [0, 1, 2, 3, 4, 10].map((retry) => backoffDelay(retry, policy, () => 1));
    assert.deepEqual(low, [5, 10, 20, 40, 50, 50]);
    assert.deepEqual(high, [10, 20, 40, 80, 100, 100]);
  });

  test("stays finite for any number of retries", () => {
    assert.equal(backoffDelay(10_000, DEFAULT_BACKOFF, () => 1), DEFAULT_BACKOFF.maxMs);
  });
});

describe("host:port addresses (as -MOVED names them)", () => {
  test("parses IPv4, names and bracketed IPv6, and prints them back", () => {
    for (const text of ["127.0.0.1:6381", "node-1.example:7000", "[::1]:6381"]) {
      const address = parseHostPort(text);
      assert.ok(address !== null, text);
      assert.equal(formatHostPort(address), text);
    }
    assert.deepEqual(parseHostPort("[::1]:6381"), { host: "::1", port: 6381 });
  });

  test("refuses what is not host:port", () => {
    for (const text of ["", "127.0.0.1", "127.0.0.1:", ":6381", "host:0", "host:65536", "host:12x", "a b:1", "::1:6381"]) {
      assert.equal(parseHostPort(text), null, text);
    }
  });
});
