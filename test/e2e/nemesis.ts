// The fault tests' nemesis: kill -9 of nodes (the leader most often, once
// two at a time so no majority is left), and network partitions with
// iptables (one node, often the leader, cut off from the other two for
// 1-3 s, then healed). Used by fault.test.ts and transactions-fault.test.ts,
// and by membership-fault.test.ts, whose members change under it (targets).

import { performance } from "node:perf_hooks";
import { sleep, type TestCluster } from "../helpers/cluster.js";
import type { Firewall } from "../helpers/netfilter.js";

export interface NemesisOptions {
  /** How long the chaos is meant to last: the majority loss comes once, after half of it. */
  readonly chaosMs: number;
  /** Seeded, so a run's choices can be replayed. */
  readonly rand: () => number;
  /** The nodes it may kill or cut off, asked before each step (default: every node of the cluster). */
  readonly targets?: () => readonly number[];
  /** Filled with the nodes it has killed and not yet restarted, or cut off and not yet healed. */
  readonly touching?: Set<number>;
}

/** The leader by /status (highest term wins), or null. */
export async function currentLeader(c: TestCluster): Promise<number | null> {
  const all = await Promise.all(c.nodes.filter((n) => n.process).map((n) => c.status(n.id)));
  const leaders = all.filter((s) => s?.role === "leader").sort((x, y) => y!.term - x!.term);
  return leaders[0]?.id ?? null;
}

export interface NemesisCounts {
  kills: number;
  leaderKills: number;
  majorityLosses: number;
  partitions: number;
}

/** Kills nodes with -9 and restarts them, or cuts one off the network and heals it, until `running()` is false. */
export async function nemesis(c: TestCluster, fw: Firewall, running: () => boolean, log: string[], o: NemesisOptions): Promise<NemesisCounts> {
  const rand = o.rand;
  const counts: NemesisCounts = { kills: 0, leaderKills: 0, majorityLosses: 0, partitions: 0 };
  const started = performance.now();
  let majorityLossDone = false;
  while (running()) {
    await sleep(1500 + rand() * 1500);
    if (!running()) break;
    const found = await currentLeader(c);
    // From here to marking the nodes it touches there is no await: a node taken out of targets() is never touched after.
    const ids = [...(o.targets?.() ?? c.nodes.map((n) => n.id))];
    if (ids.length < 2) continue;
    const leader = found !== null && ids.includes(found) ? found : null;
    const touching = o.touching ?? new Set<number>();
    if (rand() < 0.4) {
      // A partition: one node (the leader more often than not) against the other two.
      const alone = leader !== null && rand() < 0.6 ? leader : ids[Math.floor(rand() * ids.length)]!;
      touching.add(alone);
      fw.partition([c.node(alone).host], ids.filter((id) => id !== alone).map((id) => c.node(id).host));
      counts.partitions++;
      log.push(`${((performance.now() - started) / 1000).toFixed(1)} s: partition {${alone}} {${ids.filter((id) => id !== alone).join(",")}}${alone === leader ? " (the leader cut off)" : ""}`);
      await sleep(1000 + rand() * 2000);
      fw.heal();
      touching.delete(alone);
      continue;
    }
    const victims: number[] = [];
    if (!majorityLossDone && performance.now() - started > o.chaosMs / 2) {
      // Once: two nodes at a time, the leader among them. Nothing can commit until one is back.
      majorityLossDone = true;
      counts.majorityLosses++;
      const first = leader ?? ids[0]!;
      const others = ids.filter((id) => id !== first);
      victims.push(first, others[Math.floor(rand() * others.length)]!);
    } else if (leader !== null && rand() < 0.65) {
      victims.push(leader);
    } else {
      victims.push(ids[Math.floor(rand() * ids.length)]!);
    }
    for (const id of victims) touching.add(id);
    for (const id of victims) {
      await c.kill(id);
      counts.kills++;
      if (id === leader) counts.leaderKills++;
    }
    log.push(`${((performance.now() - started) / 1000).toFixed(1)} s: kill -9 ${victims.join(", ")}${victims.includes(leader ?? -1) ? ` (leader ${leader})` : ""}`);
    await sleep(300 + rand() * 1200);
    for (const id of victims) {
      await c.restart(id);
      touching.delete(id);
    }
  }
  return counts;
}
