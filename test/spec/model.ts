// spec/raft.qnt's driver steps (the "driver's steps one at a time" section
// that trace validation uses) transcribed into TypeScript, definition by
// definition, with the same names, so that validate.ts can check hundreds of
// simulator runs where Quint's evaluator checks a handful: Quint evaluates
// about 400 steps per second here, this about a hundred times more.
//
// This is a second copy of the spec, and a copy can drift. It is kept
// honest by validate.test.ts, which runs it in lockstep with Quint's
// evaluator on a sample of recordings (faults, storage faults, membership)
// and compares the whole state — every server, every disk, the network and
// the history variables the invariants read — after every step, and the
// invariants' values. An edit of raft.qnt that is not mirrored here fails
// that test as soon as a sampled run reaches the edited definition.
//
// Scope: the instance raftTV / raftTVMembership (spec/raftTV.qnt) with
// Bug = "" (the zoo's mutations of the spec are checked by Quint itself in
// spec.test.ts), and only what the driver steps and the invariants use —
// not the whole-input actions of `quint run` (tickAt, deliver, settle...).
//
// Values have the shape test/spec/itf.ts decodes Quint's into (variants as
// { tag, value }, maps as Maps), so a state of this model and one read from
// Quint compare with replay.ts's show().

import type { SpecConfig, SpecDisk, SpecEntry, SpecLost, SpecMsg, SpecProgress, SpecReadResult, Variant } from "./itf.js";

type Unit = [];
const unit: Unit = [];
type RoleTag = "Follower" | "PreCandidate" | "Candidate" | "Leader";
const role = (tag: RoleTag): Variant<RoleTag, Unit> => ({ tag, value: unit });
type PrTag = "Probe" | "Replicate" | "Snapshot";
const prState = (tag: PrTag): Variant<PrTag, Unit> => ({ tag, value: unit });

/** raft.qnt's Server, every field (itf.ts's SpecServer leaves out the driver's). */
export interface MServer {
  id: number;
  currentTerm: number;
  votedFor: number;
  snapIndex: number;
  snapTerm: number;
  snapConfig: SpecConfig;
  entries: SpecEntry[];
  commitIndex: number;
  lastApplied: number;
  role: Variant<RoleTag, Unit>;
  leaderId: number;
  progress: Map<number, SpecProgress>;
  progressIds: number[];
  electionElapsed: number;
  heartbeatElapsed: number;
  randomizedElectionTimeout: number;
  votes: Map<number, boolean>;
  seq: number;
  pendingReads: { id: number; index: number; requiredSeq: number }[];
  readRoundWanted: boolean;
  commitToAnnounce: boolean;
  stableIndex: number;
  persistedTerm: number;
  persistedVote: number;
  snapshotToPersist: boolean;
  writing: boolean;
  pendingApply: number;
  held: SpecMsg[];
  writingSnapshot: boolean;
  leadTransferee: number;
  transferElapsed: number;
  lost: SpecLost;
  surveying: boolean;
  surveyNeeded: number;
  surveyTermAtLeast: number;
  surveyEmptyLog: boolean;
  surveyAnswers: Map<number, { term: number; lastLogIndex: number; recovering: boolean }>;
  peersRecovering: Map<number, { recovering: boolean; round: number }>;
  recoveryRound: number;
  incarnation: number;
  persistedKnown: boolean;
  persistedLost: SpecLost;
  outbox: SpecMsg[];
  readsOut: SpecReadResult[];
  randomDraw: number;
  reportedConfig: SpecConfig;
}

type Committed = { term: number; value: number; config: SpecConfig; commitTerm: number };

/** raft.qnt's variables (lastStep left out: validation never reads it). */
export interface MState {
  servers: Map<number, MServer>;
  disks: Map<number, SpecDisk>;
  /** The network: show(m) -> m. */
  msgs: Map<string, SpecMsg>;
  lastSent: SpecMsg[];
  lastReads: SpecReadResult[];
  /** "term,server" */
  leaders: Set<string>;
  committed: Map<number, Committed>;
  readArrivals: Map<number, number>;
  /** "id,index" */
  readsReleased: Set<string>;
  nextValue: number;
  nextReadId: number;
}

export interface ModelParams {
  N: number;
  Spares: number;
  ElectionMin: number;
  ElectionMax: number;
  HeartbeatTicks: number;
  MaxInflight: number;
  MaxBatch: number;
  PreVote: boolean;
  CheckQuorum: boolean;
  MaxTerm: number;
  MaxMsgs: number;
}

const NIL = 0;
const NONE = -1;
const NOLOST: SpecLost = { through: -1, term: -1 };
const INFINITY = 1000000000;
const NOOP = 0;
const CONFIG = -1;
const NoConfig: SpecConfig = { voters: [], outgoing: [], learners: [] };

const range = (a: number, b: number): number[] => {
  const r: number[] = [];
  for (let i = a; i < b; i++) r.push(i);
  return r;
};
const has = (l: readonly number[], x: number) => l.includes(x);
const listEq = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
const configEq = (a: SpecConfig, b: SpecConfig) => listEq(a.voters, b.voters) && listEq(a.outgoing, b.outgoing) && listEq(a.learners, b.learners);
const entryEq = (a: SpecEntry, b: SpecEntry) => a.term === b.term && a.value === b.value && configEq(a.config, b.config);
const entriesEq = (a: readonly SpecEntry[], b: readonly SpecEntry[]) => a.length === b.length && a.every((x, i) => entryEq(x, b[i]!));
const lostEq = (a: SpecLost, b: SpecLost) => a.through === b.through && a.term === b.term;
const diskEq = (a: SpecDisk, b: SpecDisk) =>
  a.hardStateKnown === b.hardStateKnown && a.currentTerm === b.currentTerm && a.votedFor === b.votedFor && lostEq(a.lost, b.lost) &&
  a.snapIndex === b.snapIndex && a.snapTerm === b.snapTerm && configEq(a.snapConfig, b.snapConfig) && entriesEq(a.entries, b.entries);
/** Quint's slice: 0 <= from <= until <= length, else an error. */
function slice<T>(l: readonly T[], from: number, until: number): T[] {
  if (from < 0 || from > until || until > l.length) throw new Error(`slice(${from}, ${until}) of a list of ${l.length}`);
  return l.slice(from, until);
}
function at<T>(l: readonly T[], i: number): T {
  if (i < 0 || i >= l.length) throw new Error(`index ${i} of a list of ${l.length}`);
  return l[i]!;
}
function get<K, V>(m: ReadonlyMap<K, V>, k: K): V {
  const v = m.get(k);
  if (v === undefined) throw new Error(`no key ${String(k)} in the map`);
  return v;
}
/** Quint's Map.set: the key must be there. */
function mset<K, V>(m: ReadonlyMap<K, V>, k: K, v: V): Map<K, V> {
  if (!m.has(k)) throw new Error(`set: no key ${String(k)} in the map`);
  return new Map(m).set(k, v);
}
const mput = <K, V>(m: ReadonlyMap<K, V>, k: K, v: V): Map<K, V> => new Map(m).set(k, v);
const min = (a: number, b: number) => (a < b ? a : b);
const max = (a: number, b: number) => (a > b ? a : b);
/** A message's identity in the network (raft.qnt's Set[Msg] compares messages by value): its fields in a fixed order. */
export function msgKey(m: SpecMsg): string {
  const v = m.value as unknown as Record<string, unknown>;
  let k = m.tag;
  for (const f of MSG_FIELDS[m.tag]) {
    const x = v[f];
    if (f === "entries") for (const e of x as SpecEntry[]) k += `|${e.term}:${e.value}:${cfgKey(e.config)}`;
    else if (f === "config") k += `|${cfgKey(x as SpecConfig)}`;
    else k += `|${String(x)}`;
  }
  return k;
}
const cfgKey = (c: SpecConfig) => `${c.voters.join(",")}/${c.outgoing.join(",")}/${c.learners.join(",")}`;
const MSG_FIELDS: Record<SpecMsg["tag"], readonly string[]> = {
  RequestVote: ["from", "to", "term", "preVote", "transfer", "lastLogIndex", "lastLogTerm"],
  RequestVoteResponse: ["from", "to", "term", "preVote", "voteGranted"],
  AppendEntries: ["from", "to", "term", "prevLogIndex", "prevLogTerm", "leaderCommit", "seq", "entries"],
  AppendEntriesResponse: ["from", "to", "term", "success", "matchIndex", "conflictIndex", "conflictTerm", "seq", "incarnation"],
  InstallSnapshot: ["from", "to", "term", "lastIncludedIndex", "lastIncludedTerm", "seq", "config"],
  InstallSnapshotResponse: ["from", "to", "term", "matchIndex", "lastIncludedIndex", "seq", "incarnation"],
  TimeoutNow: ["from", "to", "term"],
  RecoveryQuery: ["from", "to", "term"],
  RecoveryReply: ["from", "to", "term", "lastLogIndex", "recovering"],
};

/** Structural equality of values of the shape itf.ts decodes (as show() compares them: Map order and record field order do not matter). */
export function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!same(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  if (a instanceof Map) {
    if (!(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !same(v, b.get(k))) return false;
    return true;
  }
  if (b instanceof Map) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.prototype.hasOwnProperty.call(b, k) || !same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

/** raft.qnt at the given parameters with Bug = "". */
export class RaftModel {
  readonly Servers: number[];
  readonly Bootstrap: SpecConfig;
  readonly EmptyDisk: SpecDisk;

  constructor(readonly p: ModelParams) {
    this.Servers = range(1, p.N + p.Spares + 1);
    this.Bootstrap = { voters: range(1, p.N + 1), outgoing: [], learners: [] };
    this.EmptyDisk = { hardStateKnown: true, currentTerm: 0, votedFor: NIL, lost: NOLOST, snapIndex: 0, snapTerm: 0, snapConfig: this.Bootstrap, entries: [] };
  }

  // ---- Majorities ----
  majority = (members: number) => Math.floor(members / 2) + 1;
  quorumValue(values: number[]): number {
    const maj = this.majority(values.length);
    return values.reduce((best, v) => (v > best && values.filter((x) => x >= v).length >= maj ? v : best), 0);
  }
  jointQuorumValue(sets: number[][], valueOf: (id: number) => number): number {
    const n = sets.reduce((n, vs) => {
      if (vs.length === 0) return n;
      const v = this.quorumValue(vs.map(valueOf));
      return n === NONE || v < n ? v : n;
    }, NONE);
    return max(n, 0);
  }
  jointVoteResult(sets: number[][], votes: ReadonlyMap<number, boolean>): string {
    return sets.reduce((r, vs) => {
      if (vs.length === 0 || r === "lost") return r;
      const granted = vs.filter((id) => votes.has(id) && votes.get(id)).length;
      const refused = vs.filter((id) => votes.has(id) && !votes.get(id)).length;
      if (refused >= this.majority(vs.length)) return "lost";
      if (granted >= this.majority(vs.length)) return r;
      return "pending";
    }, "won");
  }
  jointMajority = (sets: number[][], ok: (id: number) => boolean) => sets.reduce((acc, vs) => acc && (vs.length === 0 || vs.filter(ok).length >= this.majority(vs.length)), true);

  // ---- Configurations ----
  isJoint = (cfg: SpecConfig) => cfg.outgoing.length > 0;
  isVoter = (cfg: SpecConfig, id: number) => has(cfg.voters, id) || has(cfg.outgoing, id);
  allMembers = (cfg: SpecConfig) => this.Servers.filter((id) => has(cfg.voters, id) || has(cfg.outgoing, id) || has(cfg.learners, id));
  decidingSets = (cfg: SpecConfig): number[][] => (this.isJoint(cfg) ? [cfg.voters, cfg.outgoing] : [cfg.voters]);
  voterSets = (cfg: SpecConfig) => this.decidingSets(cfg);
  configIndexAt(s: MServer, index: number): number {
    const top = min(index, lastIndex(s));
    if (top <= s.snapIndex) return s.snapIndex;
    let k = s.snapIndex;
    for (let i = s.snapIndex + 1; i <= top; i++) if (entryAt(s, i).value === CONFIG) k = i;
    return k;
  }
  configAt(s: MServer, index: number): SpecConfig {
    const k = this.configIndexAt(s, index);
    return k === s.snapIndex ? s.snapConfig : entryAt(s, k).config;
  }
  configIndex = (s: MServer) => this.configIndexAt(s, lastIndex(s));
  configuration = (s: MServer) => this.configAt(s, lastIndex(s));
  peers = (s: MServer) => this.allMembers(this.configuration(s)).filter((p) => p !== s.id);
  voterPeers(s: MServer): number[] {
    const cfg = this.configuration(s);
    return this.allMembers(cfg).filter((p) => p !== s.id && this.isVoter(cfg, p));
  }
  selfVotes = (s: MServer) => this.voterSets(this.configuration(s)).some((vs) => has(vs, s.id));

  // ---- Progress ----
  newProgress = (last: number): SpecProgress => ({
    state: prState("Probe"), matchIndex: 0, nextIndex: last + 1, probeSent: false, inflight: [],
    recentActive: false, respondedSinceHeartbeat: false, ackedSeq: 0, incarnation: 0,
  });
  canSend(pr: SpecProgress): boolean {
    switch (pr.state.tag) {
      case "Probe":
        return !pr.probeSent;
      case "Replicate":
        return pr.inflight.length < this.p.MaxInflight;
      case "Snapshot":
        return false;
    }
  }

  // ---- Role changes ----
  becomeFollower(s: MServer, term: number, leader: number): MServer {
    const s1 = term > s.currentTerm ? { ...s, currentTerm: term, votedFor: NIL } : s;
    const s2 = s1.role.tag === "Leader" ? failPendingReads(s1) : s1;
    return resetElectionTimeout({ ...s2, leadTransferee: NIL, role: role("Follower"), leaderId: leader, electionElapsed: 0, progress: new Map(), progressIds: [] });
  }
  becomePreCandidate = (s: MServer) => resetElectionTimeout({ ...s, role: role("PreCandidate"), leaderId: NIL, votes: new Map([[s.id, true]]) });
  becomeCandidate = (s: MServer) => resetElectionTimeout({ ...s, currentTerm: s.currentTerm + 1, votedFor: s.id, role: role("Candidate"), leaderId: NIL, votes: new Map([[s.id, true]]) });
  becomeLeader(s: MServer): MServer {
    const peers = this.peers(s);
    const s1: MServer = {
      ...s,
      role: role("Leader"),
      leaderId: s.id,
      heartbeatElapsed: 0,
      electionElapsed: 0,
      progress: new Map(peers.map((p) => [p, this.newProgress(lastIndex(s))])),
      progressIds: peers,
    };
    return { ...s1, entries: [...s1.entries, { term: s1.currentTerm, value: NOOP, config: NoConfig }] };
  }
  takeOffice = (s: MServer) => this.broadcastHeartbeat(this.advanceConfiguration(this.becomeLeader(s)));

  // ---- Elections ----
  requestVotes(s: MServer, preVote: boolean, transfer: boolean): MServer {
    const term = preVote ? s.currentTerm + 1 : s.currentTerm;
    return this.voterPeers(s).reduce(
      (s1, p) => send(s1, { tag: "RequestVote", value: { from: s.id, to: p, term, preVote, transfer, lastLogIndex: lastIndex(s), lastLogTerm: lastTerm(s) } }),
      s,
    );
  }
  campaign(s: MServer): MServer {
    if (this.jointVoteResult(this.voterSets(this.configuration(s)), new Map([[s.id, true]])) === "won") return this.takeOffice(this.becomeCandidate(s));
    if (this.p.PreVote) return this.requestVotes(this.becomePreCandidate(s), true, false);
    return this.requestVotes(this.becomeCandidate(s), false, false);
  }
  heardFromLeaderRecently = (s: MServer) => s.leaderId !== NIL && s.electionElapsed < this.p.ElectionMin;
  handleRequestVote(s: MServer, m: Extract<SpecMsg, { tag: "RequestVote" }>["value"]): MServer {
    const upToDate = isUpToDate(s, m.lastLogIndex, m.lastLogTerm);
    const granted = !coversWhatWasLost(s, m.lastLogIndex, m.lastLogTerm)
      ? false
      : m.preVote
        ? m.term > s.currentTerm && !this.heardFromLeaderRecently(s) && upToDate
        : (s.votedFor === NIL || s.votedFor === m.from) && upToDate;
    const s1 = granted && !m.preVote ? { ...s, votedFor: m.from, electionElapsed: 0 } : s;
    return send(s1, { tag: "RequestVoteResponse", value: { from: s.id, to: m.from, term: m.preVote && granted ? m.term : s1.currentTerm, preVote: m.preVote, voteGranted: granted } });
  }
  handleVoteResponse(s: MServer, m: Extract<SpecMsg, { tag: "RequestVoteResponse" }>["value"]): MServer {
    const campaigning = m.preVote ? s.role.tag === "PreCandidate" : s.role.tag === "Candidate";
    if (!campaigning) return s;
    if (m.preVote && m.voteGranted && m.term !== s.currentTerm + 1) return s;
    const votes = mput(s.votes, m.from, m.voteGranted);
    const s1 = { ...s, votes };
    const result = this.jointVoteResult(this.voterSets(this.configuration(s1)), votes);
    if (result === "won") return m.preVote ? this.requestVotes(this.becomeCandidate(s1), false, false) : this.takeOffice(s1);
    if (result === "lost") return this.becomeFollower(s1, s1.currentTerm, NIL);
    return s1;
  }
  handleTimeoutNow(s: MServer, m: { from: number }): MServer {
    if (s.role.tag !== "Follower" || m.from !== s.leaderId || hasLost(s) || !this.mayCampaign(s)) return s;
    return this.requestVotes(this.becomeCandidate(s), false, true);
  }

  // ---- Replication ----
  maybeSendAppend(s: MServer, p: number, heartbeat: boolean): MServer {
    const pr = get(s.progress, p);
    if (pr.state.tag === "Snapshot") return s;
    const prevLogIndex = pr.nextIndex - 1;
    const prevLogTerm = termAt(s, prevLogIndex);
    if (prevLogTerm === NONE) return this.sendSnapshot({ ...s, progress: mset(s.progress, p, becomeSnapshot(pr, s.snapIndex)) }, p);
    const canSendEntries = pr.nextIndex <= lastIndex(s) && this.canSend(pr);
    if (!canSendEntries && !heartbeat) return s;
    const es = canSendEntries ? logSlice(s, pr.nextIndex, pr.nextIndex + this.p.MaxBatch) : [];
    const pr1 = es.length > 0 ? sent(pr, pr.nextIndex + es.length - 1) : pr.state.tag === "Probe" ? { ...pr, probeSent: true } : pr;
    const seq = s.seq + 1;
    return send(
      { ...s, seq, progress: mset(s.progress, p, pr1) },
      { tag: "AppendEntries", value: { from: s.id, to: p, term: s.currentTerm, prevLogIndex, prevLogTerm, entries: es, leaderCommit: s.commitIndex, seq } },
    );
  }
  sendSnapshot(s: MServer, p: number): MServer {
    const pr = get(s.progress, p);
    const pr1 = pr.nextIndex !== s.snapIndex + 1 ? becomeSnapshot(pr, s.snapIndex) : pr;
    const seq = s.seq + 1;
    return send(
      { ...s, seq, progress: mset(s.progress, p, pr1) },
      { tag: "InstallSnapshot", value: { from: s.id, to: p, term: s.currentTerm, lastIncludedIndex: s.snapIndex, lastIncludedTerm: s.snapTerm, seq, config: s.snapConfig } },
    );
  }
  broadcastHeartbeat(s: MServer): MServer {
    return s.progressIds.reduce((s1, p) => {
      const pr = get(s1.progress, p);
      const pr1 = pr.state.tag === "Replicate" && pr.inflight.length > 0 && !pr.respondedSinceHeartbeat ? becomeProbe(pr) : pr;
      const pr2 = pr1.state.tag === "Probe" ? { ...pr1, probeSent: false } : pr1;
      const s2 = { ...s1, progress: mset(s1.progress, p, pr2) };
      const s3 = pr2.state.tag === "Snapshot" && !pr2.respondedSinceHeartbeat ? this.sendSnapshot(s2, p) : s2;
      const s4 = { ...s3, progress: mset(s3.progress, p, { ...get(s3.progress, p), respondedSinceHeartbeat: false }) };
      return this.maybeSendAppend(s4, p, true);
    }, s);
  }
  announceCommit(s: MServer): MServer {
    const told = new Set<number>();
    for (const m of s.outbox) if (m.tag === "AppendEntries") told.add(m.value.to);
    return s.progressIds.reduce((s1, p) => (told.has(p) ? s1 : this.maybeSendAppend(s1, p, true)), s);
  }
  handleAppendEntries(s: MServer, m: Extract<SpecMsg, { tag: "AppendEntries" }>["value"]): MServer {
    const s1 = s.role.tag !== "Follower" ? this.becomeFollower(s, m.term, m.from) : s;
    const s2 = { ...s1, leaderId: m.from, electionElapsed: 0 };
    const r = tryAppend(s2, m.prevLogIndex, m.prevLogTerm, m.entries);
    if (r.ok) {
      const s3 = { ...s2, entries: r.entries, stableIndex: r.truncatedFrom !== 0 && r.truncatedFrom <= s2.stableIndex ? r.truncatedFrom - 1 : s2.stableIndex };
      const newCommit = min(m.leaderCommit, r.lastNewIndex);
      const s4 = newCommit > s3.commitIndex ? { ...s3, commitIndex: newCommit } : s3;
      return answerAppend(noteMatched(s4, r.lastNewIndex), m.from, m.seq, true, r.lastNewIndex, 0, 0);
    }
    return answerAppend(s2, m.from, m.seq, false, 0, r.conflictIndex, r.conflictTerm);
  }
  noteActive(s: MServer, p: number, seq: number): MServer {
    const pr = get(s.progress, p);
    const pr1 = { ...pr, recentActive: true, respondedSinceHeartbeat: true };
    if (seq > pr1.ackedSeq) return this.releaseReads({ ...s, progress: mset(s.progress, p, { ...pr1, ackedSeq: seq }) });
    return { ...s, progress: mset(s.progress, p, pr1) };
  }
  handleAppendResponse(s: MServer, m: Extract<SpecMsg, { tag: "AppendEntriesResponse" }>["value"]): MServer {
    if (s.role.tag !== "Leader" || !s.progress.has(m.from) || m.incarnation < get(s.progress, m.from).incarnation) return s;
    const s1 = this.noteActive(withIncarnation(s, m.from, m.incarnation), m.from, m.seq);
    const pr = get(s1.progress, m.from);
    if (m.success) {
      const ack = acknowledge(pr, m.matchIndex);
      const pr1 = ack[0].state.tag === "Probe" ? becomeReplicate(ack[0]) : ack[0];
      const s2 = { ...s1, progress: mset(s1.progress, m.from, pr1) };
      const s3 = ack[1] ? this.maybeCommit(s2) : s2;
      return m.from === s3.leadTransferee ? maybeSendTimeoutNow(s3) : s3;
    }
    return { ...s1, progress: mset(s1.progress, m.from, refused(pr, backtrackHint(s1, m.conflictIndex, m.conflictTerm))) };
  }
  handleInstallSnapshot(s: MServer, m: Extract<SpecMsg, { tag: "InstallSnapshot" }>["value"]): MServer {
    const s1 = s.role.tag !== "Follower" ? this.becomeFollower(s, m.term, m.from) : s;
    const s2 = { ...s1, leaderId: m.from, electionElapsed: 0 };
    const answered: [MServer, number] =
      m.lastIncludedIndex <= s2.commitIndex
        ? [s2, s2.commitIndex]
        : termAt(s2, m.lastIncludedIndex) === m.lastIncludedTerm
          ? [{ ...s2, commitIndex: m.lastIncludedIndex }, m.lastIncludedIndex]
          : [installSnapshot(s2, m.lastIncludedIndex, m.lastIncludedTerm, m.config), m.lastIncludedIndex];
    return send(noteMatched(answered[0], answered[1]), {
      tag: "InstallSnapshotResponse",
      value: { from: s.id, to: m.from, term: answered[0].currentTerm, matchIndex: answered[1], lastIncludedIndex: m.lastIncludedIndex, seq: m.seq, incarnation: s.incarnation },
    });
  }
  handleSnapshotResponse(s: MServer, m: Extract<SpecMsg, { tag: "InstallSnapshotResponse" }>["value"]): MServer {
    if (s.role.tag !== "Leader" || !s.progress.has(m.from) || m.incarnation < get(s.progress, m.from).incarnation) return s;
    const s1 = this.noteActive(withIncarnation(s, m.from, m.incarnation), m.from, m.seq);
    const pr = acknowledge(get(s1.progress, m.from), m.matchIndex)[0];
    const s2 =
      pr.state.tag === "Snapshot" && pr.matchIndex >= pr.nextIndex - 1
        ? { ...s1, progress: mset(s1.progress, m.from, becomeProbe(pr)) }
        : pr.state.tag === "Snapshot" && m.lastIncludedIndex === pr.nextIndex - 1 && m.matchIndex === 0
          ? this.sendSnapshot({ ...s1, progress: mset(s1.progress, m.from, pr) }, m.from)
          : { ...s1, progress: mset(s1.progress, m.from, pr) };
    return this.maybeCommit(s2);
  }

  // ---- Commitment ----
  maybeCommit(s: MServer): MServer {
    const n = this.jointQuorumValue(this.voterSets(this.configuration(s)), (m) => (m === s.id ? s.stableIndex : matchOf(s, m)));
    if (n > s.commitIndex && termAt(s, n) === s.currentTerm) {
      const had = committedInCurrentTerm(s);
      const s1 = { ...s, commitIndex: n, commitToAnnounce: true };
      const s2 = !had && committedInCurrentTerm(s1) ? { ...s1, pendingReads: s1.pendingReads.map((r) => (r.index === 0 ? { ...r, index: s1.commitIndex } : r)) } : s1;
      return this.advanceConfiguration(this.releaseReads(s2));
    }
    return s;
  }

  // ---- Membership ----
  mayChangeConfiguration(s: MServer): boolean {
    const k = this.configIndex(s);
    return k <= s.commitIndex && !this.isJoint(this.configuration(s)) && termAt(s, s.commitIndex) === s.currentTerm;
  }
  proposeConfChange(s: MServer, voters: number[], learners: number[]): MServer {
    if (s.role.tag !== "Leader" || voters.length === 0 || voters.some((v) => has(learners, v))) return s;
    if (s.leadTransferee !== NIL || !this.mayChangeConfiguration(s)) return s;
    const current = this.configuration(s);
    const outgoing = listEq(voters, current.voters) ? [] : current.voters;
    return this.appendConfiguration(s, { voters, outgoing, learners });
  }
  appendConfiguration = (s: MServer, cfg: SpecConfig) => this.syncProgress({ ...s, entries: [...s.entries, { term: s.currentTerm, value: CONFIG, config: cfg }] });
  syncProgress(s: MServer): MServer {
    const added = this.peers(s).filter((p) => !s.progress.has(p));
    const progress = new Map(s.progress);
    for (const p of added) progress.set(p, { ...this.newProgress(lastIndex(s)), recentActive: true });
    const s1 = { ...s, progress, progressIds: [...s.progressIds, ...added] };
    return s1.leadTransferee !== NIL && !has(this.voterPeers(s1), s1.leadTransferee) ? { ...s1, leadTransferee: NIL } : s1;
  }
  forgetRemoved(s: MServer): MServer {
    if (this.configIndex(s) > s.commitIndex) return s;
    const keep = this.peers(s);
    return { ...s, progress: new Map([...s.progress].filter(([p]) => has(keep, p))), progressIds: s.progressIds.filter((p) => has(keep, p)) };
  }
  advanceConfiguration(s: MServer): MServer {
    const s1 = this.forgetRemoved(s);
    const cfg = this.configuration(s1);
    if (s1.role.tag !== "Leader" || !this.isJoint(cfg) || this.configIndex(s1) > s1.commitIndex) return s1;
    return this.appendConfiguration(s1, { ...cfg, outgoing: [] });
  }
  removedLeaderStepsDown = (s: MServer) => !this.selfVotes(s) && this.configIndex(s) <= s.commitIndex;
  stepDownIfRemoved(s: MServer): MServer {
    const best = this.voterPeers(s).reduce<[number, number]>((b, p) => (matchOf(s, p) > b[1] ? [p, matchOf(s, p)] : b), [NIL, -1]);
    const s1 = best[0] !== NIL && best[1] === lastIndex(s) ? send(s, { tag: "TimeoutNow", value: { from: s.id, to: best[0], term: s.currentTerm } }) : s;
    return this.becomeFollower(s1, s1.currentTerm, NIL);
  }
  mayCampaign = (s: MServer) => this.selfVotes(s) || this.voterSets(this.configAt(s, s.commitIndex)).some((vs) => has(vs, s.id));

  // ---- Storage-fault recovery ----
  sendRecoveryQueries(s: MServer): MServer {
    return this.peers(s).reduce((s1, p) => send(s1, { tag: "RecoveryQuery", value: { from: s.id, to: p, term: s.currentTerm } }), { ...s, recoveryRound: s.recoveryRound + 1 });
  }
  startSurvey(s: MServer): MServer {
    return this.sendRecoveryQueries({ ...s, surveying: true, surveyNeeded: this.surveySize(s), surveyTermAtLeast: lastTerm(s), surveyEmptyLog: lastIndex(s) === 0, surveyAnswers: new Map() });
  }
  surveySize(s: MServer): number {
    const m = this.configuration(s).voters.length;
    return m - this.majority(m) + 1;
  }
  handleRecoveryReply(s: MServer, m: Extract<SpecMsg, { tag: "RecoveryReply" }>["value"]): MServer {
    const s1 = { ...s, peersRecovering: mput(s.peersRecovering, m.from, { recovering: m.recovering, round: s.recoveryRound }) };
    if (!s1.surveying) return s1;
    const answers = mput(s1.surveyAnswers, m.from, { term: m.term, lastLogIndex: m.lastLogIndex, recovering: m.recovering });
    const intact = [...answers.keys()].filter((k) => !answers.get(k)!.recovering);
    const s2 = { ...s1, surveyAnswers: answers };
    const fresh = s2.surveyEmptyLog && s2.surveyTermAtLeast === 0 && answers.size === this.peers(s2).length && [...answers.values()].every((a) => a.term === 0 && a.lastLogIndex === 0);
    let done: MServer;
    if (fresh) done = { ...s2, currentTerm: 0, votedFor: NIL };
    else {
      const term = intact.reduce((a, k) => max(a, answers.get(k)!.term), s2.surveyTermAtLeast);
      done = { ...s2, currentTerm: term, votedFor: s2.id, lost: { through: intact.reduce((a, k) => max(a, answers.get(k)!.lastLogIndex), 0), term } };
    }
    if (!fresh && intact.length < s2.surveyNeeded) return s2;
    return resetElectionTimeout({ ...done, surveying: false, surveyNeeded: 0, surveyTermAtLeast: 0, surveyEmptyLog: false, surveyAnswers: new Map(), electionElapsed: 0 });
  }

  // ---- Read index ----
  releaseReads(s: MServer): MServer {
    if (s.pendingReads.length === 0) return s;
    const confirmedSeq = this.jointQuorumValue(this.voterSets(this.configuration(s)), (m) => (m === s.id ? INFINITY : s.progress.has(m) ? s.progress.get(m)!.ackedSeq : 0));
    let stop = false;
    const keep: MServer["pendingReads"] = [];
    const out: SpecReadResult[] = [];
    for (const pr of s.pendingReads) {
      if (stop || pr.index === 0 || pr.requiredSeq > confirmedSeq) {
        stop = true;
        keep.push(pr);
      } else out.push({ id: pr.id, ok: true, index: pr.index, leader: NIL });
    }
    return { ...s, pendingReads: keep, readsOut: [...s.readsOut, ...out] };
  }

  // ---- Inputs ----
  tick = (s: MServer) => (s.role.tag === "Leader" ? this.tickLeader(s) : this.tickElection(s));
  tickElection(s: MServer): MServer {
    const s1 = { ...s, electionElapsed: s.electionElapsed + 1 };
    if (s1.electionElapsed < s1.randomizedElectionTimeout) return s1;
    if (s1.surveying || hasLost(s1)) return this.sendRecoveryQueries(resetElectionTimeout({ ...s1, electionElapsed: 0, leaderId: NIL }));
    if (!this.mayCampaign(s1)) return resetElectionTimeout({ ...s1, electionElapsed: 0, leaderId: NIL });
    return this.campaign({ ...s1, electionElapsed: 0 });
  }
  tickLeader = (s: MServer) => (this.removedLeaderStepsDown(s) ? this.stepDownIfRemoved(s) : this.tickLeaderOnce(s));
  tickLeaderOnce(s: MServer): MServer {
    const s1 = { ...s, heartbeatElapsed: s.heartbeatElapsed + 1, electionElapsed: s.electionElapsed + 1 };
    const s2 =
      s1.leadTransferee === NIL
        ? s1
        : s1.transferElapsed + 1 >= this.p.ElectionMax
          ? { ...s1, transferElapsed: s1.transferElapsed + 1, leadTransferee: NIL }
          : { ...s1, transferElapsed: s1.transferElapsed + 1 };
    const checkNow = s2.electionElapsed >= this.p.ElectionMin;
    const s3 = checkNow ? { ...s2, electionElapsed: 0 } : s2;
    const active = this.jointMajority(this.voterSets(this.configuration(s3)), (p) => p === s3.id || (s3.progress.has(p) && s3.progress.get(p)!.recentActive));
    const s4 = checkNow && this.p.CheckQuorum ? { ...s3, progress: new Map([...s3.progress].map(([p, pr]) => [p, { ...pr, recentActive: false }])) } : s3;
    if (checkNow && this.p.CheckQuorum && !active) return this.becomeFollower(s4, s4.currentTerm, NIL);
    if (s4.heartbeatElapsed >= this.p.HeartbeatTicks) return this.broadcastHeartbeat({ ...s4, heartbeatElapsed: 0 });
    return s4;
  }
  stepMessage(s: MServer, m: SpecMsg): MServer {
    if (m.tag === "RecoveryQuery") return answerRecoveryQuery(s, m.value.from);
    if (m.tag === "RecoveryReply") return this.handleRecoveryReply(s, m.value);
    return s.surveying ? s : this.stepProtocol(s, m);
  }
  stepProtocol(s: MServer, m: SpecMsg): MServer {
    const term = m.value.term;
    if (term > s.currentTerm) {
      const ignore = m.tag === "RequestVote" ? !m.value.transfer && this.p.CheckQuorum && this.heardFromLeaderRecently(s) : false;
      const keepTerm = m.tag === "RequestVote" ? m.value.preVote : m.tag === "RequestVoteResponse" ? m.value.preVote && m.value.voteGranted : false;
      const leader = m.tag === "AppendEntries" || m.tag === "InstallSnapshot" ? m.value.from : NIL;
      if (ignore) return s;
      if (keepTerm) return this.handle(s, m);
      return this.handle(this.becomeFollower(s, term, leader), m);
    }
    if (term < s.currentTerm) return refuseStale(s, m);
    return this.handle(s, m);
  }
  handle(s: MServer, m: SpecMsg): MServer {
    switch (m.tag) {
      case "RequestVote":
        return this.handleRequestVote(s, m.value);
      case "RequestVoteResponse":
        return this.handleVoteResponse(s, m.value);
      case "AppendEntries":
        return this.handleAppendEntries(s, m.value);
      case "AppendEntriesResponse":
        return this.handleAppendResponse(s, m.value);
      case "InstallSnapshot":
        return this.handleInstallSnapshot(s, m.value);
      case "InstallSnapshotResponse":
        return this.handleSnapshotResponse(s, m.value);
      case "TimeoutNow":
        return this.handleTimeoutNow(s, m.value);
      default:
        return s;
    }
  }
  propose = (s: MServer, value: number): MServer =>
    s.role.tag !== "Leader" || s.leadTransferee !== NIL ? s : { ...s, entries: [...s.entries, { term: s.currentTerm, value, config: NoConfig }] };
  read(s: MServer, id: number): MServer {
    if (s.role.tag !== "Leader") return { ...s, readsOut: [...s.readsOut, { id, ok: false, index: 0, leader: s.leaderId }] };
    const r = { id, index: committedInCurrentTerm(s) ? s.commitIndex : 0, requiredSeq: s.seq + 1 };
    return this.releaseReads({ ...s, pendingReads: [...s.pendingReads, r], readRoundWanted: true });
  }
  transferLeadership(s: MServer, target: number): MServer {
    if (s.role.tag !== "Leader" || target === s.id || !has(this.voterPeers(s), target)) return s;
    return maybeSendTimeoutNow({ ...s, leadTransferee: target, transferElapsed: 0 });
  }
  compact(s: MServer, index: number): MServer {
    if (index <= s.snapIndex) return s;
    return { ...s, snapTerm: termAt(s, index), snapConfig: this.configAt(s, index), entries: slice(s.entries, index - s.snapIndex, s.entries.length), snapIndex: index };
  }

  // ---- The driver ----
  wantsAppend(s: MServer, p: number): boolean {
    const pr = get(s.progress, p);
    return pr.nextIndex <= lastIndex(s) && this.canSend(pr);
  }
  configChanged = (s: MServer) => !configEq(this.configuration(s), s.reportedConfig);
  takeReady(x: Settled): Settled {
    const s = x.s;
    let s1 = s;
    if (s.role.tag === "Leader") {
      const a = s.readRoundWanted && s.progressIds.length > 0 ? this.broadcastHeartbeat(s) : s;
      const b = a.progressIds.reduce((y, p) => this.maybeSendAppend(y, p, false), a);
      s1 = b.commitToAnnounce ? this.announceCommit(b) : b;
    }
    return {
      ...x,
      s: { ...s1, commitToAnnounce: false, readRoundWanted: false, outbox: [], readsOut: [], reportedConfig: this.configuration(s1) },
      msgs: [...x.msgs, ...s1.outbox],
      reads: [...x.reads, ...s1.readsOut],
    };
  }
  advanceReady(x: Settled, applyUpTo: number): Settled {
    const s = x.s;
    const s1: MServer = {
      ...s,
      snapshotToPersist: false,
      stableIndex: lastIndex(s),
      persistedKnown: s.persistedKnown || !s.surveying,
      persistedTerm: s.surveying ? s.persistedTerm : s.currentTerm,
      persistedVote: s.surveying ? s.persistedVote : durableVote(s),
      persistedLost: s.surveying ? s.persistedLost : s.lost,
      lastApplied: max(s.lastApplied, applyUpTo),
    };
    return { ...x, s: s1.role.tag === "Leader" ? this.maybeCommit(s1) : s1, d: persist(x.d, s) };
  }

  boot(id: number, d: SpecDisk, draw: number, incarnation: number): MServer {
    const s = this.bootKnown(id, d, draw, incarnation);
    if (d.hardStateKnown) return s;
    const s1 = { ...s, currentTerm: lastTerm(s), votedFor: NIL, lost: NOLOST, persistedKnown: false, persistedTerm: 0, persistedVote: NIL, persistedLost: NOLOST };
    return this.configuration(s1).voters.some((v) => v !== id) ? this.startSurvey(s1) : s1;
  }
  bootKnown(id: number, d: SpecDisk, draw: number, incarnation: number): MServer {
    const configs = d.entries.filter((e) => e.value === CONFIG);
    return {
      id,
      currentTerm: d.currentTerm, votedFor: d.votedFor,
      lost: d.lost, surveying: false, surveyNeeded: 0, surveyTermAtLeast: 0, surveyEmptyLog: false, surveyAnswers: new Map(),
      peersRecovering: new Map(), recoveryRound: 0, incarnation,
      persistedKnown: true, persistedLost: d.lost,
      snapIndex: d.snapIndex, snapTerm: d.snapTerm, snapConfig: d.snapConfig, entries: d.entries,
      commitIndex: d.snapIndex, lastApplied: d.snapIndex,
      role: role("Follower"), leaderId: NIL, progress: new Map(), progressIds: [],
      electionElapsed: 0, heartbeatElapsed: 0, randomizedElectionTimeout: draw, votes: new Map(),
      seq: 0, pendingReads: [], readRoundWanted: false, commitToAnnounce: false,
      stableIndex: d.snapIndex + d.entries.length, persistedTerm: d.currentTerm, persistedVote: d.votedFor,
      snapshotToPersist: false, writing: false, pendingApply: 0, held: [], writingSnapshot: false,
      leadTransferee: NIL, transferElapsed: 0,
      outbox: [], readsOut: [], randomDraw: 0,
      reportedConfig: configs.length > 0 ? configs[configs.length - 1]!.config : d.snapConfig,
    };
  }

  // ---- State and actions ----
  committedUpTo = (c: ReadonlyMap<number, Committed>) => [...c.keys()].reduce((m, i) => max(m, i), 0);
  noteCommitted(c: Map<number, Committed>, s: MServer): Map<number, Committed> {
    let c1 = c;
    for (let i = s.snapIndex + 1; i <= min(s.commitIndex, lastIndex(s)); i++) {
      if (c1.has(i)) continue;
      const e = at(s.entries, i - s.snapIndex - 1);
      if (c1 === c) c1 = new Map(c);
      c1.set(i, { term: e.term, value: e.value, config: e.config, commitTerm: s.currentTerm });
    }
    return c1;
  }
  committedConfig(c: ReadonlyMap<number, Committed>): SpecConfig {
    let best = 0;
    let cfg = this.Bootstrap;
    for (const [i, e] of c) if (e.value === CONFIG && i > best) [best, cfg] = [i, e.config];
    return cfg;
  }

  initIncarnation(draws: ReadonlyMap<number, number>, incarnation: number): MState {
    return {
      servers: new Map(this.Servers.map((n) => [n, this.boot(n, this.EmptyDisk, get(draws, n), incarnation)])),
      disks: new Map(this.Servers.map((n) => [n, this.EmptyDisk])),
      msgs: new Map(),
      lastSent: [],
      lastReads: [],
      leaders: new Set(),
      committed: new Map(),
      readArrivals: new Map(),
      readsReleased: new Set(),
      nextValue: 1,
      nextReadId: 1,
    };
  }

  /** action settled: the new state, or null if a bound is passed. inFlight is the network to start from. */
  settled(st: MState, n: number, x: Settled, inFlight: Map<string, SpecMsg>): MState | null {
    const s = { ...x.s, randomDraw: 0 };
    const net = new Map(inFlight);
    for (const m of x.msgs) net.set(msgKey(m), m);
    if (s.currentTerm > this.p.MaxTerm || net.size > this.p.MaxMsgs) return null;
    let readsReleased = st.readsReleased;
    if (x.reads.some((r) => r.ok)) {
      readsReleased = new Set(readsReleased);
      for (const r of x.reads) if (r.ok) readsReleased.add(`${r.id},${r.index}`);
    }
    return {
      ...st,
      servers: mset(st.servers, n, s),
      disks: mset(st.disks, n, x.d),
      msgs: net,
      lastSent: x.msgs,
      lastReads: x.reads,
      leaders: s.role.tag === "Leader" ? new Set(st.leaders).add(`${s.currentTerm},${n}`) : st.leaders,
      committed: this.noteCommitted(st.committed, s),
      readsReleased,
    };
  }

  inputOnly(st: MState, n: number, after: MServer, inFlight: Map<string, SpecMsg>): MState | null {
    if (get(st.servers, n).writing) return null;
    return this.settled(st, n, { s: after, d: get(st.disks, n), msgs: [], reads: [] }, inFlight);
  }
  feedTick = (st: MState, n: number, draw: number) => this.inputOnly(st, n, this.tick(withDraw(get(st.servers, n), draw)), st.msgs);
  feedMessage(st: MState, m: SpecMsg, draw: number, keep: boolean): MState | null {
    const n = m.value.to;
    const key = msgKey(m);
    if (!st.msgs.has(key)) return null;
    const inFlight = keep ? st.msgs : new Map(st.msgs);
    if (!keep) inFlight.delete(key);
    return this.inputOnly(st, n, this.stepMessage(withDraw(get(st.servers, n), draw), m), inFlight);
  }
  feedPropose = (st: MState, n: number, value: number) => this.inputOnly(st, n, this.propose(get(st.servers, n), value), st.msgs);
  feedRead(st: MState, n: number, id: number): MState | null {
    if (st.readArrivals.has(id)) return null;
    const next = this.inputOnly(st, n, this.read(get(st.servers, n), id), st.msgs);
    return next && { ...next, readArrivals: mput(st.readArrivals, id, this.committedUpTo(st.committed)) };
  }
  feedReconfigure = (st: MState, n: number, voters: number[], learners: number[]) => this.inputOnly(st, n, this.proposeConfChange(get(st.servers, n), voters, learners), st.msgs);
  feedTransfer = (st: MState, n: number, target: number) => this.inputOnly(st, n, this.transferLeadership(get(st.servers, n), target), st.msgs);

  sendsBeforePersist = (s: MServer) => s.role.tag === "Leader" && !hardStateChanged(s) && !s.snapshotToPersist;
  readyAt(st: MState, n: number): MState | null {
    const s = get(st.servers, n);
    if (s.writing) return null;
    const y = this.takeReady({ s, d: get(st.disks, n), msgs: [], reads: [] });
    const early = this.sendsBeforePersist(y.s);
    return this.settled(st, n, {
      ...y,
      s: { ...y.s, writing: true, pendingApply: applyTarget(y.s), held: early ? [] : y.msgs, writingSnapshot: y.s.snapshotToPersist, snapshotToPersist: false },
      msgs: early ? y.msgs : [],
    }, st.msgs);
  }
  doneAt(st: MState, n: number): MState | null {
    const s = get(st.servers, n);
    if (!s.writing) return null;
    const x = this.advanceReady({
      s: { ...s, writing: false, pendingApply: 0, held: [], writingSnapshot: false, snapshotToPersist: s.writingSnapshot },
      d: get(st.disks, n), msgs: s.held, reads: [],
    }, s.pendingApply);
    return this.settled(st, n, x, st.msgs);
  }
  compactAt(st: MState, n: number, index: number): MState | null {
    const s = get(st.servers, n);
    if (!(s.snapIndex < index && index <= s.lastApplied) || s.writing) return null;
    const c = this.compact(s, index);
    const d = get(st.disks, n);
    return {
      ...st,
      servers: mset(st.servers, n, c),
      disks: mset(st.disks, n, { ...d, snapIndex: index, snapTerm: c.snapTerm, snapConfig: c.snapConfig, entries: slice(d.entries, index - d.snapIndex, d.entries.length) }),
      lastSent: [],
      lastReads: [],
    };
  }
  drop(st: MState, lost: SpecMsg[]): MState | null {
    if (lost.length === 0) return null;
    const msgs = new Map(st.msgs);
    for (const m of lost) if (!msgs.delete(msgKey(m))) return null;
    return { ...st, msgs, lastSent: [], lastReads: [] };
  }

  writePrefix(d: SpecDisk, s: MServer, k: number): SpecDisk {
    const hs = hardStateChanged(s);
    const d1 = hs && k >= 1 ? { ...d, hardStateKnown: true, currentTerm: s.currentTerm, votedFor: durableVote(s), lost: s.lost } : d;
    const k1 = hs ? k - 1 : k;
    const d2 = s.writingSnapshot && k1 >= 1 ? { ...d1, snapIndex: s.snapIndex, snapTerm: s.snapTerm, snapConfig: s.snapConfig, entries: [] } : d1;
    const k2 = s.writingSnapshot ? k1 - 1 : k1;
    const fresh = logSlice(s, s.stableIndex + 1, lastIndex(s) + 1);
    const written = slice(fresh, 0, max(0, min(k2, fresh.length)));
    if (written.length === 0) return d2;
    return { ...d2, entries: [...slice(d2.entries, 0, min(d2.entries.length, s.stableIndex - d2.snapIndex)), ...written] };
  }
  crashDisks(d: SpecDisk, s: MServer): SpecDisk[] {
    if (!s.writing) return [d];
    const records = (hardStateChanged(s) ? 1 : 0) + (s.writingSnapshot ? 1 : 0) + logSlice(s, s.stableIndex + 1, lastIndex(s) + 1).length;
    return range(0, records + 1).map((k) => this.writePrefix(d, s, k));
  }
  damagedFrom(c: SpecDisk, d: SpecDisk): boolean {
    const last = c.snapIndex + c.entries.length;
    const sameSnapshot = d.snapIndex === c.snapIndex && d.snapTerm === c.snapTerm && configEq(d.snapConfig, c.snapConfig);
    const noSnapshot = d.snapIndex === 0 && d.snapTerm === 0 && configEq(d.snapConfig, this.Bootstrap);
    const noHardState = !d.hardStateKnown && d.currentTerm === 0 && d.votedFor === NIL && lostEq(d.lost, NOLOST);
    return (
      diskEq(d, c) ||
      (noHardState && sameSnapshot && entriesEq(d.entries, c.entries)) ||
      (noHardState && noSnapshot && d.entries.length === 0) ||
      (sameSnapshot && d.entries.length < c.entries.length && entriesEq(d.entries, slice(c.entries, 0, d.entries.length)) && markedLost(c, d, last)) ||
      (c.snapIndex > 0 && noSnapshot && d.entries.length === 0 && markedLost(c, d, last)) ||
      (noHardState && sameSnapshot && d.entries.length < c.entries.length && entriesEq(d.entries, slice(c.entries, 0, d.entries.length)))
    );
  }
  rebootFrom(st: MState, n: number, draw: number, d: SpecDisk, incarnation: number): MState | null {
    const s = get(st.servers, n);
    const crashed = this.crashDisks(get(st.disks, n), s);
    const damaged = this.Servers.filter((k) => k === n || recovering(get(st.servers, k)));
    const withinBound = this.decidingSets(this.committedConfig(st.committed)).every((vs) => vs.filter((k) => damaged.includes(k)).length <= vs.length - this.majority(vs.length));
    const ok =
      (crashed.some((c) => diskEq(c, d)) && incarnation >= s.incarnation) ||
      (incarnation > s.incarnation && withinBound && crashed.some((c) => this.damagedFrom(c, d)));
    if (!ok) return null;
    return { ...st, servers: mset(st.servers, n, this.boot(n, d, draw, incarnation)), disks: mset(st.disks, n, d), lastSent: [], lastReads: [] };
  }

  // ---- Invariants ----
  ElectionSafety(st: MState): boolean {
    const byTerm = new Map<string, string>();
    for (const l of st.leaders) {
      const [t, n] = l.split(",");
      if (byTerm.has(t!) && byTerm.get(t!) !== n) return false;
      byTerm.set(t!, n!);
    }
    return true;
  }
  LogMatching(st: MState): boolean {
    for (const sa of st.servers.values())
      for (const sb of st.servers.values()) {
        // The Quint checks every i; the ranges of j for a smaller i are within the largest i's, so the largest such i decides.
        let top = 0;
        for (let i = min(lastIndex(sa), lastIndex(sb)); i >= 1; i--) {
          if (holds(sa, i) && holds(sb, i) && entryAt(sa, i).term === entryAt(sb, i).term) {
            top = i;
            break;
          }
        }
        for (let j = max(sa.snapIndex, sb.snapIndex) + 1; j <= top; j++) if (!entryEq(entryAt(sa, j), entryAt(sb, j))) return false;
      }
    return true;
  }
  LeaderCompleteness(st: MState): boolean {
    for (const s of st.servers.values()) {
      if (s.role.tag !== "Leader") continue;
      for (const [i, c] of st.committed)
        if (c.commitTerm < s.currentTerm && !(i <= s.snapIndex || (holds(s, i) && entryEq(entryAt(s, i), { term: c.term, value: c.value, config: c.config })))) return false;
    }
    return true;
  }
  StateMachineSafety(st: MState): boolean {
    for (const s of st.servers.values())
      for (let i = s.snapIndex + 1; i <= min(s.commitIndex, lastIndex(s)); i++) {
        const c = st.committed.get(i);
        if (!c || !entryEq(entryAt(s, i), { term: c.term, value: c.value, config: c.config })) return false;
      }
    return true;
  }
  ReadIndexSafety(st: MState): boolean {
    for (const r of st.readsReleased) {
      const [id, index] = r.split(",").map(Number);
      if (!(index! >= get(st.readArrivals, id!))) return false;
    }
    return true;
  }
  CommittedOnMajority(st: MState): boolean {
    const sets = this.decidingSets(this.committedConfig(st.committed));
    for (const [i, c] of st.committed)
      for (const vs of sets) {
        const ok = vs.filter((n) => {
          const d = get(st.disks, n);
          const s = get(st.servers, n);
          return (
            i <= d.snapIndex ||
            (i - d.snapIndex <= d.entries.length && at(d.entries, i - d.snapIndex - 1).term === c.term) ||
            (s.surveying && !d.hardStateKnown) ||
            (hasLost(s) && i <= s.lost.through) ||
            (!lostEq(d.lost, NOLOST) && i <= d.lost.through)
          );
        }).length;
        if (ok < this.majority(vs.length)) return false;
      }
    return true;
  }
  OneUncommittedConfiguration(st: MState): boolean {
    for (const s of st.servers.values()) {
      const from = max(s.snapIndex, this.committedUpTo(st.committed)) + 1;
      if (s.role.tag === "Leader" && from <= lastIndex(s) && range(from, lastIndex(s) + 1).filter((i) => entryAt(s, i).value === CONFIG).length > 1) return false;
    }
    return true;
  }
  RecoveringNeverCampaigns = (st: MState) => [...st.servers.values()].every((s) => !recovering(s) || s.role.tag === "Follower");

  /** The invariants validate.ts checks, by name. */
  invariant(st: MState, name: string): boolean {
    switch (name) {
      case "ElectionSafety":
        return this.ElectionSafety(st);
      case "LogMatching":
        return this.LogMatching(st);
      case "LeaderCompleteness":
        return this.LeaderCompleteness(st);
      case "StateMachineSafety":
        return this.StateMachineSafety(st);
      case "ReadIndexSafety":
        return this.ReadIndexSafety(st);
      case "CommittedOnMajority":
        return this.CommittedOnMajority(st);
      case "RecoveringNeverCampaigns":
        return this.RecoveringNeverCampaigns(st);
      case "OneUncommittedConfiguration":
        return this.OneUncommittedConfiguration(st);
    }
    throw new Error(`no invariant ${name}`);
  }
}

type Settled = { s: MServer; d: SpecDisk; msgs: SpecMsg[]; reads: SpecReadResult[] };

// ---- Pure definitions that need no parameter ----

const send = (s: MServer, m: SpecMsg): MServer => ({ ...s, outbox: [...s.outbox, m] });
export const lastIndex = (s: { snapIndex: number; entries: readonly unknown[] }) => s.snapIndex + s.entries.length;
const lastTerm = (s: MServer) => (s.entries.length > 0 ? s.entries[s.entries.length - 1]!.term : s.snapTerm);
function termAt(s: MServer, i: number): number {
  if (i === s.snapIndex) return s.snapTerm;
  if (i < s.snapIndex || i > lastIndex(s)) return NONE;
  return at(s.entries, i - s.snapIndex - 1).term;
}
const entryAt = (s: MServer, i: number) => at(s.entries, i - s.snapIndex - 1);
const holds = (s: MServer, i: number) => i > s.snapIndex && i <= lastIndex(s);
function logSlice(s: MServer, lo: number, hi: number): SpecEntry[] {
  const from = max(lo, s.snapIndex + 1) - s.snapIndex - 1;
  const until = min(hi, lastIndex(s) + 1) - s.snapIndex - 1;
  return until <= from ? [] : slice(s.entries, from, until);
}
const isUpToDate = (s: MServer, lastLogIndex: number, lastLogTerm: number) => lastLogTerm > lastTerm(s) || (lastLogTerm === lastTerm(s) && lastLogIndex >= lastIndex(s));
function firstIndexOfTerm(s: MServer, index: number): number {
  // The Quint folds up from snapIndex + 1 and keeps the first j whose [j, index) all have the term at index;
  // that is the start of the run of that term ending at index - 1 (index itself if the run is empty).
  const t = termAt(s, index);
  let first = index;
  while (first - 1 > s.snapIndex && termAt(s, first - 1) === t) first--;
  return first;
}
function lastIndexOfTerm(s: MServer, term: number): number {
  const below = range(s.snapIndex + 1, lastIndex(s) + 1).filter((i) => termAt(s, i) <= term);
  if (below.length > 0) {
    const i = below[below.length - 1]!;
    return termAt(s, i) === term ? i : 0;
  }
  return s.snapTerm === term ? s.snapIndex : 0;
}

type AppendResult = { ok: boolean; entries: SpecEntry[]; lastNewIndex: number; truncatedFrom: number; conflictIndex: number; conflictTerm: number };
function tryAppendAt(s: MServer, prevIndex: number, prevTerm: number, es: SpecEntry[]): AppendResult {
  const myPrevTerm = termAt(s, prevIndex);
  const refuse = { ok: false, entries: s.entries, lastNewIndex: 0, truncatedFrom: 0, conflictIndex: 0, conflictTerm: 0 };
  if (myPrevTerm === NONE) return { ...refuse, conflictIndex: lastIndex(s) + 1, conflictTerm: 0 };
  if (myPrevTerm !== prevTerm) return { ...refuse, conflictIndex: firstIndexOfTerm(s, prevIndex), conflictTerm: myPrevTerm };
  let firstNew = -1;
  for (let k = 0; k < es.length; k++) {
    if (termAt(s, prevIndex + 1 + k) !== es[k]!.term) {
      firstNew = k;
      break;
    }
  }
  if (firstNew < 0) return { ...refuse, ok: true, lastNewIndex: prevIndex + es.length };
  const idx = prevIndex + 1 + firstNew;
  const kept = slice(s.entries, 0, min(idx - s.snapIndex - 1, s.entries.length));
  return { ...refuse, ok: true, entries: [...kept, ...slice(es, firstNew, es.length)], lastNewIndex: prevIndex + es.length, truncatedFrom: termAt(s, idx) !== NONE ? idx : 0 };
}
function tryAppend(s: MServer, prevIndex: number, prevTerm: number, es: SpecEntry[]): AppendResult {
  if (prevIndex < s.snapIndex) {
    const skip = min(es.length, s.snapIndex - prevIndex);
    const lastNew = prevIndex + es.length;
    if (lastNew <= s.snapIndex) return { ok: true, entries: s.entries, lastNewIndex: lastNew, truncatedFrom: 0, conflictIndex: 0, conflictTerm: 0 };
    return tryAppendAt(s, s.snapIndex, at(es, skip - 1).term, slice(es, skip, es.length));
  }
  return tryAppendAt(s, prevIndex, prevTerm, es);
}

const becomeProbe = (pr: SpecProgress): SpecProgress => ({ ...pr, state: prState("Probe"), nextIndex: pr.matchIndex + 1, probeSent: false, inflight: [] });
const becomeReplicate = (pr: SpecProgress): SpecProgress => ({ ...pr, state: prState("Replicate"), nextIndex: pr.matchIndex + 1, inflight: [] });
const becomeSnapshot = (pr: SpecProgress, snapshotIndex: number): SpecProgress => ({ ...pr, state: prState("Snapshot"), nextIndex: snapshotIndex + 1, inflight: [] });
const sent = (pr: SpecProgress, last: number): SpecProgress => (pr.state.tag === "Replicate" ? { ...pr, inflight: [...pr.inflight, last], nextIndex: last + 1 } : { ...pr, probeSent: true });
function acknowledge(pr: SpecProgress, matchIndex: number): [SpecProgress, boolean] {
  let kept = 0;
  while (kept < pr.inflight.length && pr.inflight[kept]! <= matchIndex) kept++;
  const pr1 = { ...pr, inflight: pr.inflight.slice(kept) };
  if (matchIndex <= pr1.matchIndex) return [pr1, false];
  return [{ ...pr1, matchIndex, nextIndex: max(pr1.nextIndex, matchIndex + 1), probeSent: false }, true];
}
const refused = (pr: SpecProgress, hint: number): SpecProgress => (hint >= pr.nextIndex ? pr : { ...becomeProbe(pr), nextIndex: max(pr.matchIndex + 1, hint) });

const resetElectionTimeout = (s: MServer): MServer => ({ ...s, randomizedElectionTimeout: s.randomDraw });
const failPendingReads = (s: MServer): MServer => ({ ...s, readsOut: [...s.readsOut, ...s.pendingReads.map((r) => ({ id: r.id, ok: false, index: 0, leader: NIL }))], pendingReads: [] });

const answerAppend = (s: MServer, leader: number, seq: number, success: boolean, matchIndex: number, conflictIndex: number, conflictTerm: number): MServer =>
  send(s, { tag: "AppendEntriesResponse", value: { from: s.id, to: leader, term: s.currentTerm, success, matchIndex, conflictIndex, conflictTerm, seq, incarnation: s.incarnation } });
function backtrackHint(s: MServer, conflictIndex: number, conflictTerm: number): number {
  if (conflictTerm === 0) return conflictIndex;
  const last = lastIndexOfTerm(s, conflictTerm);
  return last > 0 ? last + 1 : conflictIndex;
}
function maybeSendTimeoutNow(s: MServer): MServer {
  const target = s.leadTransferee;
  if (target === NIL || !s.progress.has(target) || s.progress.get(target)!.matchIndex !== lastIndex(s)) return s;
  return send(s, { tag: "TimeoutNow", value: { from: s.id, to: target, term: s.currentTerm } });
}
const installSnapshot = (s: MServer, index: number, term: number, config: SpecConfig): MServer => ({
  ...s, snapIndex: index, snapTerm: term, snapConfig: config, entries: [], snapshotToPersist: true, stableIndex: index, commitIndex: index, lastApplied: index,
});
const committedInCurrentTerm = (s: MServer) => termAt(s, s.commitIndex) === s.currentTerm;
const matchOf = (s: MServer, p: number) => (s.progress.has(p) ? s.progress.get(p)!.matchIndex : 0);

const hasLost = (s: MServer) => !lostEq(s.lost, NOLOST);
const coversWhatWasLost = (s: MServer, lastLogIndex: number, lastLogTerm: number) =>
  !hasLost(s) || lastLogTerm > s.lost.term || (lastLogTerm === s.lost.term && lastLogIndex >= s.lost.through);
const noteMatched = (s: MServer, index: number): MServer => (hasLost(s) && index >= s.lost.through ? { ...s, lost: NOLOST } : s);
function withIncarnation(s: MServer, p: number, incarnation: number): MServer {
  const pr = get(s.progress, p);
  if (incarnation <= pr.incarnation) return s;
  if (pr.incarnation === 0) return { ...s, progress: mset(s.progress, p, { ...pr, incarnation }) };
  return { ...s, progress: mset(s.progress, p, { ...pr, incarnation, state: prState("Probe"), matchIndex: 0, probeSent: false, inflight: [] }) };
}
const answerRecoveryQuery = (s: MServer, asker: number): MServer =>
  send(s, { tag: "RecoveryReply", value: { from: s.id, to: asker, term: s.currentTerm, lastLogIndex: lastIndex(s), recovering: s.surveying || hasLost(s) } });
const hardStateChanged = (s: MServer) =>
  !s.surveying && (!s.persistedKnown || s.currentTerm !== s.persistedTerm || durableVote(s) !== s.persistedVote || !lostEq(s.lost, s.persistedLost));
const durableVote = (s: MServer) => s.votedFor;
const recovering = (s: MServer) => s.surveying || hasLost(s);

function refuseStale(s: MServer, m: SpecMsg): MServer {
  switch (m.tag) {
    case "AppendEntries":
    case "InstallSnapshot":
      return answerAppend(s, m.value.from, 0, false, 0, 0, 0);
    case "RequestVote":
      return send(s, { tag: "RequestVoteResponse", value: { from: s.id, to: m.value.from, term: s.currentTerm, preVote: m.value.preVote, voteGranted: false } });
    default:
      return s;
  }
}

function persist(d: SpecDisk, s: MServer): SpecDisk {
  const d1 = s.surveying ? d : { ...d, hardStateKnown: true, currentTerm: s.currentTerm, votedFor: durableVote(s), lost: s.lost };
  const d2 = s.snapshotToPersist ? { ...d1, snapIndex: s.snapIndex, snapTerm: s.snapTerm, snapConfig: s.snapConfig, entries: [] } : d1;
  const fresh = logSlice(s, s.stableIndex + 1, lastIndex(s) + 1);
  if (fresh.length === 0) return d2;
  return { ...d2, entries: [...slice(d2.entries, 0, min(d2.entries.length, s.stableIndex - d2.snapIndex)), ...fresh] };
}
const applyTarget = (s: MServer) => min(s.commitIndex, lastIndex(s));
const withDraw = (s: MServer, draw: number): MServer => ({ ...s, randomDraw: draw });

function markedLost(c: SpecDisk, d: SpecDisk, last: number): boolean {
  if (!c.hardStateKnown) return !d.hardStateKnown;
  return d.hardStateKnown && d.currentTerm === c.currentTerm && d.votedFor === c.votedFor && lostEq(d.lost, { through: max(max(c.lost.through, 0), last), term: max(max(c.lost.term, 0), c.currentTerm) });
}
