// `raftkv echo server | client`: the course's warm-up, runnable. Messages
// travel as size-prefixed frames (src/transport/framing.ts, the same framing
// the nodes use between themselves): TCP delivers bytes in whatever pieces
// it likes, and the 4-byte length prefix is what puts each message back
// together whole. The server sends every frame back as it came.

import net from "node:net";
import { createInterface } from "node:readline";
import { encodeFrame, readFrames } from "../transport/framing.js";
import { parseAddress } from "../server/config.js";
import { createLogger } from "../util/log.js";
import { parseArgs, stringFlag, UsageError, intFlag } from "./args.js";
import { EXIT } from "./raftkv.js";

const DEFAULT_ADDRESS = "127.0.0.1:7777";
/** Large enough for the course's 10 MB message. */
const MAX_FRAME_BYTES = 64 << 20;

const HELP = `usage: raftkv echo server [--listen HOST:PORT]
       raftkv echo client [--connect HOST:PORT] [--size BYTES] [MESSAGE...]

The course's warm-up: an echo server and client over size-prefixed messages
(a 4-byte length, then the bytes; src/transport/framing.ts).

  server   listens (default ${DEFAULT_ADDRESS}) and sends every message back as
           it came; runs until Ctrl-C
  client   sends each MESSAGE (or, with none, each line of stdin) as one
           message and prints each answer on its own line; with --size, sends
           one message of BYTES bytes and checks it comes back whole
           (try --size 10000000: one message, many TCP segments)

exit codes: 0 ok, 1 an answer differed or the connection failed, 2 usage`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(argv, { listen: {}, connect: {}, size: {}, help: { boolean: true } });
  const [mode, ...rest] = p.positional;
  if (p.flags.has("help") || mode === undefined) {
    process.stdout.write(HELP + "\n");
    return mode === undefined && !p.flags.has("help") ? EXIT.usage : EXIT.ok;
  }
  if (mode === "server") {
    if (rest.length > 0) throw new UsageError(`echo server takes no arguments, got '${rest[0]}'`);
    return server(address(stringFlag(p, "listen"), "--listen"));
  }
  if (mode === "client") {
    const size = p.flags.has("size") ? intFlag(p, "size", 0, 0, MAX_FRAME_BYTES) : null;
    if (size !== null && rest.length > 0) throw new UsageError("give MESSAGEs or --size, not both");
    return client(address(stringFlag(p, "connect"), "--connect"), rest, size);
  }
  throw new UsageError(`expects 'server' or 'client', got '${mode}'`);
}

function address(text: string | undefined, flag: string) {
  try {
    return parseAddress(text ?? DEFAULT_ADDRESS, flag);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function server(listen: { host: string; port: number }): Promise<number> {
  const logger = createLogger({ program: "raftkv echo server" });
  const srv = net.createServer((socket) => {
    socket.on("error", () => socket.destroy());
    readFrames(socket, { maxFrameBytes: MAX_FRAME_BYTES, logger, onFrame: (frame) => socket.write(encodeFrame(frame)) });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      srv.once("error", reject);
      srv.listen(listen.port, listen.host, resolve);
    });
  } catch (err) {
    process.stderr.write(`raftkv echo server: cannot listen on ${listen.host}:${listen.port}: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  const where = srv.address() as net.AddressInfo;
  process.stderr.write(`echo server listening on ${where.address}:${where.port}; Ctrl-C stops it\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  srv.close();
  return EXIT.ok;
}

async function client(to: { host: string; port: number }, messages: string[], size: number | null): Promise<number> {
  const socket = net.connect(to.port, to.host);
  const answers: Buffer[] = [];
  let wake: () => void = () => {};
  let failed: Error | null = null;
  socket.on("error", (err) => {
    failed = err;
    wake();
  });
  socket.on("close", () => wake());
  readFrames(socket, {
    maxFrameBytes: MAX_FRAME_BYTES,
    logger: createLogger({ program: "raftkv echo client" }),
    onFrame: (frame) => {
      answers.push(Buffer.from(frame));
      wake();
    },
  });
  const nextAnswer = async (): Promise<Buffer | null> => {
    while (answers.length === 0 && failed === null && !socket.destroyed) await new Promise<void>((r) => (wake = r));
    return answers.shift() ?? null;
  };
  const exchange = async (message: Buffer): Promise<Buffer | null> => {
    socket.write(encodeFrame(message));
    return nextAnswer();
  };
  try {
    if (size !== null) {
      const message = Buffer.alloc(size);
      for (let i = 0; i < size; i++) message[i] = (i * 31 + 7) & 0xff;
      const answer = await exchange(message);
      if (answer === null) return lost(to, failed);
      const same = answer.equals(message);
      process.stdout.write(same ? `${size} bytes sent, ${answer.length} bytes back, identical\n` : `${size} bytes sent, ${answer.length} bytes back, DIFFERENT\n`);
      return same ? EXIT.ok : 1;
    }
    const lines = messages.length > 0 ? messages : createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of lines) {
      const answer = await exchange(Buffer.from(line, "utf8"));
      if (answer === null) return lost(to, failed);
      process.stdout.write(Buffer.concat([answer, Buffer.from("\n")]));
    }
    return EXIT.ok;
  } finally {
    socket.end();
  }
}

function lost(to: { host: string; port: number }, err: Error | null): number {
  process.stderr.write(`raftkv echo client: no answer from ${to.host}:${to.port}${err ? `: ${err.message}` : " (connection closed)"}\n`);
  return 1;
}
