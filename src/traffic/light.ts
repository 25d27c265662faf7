// A light device: listens for colors on a UDP port and reports each change
// as one `NAME: C` line.

import type { Logger } from "../util/log.js";
import type { Color } from "./logic.js";
import { decodeColor } from "./protocol.js";
import { LOOPBACK, bindLoopback, closeSocket } from "./udp.js";

export interface LightConfig {
  readonly name: string;
  /** The UDP port on the loopback address; 0 picks a free one. */
  readonly port: number;
  /** Receives each `NAME: C\n` line (the CLI writes it to stdout). */
  readonly print: (line: string) => void;
  readonly logger: Logger;
}

export interface RunningLight {
  readonly port: number;
  close(): Promise<void>;
}

export async function startLight(config: LightConfig): Promise<RunningLight> {
  const { name, print, logger } = config;
  const socket = await bindLoopback(config.port);
  const port = socket.address().port;
  // Unknown until the first color arrives, so the first one is always shown.
  let shown: Color | null = null;
  socket.on("message", (datagram, from) => {
    const color = decodeColor(datagram);
    if (color === null) {
      logger.warn("unknown datagram", { from: `${from.address}:${from.port}`, bytes: datagram.length });
      return;
    }
    if (color === shown) return;
    shown = color;
    print(`${name}: ${color}\n`);
  });
  socket.on("error", (error) => logger.error("socket error", { error }));
  logger.info("listening", { address: `${LOOPBACK}:${port}`, port });
  return { port, close: () => closeSocket(socket) };
}
