// The four programs as real processes on loopback: two lights, the controller
// at 50x speed, and a button driven through its stdin. Checks the order of
// colors each light printed exactly, what the controller made of each press,
// and the durations only roughly (the machine is shared and noisy).

import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { performance } from "node:perf_hooks";
import { type Line, TrafficProcess } from "./processes.js";

const SPEED = 50;
/** Real milliseconds per simulated second. */
const MS = 1000 / SPEED;
/** How far a measured duration may be off, in simulated seconds (here 300 ms). */
const SLACK = 15;

test("lights, button and controller as processes follow the rules", async (t) => {
  const ew = new TrafficProcess(["light", "EW", "0"]);
  const ns = new TrafficProcess(["light", "NS", "0"]);
  const running = [ew, ns];
  t.after(() => Promise.all(running.map((p) => p.stop())));

  const controller = new TrafficProcess([
    ...["controller", "--ew", await ew.port(), "--ns", await ns.port()],
    ...["--button", "0", "--speed", String(SPEED)],
  ]);
  running.push(controller);
  const button = new TrafficProcess(["button", "127.0.0.1", await controller.port()]);
  running.push(button);

  // First North-South green: pressed at once, so yellow at its 30 s mark.
  await ns.line("NS: G", 1);
  button.child.stdin.write("\n");
  // Second: pressed after 40 s, so yellow at once.
  await ns.line("NS: G", 2);
  await sleep(40 * MS);
  const pressedAt = performance.now();
  button.child.stdin.write("\n");
  // Third: not pressed, so the full 60 s; done when East-West is green again.
  await ew.line("EW: G", 4);

  button.child.stdin.end();
  assert.equal(await button.exited, 0, "the button exits 0 when its input ends");
  for (const device of [controller, ew, ns]) assert.equal(await device.stop(), 0, `${device.args[0]} exits 0 on SIGTERM`);

  assert.deepEqual(
    ew.lines.map((line) => line.text),
    ["G", "Y", "R", "G", "Y", "R", "G", "Y", "R", "G"].map((color) => `EW: ${color}`),
  );
  assert.deepEqual(
    ns.lines.map((line) => line.text),
    ["R", "G", "Y", "R", "G", "Y", "R", "G", "Y", "R"].map((color) => `NS: ${color}`),
  );
  assert.deepEqual(
    controller.logs.filter((log) => log.event === "press").map((log) => log.effect),
    ["North-South yellow at the 30 s mark", "North-South yellow now"],
  );

  const seconds = (from: Line, to: Line) => (to.at - from.at) / MS;
  const near = (measured: number, expected: number, what: string) =>
    assert.ok(Math.abs(measured - expected) <= SLACK, `${what}: ${measured.toFixed(1)} s, expected about ${expected} s`);
  const [e, n] = [ew.lines, ns.lines];
  for (const [g, y, r] of [[0, 1, 2], [3, 4, 5], [6, 7, 8]]) {
    near(seconds(e[g], e[y]), 30, `East-West green from line ${g}`);
    near(seconds(e[y], e[r]), 5, `East-West yellow from line ${y}`);
    near(seconds(e[r], n[g + 1]), 0, `North-South turning green as East-West turns red, line ${r}`);
  }
  near(seconds(n[1], n[2]), 30, "North-South green pressed at once");
  near((n[5].at - pressedAt) / MS, 0, "North-South yellow after the press at 40 s");
  near(seconds(n[7], n[8]), 60, "North-South green never pressed");
  for (const y of [2, 5, 8]) near(seconds(n[y], n[y + 1]), 5, `North-South yellow from line ${y}`);
});
