// Process entry for bin/raftkv.js: registers the subcommands, runs, exits.

import { main } from "./raftkv.js";
import "./commands.js";

process.exitCode = await main(process.argv.slice(2));
