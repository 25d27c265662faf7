import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { bindLoopback, closeSocket } from "../../src/traffic/udp.js";
import { TRAFFIC_BIN } from "./processes.js";

function traffic(args: string[], input = "") {
  const result = spawnSync(process.execPath, [TRAFFIC_BIN, ...args], { input, encoding: "utf8", timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("traffic CLI", () => {
  test("--help lists the four commands", () => {
    const { code, stdout } = traffic(["--help"]);
    assert.equal(code, 0);
    assert.match(stdout, /^usage: traffic COMMAND/);
    for (const command of ["light NAME PORT", "button HOST PORT", "controller --ew PORT", "check"]) {
      assert.ok(stdout.includes(command), command);
    }
  });

  test("COMMAND --help shows the command's usage", () => {
    for (const command of ["light", "button", "controller", "check"]) {
      const { code, stdout } = traffic([command, "--help"]);
      assert.equal(code, 0, command);
      assert.match(stdout, new RegExp(`^usage: traffic ${command}`));
    }
  });

  test("--version prints the package version", () => {
    const { code, stdout } = traffic(["--version"]);
    assert.equal(code, 0);
    assert.match(stdout, /^traffic \d+\.\d+\.\d+\n$/);
  });

  test("usage errors exit 2 with a message on stderr and nothing on stdout", () => {
    const cases: [string[], RegExp][] = [
      [[], /missing COMMAND/],
      [["paint"], /unknown command "paint"/],
      [["light"], /^traffic light: expects NAME PORT \(got 0 arguments\)/],
      [["light", " ", "9001"], /NAME must not be empty/],
      [["light", "EW", "80000"], /PORT must be a UDP port number, 0 to 65535 \(got "80000"\)/],
      [["button", "127.0.0.1", "0"], /PORT must be a UDP port number, 1 to 65535/],
      [["controller", "--ew", "9001", "--ns", "9002"], /missing --button PORT/],
      [["controller", "--ew", "9001", "--ns", "9001", "--button", "9000"], /--ew and --ns must be different ports/],
      [["controller", "--ew", "9001", "--ns", "9002", "--button", "9000", "--speed", "0"], /--speed must be a positive number/],
      [["controller", "--ew", "9001", "--ns", "9002", "--button", "9000", "--colour", "red"], /unknown option --colour/],
      [["check", "now"], /^traffic check: expects no arguments \(got 1 argument\)/],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = traffic(args);
      assert.equal(code, 2, args.join(" "));
      assert.equal(stdout, "", args.join(" "));
      assert.match(stderr, message);
      assert.match(stderr, /\(see 'traffic( \w+)? --help'\)\n$/);
    }
  });

  test("a light whose port is taken exits 2 (a configuration error, as for raftkv) and says why", async (t) => {
    const socket = await bindLoopback(0);
    t.after(() => closeSocket(socket));
    const { code, stderr } = traffic(["light", "EW", String(socket.address().port)]);
    assert.equal(code, 2);
    assert.match(stderr, /cannot listen on UDP 127\.0\.0\.1:\d+: the port is already in use/);
  });

  test("the button exits 0 when its input ends, having sent a press per line", async (t) => {
    const socket = await bindLoopback(0);
    t.after(() => closeSocket(socket));
    const received: string[] = [];
    socket.on("message", (datagram) => received.push(datagram.toString()));
    // spawnSync blocks this process; the presses wait in the socket's buffer.
    const { code } = traffic(["button", "127.0.0.1", String(socket.address().port)], "\n\n\n");
    assert.equal(code, 0);
    await new Promise<void>((resolve) => {
      const poll = () => (received.length >= 3 ? resolve() : setTimeout(poll, 5));
      poll();
    });
    assert.deepEqual(received, ["press", "press", "press"]);
  });

  test("check explores the real logic and exits 0", () => {
    const { code, stdout } = traffic(["check"]);
    assert.equal(code, 0);
    assert.match(stdout, /^ {2}\d+ states, \d+ transitions/m);
    assert.match(stdout, /^ {2}ok {4}the two directions are never both non-red$/m);
    assert.match(stdout, /^ {2}ok {4}no state is a dead end$/m);
    assert.match(stdout, /^all 8 rules hold$/m);
  });
});
