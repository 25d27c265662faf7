// Snapshots (§7, Figure 13): the application compacts the log into a
// snapshot; a leader sends it, in chunks, to a follower that needs entries
// the log no longer has; the follower assembles the chunks and installs it.

import { incarnation, send, type Core } from "./context.js";
import { maybeCommit } from "./commit.js";
import type { Progress } from "./progress.js";
import { noteMatched } from "./recovery.js";
import type { IncomingSnapshot } from "./state.js";
import type { Snapshot } from "./api.js";
import { noteActive } from "./tracker.js";
import type { InstallSnapshot, InstallSnapshotResponse } from "./types.js";

/** The application snapshotted its state at `index` (<= lastApplied): the log up to there can go. */
export function compact(c: Core, index: number, data: Uint8Array): void {
  const st = c.st;
  if (index > st.lastApplied) throw new Error(`compact: index ${index} is not applied yet (lastApplied ${st.lastApplied})`);
  if (index <= st.log.snapshotIndex) return;
  const term = st.log.term(index)!;
  // The snapshot keeps the configuration in effect at its index (thesis §5.1).
  const config = st.log.configAt(index)?.config ?? c.bootstrap;
  st.log.compact(index, term);
  st.snapshot = { lastIncludedIndex: index, lastIncludedTerm: term, data, config };
}

/** Leader: sends the chunk of the snapshot that starts where the follower is known to be. */
export function sendSnapshot(c: Core, pr: Progress): void {
  const st = c.st;
  const snap = st.snapshot!;
  // A newer snapshot replaced the one being sent: start it over.
  if (pr.nextIndex !== snap.lastIncludedIndex + 1) pr.becomeSnapshot(snap.lastIncludedIndex);
  const offset = Math.min(pr.snapshotOffset, snap.data.length);
  const end = Math.min(snap.data.length, offset + Math.max(1, c.config.snapshotChunkBytes ?? 1 << 20));
  send(c, {
    type: "InstallSnapshot",
    from: c.config.id,
    to: pr.id,
    term: st.currentTerm,
    lastIncludedIndex: snap.lastIncludedIndex,
    lastIncludedTerm: snap.lastIncludedTerm,
    offset,
    data: snap.data.subarray(offset, end),
    done: end === snap.data.length,
    seq: ++st.seq,
    config: snap.config ?? c.bootstrap,
  });
}

/**
 * Follower: one chunk (Figure 13). Chunks are kept only if they continue
 * what was received of the same snapshot from the same leader term; the
 * answer says how many bytes are held, so the leader resends from there
 * after a loss, a duplicate or a restart.
 */
export function handleInstallSnapshot(c: Core, m: InstallSnapshot): void {
  const st = c.st;
  st.leaderId = m.from;
  st.electionElapsed = 0;
  const whole = m.offset + m.data.length;
  let matchIndex = 0;
  let received = whole;
  if (m.lastIncludedIndex <= st.commitIndex) {
    // Nothing to install: everything it covers is committed here already.
    st.incoming = null;
    matchIndex = st.commitIndex;
    noteMatched(c, st.commitIndex);
  } else if (st.log.term(m.lastIncludedIndex) === m.lastIncludedTerm) {
    // We already hold that entry: just learn that it is committed.
    st.incoming = null;
    st.commitIndex = m.lastIncludedIndex;
    matchIndex = m.lastIncludedIndex;
    noteMatched(c, matchIndex);
  } else {
    const inc = incomingFor(c, m);
    if (m.offset === 0) {
      st.incoming = { leaderTerm: m.term, index: m.lastIncludedIndex, term: m.lastIncludedTerm, chunks: [m.data], bytes: m.data.length };
    } else if (inc !== null && inc.bytes === m.offset) {
      inc.chunks.push(m.data);
      inc.bytes += m.data.length;
    }
    const now = incomingFor(c, m);
    received = now?.bytes ?? 0;
    if (now && m.done && now.bytes === whole) {
      st.incoming = null;
      installSnapshot(c, { lastIncludedIndex: m.lastIncludedIndex, lastIncludedTerm: m.lastIncludedTerm, data: concatChunks(now.chunks, now.bytes), config: m.config });
      matchIndex = m.lastIncludedIndex;
      noteMatched(c, matchIndex);
    }
  }
  send(c, {
    type: "InstallSnapshotResponse",
    from: c.config.id,
    to: m.from,
    term: st.currentTerm,
    matchIndex,
    lastIncludedIndex: m.lastIncludedIndex,
    received,
    seq: m.seq,
    incarnation: incarnation(c),
  });
}

/** The snapshot being received, if `m` is a chunk of it (same snapshot, same leader term). */
function incomingFor(c: Core, m: InstallSnapshot): IncomingSnapshot | null {
  const inc = c.st.incoming;
  return inc !== null && inc.leaderTerm === m.term && inc.index === m.lastIncludedIndex && inc.term === m.lastIncludedTerm ? inc : null;
}

/** Figure 13, steps 6–8: the snapshot replaces the whole log, and the state machine is reset from it. */
function installSnapshot(c: Core, snap: Snapshot): void {
  const st = c.st;
  st.log.restore(snap.lastIncludedIndex, snap.lastIncludedTerm, snap.config);
  st.snapshot = snap;
  st.snapshotToPersist = snap;
  st.stableIndex = snap.lastIncludedIndex;
  st.commitIndex = snap.lastIncludedIndex;
  st.lastApplied = snap.lastIncludedIndex;
}

/** Leader: a follower answered a chunk. */
export function handleSnapshotResponse(c: Core, m: InstallSnapshotResponse): void {
  const pr = c.st.progress.get(m.from);
  if (!pr || !c.rules.observeIncarnation(c, pr, m.incarnation)) return;
  noteActive(c, pr, m.seq);
  pr.acknowledge(m.matchIndex);
  if (pr.state === "snapshot") {
    if (pr.matchIndex >= pr.nextIndex - 1) {
      pr.becomeProbe(); // installed, or it had the entries already
    } else if (m.lastIncludedIndex === pr.nextIndex - 1 && m.matchIndex === 0) {
      // The next chunk, from where the follower is (also after a loss or its restart).
      pr.snapshotOffset = m.received;
      sendSnapshot(c, pr);
    }
  }
  maybeCommit(c);
}

/** The chunks of a snapshot, joined (the core cannot use node:buffer). */
function concatChunks(chunks: readonly Uint8Array[], bytes: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
