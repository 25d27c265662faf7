// Process entry for bin/raftkv.js: registers the subcommands, runs, exits.

import { main } from "./raftkv.js";

// A closed pipe (e.g. \`raftkv sim ... | head\`) is not an error worth a stack trace.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});
import "./commands.js";

process.exitCode = await main(process.argv.slice(2));
