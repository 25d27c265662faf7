// The `raftkv` command (SPEC §2): one entry point, one module per subcommand.

import { readFileSync } from "node:fs";
import { UsageError } from "./args.js";

export const EXIT = { ok: 0, notFound: 1, usage: 2, unavailable: 3 } as const;

const HELP = `raftkv — a Raft-replicated key-value store that speaks the Redis protocol

Usage:
  raftkv server  --config FILE --id ID [--data DIR]   run one node in the foreground
  raftkv server  --join --config FILE --id ID [--data DIR]   start a new node to be added
  raftkv cluster [--nodes N] [--dir DIR] [--base-port P]  run a local N-node cluster
  raftkv set KEY VALUE | get KEY | delete KEY | incr KEY  [--config FILE] [--tls --cacert F]
  raftkv status  [--config FILE]                    one line per node
  raftkv node    start|stop|restart ID [--dir DIR]  under a running 'raftkv cluster'
  raftkv move-leader [ID] [--config FILE]           hand leadership to node ID
  raftkv member  list | add ID ... | promote ID | remove ID   the cluster's membership
  raftkv sim     ...                                the deterministic simulator
  raftkv echo    server | client ...                the course's warm-up: echo over framed messages
  raftkv kv      server | set | get | delete ...    the course's key-value server, one node, no Raft
  raftkv --help | COMMAND --help | --version

Exit codes: 0 success, 1 get of a missing key, 2 usage or configuration
error, 3 cluster unavailable or timed out ('raftkv member': 1 when no node
answers, 2 when the cluster refuses the change).`;

type Command = (argv: string[]) => Promise<number>;

/** Subcommands, loaded on demand so that `raftkv get` does not load the simulator. */
const commands: Record<string, () => Promise<Command>> = {};

/** Lets each subcommand module register itself (keeps this file free of their imports). */
export function registerCommand(name: string, load: () => Promise<Command>): void {
  commands[name] = load;
}


function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "--help" || cmd === "-h" || cmd === "help") {
    process.stdout.write(HELP + "\n");
    return cmd === undefined ? EXIT.usage : EXIT.ok;
  }
  if (cmd === "--version" || cmd === "-v") {
    process.stdout.write(`raftkv ${version()}\n`);
    return EXIT.ok;
  }
  const load = commands[cmd];
  if (!load) {
    const near = Object.keys(commands).filter((name) => name.startsWith(cmd.slice(0, 2)) || cmd.startsWith(name));
    process.stderr.write(`raftkv: unknown command '${cmd}'${near.length > 0 ? ` (did you mean ${near.map((n) => `'${n}'`).join(" or ")}?)` : ""}; 'raftkv --help' lists the commands\n`);
    return EXIT.usage;
  }
  try {
    return await (await load())(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`raftkv ${cmd}: ${err.message}\n(see 'raftkv ${cmd} --help')\n`);
      return EXIT.usage;
    }
    throw err;
  }
}
