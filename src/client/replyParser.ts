// Incremental RESP2 reply parser: the client's mirror of src/resp/parser.ts.
//
// Bytes arrive in arbitrary fragments; push() stores them and next() hands
// out complete replies one at a time. Parsing never goes back: an array being
// read is kept on an explicit stack of partly filled frames, so a huge MGET
// reply that arrives in many fragments is read once, and deep nesting costs
// heap, not call stack. While waiting for input nothing is copied: fragments
// are queued until there is enough (a whole bulk string, or a line end) and
// joined once.
//
// Bulk values are views into the received bytes, not copies.

import { parseInteger } from "../resp/integer.js";
import { array, bulk, type Reply } from "../resp/writer.js";
import { ReplyParseError } from "./errors.js";
import { ChunkedInput } from "../util/chunked-input.js";

export interface ReplyParserLimits {
  /** Largest bulk string (Redis's proto-max-bulk-len default). */
  readonly maxBulkBytes: number;
  /** Most items in one array. */
  readonly maxArrayItems: number;
  /** Longest status, error or header line. */
  readonly maxLineBytes: number;
}

export const DEFAULT_REPLY_LIMITS: ReplyParserLimits = {
  maxBulkBytes: 512 * 1024 * 1024,
  maxArrayItems: 16 * 1024 * 1024,
  maxLineBytes: 64 * 1024,
};

const CR = 0x0d;
const LF = 0x0a;
/** Marks that an array header was read and its items follow. */
const ARRAY_OPENED = Symbol("array opened");

interface Frame {
  readonly items: Reply[];
  readonly length: number;
}

export class ReplyParser extends ChunkedInput {
  private readonly limits: ReplyParserLimits;

  /** Whether parsing can make progress; if not, it waits for a line end or for `waitBytes` unparsed bytes. */
  private ready = false;
  private waitForLineEnd = true;
  private waitBytes = 0;

  /** Length of the bulk string whose header has been read, or -1. */
  private bulkLength = -1;
  /** Arrays being filled, outermost first. */
  private readonly stack: Frame[] = [];

  private failure: ReplyParseError | null = null;

  constructor(limits: Partial<ReplyParserLimits> = {}) {
    super();
    this.limits = { ...DEFAULT_REPLY_LIMITS, ...limits };
  }

  /** Adds received bytes. The parser keeps a reference to `chunk`: do not reuse its memory. */
  push(chunk: Buffer): void {
    if (chunk.length === 0 || this.failure !== null) return;
    this.take(chunk);
    if (!this.ready) {
      const unparsed = this.unparsedBytes;
      this.ready = this.waitForLineEnd ? chunk.includes(LF) || unparsed > this.limits.maxLineBytes : unparsed >= this.waitBytes;
    }
  }

  /**
   * The next complete reply, or null when more bytes are needed. Throws
   * ReplyParseError on malformed input, and again on every later call: the
   * stream cannot be resynchronised.
   */
  next(): Reply | null {
    if (this.failure !== null) throw this.failure;
    if (!this.ready) return null;
    if (this.pendingBytes > 0) this.join();
    for (;;) {
      const value = this.readValue();
      if (value === null) return null;
      if (value === ARRAY_OPENED) continue;
      const reply = this.complete(value);
      if (reply !== null) return reply;
    }
  }

  /** Adds a finished value to the innermost open array, closing every array it fills; returns the top-level reply once there is one. */
  private complete(value: Reply): Reply | null {
    let done = value;
    for (;;) {
      const frame = this.stack[this.stack.length - 1];
      if (frame === undefined) return done;
      frame.items.push(done);
      if (frame.items.length < frame.length) return null;
      this.stack.pop();
      done = array(frame.items);
    }
  }

  /** One value, ARRAY_OPENED after the header of a non-empty array, or null when input is missing. */
  private readValue(): Reply | typeof ARRAY_OPENED | null {
    if (this.bulkLength >= 0) return this.readBulkData();
    const lf = this.buf.indexOf(LF, this.pos);
    if (lf < 0) {
      if (this.buf.length - this.pos > this.limits.maxLineBytes) this.fail(`a line longer than ${this.limits.maxLineBytes} bytes`);
      return this.waitForLine();
    }
    if (lf - this.pos > this.limits.maxLineBytes) this.fail(`a line longer than ${this.limits.maxLineBytes} bytes`);
    if (lf === this.pos || this.buf[lf - 1] !== CR) this.fail("a line not ended by CRLF");
    const type = this.buf[this.pos]!;
    const start = this.pos + 1;
    const end = lf - 1;
    this.pos = lf + 1;
    switch (type) {
      case 0x2b /* + */:
        return { kind: "simple", value: this.buf.toString("latin1", start, end) };
      case 0x2d /* - */:
        return { kind: "error", message: this.buf.toString("latin1", start, end) };
      case 0x3a /* : */: {
        const value = parseInteger(this.buf, start, end);
        if (value === null) this.fail(`integer reply ':${this.buf.toString("latin1", start, end)}' is not a 64-bit integer`);
        return { kind: "integer", value };
      }
      case 0x24 /* $ */: {
        const length = this.readLength(start, end, "bulk", this.limits.maxBulkBytes);
        if (length < 0) return bulk(null);
        this.bulkLength = length;
        return this.readBulkData();
      }
      case 0x2a /* * */: {
        const length = this.readLength(start, end, "array", this.limits.maxArrayItems);
        if (length < 0) return array(null);
        if (length === 0) return array([]);
        this.stack.push({ items: [], length });
        return ARRAY_OPENED;
      }
      default:
        return this.fail(`unknown reply type '${printable(type)}'`);
    }
  }

  private readBulkData(): Reply | null {
    const n = this.bulkLength;
    if (this.buf.length - this.pos < n + 2) {
      this.waitForLineEnd = false;
      this.waitBytes = n + 2;
      this.ready = false;
      return null;
    }
    if (this.buf[this.pos + n] !== CR || this.buf[this.pos + n + 1] !== LF) this.fail(`bulk string of ${n} bytes not followed by CRLF`);
    const value = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n + 2;
    this.bulkLength = -1;
    return bulk(value);
  }

  /** A bulk or array length: -1 (nil) or 0..max. */
  private readLength(start: number, end: number, what: string, max: number): number {
    const n = parseInteger(this.buf, start, end);
    if (n === null || typeof n === "bigint" || n < -1 || n > max) {
      this.fail(`invalid ${what} length '${this.buf.toString("latin1", start, end)}'`);
    }
    return n;
  }

  private waitForLine(): null {
    this.waitForLineEnd = true;
    this.ready = false;
    return null;
  }

  private fail(detail: string): never {
    this.failure = new ReplyParseError(detail);
    throw this.failure;
  }
}

function printable(byte: number): string {
  return byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, "0")}`;
}
