// The controller runtime: the only place where the traffic logic meets real
// time and real sockets. It turns the clock into `tick` events and button
// datagrams into `press` events, feeds them to the pure logic, and sends the
// colors the logic asks for to the two lights.

import type dgram from "node:dgram";
import type { Logger } from "../util/log.js";
import {
  type Color,
  type ControllerState,
  type Direction,
  type StepResult,
  type TrafficAction,
  type TrafficEvent,
  PRESS,
  SPEC_TIMING,
  TICK,
  start,
  step,
} from "./logic.js";
import { encodeColor, isPress } from "./protocol.js";
import { startTicker } from "./ticker.js";
import { LOOPBACK, bindLoopback, closeSocket } from "./udp.js";

export interface ControllerConfig {
  /** The lights' UDP ports on the loopback address. */
  readonly ewPort: number;
  readonly nsPort: number;
  /** The UDP port on the loopback address that receives presses; 0 picks a free one. */
  readonly buttonPort: number;
  /** How many times faster than real time the clock runs (1: a tick per second). */
  readonly speed: number;
  readonly logger: Logger;
}

export interface RunningController {
  /** The port presses are received on (the one asked for, or the one picked for 0). */
  readonly buttonPort: number;
  close(): Promise<void>;
}

/**
 * How often, in real milliseconds, both lights are told their colors again:
 * UDP may lose a datagram, and a light started after the controller (or
 * restarted) catches up. Lights print only changes, so repeats are silent.
 */
const REFRESH_MS = 1000;

export async function startController(config: ControllerConfig): Promise<RunningController> {
  const { logger } = config;
  const socket = await bindLoopback(config.buttonPort);
  const buttonPort = socket.address().port;
  const ports: Record<Direction, number> = { ew: config.ewPort, ns: config.nsPort };
  const lights = new Lights(socket, ports, logger);

  logger.info("listening", {
    address: `${LOOPBACK}:${buttonPort}`,
    port: buttonPort,
    ew: `${LOOPBACK}:${ports.ew}`,
    ns: `${LOOPBACK}:${ports.ns}`,
    speed: config.speed,
  });

  const boot = start();
  let state: ControllerState = boot.state;
  lights.carryOut(boot.actions);
  const feed = (event: TrafficEvent): StepResult => {
    const result = step(state, event);
    state = result.state;
    lights.carryOut(result.actions);
    return result;
  };

  socket.on("message", (datagram, from) => {
    if (!isPress(datagram)) {
      logger.warn("unknown datagram", { from: `${from.address}:${from.port}`, bytes: datagram.length });
      return;
    }
    const before = state;
    const result = feed(PRESS);
    logger.info("press", { phase: before.phase, elapsed: before.elapsed, effect: pressEffect(before, result) });
  });
  socket.on("error", (error) => logger.error("socket error", { error }));

  const ticker = startTicker(1000 / config.speed, () => feed(TICK));
  const refresh = setInterval(() => lights.resend(), REFRESH_MS);
  return {
    buttonPort,
    close() {
      ticker.stop();
      clearInterval(refresh);
      return closeSocket(socket);
    },
  };
}

function pressEffect(before: ControllerState, result: StepResult): string {
  if (result.actions.length > 0) return "North-South yellow now";
  if (result.state.pressed && !before.pressed) return `North-South yellow at the ${SPEC_TIMING.nsMinGreen} s mark`;
  return "ignored";
}

/** The two lights as the controller last told them, and the sending. */
class Lights {
  private readonly shown: Partial<Record<Direction, Color>> = {};

  constructor(
    private readonly socket: dgram.Socket,
    private readonly ports: Readonly<Record<Direction, number>>,
    private readonly logger: Logger,
  ) {}

  carryOut(actions: readonly TrafficAction[]): void {
    if (actions.length === 0) return;
    for (const { direction, color } of actions) {
      this.shown[direction] = color;
      this.send(direction, color);
    }
    this.logger.info("lights", { ew: this.shown.ew, ns: this.shown.ns });
  }

  resend(): void {
    for (const direction of ["ew", "ns"] as const) {
      const color = this.shown[direction];
      if (color !== undefined) this.send(direction, color);
    }
  }

  private send(direction: Direction, color: Color): void {
    this.socket.send(encodeColor(color), this.ports[direction], LOOPBACK, (error) => {
      if (error) this.logger.warn("send failed", { direction, error });
    });
  }
}
