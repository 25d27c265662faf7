// The leader's view of one follower's replication (Figure 2's nextIndex and
// matchIndex, plus flow control). As in etcd-io/raft's tracker/progress.go it
// is a small state machine:
//
//   probe      we do not know where the follower's log matches ours; send one
//              AppendEntries at a time (per heartbeat) and back up on refusal.
//   replicate  the follower is caught up to matchIndex; stream entries
//              optimistically, with at most `maxInflight` messages unanswered.
//   snapshot   the entries it needs are compacted; a snapshot is on its way,
//              one chunk at a time, and nothing else is sent until it is in.

import type { NodeId } from "./types.js";

export type ProgressState = "probe" | "replicate" | "snapshot";

export class Progress {
  state: ProgressState = "probe";
  /** Highest index known to be replicated on the follower. */
  matchIndex = 0;
  /** Index of the next entry to send. */
  nextIndex: number;
  /** probe: one message was sent since the last heartbeat or answer; wait. */
  probeSent = false;
  /** replicate: last index carried by each unanswered AppendEntries, oldest first. */
  inflight: number[] = [];
  /** Heard from it since the last check-quorum round (thesis §6.2). */
  recentActive = false;
  /** Answered anything since the last heartbeat: if not, the in-flight window may hold lost messages. */
  respondedSinceHeartbeat = false;
  /** Highest AppendEntries `seq` it has acknowledged in the current term (read index, thesis §6.4). */
  ackedSeq = 0;
  /** snapshot: bytes of the snapshot the follower is known to hold; the next chunk starts there. */
  snapshotOffset = 0;
  /** The follower's incarnation as its answers last showed it; 0 before the first answer. */
  incarnation = 0;

  constructor(
    readonly id: NodeId,
    lastIndex: number,
  ) {
    this.nextIndex = lastIndex + 1;
  }

  clone(): Progress {
    return Object.assign(new Progress(this.id, 0), this, { inflight: [...this.inflight] });
  }

  /** Everything that decides its future behaviour, as text (model checking). */
  fingerprint(): string {
    return `${this.incarnation === 0 ? "" : `i${this.incarnation}`}${this.state[0]}${this.state === "snapshot" ? `${this.snapshotOffset}:` : ""}${this.matchIndex}/${this.nextIndex}${this.probeSent ? "p" : ""}[${this.inflight.join(",")}]${this.recentActive ? "a" : ""}${this.respondedSinceHeartbeat ? "r" : ""}`;
  }

  becomeProbe(): void {
    this.state = "probe";
    this.nextIndex = this.matchIndex + 1;
    this.probeSent = false;
    this.inflight = [];
  }

  becomeReplicate(): void {
    this.state = "replicate";
    this.nextIndex = this.matchIndex + 1;
    this.inflight = [];
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.state = "snapshot";
    this.nextIndex = snapshotIndex + 1;
    this.snapshotOffset = 0;
    this.inflight = [];
  }

  /**
   * Checks an answer's incarnation before it is used. An answer from an
   * older incarnation is stale: false, ignore it. A newer one means the
   * follower restarted and its disk may have lost what it had acknowledged
   * (docs/STORAGE.md): everything learned about it is forgotten, and it is
   * probed again from scratch. This is the one way matchIndex goes down.
   */
  observeIncarnation(incarnation: number): boolean {
    if (incarnation < this.incarnation) return false;
    if (incarnation > this.incarnation) {
      if (this.incarnation !== 0) {
        // Keep nextIndex as a guess: the follower's refusals back it up from there.
        this.state = "probe";
        this.matchIndex = 0;
        this.probeSent = false;
        this.inflight = [];
      }
      this.incarnation = incarnation;
    }
    return true;
  }

  /** May an AppendEntries carrying entries go out now? */
  canSend(maxInflight: number): boolean {
    switch (this.state) {
      case "probe":
        return !this.probeSent;
      case "replicate":
        return this.inflight.length < maxInflight;
      case "snapshot":
        return false;
    }
  }

  /** Records that entries up to `lastIndex` were sent. */
  sent(lastIndex: number): void {
    if (this.state === "replicate") {
      this.inflight.push(lastIndex);
      this.nextIndex = lastIndex + 1;
    } else {
      this.probeSent = true;
    }
  }

  /** A success for entries up to `matchIndex`; returns whether it taught us anything new. */
  acknowledge(matchIndex: number): boolean {
    let i = 0;
    while (i < this.inflight.length && this.inflight[i]! <= matchIndex) i++;
    if (i > 0) this.inflight.splice(0, i);
    if (matchIndex <= this.matchIndex) return false;
    this.matchIndex = matchIndex;
    if (this.nextIndex <= matchIndex) this.nextIndex = matchIndex + 1;
    this.probeSent = false;
    return true;
  }

  /**
   * A refusal. `hint` is the next index the follower's answer suggests
   * (always <= the refused request's prevLogIndex). Returns false when the
   * answer is stale (from a request older than our current nextIndex guess).
   */
  refused(hint: number): boolean {
    if (hint >= this.nextIndex) return false;
    this.becomeProbe();
    this.nextIndex = Math.max(this.matchIndex + 1, hint);
    return true;
  }
}
