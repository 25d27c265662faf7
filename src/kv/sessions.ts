// Client sessions (Raft thesis §6.3): exactly-once writes despite retries.
//
// A client registers (RAFTKV.REGISTER, a logged command; its id is that
// command's log index), then numbers its writes 1, 2, 3... For each client
// the state machine remembers the highest seq applied and its reply. When a
// client retries a write whose outcome it did not learn (say, the leader
// crashed after committing it), the retry carries the same seq: it gets the
// remembered reply and is not applied a second time.
//
// The table is bounded. When full, registering evicts the least recently
// used session, "use" meaning the log index of the client's last command, so
// every replica evicts the same one. A write for an unknown (never
// registered, or evicted) session is refused, never applied: the client must
// register again and treat its pending write as of unknown outcome.

import { errorReply, type Reply } from "../resp/writer.js";
import { type ByteReader, type ByteWriter, DecodeError } from "./binary.js";
import { readReplyBinary, writeReplyBinary } from "./replyCodec.js";

export const DEFAULT_MAX_SESSIONS = 10_000;

interface Session {
  lastSeq: number;
  /** The reply to write `lastSeq`; null until the first write. */
  lastReply: Reply | null;
}

export class SessionTable {
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly sessions = new Map<number, Session>();

  constructor(private readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`maxSessions must be a positive integer, got ${capacity}`);
    }
  }

  get size(): number {
    return this.sessions.size;
  }

  register(clientId: number): void {
    this.sessions.set(clientId, { lastSeq: 0, lastReply: null });
    if (this.sessions.size > this.capacity) {
      const leastRecent = this.sessions.keys().next().value as number;
      this.sessions.delete(leastRecent);
    }
  }

  /**
   * Runs `execute` for write `seq` of `clientId` unless that write was
   * already applied; returns its reply either way.
   */
  apply(clientId: number, seq: number, execute: () => Reply): Reply {
    const session = this.sessions.get(clientId);
    if (session === undefined) {
      return errorReply(
        `SESSIONEXPIRED client ${clientId} has no session (never registered, or evicted): ` +
          `send RAFTKV.REGISTER for a new client id; the outcome of this write is unknown`,
      );
    }
    this.sessions.delete(clientId);
    this.sessions.set(clientId, session);
    if (seq === session.lastSeq && session.lastReply !== null) return session.lastReply;
    if (seq <= session.lastSeq) {
      return errorReply(`ERR RAFTKV.SESSION seq ${seq} is older than the last applied seq ${session.lastSeq} of client ${clientId}`);
    }
    const reply = execute();
    session.lastSeq = seq;
    session.lastReply = reply;
    return reply;
  }

  clear(): void {
    this.sessions.clear();
  }

  /** Writes the sessions in recency order, so a restored table evicts in the same order. */
  encode(w: ByteWriter): void {
    w.varint(this.sessions.size);
    for (const [clientId, s] of this.sessions) {
      w.varint(clientId);
      w.varint(s.lastSeq);
      if (s.lastReply !== null) writeReplyBinary(w, s.lastReply);
    }
  }

  /** Replaces the table with the one `encode` wrote. */
  decode(r: ByteReader): void {
    this.sessions.clear();
    for (let n = r.varint(); n > 0; n--) {
      const clientId = r.varint();
      const lastSeq = r.varint();
      const lastReply = lastSeq > 0 ? readReplyBinary(r) : null;
      if (this.sessions.has(clientId)) throw new DecodeError(`duplicate session ${clientId}`);
      this.sessions.set(clientId, { lastSeq, lastReply });
    }
    if (this.sessions.size > this.capacity) {
      throw new DecodeError(`snapshot holds ${this.sessions.size} sessions, more than maxSessions (${this.capacity})`);
    }
  }
}
