// `npm run bench -- --mode protocol`: the Raft core alone — three RaftNodes
// in one process, messages passed as objects through an in-memory queue, no
// disk, no sockets, no codec, no state machine. Entries committed per second
// with 1 and with 64 proposers, each keeping one proposal outstanding (a new
// one as soon as its entry is committed on the leader).
//
// NOT A REAL-WORLD FIGURE: it is the ceiling the core puts on the whole
// system, the number the I/O layers (WAL, transport, RESP) are measured
// against — in the style of openraft's benchmark.

import { RaftNode, type Ready } from "../src/core/node.js";
import type { Message, NodeId } from "../src/core/types.js";
import { Flags, fmt, median, runHeader } from "./lib.js";

interface Result {
  proposers: number;
  entriesPerSec: number;
  /** Ready cycles per committed entry on the leader (how well the core batches). */
  readiesPerEntry: number;
  messagesPerEntry: number;
}

function run(nodes: number, proposers: number, seconds: number, valueBytes: number): Result {
  const ids: NodeId[] = Array.from({ length: nodes }, (_, i) => i + 1);
  let seed = 1;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const cluster = new Map(
    ids.map((id) => [id, new RaftNode({ id, members: ids, electionTimeoutTicks: [10 + 5 * id, 11 + 5 * id], heartbeatTicks: 3, random })]),
  );
  let queue: Message[] = [];
  let committed = 0;
  let readies = 0;
  let messages = 0;
  const outstanding = new Set<number>();
  const data = new Uint8Array(valueBytes).fill(120);

  /** Every node's Readies until quiet: persist is instant, so send, apply, advance. */
  const drive = (): void => {
    for (const n of cluster.values()) {
      while (n.hasReady()) {
        const rd: Ready = n.ready();
        readies++;
        for (const m of rd.messages) queue.push(m);
        messages += rd.messages.length;
        if (n.role === "leader") {
          for (const e of rd.committed) {
            if (outstanding.delete(e.index)) committed++;
          }
        }
        n.advance();
      }
    }
  };
  const deliver = (): void => {
    const q = queue;
    queue = [];
    for (const m of q) cluster.get(m.to)!.step(m);
  };

  // Elect a leader.
  let leader: RaftNode | undefined;
  for (let i = 0; i < 1000 && !leader; i++) {
    for (const n of cluster.values()) n.tick();
    for (let k = 0; k < 5; k++) {
      drive();
      deliver();
    }
    leader = [...cluster.values()].find((n) => n.role === "leader" && n.commitIndex > 0);
  }
  if (!leader) throw new Error("no leader elected");

  const propose = (): void => {
    const r = leader!.propose(data);
    if (!r.ok) throw new Error("the leader refused a proposal");
    outstanding.add(r.index);
  };
  for (let i = 0; i < proposers; i++) propose();
  const start = performance.now();
  const end = start + seconds * 1000;
  let ticks = 0;
  let entries0 = 0;
  let readies0 = 0;
  let messages0 = 0;
  let warm = false;
  let t0 = start;
  while (performance.now() < end) {
    // A heartbeat tick now and then, as the real clock would give.
    if (++ticks % 100 === 0) for (const n of cluster.values()) n.tick();
    drive();
    deliver();
    // Each committed proposal is replaced by a new one: `proposers` stay outstanding.
    while (outstanding.size < proposers) propose();
    if (!warm && performance.now() - start > Math.min(500, seconds * 200)) {
      warm = true;
      t0 = performance.now();
      entries0 = committed;
      readies0 = readies;
      messages0 = messages;
    }
  }
  const elapsed = (performance.now() - t0) / 1000;
  const n = committed - entries0;
  return { proposers, entriesPerSec: n / elapsed, readiesPerEntry: (readies - readies0) / n, messagesPerEntry: (messages - messages0) / n };
}

export async function protocol(flags: Flags): Promise<void> {
  const seconds = flags.number("seconds", 3);
  const rounds = flags.number("rounds", 3);
  const nodes = flags.number("nodes", 3);
  const valueBytes = flags.number("value-bytes", 100);
  const proposersList = flags.list("proposers", "1,64").map(Number);
  console.log(runHeader());
  console.log(`protocol bench: ${nodes} RaftNodes in one process, in-memory network, no disk, no codec, ${valueBytes}-byte entries, ${seconds} s per cell, ${rounds} rounds`);
  console.log("NOT A REAL-WORLD FIGURE: the core's own ceiling, which the I/O layers are measured against.\n");
  const results: Result[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const p of proposersList) {
      const res = run(nodes, p, seconds, valueBytes);
      results.push(res);
      console.log(`round ${r + 1} proposers=${String(p).padEnd(3)} ${fmt(res.entriesPerSec).padStart(8)} entries/s  ${fmt(res.readiesPerEntry, 2)} Readies/entry  ${fmt(res.messagesPerEntry, 2)} messages/entry`);
    }
  }
  console.log("\n| proposers | entries committed/s (median) | Readies per entry | messages per entry |");
  console.log("|---:|---:|---:|---:|");
  for (const p of proposersList) {
    const rs = results.filter((x) => x.proposers === p);
    console.log(`| ${p} | ${fmt(median(rs.map((x) => x.entriesPerSec)))} | ${fmt(median(rs.map((x) => x.readiesPerEntry)), 2)} | ${fmt(median(rs.map((x) => x.messagesPerEntry)), 2)} |`);
  }
}
