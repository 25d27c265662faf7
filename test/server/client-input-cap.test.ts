// The client port's global cap on buffered input (docs/SECURITY.md): clients
// holding partial commands cannot together hold more than the cap; past it,
// the one holding the most is disconnected and the others go on. An
// unauthenticated client gets no room for big requests at all.

import assert from "node:assert/strict";
import net from "node:net";
import { after, test } from "node:test";
import { ClientPort } from "../../src/server/clientPort.js";
import { errorReply } from "../../src/resp/writer.js";
import { createLogger } from "../../src/util/log.js";
import { freePort } from "../transport/support.js";

const ports: ClientPort[] = [];
after(async () => {
  for (const p of ports) await p.close();
});

async function port(options: Partial<ConstructorParameters<typeof ClientPort>[0]>): Promise<{ host: string; port: number; cp: ClientPort }> {
  const host = "127.0.2.1";
  const listen = { host, port: await freePort(host) };
  const cp = new ClientPort({ listen, logger: createLogger({}, { write: () => {} }), execute: async () => errorReply("ERR no cluster here"), ...options });
  await cp.listen();
  ports.push(cp);
  return { host, port: listen.port, cp };
}

function connect(host: string, port: number): Promise<{ socket: net.Socket; closed: Promise<boolean> }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.on("error", () => {});
    socket.resume();
    const closed = new Promise<boolean>((r) => socket.on("close", () => r(true)));
    socket.once("connect", () => resolve({ socket, closed }));
  });
}

test("past the global input cap the client holding the most input is closed, the others stay", async () => {
  const { host, port: p, cp } = await port({ maxInputBytes: 1 << 20 });
  const a = await connect(host, p);
  const b = await connect(host, p);
  // Partial SETs: a holds 300 KB, b 900 KB; together past 1 MiB.
  a.socket.write(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n` + "x".repeat(300_000));
  // (In whichever order the bytes arrive, b holds the most once the sum passes the cap.)
  b.socket.write(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n` + "x".repeat(900_000));
  assert.equal(await b.closed, true);
  assert.equal(cp.limitStats.closedInputLimit, 1);
  const stillOpen = await Promise.race([a.closed, new Promise<false>((r) => setTimeout(() => r(false), 300))]);
  assert.equal(stillOpen, false, "the smaller client is kept");
  a.socket.destroy();
});

test("a client that has not authenticated cannot send a big request", async () => {
  const { host, port: p, cp } = await port({ password: "pw" });
  const a = await connect(host, p);
  a.socket.write(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n` + "x".repeat(200_000));
  assert.equal(await a.closed, true);
  assert.equal(cp.limitStats.closedInputLimit, 1);
});
