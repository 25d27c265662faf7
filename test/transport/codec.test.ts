import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { encodeConfiguration } from "../../src/core/configuration.js";
import { EntryType, type Entry, type Message } from "../../src/core/types.js";
import {
  CodecError,
  decodeEntry,
  decodeMessage,
  encodeEntryInto,
  encodeMessage,
  encodeMessageInto,
  encodedEntrySize,
  encodedMessageSize,
} from "../../src/transport/codec.js";
import { Rng } from "./support.js";

const MAX = Number.MAX_SAFE_INTEGER;

function entry(index: number, term: number, data: Buffer, type = EntryType.Normal): Entry {
  return { index, term, type, data };
}

const examples: Message[] = [
  { type: "RequestVote", from: 1, to: 2, term: 7, preVote: false, transfer: false, lastLogIndex: 41, lastLogTerm: 6 },
  { type: "RequestVote", from: 3, to: 1, term: MAX, preVote: true, transfer: true, lastLogIndex: MAX, lastLogTerm: 0 },
  { type: "RequestVoteResponse", from: 2, to: 1, term: 7, preVote: false, voteGranted: true },
  { type: "RequestVoteResponse", from: 2, to: 1, term: 8, preVote: true, voteGranted: false },
  { type: "AppendEntries", from: 1, to: 2, term: 7, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, seq: 0 },
  {
    type: "AppendEntries",
    from: 1,
    to: 2,
    term: 7,
    prevLogIndex: 3,
    prevLogTerm: 6,
    entries: [entry(4, 7, Buffer.from("a")), entry(5, 7, Buffer.alloc(0), EntryType.Noop)],
    leaderCommit: 3,
    seq: 9,
  },
  {
    type: "AppendEntries",
    from: 1,
    to: 3,
    term: 9,
    prevLogIndex: 2 ** 40,
    prevLogTerm: 8,
    entries: [
      entry(2 ** 40 + 1, 9, Buffer.alloc(0), EntryType.Noop),
      entry(2 ** 40 + 2, 9, Buffer.from("set k v")),
      entry(2 ** 40 + 3, 9, Buffer.alloc(3 << 20, 0xab)),
    ],
    leaderCommit: 2 ** 40,
    seq: 123_456_789_012,
  },
  { type: "AppendEntriesResponse", from: 2, to: 1, term: 9, success: true, matchIndex: 12, conflictIndex: 0, conflictTerm: 0, seq: 5, incarnation: 0 },
  { type: "AppendEntriesResponse", from: 2, to: 1, term: 9, success: false, matchIndex: 0, conflictIndex: 4, conflictTerm: 3, seq: MAX, incarnation: 1_764_000_000_000 },
  { type: "InstallSnapshot", from: 1, to: 2, term: 4, lastIncludedIndex: 1000, lastIncludedTerm: 3, offset: 0, data: Buffer.alloc(0), done: true, seq: 1, config: { voters: [1, 2, 3], outgoing: [], learners: [], context: "" } },
  { type: "InstallSnapshot", from: 1, to: 2, term: 4, lastIncludedIndex: 1000, lastIncludedTerm: 3, offset: 3 << 20, data: Buffer.alloc(5 << 20, 1), done: false, seq: 2, config: { voters: [1, 2, 4], outgoing: [1, 2, 3], learners: [5], context: "{\"x\":1}" } },
  { type: "InstallSnapshotResponse", from: 2, to: 1, term: 4, matchIndex: 1000, lastIncludedIndex: 1000, received: 8 << 20, seq: 2, incarnation: 7 },
  { type: "InstallSnapshotResponse", from: 2, to: 1, term: 4, matchIndex: 0, lastIncludedIndex: 1000, received: 0, seq: MAX, incarnation: MAX },
  { type: "TimeoutNow", from: 1, to: 2, term: 4 },
  { type: "RecoveryQuery", from: 3, to: 1, term: 0 },
  { type: "RecoveryReply", from: 1, to: 3, term: 12, lastLogIndex: 2 ** 40, recovering: false },
  { type: "RecoveryReply", from: 2, to: 3, term: 0, lastLogIndex: 0, recovering: true },
];

describe("message codec", () => {
  test("round-trips every message type, with empty and large byte fields", () => {
    const seen = new Set<string>();
    for (const m of examples) {
      const buf = encodeMessage(m);
      assert.equal(buf.length, encodedMessageSize(m));
      assert.deepEqual(decodeMessage(buf), m);
      seen.add(m.type);
    }
    assert.equal(seen.size, 9, "an example of every message type");
  });

  test("encodes at an offset, leaving the bytes around it alone", () => {
    const m = examples[6]!;
    const buf = Buffer.alloc(encodedMessageSize(m) + 10, 0xee);
    assert.equal(encodeMessageInto(m, buf, 4), 4 + encodedMessageSize(m));
    assert.deepEqual(decodeMessage(buf.subarray(4, buf.length - 6)), m);
    assert.deepEqual([...buf.subarray(0, 4), ...buf.subarray(buf.length - 6)], Array(10).fill(0xee));
  });

  test("round-trips random messages (seeded)", () => {
    const rng = new Rng(42);
    for (let i = 0; i < 3000; i++) {
      const m = randomMessage(rng);
      assert.deepEqual(decodeMessage(encodeMessage(m)), m);
    }
  });

  test("refuses numbers a JS number cannot hold exactly, or that are not indexes", () => {
    for (const term of [-1, 1.5, MAX + 1, Number.NaN, Infinity]) {
      assert.throws(() => encodeMessage({ ...examples[0]!, term } as Message), RangeError, `term ${term}`);
    }
  });

  test("every truncation of a valid message is a CodecError", () => {
    for (const m of examples.filter((m) => encodedMessageSize(m) < 1000)) {
      const buf = encodeMessage(m);
      for (let n = 0; n < buf.length; n++) assert.throws(() => decodeMessage(buf.subarray(0, n)), CodecError);
    }
  });

  test("malformed fields are CodecErrors that say what and where", () => {
    const rv = encodeMessage(examples[0]!);
    const cases: Array<[string, (b: Buffer) => void, RegExp]> = [
      ["unknown tag", (b) => (b[0] = 99), /unknown message tag 99 \(at byte 0\)/],
      ["boolean not 0 or 1", (b) => (b[17] = 2), /boolean byte 2 .* \(at byte 17\)/],
      ["term above 2^53", (b) => b.writeUInt32BE(0x0020_0000, 9), /above 2\^53 - 1 \(at byte 9\)/],
    ];
    for (const [what, corrupt, message] of cases) {
      const b = Buffer.from(rv);
      corrupt(b);
      assert.throws(() => decodeMessage(b), (err: unknown) => err instanceof CodecError && message.test(err.message), what);
    }
    assert.throws(() => decodeMessage(Buffer.concat([rv, Buffer.of(0)])), /1 unexpected trailing bytes/);
  });

  test("an entry count larger than the bytes can hold is refused before allocating", () => {
    const ae = encodeMessage(examples[4]!);
    ae.writeUInt32BE(0xffff_ffff, ae.length - 4);
    assert.throws(() => decodeMessage(ae), /4294967295 entries cannot fit/);
  });

  test("random bytes decode to a message or a CodecError, never anything else", () => {
    const rng = new Rng(7);
    for (let i = 0; i < 20_000; i++) {
      const buf = rng.bytes(rng.int(80));
      if (buf.length > 0) buf[0] = 1 + rng.int(7); // mostly valid tags, to get past the first byte
      try {
        decodeMessage(buf);
      } catch (err) {
        assert.ok(err instanceof CodecError, `unexpected ${String(err)}`);
      }
    }
  });
});

describe("entry codec", () => {
  test("round-trips entries alone, as the WAL stores them", () => {
    for (const e of [entry(1, 1, Buffer.alloc(0), EntryType.Noop), entry(MAX, MAX, Buffer.from("x")), entry(5, 2, Buffer.alloc(1 << 20, 9))]) {
      const buf = Buffer.allocUnsafe(encodedEntrySize(e));
      assert.equal(encodeEntryInto(e, buf, 0), buf.length);
      assert.deepEqual(decodeEntry(buf), e);
    }
  });

  test("an unknown entry type or a wrong data length is a CodecError", () => {
    const e = entry(1, 1, Buffer.from("abc"));
    const buf = Buffer.allocUnsafe(encodedEntrySize(e));
    encodeEntryInto(e, buf, 0);
    const badType = Buffer.from(buf);
    badType[16] = 9;
    assert.throws(() => decodeEntry(badType), /unknown entry type 9 \(at byte 16\)/);
    const badLength = Buffer.from(buf);
    badLength.writeUInt32BE(4, 17);
    assert.throws(() => decodeEntry(badLength), CodecError);
  });

  test("a Config entry round-trips; one whose data is not a configuration is a CodecError, never a crash of the core", () => {
    const good = entry(3, 2, Buffer.from(encodeConfiguration({ voters: [1, 2, 4], outgoing: [1, 2, 3], learners: [5], context: "{}" })), EntryType.Config);
    const buf = Buffer.allocUnsafe(encodedEntrySize(good));
    encodeEntryInto(good, buf, 0);
    assert.deepEqual(decodeEntry(buf), good);
    for (const data of ["not json", JSON.stringify({ voters: [0], outgoing: [], learners: [], context: "" }), JSON.stringify({ voters: [1], outgoing: [], learners: [] }), JSON.stringify({ voters: ["1"], outgoing: [], learners: [], context: "" })]) {
      const forged = entry(3, 2, Buffer.from(data), EntryType.Config);
      const b = Buffer.allocUnsafe(encodedEntrySize(forged));
      encodeEntryInto(forged, b, 0);
      assert.throws(() => decodeEntry(b), /bad configuration/, data);
    }
  });

  test("an InstallSnapshot whose configuration does not decode is a CodecError", () => {
    const m: Message = { type: "InstallSnapshot", from: 1, to: 2, term: 4, lastIncludedIndex: 9, lastIncludedTerm: 3, offset: 0, data: Buffer.from("s"), done: true, seq: 1, config: { voters: [1, 2, 3], outgoing: [], learners: [], context: "" } };
    const buf = encodeMessage(m);
    const text = buf.toString("latin1");
    const at = text.indexOf('"voters"');
    assert.ok(at > 0);
    const forged = Buffer.from(buf);
    forged.write("x", at - 1, "latin1"); // the JSON no longer starts with "{"
    assert.throws(() => decodeMessage(forged), /bad configuration in InstallSnapshot/);
  });
});

function randomMessage(rng: Rng): Message {
  const num = () => (rng.int(3) === 0 ? rng.int(100) : Math.floor(rng.next() * MAX));
  const bool = () => rng.int(2) === 1;
  const bytes = () => rng.bytes(rng.int(3) === 0 ? 0 : rng.int(300));
  const env = { from: 1 + rng.int(0xffff_fffe), to: 1 + rng.int(7), term: num() };
  switch (rng.int(8)) {
    case 0:
      return { type: "RequestVote", ...env, preVote: bool(), transfer: bool(), lastLogIndex: num(), lastLogTerm: num() };
    case 1:
      return { type: "RequestVoteResponse", ...env, preVote: bool(), voteGranted: bool() };
    case 2: {
      const entries = Array.from({ length: rng.int(6) }, () => entry(num(), num(), bytes(), bool() ? EntryType.Noop : EntryType.Normal));
      return { type: "AppendEntries", ...env, prevLogIndex: num(), prevLogTerm: num(), entries, leaderCommit: num(), seq: num() };
    }
    case 3:
      return { type: "AppendEntriesResponse", ...env, success: bool(), matchIndex: num(), conflictIndex: num(), conflictTerm: num(), seq: num(), incarnation: num() };
    case 4:
      return { type: "InstallSnapshot", ...env, lastIncludedIndex: num(), lastIncludedTerm: num(), offset: num(), data: bytes(), done: bool(), seq: num(), config: { voters: [1, 2, 3], outgoing: [], learners: [], context: "" } };
    case 5:
      return { type: "InstallSnapshotResponse", ...env, matchIndex: num(), lastIncludedIndex: num(), received: num(), seq: num(), incarnation: num() };
    case 6:
      return { type: "RecoveryQuery", ...env };
    default:
      return { type: "RecoveryReply", ...env, lastLogIndex: num(), recovering: bool() };
  }
}
