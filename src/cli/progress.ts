// A one-line progress display for long runs (`raftkv sim --time`, `--bug`,
// `--exhaustive`): rewritten in place on a terminal at most every
// `intervalMs`, and nothing at all when stderr is not a terminal (a pipe, a
// file, CI) or with --quiet, so logs and captured output stay clean.

export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export class Progress {
  private last = -Infinity;
  private shown = false;

  constructor(
    private readonly stream: ProgressStream | null,
    private readonly now: () => number = () => performance.now(),
    private readonly intervalMs = 500,
  ) {}

  /** A display on `stream` if it is a terminal and not `quiet`; else one that shows nothing. */
  static forTerminal(quiet: boolean, stream: ProgressStream = process.stderr): Progress {
    return new Progress(!quiet && stream.isTTY === true ? stream : null);
  }

  get enabled(): boolean {
    return this.stream !== null;
  }

  /** Shows `line()` if the last update is `intervalMs` old (the text is built only then). */
  update(line: () => string): void {
    if (this.stream === null) return;
    const t = this.now();
    if (t - this.last < this.intervalMs) return;
    this.last = t;
    this.stream.write(`\r${line()}\x1b[K`);
    this.shown = true;
  }

  /** Clears the line, so what is printed next starts on a clean one. */
  done(): void {
    if (this.stream === null || !this.shown) return;
    this.stream.write("\r\x1b[K");
    this.shown = false;
  }
}

/** "1m05s", "12.3s". */
export function formatElapsed(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, "0")}s`;
}

/** 1234567 as "1.2M", 12345 as "12.3k". */
export function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}
