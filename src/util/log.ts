// Structured logging: one JSON object per line on stderr (SPEC §2), with the
// node id and term in every line so a log can be read against the paper, and
// the pid, so the process to signal can be read off its log.

export type Level = "debug" | "info" | "warn" | "error";

const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line (e.g. the node id). */
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  level?: Level;
  /** Where lines go; default process.stderr. */
  write?: (line: string) => void;
  /** Extra fields computed at each line (e.g. the current term). */
  dynamic?: () => Record<string, unknown>;
  /** Clock for the `time` field; default Date.now. */
  now?: () => number;
}

export function createLogger(base: Record<string, unknown> = {}, opts: LoggerOptions = {}): Logger {
  const min = order[opts.level ?? ((process.env.RAFTKV_LOG_LEVEL as Level | undefined) ?? "info")] ?? order.info;
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const now = opts.now ?? Date.now;
  const emit = (level: Level, event: string, fields?: Record<string, unknown>) => {
    if (order[level] < min) return;
    const rec = { time: new Date(now()).toISOString(), level, pid: process.pid, ...base, ...(opts.dynamic?.() ?? {}), event, ...fields };
    write(JSON.stringify(rec, errorReplacer) + "\n");
  };
  return {
    debug: (e, f) => emit("debug", e, f),
    info: (e, f) => emit("info", e, f),
    warn: (e, f) => emit("warn", e, f),
    error: (e, f) => emit("error", e, f),
    child: (fields) => createLogger({ ...base, ...fields }, opts),
  };
}

/** A logger that drops everything (tests, simulator). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (typeof value === "bigint") return value.toString();
  return value;
}
