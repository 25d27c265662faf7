// The key-value state machine. It knows nothing of the network: the server
// applies committed log entries to it, in log order, on every replica, and
// runs linearizable reads against it. apply() depends only on the state and
// the command, so every replica computes the same state and the same reply
// (errors included) for each entry.
//
// Time is part of the log: the leader stamps each entry with its clock
// (encodeTimedCommand), and the state machine's time is the largest stamp
// applied so far (so it never goes back, whatever a new leader's clock says).
// Expiry on apply is decided by that time only: before each entry, every key
// whose time has come is removed (active expiry; the leader proposes an
// empty, stamped TICK when keys are due and no write comes). Reads, answered
// only by the leader, also hide keys due by the leader's clock at the moment
// of the answer (never earlier than the log's time), so no read returns a key
// past its expiry; they never change the state (docs/REDIS.md).
//
// Keys are kept as latin1 strings (one char per byte: exact, and compact in
// V8); a value is a Buffer (string) or a Map of field to Buffer (hash).

import { array, bulk, errorReply, integer, NIL, NIL_ARRAY, OK, type Reply } from "../resp/writer.js";
import { INT64_MAX, INT64_MIN, parseInt64 } from "../resp/integer.js";
import { assertNever } from "../util/assert.js";
import { ByteReader, ByteWriter, DecodeError } from "./binary.js";
import { decodeCommand, encodeCommand, encodeTimedCommand, type DataCommand, type KvCommand, type SetCondition, type TransactionItem } from "./command.js";
import { DEFAULT_MAX_SESSIONS, SessionTable } from "./sessions.js";
import { HASH_NOT_INTEGER, NO_SUCH_KEY, NOT_INTEGER, OVERFLOW, SAME_OBJECT, stringTooLong, WRONGTYPE } from "./errors.js";
import { ExpiryHeap, ScanOrder } from "./keyOrder.js";

export type HashValue = Map<string, Buffer>;
export type Value = Buffer | HashValue;

interface Slot {
  value: Value;
  /** When the key was created, in creation order (SCAN's cursor). */
  readonly seq: number;
  /** Log index of the last change to the key (value or time to live): its version, for WATCH. */
  mod: number;
}

/** A read queued in a transaction, run by the leader in its place while the transaction applies. */
export type TransactionRead = (sm: KvStateMachine) => Reply;

export function typeName(value: Value | undefined): "string" | "hash" | "none" {
  return value === undefined ? "none" : Buffer.isBuffer(value) ? "string" : "hash";
}

export interface KvStateMachineOptions {
  /**
   * Most client sessions kept (least recently used evicted first). Part of
   * the replicated state's rules: every node of a cluster must use the same value.
   */
  readonly maxSessions?: number;

  /**
   * The clock reads use (ms since the epoch): on the leader, the time at
   * which a read is answered. Never used to apply an entry. Default Date.now.
   */
  readonly clock?: () => number;
}

/** Most removed keys remembered for WATCH (see versionOf). */
const MAX_TOMBSTONES = 100_000;

/** First bytes of a snapshot: format name and version (RKV1: strings only, no time; still read). */
const SNAPSHOT_MAGIC = Buffer.from("RKV3", "latin1");
/** RKV2: no key versions. */
const SNAPSHOT_MAGIC_V2 = Buffer.from("RKV2", "latin1");
const SNAPSHOT_MAGIC_V1 = Buffer.from("RKV1", "latin1");
const enum SnapshotType {
  String = 0,
  Hash = 1,
}

export class KvStateMachine {
  private readonly data = new Map<string, Slot>();
  /** Keys with a time to live: key -> when it expires (ms since the epoch, log time). */
  private readonly expires = new Map<string, number>();
  private readonly due = new ExpiryHeap();
  private readonly order = new ScanOrder();
  private readonly sessions: SessionTable;
  private readonly clock: () => number;
  private applied = 0;
  /** The log's time: the largest leader stamp applied so far (ms). */
  private time = 0;
  private nextSeq = 1;
  /**
   * WATCH versions of keys that do not exist: the index at which each was
   * last removed (tombstones, at most MAX_TOMBSTONES: beyond that they are
   * dropped and `horizon`, the index of the drop, stands for all of them).
   */
  private readonly removedAt = new Map<string, number>();
  private horizon = 0;
  /** While a transaction applies: reads see the log's time, not the clock. */
  private inTransaction = false;

  constructor(options: KvStateMachineOptions = {}) {
    this.sessions = new SessionTable(options.maxSessions ?? DEFAULT_MAX_SESSIONS);
    this.clock = options.clock ?? Date.now;
  }

  /** Number of keys stored (keys due to expire but not yet removed included). */
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

  /** The log's time (ms): the largest time stamp applied so far. */
  get logTime(): number {
    return this.time;
  }

  /** The entry the leader proposes for a write: the command with the leader's clock in it. */
  stamp(command: Uint8Array, now: number): Uint8Array {
    return encodeTimedCommand(now, command);
  }

  /** A TICK stamped `now` when keys are due by then (active expiry), else null. */
  timeCommand(now: number): Uint8Array | null {
    const due = this.nextExpiry();
    return due !== null && due <= now ? encodeTimedCommand(now, encodeCommand({ op: "tick" })) : null;
  }

  /** When the next key is due to expire (log time, ms), or null if none is. */
  nextExpiry(): number | null {
    for (;;) {
      const top = this.due.peek();
      if (top === undefined) return null;
      if (this.expires.get(top.key) === top.at) return top.at;
      this.due.pop(); // stale: the key's time changed or the key is gone
    }
  }

  /**
   * Applies the committed command at log `index` and returns the reply its
   * client gets. Indexes must increase (gaps, e.g. for no-op entries, are
   * fine). Throws DecodeError on bytes encodeCommand did not produce: that
   * is a bug or a version mismatch, and stopping beats diverging.
   *
   * `reads`: for a transaction this node proposed, the queued reads, run in
   * their places (elsewhere a read's place in the reply is nil: no client
   * gets that reply).
   */
  apply(index: number, command: Uint8Array, reads?: readonly TransactionRead[]): Reply {
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
    if (decoded.op === "timed") {
      if (decoded.now > this.time) this.time = decoded.now;
      decoded = decoded.command;
    }
    this.expireDue();
    switch (decoded.op) {
      case "register":
        this.sessions.register(index);
        return integer(index);
      case "session": {
        const { clientId, seq, command: inner } = decoded;
        return this.sessions.apply(clientId, seq, () =>
          inner.op === "multi" ? this.transaction(inner.watches, inner.items, reads ?? []) : inner.op === "resolve" ? notApplied(clientId, seq) : this.execute(inner),
        );
      }
      case "multi":
        return this.transaction(decoded.watches, decoded.items, reads ?? []);
      case "resolve":
        // Never decoded outside a session.
        throw new DecodeError(`log entry ${index}: a resolve outside a session`);
      default:
        return this.execute(decoded);
    }
  }

  // ---------------------------------------------------------------------
  // Reads (on the leader, at the time they are answered)
  // ---------------------------------------------------------------------

  /** The time reads use: the clock, but never before the log's time (inside a transaction, the log's time). */
  readTime(): number {
    return this.inTransaction ? this.time : Math.max(this.clock(), this.time);
  }

  /**
   * WATCH: the key's version as a read sees it now: the log index of its last
   * change, or for a missing key of its removal. A key past its time but not
   * yet removed gets a version no later state has (EXEC then fails).
   */
  versionOf(key: Uint8Array, now = this.readTime()): number {
    const k = keyString(key);
    const slot = this.data.get(k);
    if (slot === undefined) return this.removedAt.get(k) ?? this.horizon;
    return this.lookup(k, now) === undefined ? Number.MAX_SAFE_INTEGER : slot.mod;
  }

  /** The value of `key` as a read sees it: undefined if missing or expired by now. */
  lookup(key: Uint8Array | string, now = this.readTime()): Value | undefined {
    const k = typeof key === "string" ? key : keyString(key);
    const slot = this.data.get(k);
    if (slot === undefined) return undefined;
    const at = this.expires.get(k);
    return at !== undefined && at <= now ? undefined : slot.value;
  }

  /** The string value of `key`, or undefined (missing, expired, or not a string). The Buffer belongs to the store. */
  get(key: Uint8Array): Buffer | undefined {
    const v = this.lookup(key);
    return Buffer.isBuffer(v) ? v : undefined;
  }

  has(key: Uint8Array): boolean {
    return this.lookup(key) !== undefined;
  }

  /** When `key` expires (ms), null if it has no time to live, undefined if it does not exist. */
  expiryOf(key: Uint8Array, now = this.readTime()): number | null | undefined {
    if (this.lookup(key, now) === undefined) return undefined;
    return this.expires.get(keyString(key)) ?? null;
  }

  /** Every key a read sees now, in creation order. */
  *liveKeys(now = this.readTime()): Generator<string> {
    for (const k of this.data.keys()) if (this.lookup(k, now) !== undefined) yield k;
  }

  /** The number of keys a read sees now, and how many of them have a time to live. */
  liveCounts(now = this.readTime()): { keys: number; expires: number } {
    let expired = 0;
    for (const at of this.expires.values()) if (at <= now) expired++;
    return { keys: this.data.size - expired, expires: this.expires.size - expired };
  }

  /** SCAN: up to `count` keys created after `cursor` (keys a read sees now), and the cursor to continue with (0: done). */
  scan(cursor: number, count: number, now = this.readTime()): { keys: string[]; next: number } {
    return this.order.from(cursor, count, (seq, key) => this.data.get(key)?.seq === seq && this.lookup(key, now) !== undefined);
  }

  // ---------------------------------------------------------------------
  // Snapshots
  // ---------------------------------------------------------------------

  /** The whole state (keys, times to live, sessions, last applied index, log time), deterministic: equal states give equal bytes. */
  snapshot(): Uint8Array {
    let estimate = 64;
    for (const [k, slot] of this.data) {
      estimate += k.length + 24;
      if (Buffer.isBuffer(slot.value)) estimate += slot.value.length;
      else for (const [f, v] of slot.value) estimate += f.length + v.length + 10;
    }
    const w = new ByteWriter(estimate + this.sessions.size * 32);
    w.raw(SNAPSHOT_MAGIC);
    w.varint(this.applied);
    w.varint(this.time);
    w.varint(this.nextSeq);
    w.varint(this.horizon);
    w.varint(this.removedAt.size);
    for (const [k, index] of this.removedAt) {
      w.latin1(k);
      w.varint(index);
    }
    this.sessions.encode(w);
    w.varint(this.data.size);
    for (const [k, slot] of this.data) {
      w.latin1(k);
      w.varint(slot.seq);
      w.varint(slot.mod);
      const at = this.expires.get(k);
      w.varint(at === undefined ? 0 : at + 1);
      if (Buffer.isBuffer(slot.value)) {
        w.u8(SnapshotType.String);
        w.bytes(slot.value);
      } else {
        w.u8(SnapshotType.Hash);
        w.varint(slot.value.size);
        for (const [f, v] of slot.value) {
          w.latin1(f);
          w.bytes(v);
        }
      }
    }
    return w.finish();
  }

  /** Replaces the whole state with a snapshot. Throws DecodeError (leaving the state empty) on a malformed one. */
  restore(snapshot: Uint8Array): void {
    this.clear();
    this.applied = 0;
    this.time = 0;
    try {
      const r = new ByteReader(snapshot);
      const magic = r.raw(SNAPSHOT_MAGIC.length);
      const v1 = magic.equals(SNAPSHOT_MAGIC_V1);
      const v2 = magic.equals(SNAPSHOT_MAGIC_V2);
      if (!v1 && !v2 && !magic.equals(SNAPSHOT_MAGIC)) throw new DecodeError("not a raftkv key-value snapshot (bad magic)");
      const applied = r.varint();
      const time = v1 ? 0 : r.varint();
      let nextSeq = v1 ? 1 : r.varint();
      if (!v1 && !v2) {
        this.horizon = r.varint();
        for (let n = r.varint(); n > 0; n--) this.removedAt.set(r.latin1(), r.varint());
      }
      this.sessions.decode(r);
      const created: { seq: number; key: string }[] = [];
      for (let n = r.varint(); n > 0; n--) {
        const key = r.latin1();
        if (v1) {
          this.data.set(key, { value: Buffer.from(r.bytes()), seq: nextSeq, mod: 0 });
          created.push({ seq: nextSeq++, key });
          continue;
        }
        const seq = r.varint();
        const mod = v2 ? 0 : r.varint();
        const at = r.varint();
        const type = r.u8();
        let value: Value;
        if (type === SnapshotType.String) value = Buffer.from(r.bytes());
        else if (type === SnapshotType.Hash) {
          value = new Map();
          for (let f = r.varint(); f > 0; f--) value.set(r.latin1(), Buffer.from(r.bytes()));
          if (value.size === 0) throw new DecodeError(`empty hash ${JSON.stringify(key)}`);
        } else throw new DecodeError(`unknown value type ${type}`);
        if (this.data.has(key)) throw new DecodeError(`duplicate key ${JSON.stringify(key)}`);
        if (seq >= nextSeq) throw new DecodeError(`key sequence ${seq} is not below the next one (${nextSeq})`);
        this.data.set(key, { value, seq, mod });
        created.push({ seq, key });
        if (at > 0) {
          this.expires.set(key, at - 1);
          this.due.push(at - 1, key);
        }
      }
      if (!r.done) throw new DecodeError("trailing bytes after snapshot");
      created.sort((a, b) => a.seq - b.seq);
      for (const { seq, key } of created) this.order.add(seq, key);
      this.applied = applied;
      this.time = time;
      this.nextSeq = nextSeq;
    } catch (e) {
      this.clear();
      this.sessions.clear();
      this.applied = 0;
      this.time = 0;
      if (e instanceof DecodeError) throw new DecodeError(`snapshot: ${e.message}`);
      throw e;
    }
  }

  // ---------------------------------------------------------------------
  // Applying commands (time is this.time throughout)
  // ---------------------------------------------------------------------

  private clear(): void {
    this.removedAt.clear();
    this.horizon = 0;
    this.data.clear();
    this.expires.clear();
    this.due.clear();
    this.order.clear();
    this.nextSeq = 1;
  }

  /** Removes every key whose time has come (by the log's time). */
  private expireDue(): void {
    for (let at = this.nextExpiry(); at !== null && at <= this.time; at = this.nextExpiry()) {
      const key = this.due.peek()!.key;
      this.due.pop();
      this.remove(key);
    }
  }

  /** The key's value (no expired key is stored while a command applies: expireDue ran). */
  private value(key: string): Value | undefined {
    return this.data.get(key)?.value;
  }

  /** Stores a value, keeping the key's creation number (and its time to live) when it exists. */
  private store(key: string, value: Value): void {
    const slot = this.data.get(key);
    if (slot !== undefined) {
      slot.value = value;
      slot.mod = this.applied;
      return;
    }
    const seq = this.nextSeq++;
    this.removedAt.delete(key);
    this.data.set(key, { value, seq, mod: this.applied });
    this.order.add(seq, key);
  }

  /** The key changed in place (a hash field, its time to live): a new version. */
  private touch(key: string): void {
    const slot = this.data.get(key);
    if (slot !== undefined) slot.mod = this.applied;
  }

  /**
   * MULTI ... EXEC: nothing if a watched key changed since WATCH (nil
   * array, as Redis answers); else every item in order, nothing in between.
   */
  private transaction(watches: readonly { key: Buffer; version: number }[], items: readonly TransactionItem[], reads: readonly TransactionRead[]): Reply {
    for (const { key, version } of watches) if (this.versionOf(key, this.time) !== version) return NIL_ARRAY;
    const replies: Reply[] = [];
    let read = 0;
    this.inTransaction = true;
    try {
      for (const item of items) {
        if (item.kind === "reply") replies.push(item.reply);
        else if (item.kind === "write") replies.push(this.execute(item.command));
        else {
          const run = reads[read++];
          replies.push(run === undefined ? NIL : run(this));
        }
      }
    } finally {
      this.inTransaction = false;
    }
    return array(replies);
  }

  /** SET-like: a new value, and no time to live unless kept. */
  private overwrite(key: string, value: Value, keepTtl = false): void {
    this.store(key, value);
    if (!keepTtl) this.expires.delete(key);
  }

  private remove(key: string): boolean {
    if (!this.data.delete(key)) return false;
    this.removedAt.set(key, this.applied);
    if (this.removedAt.size > MAX_TOMBSTONES) {
      this.removedAt.clear();
      this.horizon = this.applied;
    }
    this.expires.delete(key);
    this.order.removed((seq, k) => this.data.get(k)?.seq === seq);
    return true;
  }

  /** Sets the key's expiry time; one already due removes the key at once (as Redis does). */
  private setExpiry(key: string, at: number): void {
    if (at <= this.time) {
      this.remove(key);
      return;
    }
    this.expires.set(key, at);
    this.touch(key);
    this.due.push(at, key);
    if (this.due.size > 2 * this.expires.size + 1024) {
      this.due.clear();
      for (const [k, t] of this.expires) this.due.push(t, k);
    }
  }

  private execute(c: DataCommand): Reply {
    switch (c.op) {
      case "set":
        return this.set(keyString(c.key), c.value, c.condition, c.get, null, false);
      case "del": {
        let deleted = 0;
        for (const key of c.keys) if (this.remove(keyString(key))) deleted++;
        return integer(deleted);
      }
      case "incrby":
        return this.incrBy(keyString(c.key), c.delta);
      case "append":
        return this.append(keyString(c.key), c.value, c.maxLength);
      case "mset":
        for (let i = 0; i < c.pairs.length; i += 2) this.overwrite(keyString(c.pairs[i]!), own(c.pairs[i + 1]!));
        return OK;
      case "tick":
        return OK;
      case "call":
        return this.call(c.name, c.args);
      default:
        return assertNever(c);
    }
  }

  /**
   * SET and its relatives. `expiry`: absolute time (ms) to set, or null for
   * none; `keepTtl` keeps the current one. `asInteger`: SETNX's 1/0 reply.
   */
  private set(k: string, value: Buffer, condition: SetCondition, get: boolean, expiry: number | null, keepTtl: boolean, asInteger = false): Reply {
    const old = this.value(k);
    if (get && old !== undefined && !Buffer.isBuffer(old)) return WRONGTYPE;
    const skip = (condition === "nx" && old !== undefined) || (condition === "xx" && old === undefined);
    if (!skip) {
      this.overwrite(k, own(value), keepTtl);
      if (expiry !== null) this.setExpiry(k, expiry);
    }
    if (asInteger) return integer(skip ? 0 : 1);
    if (get) return bulk((old as Buffer | undefined) ?? null);
    return skip ? NIL : OK;
  }

  private incrBy(key: string, delta: bigint): Reply {
    const old = this.value(key);
    if (old !== undefined && !Buffer.isBuffer(old)) return WRONGTYPE;
    const value = old === undefined ? 0n : parseInt64(old);
    if (value === null) return NOT_INTEGER;
    const result = value + delta;
    if (result > INT64_MAX || result < INT64_MIN) return OVERFLOW;
    this.store(key, Buffer.from(result.toString(), "latin1"));
    return integer(result);
  }

  private append(key: string, suffix: Buffer, maxLength: number): Reply {
    const old = this.value(key);
    if (old !== undefined && !Buffer.isBuffer(old)) return WRONGTYPE;
    const length = (old?.length ?? 0) + suffix.length;
    if (length > maxLength) return stringTooLong(maxLength);
    this.store(key, old === undefined ? own(suffix) : Buffer.concat([old, suffix], length));
    return integer(length);
  }

  /** The commands logged as a name and normalised arguments (their planners say what each argument is). */
  private call(name: string, args: readonly Buffer[]): Reply {
    const key = args.length > 0 ? keyString(args[0]!) : "";
    switch (name) {
      case "set": {
        // key value flags expiry: flags among "nxgik" (NX, XX, GET, integer reply, KEEPTTL); expiry "" or "a<ms>" (absolute) or "r<ms>" (relative).
        const flags = args[2]!.toString("latin1");
        const condition: SetCondition = flags.includes("n") ? "nx" : flags.includes("x") ? "xx" : "always";
        return this.set(key, args[1]!, condition, flags.includes("g"), this.expiryTime(args[3]!), flags.includes("k"), flags.includes("i"));
      }
      case "msetnx": {
        for (let i = 0; i < args.length; i += 2) if (this.value(keyString(args[i]!)) !== undefined) return integer(0);
        for (let i = 0; i < args.length; i += 2) this.overwrite(keyString(args[i]!), own(args[i + 1]!));
        return integer(1);
      }
      case "getdel": {
        const old = this.value(key);
        if (old === undefined) return NIL;
        if (!Buffer.isBuffer(old)) return WRONGTYPE;
        this.remove(key);
        return bulk(old);
      }
      case "getex": {
        // key expiry [error]: expiry "p" (PERSIST), "a<ms>" or "r<ms>"; an error found in the arguments is given only if the key is a string, as Redis does.
        const old = this.value(key);
        if (old === undefined) return NIL;
        if (!Buffer.isBuffer(old)) return WRONGTYPE;
        if (args.length > 2) return errorReply(args[2]!.toString("latin1"));
        const mode = args[1]!.toString("latin1");
        if (mode === "p") {
          if (this.expires.delete(key)) this.touch(key);
        }
        else this.setExpiry(key, this.expiryTime(args[1]!)!);
        return bulk(old);
      }
      case "rename": {
        // src dst nx("0"|"1")
        const nx = args[2]![0] === 0x31;
        const value = this.value(key);
        if (value === undefined) return NO_SUCH_KEY;
        const dst = keyString(args[1]!);
        if (dst === key) return nx ? integer(0) : OK;
        if (nx && this.value(dst) !== undefined) return integer(0);
        const at = this.expires.get(key);
        this.remove(key);
        this.remove(dst);
        this.store(dst, value);
        if (at !== undefined) this.setExpiry(dst, at);
        return nx ? integer(1) : OK;
      }
      case "copy": {
        // src dst replace("0"|"1")
        const dst = keyString(args[1]!);
        if (dst === key) return SAME_OBJECT;
        const value = this.value(key);
        if (value === undefined) return integer(0);
        if (this.value(dst) !== undefined) {
          if (args[2]![0] !== 0x31) return integer(0);
          this.remove(dst);
        }
        this.store(dst, Buffer.isBuffer(value) ? Buffer.from(value) : new Map([...value].map(([f, v]) => [f, Buffer.from(v)])));
        const at = this.expires.get(key);
        if (at !== undefined) this.setExpiry(dst, at);
        return integer(1);
      }
      case "flushall":
        // Each key is removed (a new version for WATCH); the rest goes at once.
        for (const k of [...this.data.keys()]) this.remove(k);
        this.expires.clear();
        this.due.clear();
        this.order.clear();
        return OK;
      case "expire": {
        // key expiry conditions: expiry "a<ms>" or "r<ms>"; conditions some of "n" (NX), "x" (XX), "g" (GT), "l" (LT), all to hold.
        if (this.value(key) === undefined) return integer(0);
        const at = this.expiryTime(args[1]!)!;
        const current = this.expires.get(key);
        const condition = args[2]!.toString("latin1");
        if (condition.includes("n") && current !== undefined) return integer(0);
        if (condition.includes("x") && current === undefined) return integer(0);
        // No time to live counts as forever.
        if (condition.includes("g") && (current === undefined || at <= current)) return integer(0);
        if (condition.includes("l") && current !== undefined && at >= current) return integer(0);
        this.setExpiry(key, at);
        return integer(1);
      }
      case "persist":
        if (this.value(key) === undefined || !this.expires.delete(key)) return integer(0);
        this.touch(key);
        return integer(1);
      case "hset":
      case "hsetnx": {
        // key field value [field value ...]
        const hash = this.hashForWrite(key);
        if (hash === null) return WRONGTYPE;
        let added = 0;
        for (let i = 1; i < args.length; i += 2) {
          const field = keyString(args[i]!);
          if (hash.has(field)) {
            if (name === "hsetnx") continue;
          } else added++;
          hash.set(field, own(args[i + 1]!));
        }
        if (hash.size > 0 && !this.data.has(key)) this.store(key, hash);
        else if (name === "hset" || added > 0) this.touch(key);
        return integer(added);
      }
      case "hdel": {
        const hash = this.value(key);
        if (hash === undefined) return integer(0);
        if (Buffer.isBuffer(hash)) return WRONGTYPE;
        let deleted = 0;
        for (let i = 1; i < args.length; i++) if (hash.delete(keyString(args[i]!))) deleted++;
        if (hash.size === 0) this.remove(key);
        else if (deleted > 0) this.touch(key);
        return integer(deleted);
      }
      case "hincrby": {
        // key field delta (a 64-bit integer)
        const hash = this.hashForWrite(key);
        if (hash === null) return WRONGTYPE;
        const field = keyString(args[1]!);
        const old = hash.get(field);
        const value = old === undefined ? 0n : parseInt64(old);
        if (value === null) return HASH_NOT_INTEGER;
        const result = value + BigInt(args[2]!.toString("latin1"));
        if (result > INT64_MAX || result < INT64_MIN) return OVERFLOW;
        hash.set(field, Buffer.from(result.toString(), "latin1"));
        if (!this.data.has(key)) this.store(key, hash);
        else this.touch(key);
        return integer(result);
      }
      default:
        throw new DecodeError(`unknown command ${JSON.stringify(name)} in the log`);
    }
  }

  /** The hash at `key` (a new, not yet stored one if missing), or null if the key holds another type. */
  private hashForWrite(key: string): HashValue | null {
    const value = this.value(key);
    if (value === undefined) return new Map();
    return Buffer.isBuffer(value) ? null : value;
  }

  /** "" -> null; "a<ms>" -> ms; "r<ms>" -> the log's time + ms. */
  private expiryTime(arg: Buffer): number | null {
    if (arg.length === 0) return null;
    const ms = Number(arg.toString("latin1", 1));
    return arg[0] === 0x72 /* r */ ? this.time + ms : ms;
  }
}

/** The array reply of a hash's fields and/or values, in the hash's order. */
export function hashReply(hash: HashValue, fields: boolean, values: boolean): Reply {
  const items: Reply[] = [];
  for (const [f, v] of hash) {
    if (fields) items.push(bulk(Buffer.from(f, "latin1")));
    if (values) items.push(bulk(v));
  }
  return array(items);
}

export function keyString(key: Uint8Array): string {
  const b = Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return b.toString("latin1");
}

/** A copy, so a stored value never pins the (possibly much larger) log entry buffer it was decoded from. */
function own(value: Buffer): Buffer {
  return Buffer.from(value);
}

/** The answer to RAFTKV.SESSION id seq EXEC (outside MULTI) when write `seq` was never applied: it is now used up. */
function notApplied(clientId: number, seq: number): Reply {
  return errorReply(`NOTAPPLIED write ${seq} of client ${clientId} was not applied, and now never will be`);
}
