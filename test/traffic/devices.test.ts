// The light, the button and the controller runtime in this process, each
// against plain UDP sockets standing in for the devices around it.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { Readable } from "node:stream";
import { type Logger, createLogger } from "../../src/util/log.js";
import { runButton } from "../../src/traffic/button.js";
import { startController } from "../../src/traffic/controller.js";
import { startLight } from "../../src/traffic/light.js";
import { BindError, bindLoopback, closeSocket } from "../../src/traffic/udp.js";

/** A logger that keeps each line's event and fields. */
function recordingLogger(): { logger: Logger; events: Record<string, unknown>[] } {
  const events: Record<string, unknown>[] = [];
  return { logger: createLogger({}, { level: "debug", write: (line) => events.push(JSON.parse(line)) }), events };
}

/** Waits (polling) until `found` returns a value; a timeout only, never a timing assertion. */
async function until<T>(found: () => T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = found();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A UDP socket on a free loopback port that records what it receives. */
async function listener(): Promise<{ port: number; received: string[]; close(): Promise<void> }> {
  const socket = await bindLoopback(0);
  const received: string[] = [];
  socket.on("message", (datagram) => received.push(datagram.toString("latin1")));
  return { port: socket.address().port, received, close: () => closeSocket(socket) };
}

function send(text: string, port: number): Promise<void> {
  const socket = dgram.createSocket("udp4");
  return new Promise((resolve, reject) =>
    socket.send(text, port, "127.0.0.1", (error) => {
      socket.close();
      if (error) reject(error);
      else resolve();
    }),
  );
}

describe("light", () => {
  test("prints NAME: C on each change of color only, and ignores anything else", async (t) => {
    const printed: string[] = [];
    const { logger, events } = recordingLogger();
    const light = await startLight({ name: "Main St", port: 0, print: (line) => printed.push(line), logger });
    t.after(() => light.close());
    assert.ok(light.port > 0);
    for (const datagram of ["R", "R", "G\n", "blue", " G ", "Y", "R"]) await send(datagram, light.port);
    await until(() => printed.length === 4, "four lines");
    assert.deepEqual(printed, ["Main St: R\n", "Main St: G\n", "Main St: Y\n", "Main St: R\n"]);
    assert.equal(events.filter((event) => event.event === "unknown datagram").length, 1);
  });

  test("refuses a port that is taken, saying so", async (t) => {
    const taken = await listener();
    t.after(() => taken.close());
    const { logger } = recordingLogger();
    await assert.rejects(startLight({ name: "X", port: taken.port, print: () => {}, logger }), (error: unknown) => {
      assert.ok(error instanceof BindError);
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${taken.port}: the port is already in use`));
      return true;
    });
  });
});

describe("button", () => {
  test("sends one press per input line and ends with its input", async (t) => {
    const controller = await listener();
    t.after(() => controller.close());
    const { logger } = recordingLogger();
    const summary = await runButton({
      host: "127.0.0.1",
      port: controller.port,
      input: Readable.from(["\n", "\nanything\n", "last without newline"]),
      logger,
    });
    assert.deepEqual(summary, { presses: 4, failed: 0 });
    await until(() => controller.received.length === 4, "four presses");
    assert.deepEqual(controller.received, ["press", "press", "press", "press"]);
  });

  test("counts presses it could not send", async () => {
    const { logger, events } = recordingLogger();
    // Sending to the broadcast address without asking for broadcast is refused (EACCES).
    const summary = await runButton({ host: "255.255.255.255", port: 9, input: Readable.from(["\n"]), logger });
    assert.deepEqual(summary, { presses: 1, failed: 1 });
    assert.equal(events[0].event, "press not sent");
  });
});

describe("controller", () => {
  test("drives both lights from its clock and the button, at high speed", async (t) => {
    const ew = await listener();
    const ns = await listener();
    const { logger, events } = recordingLogger();
    // 1000x: a simulated second per real millisecond.
    const controller = await startController({ ewPort: ew.port, nsPort: ns.port, buttonPort: 0, speed: 1000, logger });
    t.after(async () => {
      await controller.close();
      await Promise.all([ew.close(), ns.close()]);
    });
    // The lights print only changes; the controller also repeats colors.
    const changes = (received: string[]) => received.filter((color, i) => color !== received[i - 1]);

    await until(() => changes(ns.received).length >= 2, "North-South green");
    await send("press", controller.buttonPort);
    await send("hello", controller.buttonPort);
    await until(() => changes(ew.received).length >= 4, "East-West green again");
    assert.deepEqual(changes(ew.received).slice(0, 4), ["G", "Y", "R", "G"]);
    assert.deepEqual(changes(ns.received).slice(0, 4), ["R", "G", "Y", "R"]);
    // What a press does when is the logic's business (tested there); here: it got through.
    await until(() => events.some((event) => event.event === "press"), "the press handled");
    await until(() => events.some((event) => event.event === "unknown datagram"), "the stray datagram refused");
  });

  test("tells the lights their colors again, for a light started late", async (t) => {
    const ew = await listener();
    const ns = await listener();
    const { logger } = recordingLogger();
    // At speed 1 nothing changes for 30 s, so anything after the first color is a repeat.
    const controller = await startController({ ewPort: ew.port, nsPort: ns.port, buttonPort: 0, speed: 1, logger });
    t.after(async () => {
      await controller.close();
      await Promise.all([ew.close(), ns.close()]);
    });
    await until(() => ew.received.length >= 2 && ns.received.length >= 2, "a repeat of both colors");
    assert.deepEqual(ew.received.slice(0, 2), ["G", "G"]);
    assert.deepEqual(ns.received.slice(0, 2), ["R", "R"]);
  });
});
