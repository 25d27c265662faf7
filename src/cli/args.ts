// A small, strict command-line parser: `--name value`, `--name=value` and
// boolean `--flag`; anything unknown is a usage error (exit 2), never ignored.

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export interface FlagSpec {
  /** Takes a value (default) or is a boolean switch. */
  readonly boolean?: boolean;
}

export interface Parsed {
  readonly flags: Map<string, string | true>;
  readonly positional: string[];
}

export function parseArgs(argv: readonly string[], spec: Record<string, FlagSpec>): Parsed {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const s = spec[name];
    if (!s) throw new UsageError(`unknown option --${name}`);
    if (s.boolean) {
      if (eq !== -1) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
    } else if (eq !== -1) {
      flags.set(name, arg.slice(eq + 1));
    } else {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      flags.set(name, v);
    }
  }
  return { flags, positional };
}

export function stringFlag(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === "string" ? v : undefined;
}

/** An integer flag within [min, max], or the default. */
export function intFlag(p: Parsed, name: string, dflt: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = stringFlag(p, name);
  if (v === undefined) return dflt;
  if (!/^-?\d+$/.test(v)) throw new UsageError(`--${name} must be an integer, got '${v}'`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${name} ${rangeText(min, max)}, got ${v}`);
  return n;
}

/** "must be between 1 and 99", or "must be at least 1" when the top is only the largest safe integer. */
function rangeText(min: number, max: number): string {
  return max >= Number.MAX_SAFE_INTEGER ? `must be at least ${min}` : `must be between ${min} and ${max}`;
}
