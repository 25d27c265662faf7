// The key-value state machine. It knows nothing of the network: the server
// applies committed log entries to it, in log order, on every replica, and
// runs linearizable reads against it. apply() depends only on the state and
// the command, so every replica computes the same state and the same reply
// (errors included) for each entry.
//
// Keys are kept as latin1 strings (one char per byte: exact, and compact in
// V8); values as Buffers owned by the store.

import { bulk, integer, NIL, OK, type Reply } from "../resp/writer.js";
import { INT64_MAX, INT64_MIN, parseInt64 } from "../resp/integer.js";
import { assertNever } from "../util/assert.js";
import { ByteReader, ByteWriter, DecodeError } from "./binary.js";
import { decodeCommand, type DataCommand, type KvCommand, type SetCondition } from "./command.js";
import { DEFAULT_MAX_SESSIONS, SessionTable } from "./sessions.js";
import { NOT_INTEGER, OVERFLOW, stringTooLong } from "./errors.js";

export interface KvStateMachineOptions {
  /**
   * Most client sessions kept (least recently used evicted first). Part of
   * the replicated state's rules: every node of a cluster must use the same value.
   */
  readonly maxSessions?: number;
}

/** First bytes of a snapshot: format name and version. */
const SNAPSHOT_MAGIC = Buffer.from("RKV1", "latin1");

export class KvStateMachine {
  private readonly data = new Map<string, Buffer>();
  private readonly sessions: SessionTable;
  private applied = 0;

  constructor(options: KvStateMachineOptions = {}) {
    this.sessions = new SessionTable(options.maxSessions ?? DEFAULT_MAX_SESSIONS);
  }

  /** Number of keys. */
  get size(): number {
    return this.data.size;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Log index of the last command applied (0 if none). */
  get lastApplied(): number {
    return this.applied;
  }

  /**
   * Applies the committed command at log `index` and returns the reply its
   * client gets. Indexes must increase (gaps, e.g. for no-op entries, are
   * fine). Throws DecodeError on bytes encodeCommand did not produce: that
   * is a bug or a version mismatch, and stopping beats diverging.
   */
  apply(index: number, command: Uint8Array): Reply {
    if (!(index > this.applied)) {
      throw new RangeError(`log index ${index} applied out of order: last applied index is ${this.applied}`);
    }
    let decoded: KvCommand;
    try {
      decoded = decodeCommand(command);
    } catch (e) {
      if (e instanceof DecodeError) throw new DecodeError(`log entry ${index}: ${e.message}`);
      throw e;
    }
    this.applied = index;
    switch (decoded.op) {
      case "register":
        this.sessions.register(index);
        return integer(index);
      case "session":
        return this.sessions.apply(decoded.clientId, decoded.seq, () => this.execute(decoded.command));
      default:
        return this.execute(decoded);
    }
  }

  /** The value of `key`, or undefined. The Buffer belongs to the store: do not modify it. */
  get(key: Uint8Array): Buffer | undefined {
    return this.data.get(keyString(key));
  }

  has(key: Uint8Array): boolean {
    return this.data.has(keyString(key));
  }

  /** The whole state (keys, sessions, last applied index), deterministic: equal states give equal bytes. */
  snapshot(): Uint8Array {
    let estimate = 64;
    for (const [k, v] of this.data) estimate += k.length + v.length + 10;
    const w = new ByteWriter(estimate + this.sessions.size * 32);
    w.raw(SNAPSHOT_MAGIC);
    w.varint(this.applied);
    this.sessions.encode(w);
    w.varint(this.data.size);
    for (const [k, v] of this.data) {
      w.latin1(k);
      w.bytes(v);
    }
    return w.finish();
  }

  /** Replaces the whole state with a snapshot. Throws DecodeError (leaving the state empty) on a malformed one. */
  restore(snapshot: Uint8Array): void {
    this.data.clear();
    this.applied = 0;
    try {
      const r = new ByteReader(snapshot);
      if (!r.raw(SNAPSHOT_MAGIC.length).equals(SNAPSHOT_MAGIC)) throw new DecodeError("not a raftkv key-value snapshot (bad magic)");
      const applied = r.varint();
      this.sessions.decode(r);
      for (let n = r.varint(); n > 0; n--) {
        const key = r.latin1();
        this.data.set(key, Buffer.from(r.bytes()));
      }
      if (!r.done) throw new DecodeError("trailing bytes after snapshot");
      this.applied = applied;
    } catch (e) {
      this.data.clear();
      this.sessions.clear();
      if (e instanceof DecodeError) throw new DecodeError(`snapshot: ${e.message}`);
      throw e;
    }
  }

  private execute(c: DataCommand): Reply {
    switch (c.op) {
      case "set":
        return this.set(c.key, c.value, c.condition, c.get);
      case "del": {
        let deleted = 0;
        for (const key of c.keys) if (this.data.delete(keyString(key))) deleted++;
        return integer(deleted);
      }
      case "incrby":
        return this.incrBy(keyString(c.key), c.delta);
      case "append":
        return this.append(keyString(c.key), c.value, c.maxLength);
      case "mset":
        for (let i = 0; i < c.pairs.length; i += 2) this.data.set(keyString(c.pairs[i]!), own(c.pairs[i + 1]!));
        return OK;
      default:
        return assertNever(c);
    }
  }

  private set(key: Buffer, value: Buffer, condition: SetCondition, get: boolean): Reply {
    const k = keyString(key);
    const old = this.data.get(k);
    const skip = (condition === "nx" && old !== undefined) || (condition === "xx" && old === undefined);
    if (!skip) this.data.set(k, own(value));
    if (get) return bulk(old ?? null);
    return skip ? NIL : OK;
  }

  private incrBy(key: string, delta: bigint): Reply {
    const old = this.data.get(key);
    const value = old === undefined ? 0n : parseInt64(old);
    if (value === null) return NOT_INTEGER;
    const result = value + delta;
    if (result > INT64_MAX || result < INT64_MIN) return OVERFLOW;
    this.data.set(key, Buffer.from(result.toString(), "latin1"));
    return integer(result);
  }

  private append(key: string, suffix: Buffer, maxLength: number): Reply {
    const old = this.data.get(key);
    const length = (old?.length ?? 0) + suffix.length;
    if (length > maxLength) return stringTooLong(maxLength);
    this.data.set(key, old === undefined ? own(suffix) : Buffer.concat([old, suffix], length));
    return integer(length);
  }
}

function keyString(key: Uint8Array): string {
  const b = Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return b.toString("latin1");
}

/** A copy, so a stored value never pins the (possibly much larger) log entry buffer it was decoded from. */
function own(value: Buffer): Buffer {
  return Buffer.from(value);
}
