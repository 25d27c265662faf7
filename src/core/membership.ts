// Membership changes (thesis ch. 4, §6 of the paper): a configuration is an
// entry in the log, in effect from the moment a server holds it (thesis
// §4.1), taken back if that entry is. A change of voters passes through the
// joint configuration C_old,new, in which every decision needs a majority of
// the old voters and of the new (quorum.ts); once that entry is committed the
// leader appends C_new by itself (etcd's "auto leave"). One change at a time.
// Learners receive the log and are never counted. A leader that is not in
// C_new keeps leading until C_new is committed, without counting itself,
// then hands over and steps down (thesis §4.2.2).

import { encodeConfiguration, isJoint, sameIds, sorted } from "./configuration.js";
import { configuration, peers, selfVotes, send, voterPeers, type Core } from "./context.js";
import { Progress } from "./progress.js";
import { becomeFollower } from "./roles.js";
import { EntryType, type Configuration, type NodeId } from "./types.js";

/** The configuration a leader is asked to move to: who votes, who only listens, and the driver's data about them. */
export interface ConfChange {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** Carried in the configuration untouched (the server keeps the members' addresses here). */
  readonly context: string;
}

export type ConfChangeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | {
      readonly ok: false;
      /** not-leader: ask `leader`; busy: a change (or a transfer) is under way, or this leader has not yet committed an entry of its term; invalid: the change itself is wrong. */
      readonly reason: "not-leader" | "busy" | "invalid";
      readonly leader: NodeId | null;
      readonly message: string;
    };

/** Leader: appends the entry that starts moving to `target` (the joint configuration, when voters change). */
export function proposeConfChange(c: Core, target: ConfChange): ConfChangeResult {
  const st = c.st;
  const refuse = (reason: "not-leader" | "busy" | "invalid", message: string): ConfChangeResult => ({ ok: false, reason, leader: st.role === "leader" ? c.config.id : st.leaderId, message });
  if (st.role !== "leader") return refuse("not-leader", "not the leader");
  const voters = sorted(target.voters);
  const learners = sorted(target.learners);
  const bad = [...voters, ...learners].find((id) => !Number.isSafeInteger(id) || id <= 0);
  if (bad !== undefined) return refuse("invalid", `bad server id ${bad}`);
  if (voters.length === 0) return refuse("invalid", "a configuration needs at least one voter");
  if (new Set(voters).size !== voters.length || new Set(learners).size !== learners.length) return refuse("invalid", "a server is listed twice");
  const both = voters.find((id) => learners.includes(id));
  if (both !== undefined) return refuse("invalid", `server ${both} cannot be a voter and a learner`);
  if (st.leadTransferee !== null) return refuse("busy", "a leadership transfer is under way");
  if (!c.rules.mayChangeConfiguration(c)) return refuse("busy", "another membership change is still pending");
  const current = configuration(c);
  const outgoing = sameIds(voters, current.voters) || !c.rules.changesThroughJoint(c) ? [] : current.voters;
  return appendConfiguration(c, { voters, outgoing, learners, context: target.context });
}

/** Leader: the next entry holds `cfg`; replication starts at once for members it adds. */
function appendConfiguration(c: Core, cfg: Configuration): { ok: true; index: number; term: number } {
  const st = c.st;
  const index = st.log.lastIndex() + 1;
  st.log.appendNew({ index, term: st.currentTerm, type: EntryType.Config, data: encodeConfiguration(cfg) });
  syncProgress(c);
  return { ok: true, index, term: st.currentTerm };
}

/**
 * Leader: one Progress per member of the configuration in effect; a new
 * member is probed from our end of the log. A removed member keeps its
 * Progress (it is never counted: quorum.ts counts voter sets) until the
 * configuration without it is committed, so that it most likely receives
 * that configuration and knows it was removed (then it never campaigns).
 */
export function syncProgress(c: Core): void {
  const st = c.st;
  for (const id of peers(c)) {
    if (st.progress.has(id)) continue;
    const pr = new Progress(id, st.log.lastIndex());
    // Counted as heard from, as etcd does: check-quorum must not depose the
    // leader at its next round because a member just added has not answered yet.
    pr.recentActive = true;
    st.progress.set(id, pr);
  }
  if (st.leadTransferee !== null && !voterPeers(c).includes(st.leadTransferee)) st.leadTransferee = null;
}

/** Leader, when its commit index moves: the members a committed configuration removed are no longer replicated to. */
export function forgetRemoved(c: Core): void {
  const st = c.st;
  const latest = st.log.latestConfig();
  if (latest === null || latest.index > st.commitIndex) return;
  const keep = peers(c);
  for (const id of [...st.progress.keys()]) if (!keep.includes(id)) st.progress.delete(id);
}


/**
 * Leader, whenever its commit index moves (and on taking office): once the
 * configuration in effect is committed, members it removed are forgotten,
 * and a committed joint configuration is left for the new one.
 */
export function advanceConfiguration(c: Core): void {
  const st = c.st;
  forgetRemoved(c);
  const latest = st.log.latestConfig();
  if (st.role !== "leader" || latest === null || !isJoint(latest.config) || latest.index > st.commitIndex) return;
  appendConfiguration(c, { ...latest.config, outgoing: [] });
}

/**
 * Leader, at each tick: once a configuration without this server is
 * committed, it has done its last duty (thesis §4.2.2). It tells the most
 * up-to-date voter to campaign now (TimeoutNow, as in a transfer) and
 * steps down; it never campaigns again unless a later configuration adds it.
 */
export function stepDownIfRemoved(c: Core): boolean {
  const st = c.st;
  const latest = st.log.latestConfig();
  if (selfVotes(c) || latest === null || latest.index > st.commitIndex) return false;
  let best: { id: NodeId; match: number } | null = null;
  for (const id of voterPeers(c)) {
    const match = st.progress.get(id)?.matchIndex ?? 0;
    if (best === null || match > best.match) best = { id, match };
  }
  if (best !== null && best.match === st.log.lastIndex()) send(c, { type: "TimeoutNow", from: c.config.id, to: best.id, term: st.currentTerm });
  becomeFollower(c, st.currentTerm, null);
  return true;
}

/**
 * A learner (or a server no configuration names) does not campaign and does
 * not answer TimeoutNow. A voter of the latest committed configuration may,
 * even when a newer, uncommitted one leaves it out: its votes are still
 * counted by the newer one (election.ts), but without it a leader that
 * appended a configuration without itself, then lost office before the new
 * voters had that entry, would leave nobody able to win — the new voters'
 * logs are too short, the longer logs belong to servers that think
 * themselves removed (found by the simulator; openraft's issue 2091 is a
 * cousin of it).
 */
export function mayCampaign(c: Core): boolean {
  if (selfVotes(c)) return true;
  const st = c.st;
  const committed = st.log.configAt(st.commitIndex)?.config ?? c.bootstrap;
  return c.rules.voterSets(c, committed).some((set) => set.includes(c.config.id));
}
