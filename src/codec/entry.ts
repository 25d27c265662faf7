// Binary encoding of log entries, shared by the peer protocol
// (src/transport/codec.ts) and the write-ahead log (src/storage): the WAL
// stores entries in the same form they travel in. Big-endian, fixed-width
// fields; 64-bit values as two 32-bit halves (no BigInt), refused above
// 2^53 - 1 on both sides.
//
//   Entry   index u64, term u64, type u8, dataLength u32, data
//
// Decoded data fields are views of the input buffer, not copies.

import { decodeConfiguration } from "../core/configuration.js";
import { EntryType, type Entry } from "../core/types.js";

/** The input is not a well-formed encoding; `offset` is where decoding stopped. */
export class CodecError extends Error {
  override readonly name = "CodecError";
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset})`);
  }
}

export const TWO_32 = 2 ** 32;
/** Largest high half of a 64-bit value that is still a safe integer (2^53 - 1). */
export const MAX_SAFE_HIGH = 0x1f_ffff;

export const U8 = 1;
export const U32 = 4;
export const U64 = 8;
export const ENVELOPE_BYTES = U8 + U32 + U32 + U64;
export const ENTRY_HEADER_BYTES = U64 + U64 + U8 + U32;

/** Writes a non-negative safe integer as 64 bits; returns the offset after it. */
export function writeUint64(buf: Buffer, value: number, offset: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cannot encode ${value}: not a non-negative safe integer`);
  buf.writeUInt32BE(Math.floor(value / TWO_32), offset);
  buf.writeUInt32BE(value >>> 0, offset + 4);
  return offset + U64;
}

// ---------------------------------------------------------------------------
// Entries
// ---------------------------------------------------------------------------

export function encodedEntrySize(entry: Entry): number {
  return ENTRY_HEADER_BYTES + entry.data.length;
}

/** Encodes `entry` at `offset`; returns the offset after it. */
export function encodeEntryInto(entry: Entry, buf: Buffer, offset: number): number {
  offset = writeUint64(buf, entry.index, offset);
  offset = writeUint64(buf, entry.term, offset);
  offset = buf.writeUInt8(entry.type, offset);
  offset = buf.writeUInt32BE(entry.data.length, offset);
  buf.set(entry.data, offset);
  return offset + entry.data.length;
}

/** Decodes a buffer that holds exactly one entry. */
export function decodeEntry(buf: Buffer): Entry {
  const r = new ByteReader(buf);
  const entry = r.entry();
  r.end();
  return entry;
}

/** Bounds-checked sequential reads: every malformed input ends in a CodecError. */
export class ByteReader {
  private offset = 0;

  constructor(private readonly buf: Buffer) {}

  u8(): number {
    this.need(U8);
    return this.buf[this.offset++]!;
  }

  u32(): number {
    this.need(U32);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += U32;
    return v;
  }

  u64(): number {
    this.need(U64);
    const high = this.buf.readUInt32BE(this.offset);
    if (high > MAX_SAFE_HIGH) throw new CodecError("64-bit value above 2^53 - 1", this.offset);
    const v = high * TWO_32 + this.buf.readUInt32BE(this.offset + 4);
    this.offset += U64;
    return v;
  }

  bool(): boolean {
    const v = this.u8();
    if (v > 1) throw new CodecError(`boolean byte ${v} is neither 0 nor 1`, this.offset - 1);
    return v === 1;
  }

  bytes(length: number): Buffer {
    this.need(length);
    const v = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return v;
  }

  entry(): Entry {
    const index = this.u64();
    const term = this.u64();
    const type = this.entryType();
    const at = this.offset;
    const data = this.bytes(this.u32());
    if (type === EntryType.Config) {
      // The core trusts a Config entry's data: one that does not decode is a malformed input here, not a crash there.
      try {
        decodeConfiguration(data);
      } catch (err) {
        throw new CodecError(`entry ${index}: bad configuration: ${(err as Error).message}`, at);
      }
    }
    return { index, term, type, data };
  }

  entries(): Entry[] {
    const count = this.u32();
    // Each entry takes at least its header: a count the rest cannot hold is refused before allocating for it.
    if (count * ENTRY_HEADER_BYTES > this.buf.length - this.offset) {
      throw new CodecError(`${count} entries cannot fit in the ${this.buf.length - this.offset} bytes left`, this.offset - U32);
    }
    const entries = new Array<Entry>(count);
    for (let i = 0; i < count; i++) entries[i] = this.entry();
    return entries;
  }

  end(): void {
    if (this.offset !== this.buf.length) throw new CodecError(`${this.buf.length - this.offset} unexpected trailing bytes`, this.offset);
  }

  private entryType(): EntryType {
    const v = this.u8();
    switch (v) {
      case EntryType.Normal:
        return EntryType.Normal;
      case EntryType.Noop:
        return EntryType.Noop;
      case EntryType.Config:
        return EntryType.Config;
      default:
        throw new CodecError(`unknown entry type ${v}`, this.offset - 1);
    }
  }

  private need(n: number): void {
    if (this.buf.length - this.offset < n) {
      throw new CodecError(`truncated: needs ${n} more bytes, ${this.buf.length - this.offset} left`, this.offset);
    }
  }
}
