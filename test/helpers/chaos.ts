// The fault tests' common frame (test/e2e/*fault.test.ts): clients run
// while the nemesis kills nodes and cuts the network, then a calm moment,
// then every client is stopped; and a crash of the whole cluster at once,
// after which what was acknowledged must come back from disk.

import { performance } from "node:perf_hooks";
import { nemesis, type NemesisCounts, type NemesisOptions } from "../e2e/nemesis.js";
import { sleep, type TestCluster } from "./cluster.js";
import type { Firewall } from "./netfilter.js";

export interface ChaosOptions extends NemesisOptions {
  /** How long the clients go on with every node up and the network healed, once the chaos is over. */
  readonly calmMs: number;
  /** Where a client that throws is reported ("a client crashed: ..."). */
  readonly unexpected: string[];
  /** Its name in that report (default "client"). */
  readonly clientName?: string;
}

export interface ChaosRun {
  readonly counts: NemesisCounts;
  /** When the clients started (performance.now()). */
  readonly started: number;
}

/**
 * Starts the clients (`start` is given the flag they run while), runs the
 * nemesis for `chaosMs` (its steps appended to `events`), waits for a
 * leader and a calm `calmMs`, then stops the clients and waits for them;
 * the network is healed whatever happens.
 */
export async function clientsUnderChaos(
  c: TestCluster,
  fw: Firewall,
  events: string[],
  o: ChaosOptions,
  start: (running: () => boolean) => Promise<unknown>[],
): Promise<ChaosRun> {
  let clientsRunning = true;
  let chaosRunning = true;
  const started = performance.now();
  const chaosTimer = setTimeout(() => (chaosRunning = false), o.chaosMs);
  const name = o.clientName ?? "client";
  const clients = start(() => clientsRunning).map((client) => client.catch((err: unknown) => void o.unexpected.push(`a ${name} crashed: ${(err as Error).stack ?? String(err)}`)));
  try {
    const counts = await nemesis(c, fw, () => chaosRunning, events, o);
    fw.heal();
    await c.waitForLeader(30_000);
    await sleep(o.calmMs);
    return { counts, started };
  } finally {
    fw.heal();
    clearTimeout(chaosTimer);
    clientsRunning = false;
    await Promise.all(clients);
  }
}

/** Kills `ids` (default: every node) with -9 at once, starts them again from their data, and waits for a leader among them. */
export async function crashAll(c: TestCluster, ids: readonly number[] = c.nodes.map((n) => n.id)): Promise<void> {
  await Promise.all(ids.map((id) => c.kill(id)));
  await Promise.all(ids.map((id) => c.restart(id, 20_000)));
  await c.waitForLeader(30_000, [...ids]);
}
