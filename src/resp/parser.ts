// Incremental RESP2 request parser, following Redis's networking.c
// (processMultibulkBuffer / processInlineBuffer) so that the same bytes give
// the same commands and the same protocol errors.
//
// Bytes arrive in arbitrary fragments; push() stores them and next() hands
// out complete commands one at a time, so the caller decides how far to read
// ahead (back-pressure) and answers pipelined commands in order. Arguments
// are views into the received chunks, not copies: whoever keeps one beyond
// the current command must copy it.
//
// Waiting for input costs no copying: chunks are only queued until the
// parser has what it was waiting for (a whole bulk argument, or a line
// ending), then joined once. Every wait is bounded by the limits, so a client
// cannot make the parser hold more than about maxCommandBytes.

import { parseInteger } from "./integer.js";
import { splitInlineArgs } from "./inline.js";
import { errorReply, type Reply } from "./writer.js";
import { ChunkedInput } from "../util/chunked-input.js";

export interface ParserLimits {
  /** Largest bulk argument ($N). Above the value limit, so that a value a bit too big gets a polite -ERR rather than a dropped connection. */
  readonly maxBulkBytes: number;
  /** Most arguments in one command (*N). */
  readonly maxArgs: number;
  /** Most argument bytes in one command (sum of its bulk lengths). */
  readonly maxCommandBytes: number;
  /** Longest inline command or frame header line (Redis: 64 KiB). */
  readonly maxLineBytes: number;
}

export const DEFAULT_PARSER_LIMITS: ParserLimits = {
  maxBulkBytes: 16 * 1024 * 1024,
  maxArgs: 1024 * 1024,
  maxCommandBytes: 64 * 1024 * 1024,
  maxLineBytes: 64 * 1024,
};

/**
 * A malformed request. The connection's owner sends `reply`
 * ("-ERR Protocol error: ...") and closes the connection, as Redis does.
 */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  readonly reply: Reply;

  constructor(detail: string) {
    // A quoted client byte may be CR or LF; like Redis, show it as a space.
    super(`Protocol error: ${detail.replace(/[\r\n]/g, " ")}`);
    this.reply = errorReply(`ERR ${this.message}`);
  }
}

const CR = 0x0d;
const LF = 0x0a;
const STAR = 0x2a;
const DOLLAR = 0x24;

export class RespParser extends ChunkedInput {
  private readonly limits: ParserLimits;

  /** Whether parsing can make progress; when not, what it waits for (unparsed byte count, or a byte value). */
  private ready = false;
  private waitBytes = 1;
  private waitByte = -1;

  /** The multibulk command being read. */
  private argsLeft = 0;
  private args: Buffer[] = [];
  private bulkLength = -1;
  private commandBytes = 0;

  private failure: ProtocolError | null = null;

  constructor(limits: Partial<ParserLimits> = {}) {
    super();
    this.limits = { ...DEFAULT_PARSER_LIMITS, ...limits };
  }

  /** Bytes received but not yet returned as commands. */
  get bufferedBytes(): number {
    return this.unparsedBytes;
  }

  /** Adds received bytes. The parser keeps a reference to `chunk`: do not reuse its memory. */
  push(chunk: Buffer): void {
    // After a protocol error nothing more is parsed, so nothing more is kept.
    if (chunk.length === 0 || this.failure !== null) return;
    this.take(chunk);
    if (!this.ready) {
      this.ready =
        this.waitByte >= 0
          ? chunk.includes(this.waitByte) || this.bufferedBytes > this.limits.maxLineBytes
          : this.bufferedBytes >= this.waitBytes;
    }
  }

  /**
   * The next complete command (a non-empty array of arguments), or null when
   * more bytes are needed. Throws ProtocolError on a malformed request, and
   * again on every later call: the connection cannot be resynchronised.
   */
  next(): Buffer[] | null {
    if (this.failure !== null) throw this.failure;
    if (!this.ready) return null;
    if (this.pendingBytes > 0) this.join();
    for (;;) {
      if (this.argsLeft === 0) {
        if (this.pos === this.buf.length) return this.waitForBytes(1);
        if (this.buf[this.pos] === STAR) {
          if (!this.readMultibulkHeader()) return null;
          // A count <= 0 is an empty command, which Redis skips.
          if (this.argsLeft === 0) continue;
        } else {
          const inline = this.readInline();
          if (inline === null) return null;
          if (inline.length === 0) continue;
          return inline;
        }
      }
      while (this.argsLeft > 0) {
        if (this.bulkLength < 0 && !this.readBulkHeader()) return null;
        if (this.buf.length - this.pos < this.bulkLength + 2) return this.waitForBytes(this.bulkLength + 2);
        this.args.push(this.buf.subarray(this.pos, this.pos + this.bulkLength));
        // Like Redis, the two bytes after the data are skipped, not checked.
        this.pos += this.bulkLength + 2;
        this.bulkLength = -1;
        this.argsLeft--;
      }
      const command = this.args;
      this.args = [];
      this.commandBytes = 0;
      return command;
    }
  }

  /** "*<count>\r\n". Returns false when the line is incomplete. */
  private readMultibulkHeader(): boolean {
    const cr = this.findLineEnd(CR, "too big mbulk count string");
    if (cr < 0) return false;
    const count = parseInteger(this.buf, this.pos + 1, cr);
    if (count === null || count > this.limits.maxArgs) this.fail("invalid multibulk length");
    this.pos = cr + 2;
    if (count > 0) this.argsLeft = Number(count);
    return true;
  }

  /** "$<length>\r\n". Returns false when the line is incomplete. */
  private readBulkHeader(): boolean {
    const cr = this.findLineEnd(CR, "too big bulk count string");
    if (cr < 0) return false;
    const first = this.buf[this.pos]!;
    if (first !== DOLLAR) this.fail(`expected '$', got '${String.fromCharCode(first)}'`);
    const length = parseInteger(this.buf, this.pos + 1, cr);
    if (length === null || length < 0 || length > this.limits.maxBulkBytes) this.fail("invalid bulk length");
    const n = Number(length);
    if (this.commandBytes + n > this.limits.maxCommandBytes) this.fail("too big command");
    this.commandBytes += n;
    this.bulkLength = n;
    this.pos = cr + 2;
    return true;
  }

  /** An inline command line; null when its line ending has not arrived. */
  private readInline(): Buffer[] | null {
    const lf = this.findLineEnd(LF, "too big inline request");
    if (lf < 0) return null;
    const end = lf > this.pos && this.buf[lf - 1] === CR ? lf - 1 : lf;
    const args = splitInlineArgs(this.buf.subarray(this.pos, end));
    if (args === null) this.fail("unbalanced quotes in request");
    this.pos = lf + 1;
    return args;
  }

  /**
   * The index of the `terminator` ending the line at `pos`, or -1 (and a
   * wait set up) when it has not arrived. A header's CR must be followed by
   * one more byte (its LF), as in Redis.
   */
  private findLineEnd(terminator: number, tooLong: string): number {
    const at = this.buf.indexOf(terminator, this.pos);
    const lineLength = (at < 0 ? this.buf.length : at) - this.pos;
    if (lineLength > this.limits.maxLineBytes) this.fail(tooLong);
    if (at < 0) {
      this.waitByte = terminator;
      this.ready = false;
      return -1;
    }
    if (terminator === CR && at + 1 >= this.buf.length) {
      this.waitForBytes(at + 2 - this.pos);
      return -1;
    }
    return at;
  }

  private waitForBytes(n: number): null {
    this.waitBytes = n;
    this.waitByte = -1;
    this.ready = false;
    return null;
  }

  private fail(detail: string): never {
    this.failure = new ProtocolError(detail);
    throw this.failure;
  }
}
