// The header of a WAL segment: what the node has promised, kept where a lost
// tail cannot take it (docs/STORAGE.md).
//
// A segment starts with two header slots of SLOT_BYTES each, then its
// records. Every write of a batch appends the records, then rewrites one
// slot — the two take turns — and one fdatasync makes both durable. A slot
// carries its own checksum and a write counter, so a write torn in the
// middle of a slot leaves the other, older slot to read; the newest valid
// slot wins. What a slot says:
//
//   the segment        its sequence number, the first index it holds, the
//                      snapshot the log followed when it was started
//   the records        how many bytes of records the slot vouches for
//                      (dataEnd): records up to there were fsynced and may
//                      have been acknowledged; bytes past it are a write the
//                      crash interrupted, never acknowledged
//   the log            its base (snapshot index and term) and last index
//                      after those records: the highest index the node may
//                      have acknowledged
//   the hard state     term, vote and lost mark, or "unknown"
//   the incarnation    of the boot that wrote it (RaftConfig.incarnation)
//   successor          a newer segment was started: if it is missing, it
//                      was lost
//
// Layout of a slot, big-endian:
//   crc32 u32 (of the bytes after it, up to SLOT_USED) | magic u32 | version u8 |
//   writeSeq u64 | segmentSeq u64 | firstIndex u64 | startBaseIndex u64 |
//   startBaseTerm u64 | dataEnd u64 | baseIndex u64 | baseTerm u64 |
//   lastIndex u64 | hardStateKnown u8 | currentTerm u64 | votedFor u32 |
//   lostThrough u64 | lostTerm u64 (both 0: nothing lost) | incarnation u64 | successor u8

import type { HardState } from "../core/types.js";
import { ByteReader, CodecError, writeUint64 } from "../codec/entry.js";
import { crc32 } from "./crc32.js";

/** A slot fills one 4 KiB page, so a torn write of one page cannot reach the other slot. */
export const SLOT_BYTES = 4096;
export const HEADER_BYTES = 2 * SLOT_BYTES;
/** "RKVW" */
const MAGIC = 0x524b5657;
export const FORMAT_VERSION = 2;
const SLOT_USED = 4 + 4 + 1 + 8 * 9 + 1 + 8 + 4 + 8 + 8 + 8 + 1;

export interface SegmentHeader {
  /** Which write this slot holds; the higher of two valid slots is the newer. */
  readonly writeSeq: number;
  readonly segmentSeq: number;
  readonly firstIndex: number;
  readonly startBaseIndex: number;
  readonly startBaseTerm: number;
  /** Bytes of records, after the header, that this slot vouches for. */
  readonly dataEnd: number;
  readonly baseIndex: number;
  readonly baseTerm: number;
  /** The log's last index after those records: the most the node may have acknowledged. */
  readonly lastIndex: number;
  /** null: the node did not know its term and vote when this was written. */
  readonly hardState: HardState | null;
  readonly incarnation: number;
  readonly successor: boolean;
}

/** Encodes `h` into a fresh SLOT_BYTES buffer. */
export function encodeHeader(h: SegmentHeader): Buffer {
  const buf = Buffer.alloc(SLOT_BYTES);
  let at = 4;
  at = buf.writeUInt32BE(MAGIC, at);
  at = buf.writeUInt8(FORMAT_VERSION, at);
  for (const v of [h.writeSeq, h.segmentSeq, h.firstIndex, h.startBaseIndex, h.startBaseTerm, h.dataEnd, h.baseIndex, h.baseTerm, h.lastIndex]) at = writeUint64(buf, v, at);
  at = buf.writeUInt8(h.hardState === null ? 0 : 1, at);
  at = writeUint64(buf, h.hardState?.currentTerm ?? 0, at);
  at = buf.writeUInt32BE(h.hardState?.votedFor ?? 0, at);
  at = writeUint64(buf, h.hardState?.lost?.through ?? 0, at);
  at = writeUint64(buf, h.hardState?.lost?.term ?? 0, at);
  at = writeUint64(buf, h.incarnation, at);
  at = buf.writeUInt8(h.successor ? 1 : 0, at);
  buf.writeUInt32BE(crc32(buf.subarray(4, SLOT_USED)), 0);
  return buf;
}

/** The slot at `offset`, or null when it is not an intact slot of this format. */
export function decodeSlot(buf: Buffer, offset: number): SegmentHeader | null {
  if (buf.length < offset + SLOT_USED) return null;
  const slot = buf.subarray(offset, offset + SLOT_USED);
  if (crc32(slot.subarray(4)) !== slot.readUInt32BE(0)) return null;
  try {
    const r = new ByteReader(slot.subarray(4));
    if (r.u32() !== MAGIC || r.u8() !== FORMAT_VERSION) return null;
    const [writeSeq, segmentSeq, firstIndex, startBaseIndex, startBaseTerm, dataEnd, baseIndex, baseTerm, lastIndex] = Array.from({ length: 9 }, () => r.u64()) as [
      number, number, number, number, number, number, number, number, number,
    ];
    const known = r.u8() === 1;
    const currentTerm = r.u64();
    const votedFor = r.u32();
    const lostThrough = r.u64();
    const lostTerm = r.u64();
    const incarnation = r.u64();
    const successor = r.u8() === 1;
    const hardState: HardState | null = !known
      ? null
      : { currentTerm, votedFor: votedFor === 0 ? null : votedFor, ...((lostThrough > 0 || lostTerm > 0) && { lost: { through: lostThrough, term: lostTerm } }) };
    return { writeSeq, segmentSeq, firstIndex, startBaseIndex, startBaseTerm, dataEnd, baseIndex, baseTerm, lastIndex, hardState, incarnation, successor };
  } catch (err) {
    if (err instanceof CodecError) return null;
    throw err;
  }
}

/** The newer of a segment's two slots that is intact, or null when neither is. */
export function readHeader(buf: Buffer): SegmentHeader | null {
  const a = decodeSlot(buf, 0);
  const b = decodeSlot(buf, SLOT_BYTES);
  if (a === null) return b;
  if (b === null) return a;
  return a.writeSeq >= b.writeSeq ? a : b;
}

/** Where the slot for write number `writeSeq` goes: the two slots take turns. */
export function slotOffset(writeSeq: number): number {
  return (writeSeq % 2) * SLOT_BYTES;
}
