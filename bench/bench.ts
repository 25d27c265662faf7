// `npm run bench`: raftkv's benchmarks. Each prints numbers; none asserts anything.
//
//   npm run bench                                  # the race: raftkv, etcd, durable Redis side by side
//   npm run bench -- --seconds 2 --rounds 1        # a short race while developing
//   npm run bench -- --only raftkv,etcd --clients 64 --ops SET
//   npm run bench -- --mode protocol               # the core alone, in memory (not a real-world figure)
//   npm run bench -- --mode curves                 # cost curves: keys, value sizes, cluster sizes
//
// docs/PERFORMANCE.md explains each mode and holds the measured tables.

import { Flags } from "./lib.js";
import { race } from "./race.js";

const flags = new Flags(process.argv.slice(2));
const mode = flags.get("mode") ?? "race";

if (flags.has("help")) {
  console.log(`usage: npm run bench -- [--mode race|protocol|curves] [options]

race (default): raftkv (3 nodes), etcd (3 members, if installed) and Redis
(appendfsync always, if installed) run at the same time; closed-loop clients;
cells alternate between the systems; medians over the rounds.
  --seconds N        measured seconds per cell (default 5)
  --rounds N         rounds (default 3)
  --clients a,b,c    concurrent clients per cell (default 1,16,64)
  --ops SET,GET      operations (default SET,GET)
  --only a,b         systems to run: raftkv, etcd, redis (default all installed)
  --keys N           distinct keys (default 100)
  --value-bytes N    value size (default 100)
  --no-pipeline      skip the redis-benchmark -P 16 -c 50 part
  --profile DIR      each raftkv node writes a CPU profile into DIR as it stops
  --baseline DIR     also race the raftkv built in checkout DIR (before/after)

protocol: the Raft core alone, in-memory network, no disk.
  --seconds N        per cell (default 3)
  --proposers a,b    concurrent proposers (default 1,64)

curves: cost as the data grows (keys, value sizes, cluster sizes).
  --parts keys,values,nodes   which curves (default all)
  --max-keys N       largest key count (default 1000000)
  --seconds N        per throughput cell (default 3)`);
} else if (mode === "race") {
  await race(flags);
} else if (mode === "protocol") {
  const { protocol } = await import("./protocol.js");
  await protocol(flags);
} else if (mode === "curves") {
  const { curves } = await import("./curves.js");
  await curves(flags);
} else {
  console.error(`unknown --mode ${mode} (race, protocol or curves)`);
  process.exitCode = 2;
}
