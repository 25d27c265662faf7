// WAL records and their framing on disk, after a segment's header
// (header.ts):
//
//   crc32 u32 | length u32 | type u8 | payload (length bytes)
//
// big-endian; the CRC covers everything after itself (length, type and
// payload), so a torn or damaged record — its length included — fails it.
// Where the records end is said by the segment's header (dataEnd), never
// guessed by scanning: no payload can pass for a record boundary.
//
//   type 1             (format 1's hard-state record; the header holds it now)
//   type 2 entry       the peer codec's Entry encoding
//   type 3 truncate    fromIndex u64: entries from fromIndex on are removed
//   type 4 snapshot    index u64, term u64: the log now starts after a snapshot
//                      at (index, term); entries up to index are dropped

import type { Entry } from "../core/types.js";
import { ByteReader, encodeEntryInto, encodedEntrySize, writeUint64 } from "../codec/entry.js";
import { crc32 } from "./crc32.js";

export type WalRecord =
  | { readonly kind: "entry"; readonly entry: Entry }
  | { readonly kind: "truncate"; readonly fromIndex: number }
  | { readonly kind: "snapshot"; readonly index: number; readonly term: number };

const TYPE = { entry: 2, truncate: 3, snapshot: 4 } as const satisfies Record<WalRecord["kind"], number>;
/** Format 1 began every segment with one of these (hard state), at offset 0. */
export const FORMAT_1_HARD_STATE = 1;

export const RECORD_HEADER_BYTES = 4 + 4 + 1;
const INITIAL_CAPACITY = 64 * 1024;
/** A buffer grown past this for one large batch is given back afterwards. */
const RETAINED_CAPACITY = 4 * 1024 * 1024;

/** Records encoded back to back into one growable buffer, ready for a single write. */
export class RecordBuffer {
  private buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
  private used = 0;

  get length(): number {
    return this.used;
  }

  /** The encoded records (a view, valid until the next change). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.used);
  }

  clear(): void {
    this.used = 0;
    if (this.buf.length > RETAINED_CAPACITY) this.buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
  }

  entry(e: Entry): void {
    const size = encodedEntrySize(e);
    const at = this.begin(TYPE.entry, size);
    encodeEntryInto(e, this.buf, at);
    this.seal(at, size);
  }

  truncate(fromIndex: number): void {
    const at = this.begin(TYPE.truncate, 8);
    writeUint64(this.buf, fromIndex, at);
    this.seal(at, 8);
  }

  snapshot(index: number, term: number): void {
    const at = this.begin(TYPE.snapshot, 16);
    writeUint64(this.buf, term, writeUint64(this.buf, index, at));
    this.seal(at, 16);
  }

  /** Reserves a record; returns where its payload goes. */
  private begin(type: number, payloadBytes: number): number {
    const needed = this.used + RECORD_HEADER_BYTES + payloadBytes;
    if (needed > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, 2 * this.buf.length));
      this.buf.copy(grown, 0, 0, this.used);
      this.buf = grown;
    }
    this.buf.writeUInt32BE(payloadBytes, this.used + 4);
    this.buf.writeUInt8(type, this.used + 8);
    return this.used + RECORD_HEADER_BYTES;
  }

  private seal(payloadAt: number, payloadBytes: number): void {
    const start = payloadAt - RECORD_HEADER_BYTES;
    const end = payloadAt + payloadBytes;
    this.buf.writeUInt32BE(crc32(this.buf.subarray(start + 4, end)), start);
    this.used = end;
  }
}

/** One framed record as found in a file; `payload` is a view of the file's bytes. */
export interface RawRecord {
  readonly type: number;
  readonly payload: Buffer;
  /** Offset of the next record. */
  readonly next: number;
}

/** The record at `offset`, or why there is no intact one there. */
export function readRecord(buf: Buffer, offset: number): RawRecord | string {
  const left = buf.length - offset;
  if (left < RECORD_HEADER_BYTES) return `incomplete record header (${left} of ${RECORD_HEADER_BYTES} bytes)`;
  const length = buf.readUInt32BE(offset + 4);
  if (length > left - RECORD_HEADER_BYTES) return `record of ${length} bytes runs past the end of the file`;
  const next = offset + RECORD_HEADER_BYTES + length;
  if (crc32(buf.subarray(offset + 4, next)) !== buf.readUInt32BE(offset)) return "checksum mismatch";
  return { type: buf[offset + 8]!, payload: buf.subarray(offset + RECORD_HEADER_BYTES, next), next };
}

/** Decodes a record's payload; throws CodecError (or a plain Error for an unknown type) when it is impossible. */
export function decodeRecord(raw: RawRecord): WalRecord {
  const r = new ByteReader(raw.payload);
  let record: WalRecord;
  switch (raw.type) {
    case TYPE.entry:
      record = { kind: "entry", entry: r.entry() };
      break;
    case TYPE.truncate:
      record = { kind: "truncate", fromIndex: r.u64() };
      break;
    case TYPE.snapshot:
      record = { kind: "snapshot", index: r.u64(), term: r.u64() };
      break;
    default:
      throw new Error(`unknown record type ${raw.type}`);
  }
  r.end();
  return record;
}
