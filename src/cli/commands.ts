// The table of `raftkv` subcommands. Each module exports `run(argv): Promise<exit code>`.

import { registerCommand } from "./raftkv.js";

void registerCommand;
