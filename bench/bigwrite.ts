// Does one big write cost the cluster its leader? (issue 11, finding 7)
//
//   node dist/bench/bigwrite.js [--configs 150-300/50,500-1000/100] [--writes 10] [--values 7] [--size 8388606] [--busy 0]
//
// Per timing config (election timeout min-max / heartbeat, ms): a 3-node
// cluster; --writes times, an MSET of --values values of 8 MiB − 2 bytes
// (each within the value limit, the command within the peer frame) sent to
// the leader (--size bytes each), waiting for its reply; then the terms gone by and the leader
// changes seen (every node's /status read every 100 ms meanwhile).

import { spawn } from "node:child_process";
import net from "node:net";
import { TestCluster, sleep } from "../test/helpers/cluster.js";
import { Flags, runHeader } from "./lib.js";

function bigMset(values: number, size: number): Buffer {
  const parts = [Buffer.from(`*${1 + 2 * values}\r\n$4\r\nMSET\r\n`)];
  for (let i = 0; i < values; i++) parts.push(Buffer.from(`$3\r\nk${i % 10}x\r\n$${size}\r\n`), Buffer.alloc(size, 97 + i), Buffer.from("\r\n"));
  return Buffer.concat(parts);
}

function send(host: string, port: number, bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.on("connect", () => s.write(bytes));
    s.once("data", (d) => {
      s.destroy();
      resolve(d.toString("latin1").slice(0, 80).trim());
    });
    s.on("error", (e) => resolve(`error ${e.message}`));
  });
}

const flags = new Flags(process.argv.slice(2));
const configs = flags.list("configs", "150-300/50,500-1000/100");
const writes = flags.number("writes", 10);
const values = flags.number("values", 7);
const size = flags.number("size", 8 * 1024 * 1024 - 2);
const busy = Array.from({ length: flags.has("busy") ? Number(flags.get("busy")) : 0 }, () => spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" }));
console.log(runHeader());
console.log(`${writes} MSETs of ${values} × ${size} bytes per config, ${busy.length} busy processes`);
console.log("| election timeout / heartbeat (ms) | writes | replies | leader changes | terms gone by |");
console.log("|---|---|---|---|---|");
try {
  for (const spec of configs) {
    const m = /^(\d+)-(\d+)\/(\d+)$/.exec(spec)!;
    const c = await TestCluster.start({ electionTimeoutMs: [Number(m[1]), Number(m[2])], heartbeatMs: Number(m[3]) });
    try {
      let leader = await c.waitForLeader(20_000);
      const term0 = (await c.status(leader))!.term;
      let lastTerm = term0;
      let changes = 0;
      let watching = true;
      const watch = (async () => {
        while (watching) {
          for (const s of await Promise.all(c.nodes.map((n) => c.status(n.id)))) {
            if (s?.role === "leader" && s.term > lastTerm) {
              changes++;
              lastTerm = s.term;
            }
          }
          await sleep(100);
        }
      })();
      const replies = new Map<string, number>();
      const cmd = bigMset(values, size);
      for (let i = 0; i < writes; i++) {
        leader = await c.waitForLeader(20_000);
        const n = c.node(leader);
        const r = await send(n.host, n.clientPort, cmd);
        replies.set(r, (replies.get(r) ?? 0) + 1);
      }
      watching = false;
      await watch;
      const maxTerm = Math.max(...(await Promise.all(c.nodes.map((n) => c.status(n.id)))).map((s) => s?.term ?? 0));
      console.log(`| ${m[1]}–${m[2]} / ${m[3]} | ${writes} | ${[...replies].map(([r, k]) => `${k}× ${r}`).join(", ")} | ${changes} | ${maxTerm - term0} |`);
    } finally {
      await c.stop();
    }
  }
} finally {
  for (const b of busy) b.kill("SIGKILL");
}
