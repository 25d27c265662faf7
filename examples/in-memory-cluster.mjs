// The Raft core embedded in a transport of your own: three RaftNodes in one
// process, a network that is just an array of messages in flight, a clock
// that is a loop counter, and "disks" that are arrays. No sockets, no
// timers: the whole run is deterministic, which is how raftkv's simulator
// (src/sim/) tests the same core under millions of faults.
//
//   node examples/in-memory-cluster.mjs
//
// It elects a leader, replicates three commands, cuts the leader off, lets
// the others elect a new one and commit one more, heals the network, and
// checks that all three nodes applied the same commands in the same order.

import { RaftNode, EntryKind } from "raftkv";

const ids = [1, 2, 3];
let seed = 7;
/** A small deterministic PRNG: the core takes its randomness from the driver. */
const random = (n) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);

const nodes = new Map(ids.map((id) => [id, new RaftNode({ id, members: ids, electionTimeoutTicks: [10, 20], heartbeatTicks: 2, random })]));
const disks = new Map(ids.map((id) => [id, { hardState: null, log: [] }]));
const applied = new Map(ids.map((id) => [id, []]));
let inFlight = [];
const cut = new Set(); // nodes cut off from the others

/** The driver's loop body for one node: persist, send, apply, advance (the order the Ready asks for). */
function drain(id) {
  const node = nodes.get(id);
  while (node.hasReady()) {
    const rd = node.ready();
    const disk = disks.get(id);
    if (rd.hardState) disk.hardState = rd.hardState;
    if (rd.entries.length > 0) disk.log = [...disk.log.filter((e) => e.index < rd.entries[0].index), ...rd.entries];
    inFlight.push(...rd.messages);
    for (const e of rd.committed) if (e.type === EntryKind.Normal) applied.get(id).push(Buffer.from(e.data).toString());
    node.advance();
  }
}

/** One tick of the clock: every node ticks, then every message in flight is delivered (or dropped across a cut). */
function step() {
  for (const id of ids) {
    nodes.get(id).tick();
    drain(id);
  }
  while (inFlight.length > 0) {
    const batch = inFlight;
    inFlight = [];
    for (const m of batch) {
      if (cut.has(m.from) || cut.has(m.to)) continue;
      nodes.get(m.to).step(m);
      drain(m.to);
    }
  }
}

function leader() {
  return ids.find((id) => !cut.has(id) && nodes.get(id).role === "leader") ?? null;
}

function runUntil(what, done) {
  for (let t = 0; t < 1000; t++) {
    if (done()) return;
    step();
  }
  throw new Error(`no ${what} within 1000 ticks`);
}

function propose(command) {
  const id = leader();
  const r = nodes.get(id).propose(Buffer.from(command));
  if (!r.ok) throw new Error(`node ${id} refused the proposal`);
  drain(id);
  console.log(`node ${id} (leader, term ${r.term}) proposed "${command}" at index ${r.index}`);
}

runUntil("leader", () => leader() !== null);
const first = leader();
console.log(`node ${first} leads`);
for (const c of ["x=1", "y=2", "x=3"]) propose(c);
runUntil("commit on every node", () => ids.every((id) => applied.get(id).length === 3));

cut.add(first);
console.log(`node ${first} is cut off`);
runUntil("new leader", () => leader() !== null);
console.log(`node ${leader()} leads now`);
propose("z=4");
runUntil("commit on the majority", () => ids.filter((id) => applied.get(id).length === 4).length >= 2);

cut.clear();
console.log("the network heals");
runUntil("catch-up", () => ids.every((id) => applied.get(id).length === 4));

for (const id of ids) console.log(`node ${id} applied: ${applied.get(id).join(" ")}`);
const same = ids.every((id) => applied.get(id).join() === applied.get(ids[0]).join());
console.log(same ? "all three nodes applied the same commands in the same order" : "THE NODES DISAGREE");
process.exitCode = same ? 0 : 1;
