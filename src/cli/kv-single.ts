// `raftkv kv server | set | get | delete`: the course's key-value server and
// client (P1), before any replication: one process, one in-memory store. It
// is the same state machine and Redis-protocol port the replicated nodes
// use — only the log in between is missing: a write is applied the moment
// it arrives, and lost when the process stops. Compare with
// src/server/server.ts, where a write is applied only once a majority has
// it on disk.

import { ClientPort } from "../server/clientPort.js";
import { formatAddress, parseAddress, type Address } from "../server/config.js";
import { KvStateMachine } from "../kv/stateMachine.js";
import type { NodeStatus } from "../kv/info.js";
import { RaftKvClient } from "../client/client.js";
import { NoNodeReachableError, ServerError, UnavailableError } from "../client/errors.js";
import type { ServerPlan } from "../server/server.js";
import type { Reply } from "../resp/writer.js";
import { createLogger } from "../util/log.js";
import { parseArgs, stringFlag, UsageError } from "./args.js";
import { EXIT } from "./raftkv.js";

const DEFAULT_ADDRESS = "127.0.0.1:6390";

const HELP = `usage: raftkv kv server [--listen HOST:PORT]
       raftkv kv set KEY VALUE | get KEY | delete KEY   [--connect HOST:PORT]

The course's key-value server and client, before Raft: one process holding
the keys in memory (gone when it stops), speaking the Redis protocol on
HOST:PORT (default ${DEFAULT_ADDRESS}), so redis-cli works too. The client
commands print like 'raftkv set/get/delete': ok, the value, ok.

exit codes: 0 ok, 1 get of a missing key, 2 usage, 3 server not reachable`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { listen: {}, connect: {}, help: { boolean: true } });
  const [mode, ...args] = p.positional;
  if (p.flags.has("help") || mode === undefined) {
    process.stdout.write(HELP + "\n");
    return mode === undefined && !p.flags.has("help") ? EXIT.usage : EXIT.ok;
  }
  const arity: Record<string, number> = { server: 0, set: 2, get: 1, delete: 1 };
  if (!(mode in arity)) throw new UsageError(`expects server, set, get or delete, got '${mode}'`);
  if (args.length !== arity[mode]) throw new UsageError(`kv ${mode} expects ${arity[mode]} argument(s), got ${args.length}`);
  if (mode === "server") return server(address(stringFlag(p, "listen"), "--listen"));
  return clientCommand(address(stringFlag(p, "connect"), "--connect"), mode, args);
}

function address(text: string | undefined, flag: string): Address {
  try {
    return parseAddress(text ?? DEFAULT_ADDRESS, flag);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The whole server: a store, and a port that applies each command to it at once. */
async function server(listen: Address): Promise<number> {
  const sm = new KvStateMachine();
  let index = 0;
  const status = (): NodeStatus => ({ id: 1, role: "leader", term: 0, leaderId: 1, commitIndex: index, lastApplied: index });
  const execute = async (plan: ServerPlan<KvStateMachine>): Promise<Reply> => (plan.kind === "write" ? sm.apply(++index, plan.command) : plan.run(sm, status()));
  const port = new ClientPort({ listen, logger: createLogger({ program: "raftkv kv server" }), execute });
  try {
    await port.listen();
  } catch (err) {
    process.stderr.write(`raftkv kv server: cannot listen on ${formatAddress(listen)}: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  process.stderr.write(`kv server listening on ${formatAddress(listen)} (one node, in memory); Ctrl-C stops it\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await port.close();
  return EXIT.ok;
}

async function clientCommand(to: Address, mode: string, [key, value]: string[]): Promise<number> {
  const client = new RaftKvClient({ nodes: [to], timeoutMs: 3000 });
  try {
    if (mode === "set") await client.set(key!, value!);
    if (mode === "delete") await client.del(key!);
    if (mode === "get") {
      const v = await client.get(key!);
      if (v === null) return EXIT.notFound;
      process.stdout.write(Buffer.concat([v, Buffer.from("\n")]));
      return EXIT.ok;
    }
    process.stdout.write("ok\n");
    return EXIT.ok;
  } catch (err) {
    if (err instanceof UnavailableError) {
      process.stderr.write(`raftkv kv ${mode}: ${err.message}${err instanceof NoNodeReachableError && err.nothingListens ? "; is 'raftkv kv server' running?" : ""}\n`);
      return EXIT.unavailable;
    }
    if (err instanceof ServerError) {
      process.stderr.write(`raftkv kv ${mode}: the server refused the command: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  } finally {
    client.close();
  }
}
