// A button device: every line read (each Return, or each line a script
// writes) sends one press datagram to the controller. Ends when the input
// does, once every press has been sent.

import dgram from "node:dgram";
import { isIPv6 } from "node:net";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import type { Logger } from "../util/log.js";
import { PRESS_DATAGRAM } from "./protocol.js";
import { closeSocket } from "./udp.js";

export interface ButtonConfig {
  /** The controller's button address. */
  readonly host: string;
  readonly port: number;
  readonly input: Readable;
  readonly logger: Logger;
}

export interface ButtonSummary {
  readonly presses: number;
  /** Presses that could not be sent (each one is logged). */
  readonly failed: number;
}

/** Sends a press per input line until the input ends. */
export async function runButton(config: ButtonConfig): Promise<ButtonSummary> {
  const { host, port, logger } = config;
  const socket = dgram.createSocket(isIPv6(host) ? "udp6" : "udp4");
  const sends: Promise<void>[] = [];
  let failed = 0;
  const lines = createInterface({ input: config.input, crlfDelay: Infinity });
  for await (const _line of lines) {
    sends.push(
      new Promise((resolve) => {
        socket.send(PRESS_DATAGRAM, port, host, (error) => {
          if (error) {
            failed++;
            logger.error("press not sent", { to: `${host}:${port}`, error });
          }
          resolve();
        });
      }),
    );
  }
  await Promise.all(sends);
  await closeSocket(socket);
  return { presses: sends.length, failed };
}
