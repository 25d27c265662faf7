// The table of `raftkv` subcommands. Each module exports a `(argv) => Promise<exit code>`
// and is loaded only when its command runs.

import { registerCommand } from "./raftkv.js";

registerCommand("server", async () => (await import("./server.js")).runServer);
registerCommand("cluster", async () => (await import("./cluster.js")).runCluster);
registerCommand("set", async () => (await import("./client-commands.js")).set);
registerCommand("get", async () => (await import("./client-commands.js")).get);
registerCommand("delete", async () => (await import("./client-commands.js")).del);
registerCommand("incr", async () => (await import("./client-commands.js")).incr);
registerCommand("status", async () => (await import("./client-commands.js")).status);
registerCommand("move-leader", async () => (await import("./client-commands.js")).moveLeader);
registerCommand("member", async () => (await import("./member.js")).run);
registerCommand("sim", async () => (await import("./sim.js")).run);
registerCommand("echo", async () => (await import("./echo.js")).run);
registerCommand("kv", async () => (await import("./kv-single.js")).run);
registerCommand("node", async () => (await import("./node-control.js")).run);
