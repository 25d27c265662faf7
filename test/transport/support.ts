// Helpers for the transport tests: a seeded PRNG, a logger that remembers
// what it logged, polling for a condition, free loopback ports, and a
// PeerTransport that records what it receives and logs.

import net from "node:net";
import type { Message, NodeId } from "../../src/core/types.js";
import { PeerTransport, type Address, type PeerTransportOptions } from "../../src/transport/peers.js";
import { createLogger, type Logger } from "../../src/util/log.js";

export { Rng } from "../helpers/prng.js";

export interface LogLine {
  readonly level: string;
  readonly event: string;
  readonly [field: string]: unknown;
}

/** A real logger whose lines are kept for the test to inspect. */
export function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger({}, { level: "debug", write: (line) => lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

/** Polls until `condition` holds; fails after `timeoutMs` (generous: this is a liveness guard, not a timing check). */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A port that was free on `host` a moment ago (the OS picks it, so parallel test files do not collide). */
export async function freePort(host: string): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A transport under test, with the messages it received and the lines it logged. */
export interface TestPeer {
  readonly id: NodeId;
  readonly transport: PeerTransport;
  readonly inbox: Message[];
  readonly lines: LogLine[];
}

/** Node `id`'s transport among `addresses` (fast redials), not started; added to `open` for the file's after() to close. */
export function makePeer(open: PeerTransport[], id: NodeId, addresses: ReadonlyMap<NodeId, Address>, extra: Partial<PeerTransportOptions> = {}): TestPeer {
  const inbox: Message[] = [];
  const { logger, lines } = recordingLogger();
  const transport = new PeerTransport({
    id,
    listen: addresses.get(id)!,
    peers: addresses,
    logger,
    onMessage: (m) => inbox.push(m),
    reconnectMs: { min: 10, max: 100 },
    ...extra,
  });
  open.push(transport);
  return { id, transport, inbox, lines };
}

/** A free port on each node's host. */
export async function addressesFor(hosts: Record<NodeId, string>): Promise<Map<NodeId, Address>> {
  const addresses = new Map<NodeId, Address>();
  for (const [id, host] of Object.entries(hosts)) addresses.set(Number(id), { host, port: await freePort(host) });
  return addresses;
}

/** A small message to send through a link. */
export function timeoutNow(from: NodeId, to: NodeId, term = 1): Message {
  return { type: "TimeoutNow", from, to, term };
}
