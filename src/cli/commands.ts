// The table of \`raftkv\` subcommands. Each module exports \`run(argv): Promise<exit code>\`
// and is loaded only when its command runs.

import { registerCommand } from "./raftkv.js";

registerCommand("sim", async () => (await import("./sim.js")).run);
