// A replicated counter service on raftkv/server, with its own state machine
// and its own client protocol (HTTP). Run one per node of a cluster file:
//
//   node examples/counter-service.mjs --config cluster.json --id 1
//
// then, against any node's "client" address:
//
//   curl -L -X POST http://127.0.0.1:6381/visits     # adds 1, prints the new count
//   curl -L http://127.0.0.1:6381/visits             # the count (a linearizable read)
//
// A node that does not lead answers 307 with the leader's address (curl -L
// and fetch follow it). The service is as durable as raftkv's KV store: a
// count acknowledged with 200 survives the loss of any minority of nodes.
// One thing this example leaves out: a POST retried after a lost answer may
// count twice. raftkv's own store avoids that with client sessions; here,
// the place to do it would be apply() (remember each client's last request).

import http from "node:http";
import { parseArgs } from "node:util";
import { NotLeaderError, startNode, createLogger } from "raftkv/server";

/** The state machine: named counters. apply() depends only on the state and the command. */
class Counters {
  #counts = new Map();

  /** A command is JSON: {"name": "visits", "by": 1}. Returns the new count. */
  apply(command) {
    const { name, by } = JSON.parse(command.toString("utf8"));
    const count = (this.#counts.get(name) ?? 0) + by;
    this.#counts.set(name, count);
    return count;
  }

  get(name) {
    return this.#counts.get(name) ?? 0;
  }

  snapshot() {
    return Buffer.from(JSON.stringify([...this.#counts]));
  }

  restore(data) {
    this.#counts = new Map(JSON.parse(Buffer.from(data).toString("utf8")));
  }
}

const { values } = parseArgs({ options: { config: { type: "string" }, id: { type: "string" }, data: { type: "string" } } });
if (!values.config || !values.id) {
  console.error("usage: node examples/counter-service.mjs --config FILE --id ID [--data DIR]");
  process.exit(2);
}
const id = Number(values.id);

const node = await startNode({
  cluster: values.config,
  id,
  dataDir: values.data ?? `data/counter-${id}`,
  stateMachine: new Counters(),
  logger: createLogger({ node: id, program: "counter-service" }, { level: "warn" }),
});

const server = http.createServer(async (req, res) => {
  const name = decodeURIComponent(new URL(req.url, "http://x").pathname.slice(1));
  if (name === "") return send(res, 400, "usage: GET or POST /NAME\n");
  try {
    if (req.method === "POST") return send(res, 200, `${await node.propose(JSON.stringify({ name, by: 1 }))}\n`);
    if (req.method === "GET") return send(res, 200, `${await node.read((counters) => counters.get(name))}\n`);
    return send(res, 405, "GET or POST\n");
  } catch (err) {
    if (err instanceof NotLeaderError && err.leader) {
      res.writeHead(307, { location: `http://${err.leader.client.host}:${err.leader.client.port}${req.url}` }).end();
      return;
    }
    // No leader known, or the outcome of a POST is unknown: the client may retry.
    send(res, 503, `${err.message}\n`);
  }
});

function send(res, code, body) {
  res.writeHead(code, { "content-type": "text/plain" }).end(body);
}

const { host, port } = node.addresses.client;
server.listen(port, host, () => console.log(`counter-service node ${id} listening on http://${host}:${port}/`));

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, async () => {
    server.close();
    await node.stop(); // a leader hands its leadership over first
    process.exit(0);
  });
}
