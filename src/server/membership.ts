// Membership on a running node (SPEC §10): the server follows the
// configuration the log holds (src/core/membership.ts decides it), and the
// leader carries out the operator's changes.
//
// - Whom to talk to: the members of the configuration in effect, their
//   addresses from its context (members.ts), plus members a not yet committed
//   configuration removed (a removed leader still leads until then; a removed
//   follower should still hear that it was removed).
// - members.json in the data directory: the bootstrap configuration (fixed at
//   the first start) and the latest one. On restart the bootstrap comes from
//   there, not from the cluster file, which only a node with no data reads.
// - A node that a configuration it holds leaves out, after it had been a
//   member, was removed: it stops talking to the cluster and refuses to start
//   again from that data directory. One that was down when it was removed
//   never gets that configuration; it learns of its removal by discovery
//   (GET /members on the nodes it knows), from a newer committed one.
// - The leader's tick promotes the learners added for automatic promotion
//   once caught up (members.ts notCaughtUp), one change at a time.

import { readdirSync } from "node:fs";
import type { RaftNode } from "../core/node.js";
import type { Configuration, NodeId } from "../core/types.js";
import type { PeerTransport } from "../transport/peers.js";
import type { Logger } from "../util/log.js";
import { type Address, type ClusterConfig, formatAddress, parseAddress, type NodeAddresses } from "./config.js";
import {
  AppendRate,
  contextFromCluster,
  decodeContext,
  encodeContext,
  isJointConfiguration,
  memberState,
  membersOf,
  MIN_CATCH_UP_LAG,
  notCaughtUp,
  quorumProblem,
  readMembersFile,
  writeMembersFile,
  type MemberState,
  type MembersFile,
} from "./members.js";

/** Refused at start (exit 2): --join on a directory with state, a removed node, a cluster file that names nobody else. */
export class MembershipError extends Error {
  override readonly name = "MembershipError";
}

/** What the membership code needs of its node. */
export interface MembershipHost {
  raft(): RaftNode;
  transport(): PeerTransport | null;
  /** When this node last heard from `id` (performance.now()), if ever. */
  heardFrom(id: NodeId): number | undefined;
}

/** An admin request's answer: HTTP status and JSON body. */
export interface AdminAnswer {
  readonly status: number;
  readonly body: object;
}

import type { MembersJson, PendingChangeJson } from "../util/members-json.js";

export type { MemberJson, MembersJson, PendingChangeJson } from "../util/members-json.js";

/** This node's own place, for /status: a member state, or joining (not added yet), or removed. */
export type SelfMembership = MemberState | "removed";

/** How often the membership tick runs (auto-promotion, retiring links, the append rate). */
export const MEMBERSHIP_TICK_MS = 100;
/** How often a joiner not yet added asks the members it knows of for the live membership. */
const DISCOVERY_MS = 1000;

export class Membership {
  /** Every member address this node has learnt (bootstrap, every configuration seen): the latest one per id. */
  private readonly book = new Map<NodeId, NodeAddresses>();
  /** Removed members still talked to until the configuration that removed them is committed: id -> that configuration's index. */
  private readonly retiring = new Map<NodeId, number>();
  private readonly rate: AppendRate;
  private file: MembersFile;
  private members: NodeId[];
  private removed = false;
  private dirty = false;
  /** A removed node, no longer leading, has hung up on everybody. */
  private cutOff = false;
  /**
   * Discovery (discover()): the members the live cluster names (GET /members
   * of the nodes this one knows of) — for a joiner not yet added, or a node
   * whose log is behind a configuration that brought in the leader. Accepted
   * and dialled until this node's own configuration reaches discoveredIndex.
   */
  private readonly discovered = new Set<NodeId>();
  private discoveredIndex = 0;
  /**
   * The nodes of the cluster file this process was started with, asked too
   * when discovering: a node that was down while the membership changed may
   * know no live member from its own configurations, but its operator can
   * name one there.
   */
  private clusterFileNodes: readonly NodeAddresses[] = [];
  private discovering = false;
  private lastDiscovery = -Infinity;

  private constructor(
    readonly id: NodeId,
    private readonly dataDir: string,
    private readonly log: Logger,
    private readonly electionTimeoutMs: number,
    file: MembersFile,
    private readonly host: MembershipHost,
  ) {
    this.file = file;
    this.rate = new AppendRate(electionTimeoutMs);
    this.learn(file.bootstrap.context);
    this.learn(file.latest.configuration.context);
    this.members = membersOf(file.latest.configuration);
  }

  /**
   * Before the core starts: the bootstrap configuration, from members.json,
   * or (no data yet, or data from before membership changes) the cluster
   * file — for a joiner (`join`) with itself left out of the voters.
   */
  static open(o: { config: ClusterConfig; id: NodeId; dataDir: string; join: boolean; hadData: boolean; log: Logger; host: MembershipHost }): Membership {
    const electionTimeoutMs = o.config.electionTimeoutMs[1];
    if (o.join && o.hadData) {
      throw new MembershipError(`data directory ${o.dataDir} already holds this node's state: --join is for a new node with an empty data directory (restart this node without --join)`);
    }
    let file = o.hadData ? readMembersFile(o.dataDir) : null;
    if (file === null) {
      const ids = o.config.nodes.map((n) => n.id);
      const voters = o.join ? ids.filter((x) => x !== o.id) : ids;
      if (voters.length === 0) throw new MembershipError(`--join: the cluster file names no node but ${o.id}; it must also name the cluster's current members, so that this node knows whom to expect`);
      const bootstrap: Configuration = { voters: voters.sort((a, b) => a - b), outgoing: [], learners: [], context: contextFromCluster(o.config) };
      file = { bootstrap, latest: { index: 0, configuration: bootstrap }, wasMember: !o.join };
      writeMembersFile(o.dataDir, file);
      // A joiner's list is only whom it asks (the cluster file's other nodes, some perhaps not members): not a configuration.
      if (o.join) o.log.info("members_file_written", { join: true, asks: bootstrap.voters, note: "not a member until the cluster adds it; until the leader's configuration arrives, it asks these nodes of its cluster file for the live membership" });
      else o.log.info("members_file_written", { bootstrap: bootstrap.voters, join: false });
    }
    const membership = new Membership(o.id, o.dataDir, o.log, electionTimeoutMs, file, o.host);
    membership.clusterFileNodes = o.config.nodes.filter((n) => n.id !== o.id);
    return membership;
  }

  /** The voters the core starts with until its log or snapshot holds a configuration. */
  get bootstrapVoters(): NodeId[] {
    return [...this.file.bootstrap.voters];
  }

  /** A configuration this node holds left it out, after it had been a member. */
  get isRemoved(): boolean {
    return this.removed;
  }

  /** Not a voter of the bootstrap configuration: a node started with --join. */
  get joiner(): boolean {
    return !this.file.bootstrap.voters.includes(this.id);
  }

  /** Once the core is built from the disk: refuses a removed node; records what the log holds. */
  started(): void {
    const raft = this.host.raft();
    const cfg = raft.configuration;
    const index = raft.configurationIndex;
    const reported = this.file.removedAsReported;
    if (reported !== undefined) {
      throw new MembershipError(
        `node ${this.id} was removed from the cluster while it was down: nodes ${reported.by.join(", ")} reported a committed configuration without it (index ${reported.index}); ` +
          `a removed node stays out. To bring this machine back, add it again (raftkv member add) and start it with --join and an empty data directory`,
      );
    }
    if (this.file.wasMember && index > 0 && !membersOf(cfg).includes(this.id)) {
      throw new MembershipError(
        `node ${this.id} was removed from the cluster (the configuration at log index ${index} has voters ${cfg.voters.join(", ") || "none"}${cfg.learners.length > 0 ? `, learners ${cfg.learners.join(", ")}` : ""}); ` +
          `a removed node stays out. To bring this machine back, add it again (raftkv member add) and start it with --join and an empty data directory`,
      );
    }
    this.follow(cfg, index);
    this.persist();
  }

  /** The peer addresses the transport starts with. */
  peerAddresses(): Map<NodeId, Address> {
    const peers = new Map<NodeId, Address>();
    // A removed leader still leads until its removal is committed (then the core steps it down): it must be heard until then.
    if (this.removed && this.host.raft().role !== "leader") return peers;
    // It also listens to the members it discovered: the leader that adds it, or that leads now, may be one its log does not name yet
    // (a joiner's cluster file, or a snapshot or log older than the configuration that added the leader).
    for (const id of [...this.members, ...this.retiring.keys(), ...this.discovered]) {
      const a = this.book.get(id);
      if (id !== this.id && a !== undefined) peers.set(id, a.peer);
    }
    return peers;
  }

  /**
   * Ready.configuration: the configuration in effect changed (appended, taken
   * back, or installed with a snapshot). The transport follows at once (the
   * same Ready may send to a new member); the members file once the Ready is
   * durable (persist()), so it never records what the log may not hold.
   */
  onConfiguration(cfg: Configuration): void {
    this.follow(cfg, this.host.raft().configurationIndex);
  }

  /** After a Ready is durable: the members file records the latest configuration. */
  persist(): void {
    if (!this.dirty) return;
    this.dirty = false;
    writeMembersFile(this.dataDir, this.file);
  }

  private follow(cfg: Configuration, index: number): void {
    this.learn(cfg.context);
    const next = membersOf(cfg);
    for (const id of this.members) if (!next.includes(id)) this.retiring.set(id, index);
    for (const id of next) this.retiring.delete(id);
    const wasMember = this.file.wasMember || next.includes(this.id);
    const changed = index !== this.file.latest.index || wasMember !== this.file.wasMember || encodeConfigurationKey(cfg) !== encodeConfigurationKey(this.file.latest.configuration);
    this.members = next;
    if (this.discovered.size > 0 && index >= this.discoveredIndex) this.discovered.clear();
    if (changed) {
      this.file = { ...this.file, latest: { index, configuration: cfg }, wasMember };
      this.dirty = true;
      this.log.info("configuration_changed", { index, voters: cfg.voters, outgoing: cfg.outgoing, learners: cfg.learners });
    }
    if (wasMember && !next.includes(this.id) && index > 0 && !this.removed) {
      this.markRemoved({
        index,
        message: `this node (${this.id}) is no longer a member of the cluster: it stops talking to the others (a leader once its removal is committed) and will refuse to start again from this data directory; stop it`,
      });
    }
    this.host.transport()?.setPeers(this.peerAddresses());
  }

  private markRemoved(fields: Record<string, unknown>): void {
    this.removed = true;
    this.retiring.clear();
    this.log.error("removed_from_cluster", fields);
  }

  /** Every MEMBERSHIP_TICK_MS, in turn with the node's other inputs. */
  tick(now: number): void {
    const raft = this.host.raft();
    let retired = false;
    for (const [id, index] of this.retiring) {
      if (raft.commitIndex >= index) {
        this.retiring.delete(id);
        retired = true;
      }
    }
    // A removed leader that stepped down hangs up now.
    if (this.removed && !this.cutOff && raft.role !== "leader") {
      this.cutOff = true;
      retired = true;
    }
    if (retired) this.host.transport()?.setPeers(this.peerAddresses());
    // A joiner, or a member that hears from no leader (one its configuration does not name would be refused), asks who the members are.
    if ((!this.file.wasMember || raft.leaderId === null) && !this.removed && !this.discovering && now - this.lastDiscovery >= DISCOVERY_MS) {
      this.lastDiscovery = now;
      void this.discover();
    }
    if (raft.role !== "leader") return;
    const last = raft.log.lastIndex();
    this.rate.note(now, last);
    this.autoPromote(now);
  }

  /** Leader: promotes one caught-up learner marked for automatic promotion, if no change is pending and the quorum stays reachable. */
  private autoPromote(now: number): void {
    const raft = this.host.raft();
    const cfg = raft.configuration;
    if (this.pending() !== null) return;
    const ctx = decodeContext(cfg.context);
    if (ctx === null) return;
    for (const id of ctx.autoPromote) {
      if (this.promotionProblem(cfg, id, now) !== null) continue;
      const voters = [...cfg.voters, id];
      const r = raft.proposeConfChange({ voters, learners: cfg.learners.filter((x) => x !== id), context: this.context(cfg, { drop: [], autoPromoteDone: [id] }) });
      if (r.ok) this.log.info("learner_promoted", { id, index: r.index, automatic: true });
      return;
    }
  }

  /**
   * Leader: why learner `id` cannot be promoted now (not caught up, or the
   * new voters would have no reachable quorum), or null when it can.
   */
  private promotionProblem(cfg: Configuration, id: NodeId, now: number): string | null {
    if (!cfg.learners.includes(id)) return `node ${id} is not a learner`;
    return this.lagProblem(id, now) ?? quorumProblem(cfg, [...cfg.voters, id], this.reachable(now));
  }

  /**
   * A joiner not yet added: asks the nodes it knows of (GET /members on their
   * admin ports) who the members are now, so that it accepts the leader's
   * connection even when its cluster file names an older membership. A
   * member that hears from no leader asks too, and so learns that it was
   * removed while it was down.
   */
  private async discover(): Promise<void> {
    this.discovering = true;
    // Voters of this node's configuration that report a committed configuration without it (see below).
    const witnesses = new Set<NodeId>();
    // The members this node knows of, then the cluster file's nodes at other addresses.
    const asked = [...this.book].filter(([id]) => id !== this.id).map(([id, a]) => ({ id, admin: a.admin }));
    for (const n of this.clusterFileNodes) {
      if (!asked.some((x) => formatAddress(x.admin) === formatAddress(n.admin))) asked.push({ id: n.id, admin: n.admin });
    }
    try {
      for (const { id, admin } of asked) {
        let answer: MembersJson;
        try {
          const res = await fetch(`http://${formatAddress(admin)}/members`, { signal: AbortSignal.timeout(1000) });
          answer = (await res.json()) as MembersJson;
        } catch {
          continue; // down, or not answering: ask the next one
        }
        if (this.removed || !Array.isArray(answer.members)) return;
        // A member adopts only a configuration newer than its own (a joiner any: its own is its cluster file's).
        const index = typeof answer.configIndex === "number" ? answer.configIndex : 0;
        if (this.file.wasMember && index <= this.host.raft().configurationIndex) continue;
        // A member that was down when it was removed never receives the entry
        // that removed it: nobody sends to a non-member, and the members
        // refuse its connections. A committed configuration newer than this
        // node's and without it says so (committed: it is in the cluster's
        // history for good). GET /members needs no token, so one answer is
        // not enough: a majority of this node's voters must report it (a
        // process squatting on one member's admin port cannot stop it).
        if (this.file.wasMember && answer.committed && !answer.joint && !answer.members.some((m) => m.id === this.id)) {
          const voters = this.voterIds();
          if (voters.includes(id)) witnesses.add(id);
          if (witnesses.size < Math.floor(voters.length / 2) + 1) continue;
          // Recorded first: restarted, it refuses to start, as one whose log shows its removal does.
          const by = [...witnesses].sort((a, b) => a - b);
          this.file = { ...this.file, removedAsReported: { index, by } };
          try {
            writeMembersFile(this.dataDir, this.file);
          } catch (err) {
            this.log.error("members_file_write_failed", { error: (err as Error).message, note: "the removal is not recorded: restarted, this node would learn it again" });
          }
          this.markRemoved({
            index,
            from: by,
            message: `this node (${this.id}) is no longer a member of the cluster: nodes ${by.join(", ")} know a committed configuration without it (index ${index}), made while it was away; it stops talking to the others and will refuse to start again from this data directory; stop it`,
          });
          this.host.transport()?.setPeers(this.peerAddresses());
          return;
        }
        let learnt = false;
        for (const m of answer.members) {
          if (m.id === this.id || m.peer === null || m.client === null || m.admin === null) continue;
          // The addresses of this node's own members come from its configuration; others' from the answer (an id added again may have moved).
          if (!this.members.includes(m.id)) {
            try {
              this.book.set(m.id, { id: m.id, peer: parseAddress(m.peer, "peer"), client: parseAddress(m.client, "client"), admin: parseAddress(m.admin, "admin") });
            } catch {
              continue;
            }
          }
          if (this.discovered.has(m.id) || this.members.includes(m.id)) continue;
          this.discovered.add(m.id);
          learnt = true;
        }
        this.discoveredIndex = Math.max(this.discoveredIndex, index);
        if (learnt) {
          this.log.info("members_discovered", { from: id, members: answer.members.map((m) => m.id) });
          this.host.transport()?.setPeers(this.peerAddresses());
        }
        return;
      }
    } finally {
      this.discovering = false;
    }
  }

  // ---------------------------------------------------------------------
  // Views
  // ---------------------------------------------------------------------

  /** The addresses of member `id` as the configurations this node saw give them (null: unknown). */
  addressesOf(id: NodeId): NodeAddresses | null {
    return this.book.get(id) ?? null;
  }

  /** The members of the configuration in effect, sorted. */
  memberIds(): NodeId[] {
    return [...this.members];
  }

  /** The voters (both sets while joint). */
  voterIds(): NodeId[] {
    const cfg = this.host.raft().configuration;
    return [...new Set([...cfg.voters, ...cfg.outgoing])].sort((a, b) => a - b);
  }

  /** This node's own place in the configuration. */
  selfState(): SelfMembership {
    if (this.removed) return "removed";
    const cfg = this.host.raft().configuration;
    return memberState(cfg, this.id, decodeContext(cfg.context)?.autoPromote ?? []) ?? "joining";
  }

  /** The change under way: the latest configuration while it is not committed, or joint. */
  pending(): PendingChangeJson | null {
    const raft = this.host.raft();
    const cfg = raft.configuration;
    const index = raft.configurationIndex;
    if (index <= raft.commitIndex && !isJointConfiguration(cfg)) return null;
    return { index, voters: cfg.voters, outgoing: cfg.outgoing, learners: cfg.learners };
  }

  /** Why the leader has not promoted learner `id` (marked for automatic promotion) yet: what GET /members shows as its `waiting`. */
  private waitingFor(cfg: Configuration, id: NodeId, now: number): string {
    const pending = this.pending();
    if (pending !== null) return `the change at index ${pending.index} is not done yet: one change at a time`;
    return this.promotionProblem(cfg, id, now) ?? "nothing: the leader promotes it at its next tick";
  }

  /** GET /members. */
  list(now: number): MembersJson {
    const raft = this.host.raft();
    const cfg = raft.configuration;
    const index = raft.configurationIndex;
    const leading = raft.role === "leader";
    const auto = decodeContext(cfg.context)?.autoPromote ?? [];
    const reachable = leading ? this.reachable(now) : null;
    return {
      leader: raft.leaderId,
      configIndex: index,
      committed: index <= raft.commitIndex,
      joint: isJointConfiguration(cfg),
      members: membersOf(cfg).map((id) => {
        const a = this.book.get(id);
        const voter = cfg.voters.includes(id) || cfg.outgoing.includes(id);
        return {
          id,
          peer: a ? formatAddress(a.peer) : null,
          client: a ? formatAddress(a.client) : null,
          admin: a ? formatAddress(a.admin) : null,
          role: voter ? "voter" : "learner",
          state: memberState(cfg, id, auto)!,
          reachable: reachable === null ? null : reachable.has(id),
          matchIndex: !leading ? null : id === this.id ? raft.log.lastIndex() : (raft.progress.get(id)?.matchIndex ?? null),
          waiting: leading && cfg.learners.includes(id) && auto.includes(id) ? this.waitingFor(cfg, id, now) : null,
        };
      }),
      pending: this.pending(),
    };
  }

  // ---------------------------------------------------------------------
  // Changes (the admin port's POST /members, POST /members/ID/promote, DELETE /members/ID)
  // ---------------------------------------------------------------------

  /** POST /members: a new learner (promoted automatically once caught up unless `learner`). */
  add(body: unknown): AdminAnswer {
    const refused = this.refuseUnlessLeading();
    if (refused) return refused;
    let member: NodeAddresses;
    let learner: boolean;
    try {
      ({ member, learner } = parseAddRequest(body));
    } catch (err) {
      return { status: 400, body: { error: (err as Error).message } };
    }
    const raft = this.host.raft();
    const cfg = raft.configuration;
    if (membersOf(cfg).includes(member.id)) return { status: 409, body: { error: `node ${member.id} is already a member (${memberState(cfg, member.id, decodeContext(cfg.context)?.autoPromote ?? [])})` } };
    for (const id of membersOf(cfg)) {
      const a = this.book.get(id);
      if (a === undefined) continue;
      for (const kind of ["peer", "client", "admin"] as const) {
        for (const other of ["peer", "client", "admin"] as const) {
          if (formatAddress(a[other]) === formatAddress(member[kind])) return { status: 400, body: { error: `address ${formatAddress(member[kind])} (${kind}) is already node ${id}'s ${other} address` } };
        }
      }
    }
    const busy = this.refuseIfPending();
    if (busy) return busy;
    const context = this.context(cfg, { add: member, autoPromote: learner ? [] : [member.id] });
    const r = raft.proposeConfChange({ voters: cfg.voters, learners: [...cfg.learners, member.id], context });
    if (!r.ok) return this.refusal(r);
    this.log.info("member_added", { id: member.id, peer: formatAddress(member.peer), learner, autoPromote: !learner, index: r.index });
    return { status: 200, body: { ok: true, index: r.index } };
  }

  /** POST /members/ID/promote: a caught-up learner becomes a voter. */
  promote(id: NodeId, force: boolean, now: number): AdminAnswer {
    const refused = this.refuseUnlessLeading();
    if (refused) return refused;
    const raft = this.host.raft();
    const cfg = raft.configuration;
    if (!membersOf(cfg).includes(id)) return { status: 404, body: { error: `node ${id} is not a member` } };
    if (!cfg.learners.includes(id)) return { status: 409, body: { error: `node ${id} is already a voter` } };
    const busy = this.refuseIfPending();
    if (busy) return busy;
    const lag = this.lagProblem(id, now);
    if (lag !== null) return { status: 409, body: { error: `node ${id} is not caught up: ${lag}` } };
    const voters = [...cfg.voters, id];
    const problem = quorumProblem(cfg, voters, this.reachable(now));
    if (problem !== null && !force) return { status: 422, body: { error: `promoting node ${id} is refused: ${problem}; add ?force=1 to do it anyway` } };
    const r = raft.proposeConfChange({ voters, learners: cfg.learners.filter((x) => x !== id), context: this.context(cfg, { autoPromoteDone: [id] }) });
    if (!r.ok) return this.refusal(r);
    this.log.info("learner_promoted", { id, index: r.index, automatic: false, force });
    return { status: 200, body: { ok: true, index: r.index } };
  }

  /** DELETE /members/ID: the member leaves (a voter through the joint configuration; the leader itself steps down once it is committed). */
  remove(id: NodeId, force: boolean, now: number): AdminAnswer {
    const refused = this.refuseUnlessLeading();
    if (refused) return refused;
    const raft = this.host.raft();
    const cfg = raft.configuration;
    if (!membersOf(cfg).includes(id)) return { status: 404, body: { error: `node ${id} is not a member` } };
    const busy = this.refuseIfPending();
    if (busy) return busy;
    const voters = cfg.voters.filter((x) => x !== id);
    if (voters.length === 0) return { status: 400, body: { error: `node ${id} is the only voter: a cluster needs at least one` } };
    if (cfg.voters.includes(id)) {
      const problem = quorumProblem(cfg, voters, this.reachable(now));
      if (problem !== null && !force) {
        const hint = cfg.voters.length === 2 ? " (with two voters, removing one needs both: the joint configuration is decided by the old voters too; bring the other node back first)" : "";
        return { status: 422, body: { error: `removing node ${id} is refused: ${problem}${hint}; add ?force=1 to do it anyway` } };
      }
    }
    const r = raft.proposeConfChange({ voters, learners: cfg.learners.filter((x) => x !== id), context: this.context(cfg, { drop: [id] }) });
    if (!r.ok) return this.refusal(r);
    this.log.info("member_removed", { id, index: r.index, force, self: id === this.id });
    return { status: 200, body: { ok: true, index: r.index } };
  }

  private refuseUnlessLeading(): AdminAnswer | null {
    const raft = this.host.raft();
    if (raft.role === "leader") return null;
    const leader = raft.leaderId;
    const a = leader === null ? undefined : this.book.get(leader);
    return { status: 421, body: { error: leader === null ? "this node is not the leader, and no leader is known right now" : `this node is not the leader; node ${leader} is`, leader, admin: a ? formatAddress(a.admin) : null } };
  }

  private refuseIfPending(): AdminAnswer | null {
    const raft = this.host.raft();
    // Until it commits an entry of its own term a new leader cannot know whether a change it holds is committed (etcd's rule too).
    if (raft.log.term(raft.commitIndex) !== raft.currentTerm) {
      return { status: 409, body: { error: "this leader was just elected and has not committed an entry of its term yet; try again in a moment", retry: true } };
    }
    const p = this.pending();
    if (p === null) return null;
    return { status: 409, body: { error: `another membership change is pending (the configuration at index ${p.index} is ${p.outgoing.length > 0 ? "joint" : "not committed yet"}); try again once it is done`, pending: p } };
  }

  private refusal(r: { reason: "not-leader" | "busy" | "invalid"; leader: NodeId | null; message: string }): AdminAnswer {
    if (r.reason === "not-leader") return this.refuseUnlessLeading() ?? { status: 421, body: { error: r.message, leader: r.leader, admin: null } };
    return { status: r.reason === "busy" ? 409 : 400, body: { error: r.message } };
  }

  /** Members the leader heard from within the last election timeout and is connected to now, itself included. */
  private reachable(now: number): Set<NodeId> {
    const up = new Set<NodeId>([this.id]);
    const transport = this.host.transport();
    for (const id of membersOf(this.host.raft().configuration)) {
      const heard = this.host.heardFrom(id);
      if (heard !== undefined && now - heard <= this.electionTimeoutMs && transport?.isConnected(id) === true) up.add(id);
    }
    return up;
  }

  /** Null when learner `id` is caught up (members.ts notCaughtUp), else how far it is from it. */
  private lagProblem(id: NodeId, now: number): string | null {
    const raft = this.host.raft();
    const last = raft.log.lastIndex();
    const heard = this.host.heardFrom(id);
    const allowed = Math.max(MIN_CATCH_UP_LAG, this.rate.recent(now, last));
    return notCaughtUp(id, raft.progress.get(id)?.matchIndex ?? null, last, allowed, heard !== undefined && now - heard <= this.electionTimeoutMs);
  }

  /** The context of a new configuration: the current members' addresses (from what this node knows), changed as asked. */
  private context(cfg: Configuration, change: { add?: NodeAddresses; drop?: NodeId[]; autoPromote?: NodeId[]; autoPromoteDone?: NodeId[] }): string {
    const members = new Map<NodeId, NodeAddresses>();
    for (const id of membersOf(cfg)) {
      const a = this.book.get(id);
      if (a === undefined) throw new Error(`no address known for member ${id}`);
      members.set(id, a);
    }
    if (change.add) members.set(change.add.id, change.add);
    for (const id of change.drop ?? []) members.delete(id);
    const auto = new Set([...(decodeContext(cfg.context)?.autoPromote ?? []), ...(change.autoPromote ?? [])]);
    for (const id of [...(change.drop ?? []), ...(change.autoPromoteDone ?? [])]) auto.delete(id);
    return encodeContext({ members, autoPromote: [...auto].filter((id) => members.has(id)) });
  }

  private learn(context: string): void {
    const ctx = decodeContext(context);
    if (ctx === null) return;
    for (const [id, a] of ctx.members) this.book.set(id, a);
  }
}

function encodeConfigurationKey(cfg: Configuration): string {
  return JSON.stringify([cfg.voters, cfg.outgoing, cfg.learners, cfg.context]);
}

/** Whether a data directory holds a node's state (anything but the lock and the event history). */
export function dataDirHasState(dir: string): boolean {
  try {
    return readdirSync(dir).some((f) => f !== "LOCK" && f !== "events.jsonl");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

/** The body of POST /members: {"id":4,"peer":"h:p","client":"h:p","admin":"h:p","learner":true|false}. */
export function parseAddRequest(body: unknown): { member: NodeAddresses; learner: boolean } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new Error('the body must be a JSON object: {"id":N,"peer":"host:port","client":"host:port","admin":"host:port","learner":false}');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!["id", "peer", "client", "admin", "learner"].includes(k)) throw new Error(`unknown field "${k}"`);
  if (typeof b.id !== "number" || !Number.isInteger(b.id) || b.id < 1 || b.id > 0xffffffff) throw new Error(`"id" must be a positive integer, got ${JSON.stringify(b.id)}`);
  if (b.learner !== undefined && typeof b.learner !== "boolean") throw new Error(`"learner" must be true or false`);
  const member: NodeAddresses = {
    id: b.id,
    peer: parseAddressField(b.peer, "peer"),
    client: parseAddressField(b.client, "client"),
    admin: parseAddressField(b.admin, "admin"),
  };
  const seen = new Set([member.peer, member.client, member.admin].map(formatAddress));
  if (seen.size !== 3) throw new Error("the peer, client and admin addresses must differ");
  return { member, learner: b.learner === true };
}

function parseAddressField(v: unknown, what: string): Address {
  return parseAddress(v, `"${what}"`);
}
