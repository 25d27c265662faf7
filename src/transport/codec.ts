// Binary encoding of peer messages and log entries (the WAL stores entries
// in the same form). Big-endian, fixed-width fields, so a message's size is
// known before it is written and it is encoded straight into its frame.
//
// Indexes, terms and seq numbers are 64-bit on the wire (as two 32-bit
// halves, which needs no BigInt); a value above 2^53 - 1, which a JS number
// cannot hold exactly, is refused on both sides. Node ids are 32-bit.
//
//   Entry                  index u64, term u64, type u8, dataLength u32, data
//   every message          tag u8, from u32, to u32, term u64, then by tag:
//   1 RequestVote          preVote bool, transfer bool, lastLogIndex u64, lastLogTerm u64
//   2 RequestVoteResponse  preVote bool, voteGranted bool
//   3 AppendEntries        prevLogIndex u64, prevLogTerm u64, leaderCommit u64, seq u64, count u32, count × Entry
//   4 AppendEntriesResp.   success bool, matchIndex u64, conflictIndex u64, conflictTerm u64, seq u64, incarnation u64
//   5 InstallSnapshot      lastIncludedIndex u64, lastIncludedTerm u64, seq u64, offset u64, done u8, dataLength u32, data,
//                          configLength u32, config (src/core/configuration.ts's encoding)
//   6 InstallSnapshotResp. matchIndex u64, seq u64, lastIncludedIndex u64, received u64, incarnation u64
//   7 TimeoutNow           (nothing beyond the header)
//   8 RecoveryQuery        (nothing beyond the header)
//   9 RecoveryReply        lastLogIndex u64, recovering bool
//
// A bool is one byte, 0 or 1. Decoded byte fields (entry and snapshot data)
// are views of the input buffer, not copies.

import { decodeConfiguration, encodeConfiguration } from "../core/configuration.js";
import { assertNever, type Configuration, type Message, type MessageType } from "../core/types.js";
import { ByteReader, CodecError, ENVELOPE_BYTES, U32, U64, U8, encodeEntryInto, encodedEntrySize, writeUint64 } from "../codec/entry.js";

export { ByteReader, CodecError, decodeEntry, encodeEntryInto, encodedEntrySize, writeUint64 } from "../codec/entry.js";

const TAG = {
  RequestVote: 1,
  RequestVoteResponse: 2,
  AppendEntries: 3,
  AppendEntriesResponse: 4,
  InstallSnapshot: 5,
  InstallSnapshotResponse: 6,
  TimeoutNow: 7,
  RecoveryQuery: 8,
  RecoveryReply: 9,
} as const satisfies Record<MessageType, number>;

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

export function encodedMessageSize(m: Message): number {
  switch (m.type) {
    case "RequestVote":
      return ENVELOPE_BYTES + 2 * U8 + 2 * U64;
    case "RequestVoteResponse":
      return ENVELOPE_BYTES + 2 * U8;
    case "AppendEntries": {
      let size = ENVELOPE_BYTES + 4 * U64 + U32;
      for (const e of m.entries) size += encodedEntrySize(e);
      return size;
    }
    case "AppendEntriesResponse":
      return ENVELOPE_BYTES + U8 + 5 * U64;
    case "InstallSnapshot":
      return ENVELOPE_BYTES + 4 * U64 + U8 + U32 + m.data.length + U32 + encodeConfiguration(m.config).length;
    case "InstallSnapshotResponse":
      return ENVELOPE_BYTES + 5 * U64;
    case "TimeoutNow":
    case "RecoveryQuery":
      return ENVELOPE_BYTES;
    case "RecoveryReply":
      return ENVELOPE_BYTES + U64 + U8;
    default:
      return assertNever(m);
  }
}

/** Encodes `m` at `offset` (the buffer needs encodedMessageSize(m) bytes there); returns the offset after it. */
export function encodeMessageInto(m: Message, buf: Buffer, offset: number): number {
  offset = buf.writeUInt8(TAG[m.type], offset);
  offset = buf.writeUInt32BE(m.from, offset);
  offset = buf.writeUInt32BE(m.to, offset);
  offset = writeUint64(buf, m.term, offset);
  switch (m.type) {
    case "RequestVote":
      offset = buf.writeUInt8(m.preVote ? 1 : 0, offset);
      offset = buf.writeUInt8(m.transfer ? 1 : 0, offset);
      offset = writeUint64(buf, m.lastLogIndex, offset);
      return writeUint64(buf, m.lastLogTerm, offset);
    case "RequestVoteResponse":
      offset = buf.writeUInt8(m.preVote ? 1 : 0, offset);
      return buf.writeUInt8(m.voteGranted ? 1 : 0, offset);
    case "AppendEntries":
      offset = writeUint64(buf, m.prevLogIndex, offset);
      offset = writeUint64(buf, m.prevLogTerm, offset);
      offset = writeUint64(buf, m.leaderCommit, offset);
      offset = writeUint64(buf, m.seq, offset);
      offset = buf.writeUInt32BE(m.entries.length, offset);
      for (const e of m.entries) offset = encodeEntryInto(e, buf, offset);
      return offset;
    case "AppendEntriesResponse":
      offset = buf.writeUInt8(m.success ? 1 : 0, offset);
      offset = writeUint64(buf, m.matchIndex, offset);
      offset = writeUint64(buf, m.conflictIndex, offset);
      offset = writeUint64(buf, m.conflictTerm, offset);
      offset = writeUint64(buf, m.seq, offset);
      return writeUint64(buf, m.incarnation, offset);
    case "InstallSnapshot":
      offset = writeUint64(buf, m.lastIncludedIndex, offset);
      offset = writeUint64(buf, m.lastIncludedTerm, offset);
      offset = writeUint64(buf, m.seq, offset);
      offset = writeUint64(buf, m.offset, offset);
      offset = buf.writeUInt8(m.done ? 1 : 0, offset);
      offset = buf.writeUInt32BE(m.data.length, offset);
      buf.set(m.data, offset);
      offset += m.data.length;
      const config = encodeConfiguration(m.config);
      offset = buf.writeUInt32BE(config.length, offset);
      buf.set(config, offset);
      return offset + config.length;
    case "InstallSnapshotResponse":
      offset = writeUint64(buf, m.matchIndex, offset);
      offset = writeUint64(buf, m.seq, offset);
      offset = writeUint64(buf, m.lastIncludedIndex, offset);
      offset = writeUint64(buf, m.received, offset);
      return writeUint64(buf, m.incarnation, offset);
    case "TimeoutNow":
    case "RecoveryQuery":
      return offset;
    case "RecoveryReply":
      offset = writeUint64(buf, m.lastLogIndex, offset);
      return buf.writeUInt8(m.recovering ? 1 : 0, offset);
    default:
      return assertNever(m);
  }
}

export function encodeMessage(m: Message): Buffer {
  const buf = Buffer.allocUnsafe(encodedMessageSize(m));
  encodeMessageInto(m, buf, 0);
  return buf;
}

/** Decodes a buffer that holds exactly one message; throws CodecError on anything else. */
export function decodeMessage(buf: Buffer): Message {
  const r = new ByteReader(buf);
  const tag = r.u8();
  const from = r.u32();
  const to = r.u32();
  const term = r.u64();
  let m: Message;
  switch (tag) {
    case TAG.RequestVote:
      m = { type: "RequestVote", from, to, term, preVote: r.bool(), transfer: r.bool(), lastLogIndex: r.u64(), lastLogTerm: r.u64() };
      break;
    case TAG.RequestVoteResponse:
      m = { type: "RequestVoteResponse", from, to, term, preVote: r.bool(), voteGranted: r.bool() };
      break;
    case TAG.AppendEntries: {
      const prevLogIndex = r.u64();
      const prevLogTerm = r.u64();
      const leaderCommit = r.u64();
      const seq = r.u64();
      const entries = r.entries();
      m = { type: "AppendEntries", from, to, term, prevLogIndex, prevLogTerm, entries, leaderCommit, seq };
      break;
    }
    case TAG.AppendEntriesResponse:
      m = {
        type: "AppendEntriesResponse",
        from,
        to,
        term,
        success: r.bool(),
        matchIndex: r.u64(),
        conflictIndex: r.u64(),
        conflictTerm: r.u64(),
        seq: r.u64(),
        incarnation: r.u64(),
      };
      break;
    case TAG.InstallSnapshot: {
      const lastIncludedIndex = r.u64();
      const lastIncludedTerm = r.u64();
      const seq = r.u64();
      const offset = r.u64();
      const done = r.bool();
      const data = r.bytes(r.u32());
      const config = configFrom(r.bytes(r.u32()));
      m = { type: "InstallSnapshot", from, to, term, lastIncludedIndex, lastIncludedTerm, seq, offset, done, data, config };
      break;
    }
    case TAG.InstallSnapshotResponse:
      m = { type: "InstallSnapshotResponse", from, to, term, matchIndex: r.u64(), seq: r.u64(), lastIncludedIndex: r.u64(), received: r.u64(), incarnation: r.u64() };
      break;
    case TAG.TimeoutNow:
      m = { type: "TimeoutNow", from, to, term };
      break;
    case TAG.RecoveryQuery:
      m = { type: "RecoveryQuery", from, to, term };
      break;
    case TAG.RecoveryReply:
      m = { type: "RecoveryReply", from, to, term, lastLogIndex: r.u64(), recovering: r.bool() };
      break;
    default:
      throw new CodecError(`unknown message tag ${tag}`, 0);
  }
  r.end();
  return m;
}

/** A configuration from the wire: anything that does not decode is a malformed message. */
function configFrom(bytes: Uint8Array): Configuration {
  try {
    return decodeConfiguration(bytes);
  } catch (err) {
    throw new CodecError(`bad configuration in InstallSnapshot: ${(err as Error).message}`, 0);
  }
}
