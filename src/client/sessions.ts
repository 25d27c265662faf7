// The client's sessions (see src/kv/sessions.ts for the server's side).
//
// The server remembers only the last write of each session, so a session may
// have one write in flight at a time: a retry of write n must still find
// n's reply there. Concurrent writes therefore each borrow their own
// session from this pool; sessions are registered lazily, so a client that
// writes one thing at a time only ever registers one.

export interface Session {
  /** The client id RAFTKV.REGISTER returned; null until registered (or after the server forgot it). */
  id: number | null;
  /** The last seq used under `id` (writes are numbered 1, 2, 3...). */
  seq: number;
}

export class SessionPool {
  private readonly idle: Session[] = [];
  private created = 0;
  private readonly waiting: ((session: Session) => void)[] = [];

  constructor(private readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`maxConcurrentWrites must be a positive integer, got ${capacity}`);
    }
  }

  /** A session no other write is using; waits for one when all `capacity` are busy. */
  acquire(): Promise<Session> {
    const session = this.idle.pop();
    if (session !== undefined) return Promise.resolve(session);
    if (this.created < this.capacity) {
      this.created++;
      return Promise.resolve({ id: null, seq: 0 });
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(session: Session): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(session);
    else this.idle.push(session);
  }
}
