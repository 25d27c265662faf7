// The `traffic` command (SPEC §8): the course's traffic light as four small
// programs, and the exhaustive check of its control logic.

import { readFileSync } from "node:fs";
import { createLogger } from "../util/log.js";
import { runButton } from "../traffic/button.js";
import { checkTraffic } from "../traffic/check.js";
import { startController } from "../traffic/controller.js";
import { startLight } from "../traffic/light.js";
import { formatReport } from "../traffic/report.js";
import { BindError } from "../traffic/udp.js";
import { type FlagSpec, type Parsed, UsageError, parseArgs, stringFlag } from "./args.js";

const USAGE = `usage: traffic COMMAND [ARGS]

The course's traffic light: two lights and a button, each a small program
talking UDP on 127.0.0.1, a controller that runs them, and an exhaustive check
of the controller's logic.

commands:
  light NAME PORT        a light: prints "NAME: R|Y|G" on each change
  button HOST PORT       a button: each line on stdin sends one press
  controller --ew PORT --ns PORT --button PORT [--speed K]
                         runs the lights from the clock and the button
  check                  checks every reachable state of the logic

options:
  -h, --help             this help; "traffic COMMAND --help" for a command's
  --version              the version

See docs/TRAFFIC.md.
`;

interface Command {
  readonly usage: string;
  readonly flags: Record<string, FlagSpec>;
  readonly positionals: readonly string[];
  run(args: Parsed): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  light: {
    usage: `usage: traffic light NAME PORT

A light. Listens on UDP 127.0.0.1:PORT for a color, R, Y or G, as ASCII text
(one per datagram; surrounding whitespace ignored) and prints "NAME: C" on
stdout each time its color changes. PORT 0 picks a free port; the port is
logged on stderr ("listening"). Runs until Ctrl-C.
`,
    flags: {},
    positionals: ["NAME", "PORT"],
    async run({ positional: [name, port] }) {
      if (name.trim() === "") throw new UsageError("NAME must not be empty");
      const lightPort = parsePort(port, "PORT", true);
      const stopped = untilStopped();
      const light = await startLight({
        name,
        port: lightPort,
        print: (line) => process.stdout.write(line),
        logger: createLogger({ program: "traffic light", name }),
      });
      await stopped;
      await light.close();
      return 0;
    },
  },
  button: {
    usage: `usage: traffic button HOST PORT

A push button. Each line read on stdin (each Return) sends one press, the
ASCII text "press", to the controller at UDP HOST:PORT. Exits when stdin
ends, so a script can press it too:

  (sleep 40; echo; sleep 5; echo) | traffic button 127.0.0.1 9000
`,
    flags: {},
    positionals: ["HOST", "PORT"],
    async run({ positional: [host, port] }) {
      const logger = createLogger({ program: "traffic button" });
      const target = { host, port: parsePort(port, "PORT", false) };
      if (process.stdin.isTTY) process.stderr.write(`press Return to press the button (${host}:${target.port}); Ctrl-D ends\n`);
      const { failed } = await runButton({ ...target, input: process.stdin, logger });
      return failed > 0 ? 1 : 0;
    },
  },
  controller: {
    usage: `usage: traffic controller --ew PORT --ns PORT --button PORT [--speed K]

Runs the lights: sends colors to the East-West and North-South lights on UDP
127.0.0.1 and receives presses on UDP 127.0.0.1. East-West is green 30 s,
North-South 60 s, each yellow 5 s. A press turns North-South yellow at once
if it has been green 30 s or more, else at its 30 s mark; a press while
North-South is not green is ignored (not remembered).

  --ew PORT        the East-West light's port
  --ns PORT        the North-South light's port
  --button PORT    the port presses arrive on (0 picks a free one, logged)
  --speed K        run the clock K times faster than real time (default 1)

Logs JSON lines on stderr. Runs until Ctrl-C.
`,
    flags: { ew: {}, ns: {}, button: {}, speed: {} },
    positionals: [],
    async run(args) {
      const ewPort = parsePort(requiredPort(args, "ew"), "--ew", false);
      const nsPort = parsePort(requiredPort(args, "ns"), "--ns", false);
      if (ewPort === nsPort) throw new UsageError("--ew and --ns must be different ports: each light needs its own");
      const buttonPort = parsePort(requiredPort(args, "button"), "--button", true);
      const speed = parseSpeed(stringFlag(args, "speed") ?? "1");
      const stopped = untilStopped();
      const logger = createLogger({ program: "traffic controller" });
      const controller = await startController({ ewPort, nsPort, buttonPort, speed, logger });
      await stopped;
      await controller.close();
      return 0;
    },
  },
  check: {
    usage: `usage: traffic check

Explores every reachable state of the controller's logic, with clock ticks
and button presses in every order, and reports the number of states and,
rule by rule, whether it holds: the two directions are never both non-red,
no state is a dead end, and each timing rule. For a broken rule it prints
the shortest sequence of events that breaks it. Exit 0 only if all hold.
`,
    flags: {},
    positionals: [],
    async run() {
      const report = checkTraffic();
      process.stdout.write(formatReport(report));
      return report.ok ? 0 : 1;
    },
  },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  try {
    return await dispatch(name, args);
  } catch (error) {
    if (error instanceof UsageError) {
      const known = name !== undefined && Object.hasOwn(COMMANDS, name);
      const where = known ? `traffic ${name}` : "traffic";
      process.stderr.write(`${where}: ${error.message}\n(see '${where} --help')\n`);
      return 2;
    }
    if (error instanceof BindError) {
      // A port in use is a configuration error, as for raftkv (exit 2).
      process.stderr.write(`traffic: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

async function dispatch(name: string | undefined, args: string[]): Promise<number> {
  if (name === "-h" || name === "--help") {
    process.stdout.write(USAGE);
    return 0;
  }
  if (name === "--version") {
    process.stdout.write(`traffic ${version()}\n`);
    return 0;
  }
  if (name === undefined) throw new UsageError("missing COMMAND");
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) throw new UsageError(`unknown command "${name}"`);
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(command.usage);
    return 0;
  }
  const parsed = parseArgs(args, command.flags);
  const count = parsed.positional.length;
  if (count !== command.positionals.length) {
    const expected = command.positionals.length === 0 ? "no arguments" : command.positionals.join(" ");
    throw new UsageError(`expects ${expected} (got ${count} argument${count === 1 ? "" : "s"})`);
  }
  return command.run(parsed);
}

function requiredPort(args: Parsed, flag: string): string {
  const value = stringFlag(args, flag);
  if (value === undefined) throw new UsageError(`missing --${flag} PORT`);
  return value;
}

function parsePort(text: string, what: string, mayBeZero: boolean): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port <= 65535) || (port === 0 && !mayBeZero)) {
    throw new UsageError(`${what} must be a UDP port number, ${mayBeZero ? 0 : 1} to 65535 (got "${text}")`);
  }
  return port;
}

function parseSpeed(text: string): number {
  const speed = Number(text);
  if (text.trim() === "" || !Number.isFinite(speed) || speed <= 0) {
    throw new UsageError(`--speed must be a positive number, e.g. 1, 10 or 100 (got "${text}")`);
  }
  return speed;
}

/** Resolves on the first SIGINT or SIGTERM, which then no longer kill the process. */
function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"));
  return String(manifest.version);
}

process.exitCode = await main(process.argv.slice(2));
