// The client-port limits set in the cluster file (docs/SECURITY.md,
// REFERENCE §3) reach a real node: protoMaxBulkLen and maxCommandBytes
// bound a request, clientOutputBufferHardBytes closes a client whose reply
// would pass it, clientInputTotalBytes closes the client holding the most
// unparsed input. (Bad values are refused at start: test/server/config.test.ts.)

import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { encodeCommand } from "../../src/client/commandEncoder.js";
import { respCommand, TestCluster } from "../helpers/cluster.js";
import { waitUntil } from "./support.js";

const sockets: net.Socket[] = [];

/** Sends `bytes` on a fresh connection; resolves with what came back once the node closed it (or after `quietMs` of silence: then closed is false). */
function exchange(host: string, port: number, bytes: Buffer, quietMs = 3000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    sockets.push(s);
    let text = "";
    let timer: NodeJS.Timeout | null = null;
    const quiet = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        s.destroy();
        resolve({ text, closed: false });
      }, quietMs);
    };
    s.on("connect", () => {
      s.write(bytes);
      quiet();
    });
    s.on("data", (d) => {
      text += d.toString("latin1");
      quiet();
    });
    s.on("error", () => {});
    s.on("close", () => {
      if (timer) clearTimeout(timer);
      resolve({ text, closed: true });
    });
  });
}

async function limitEvents(host: string, port: number, limit: string): Promise<number> {
  const text = await (await fetch(`http://${host}:${port}/metrics`)).text();
  const m = new RegExp(`raftkv_client_limit_events_total\\{limit="${limit}"\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : NaN;
}

describe("client limits from the cluster file", () => {
  let c: TestCluster;
  before(async () => {
    c = await TestCluster.start({
      nodes: 1,
      extra: { protoMaxBulkLen: 4096, maxCommandBytes: 8192, clientOutputBufferSoftBytes: 16384, clientOutputBufferHardBytes: 65536, clientInputTotalBytes: 16384 },
    });
    await c.waitForLeader();
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await c?.stop();
  });

  test("protoMaxBulkLen and maxCommandBytes bound a request; within them commands run", async () => {
    const n = c.node(1);
    assert.deepEqual(await respCommand(n.host, n.clientPort, ["SET", "k", Buffer.alloc(4096, 97)]), { kind: "simple", value: "OK" });
    const bulk = await exchange(n.host, n.clientPort, encodeCommand(["SET", "k", Buffer.alloc(4097, 97)]));
    assert.deepEqual(bulk, { text: "-ERR Protocol error: invalid bulk length\r\n", closed: true });
    const big = await exchange(n.host, n.clientPort, encodeCommand(["MSET", "a", Buffer.alloc(3000, 97), "b", Buffer.alloc(3000, 97), "c", Buffer.alloc(3000, 97)]));
    assert.deepEqual(big, { text: "-ERR Protocol error: too big command\r\n", closed: true });
  });

  test("clientOutputBufferHardBytes closes a client whose replies would pass it", async () => {
    const n = c.node(1);
    const before = await limitEvents(n.host, n.adminPort, "closedOutputLimit");
    // One reply of 20 × 4 KiB: under the default limits nothing happens; here it passes 64 KiB.
    const r = await exchange(n.host, n.clientPort, encodeCommand(["MGET", ...Array.from({ length: 20 }, () => "k")]));
    assert.deepEqual([r.text, r.closed], ["", true]);
    assert.equal(await limitEvents(n.host, n.adminPort, "closedOutputLimit"), before + 1);
    // 15 of them fit.
    const ok = await respCommand(n.host, n.clientPort, ["MGET", ...Array.from({ length: 15 }, () => "k")]);
    assert.equal(ok.kind, "array");
  });

  test("clientInputTotalBytes closes the client holding the most unparsed input", async () => {
    const n = c.node(1);
    const before = await limitEvents(n.host, n.adminPort, "closedInputLimit");
    const partial = (bytes: number) => Buffer.concat([Buffer.from(`*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$4096\r\n`), Buffer.alloc(bytes, 98)]);
    const holders = [3900, 3200, 3200, 3200, 3200].map((b) => exchange(n.host, n.clientPort, partial(b), 60_000));
    // 3900 + 4 × 3200 (+ headers) passes 16384, 4 × 3200 does not: the 3900 one goes, the others stay.
    const first = await Promise.race(holders.map((p, i) => p.then(() => i)));
    assert.equal(first, 0);
    await waitUntil("counted", async () => (await limitEvents(n.host, n.adminPort, "closedInputLimit")) === before + 1);
    assert.deepEqual(await respCommand(n.host, n.clientPort, ["PING"]), { kind: "simple", value: "PONG" });
    for (const s of sockets) s.destroy();
    await Promise.all(holders);
  });
});
