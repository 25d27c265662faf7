// The server's side of membership changes (SPEC §10), as pure functions:
// where the members' addresses travel (Configuration.context), the members
// file each node keeps in its data directory, when a learner is caught up,
// and which changes would leave no quorum reachable. src/server/membership.ts
// uses them on a running node.
//
// Configuration.context (opaque to the core, carried through the log):
//   {"members":{"<id>":{"peer":"h:p","client":"h:p","admin":"h:p"},...},"autoPromote":[ids]}
// with an entry for every id of voters ∪ outgoing ∪ learners. autoPromote:
// learners added without --learner; the leader promotes each once caught up.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Configuration, NodeId } from "../core/types.js";
import { formatAddress, parseAddress, type ClusterConfig, type NodeAddresses } from "./config.js";
import type { MemberState } from "../util/members-json.js";

export interface MembershipContext {
  readonly members: ReadonlyMap<NodeId, NodeAddresses>;
  readonly autoPromote: readonly NodeId[];
}

export function encodeContext(ctx: MembershipContext): string {
  const ids = [...ctx.members.keys()].sort((a, b) => a - b);
  const members = Object.fromEntries(ids.map((id) => {
    const n = ctx.members.get(id)!;
    return [String(id), { peer: formatAddress(n.peer), client: formatAddress(n.client), admin: formatAddress(n.admin) }];
  }));
  return JSON.stringify({ members, autoPromote: [...new Set(ctx.autoPromote)].sort((a, b) => a - b) });
}

/** The context's members and autoPromote; null for "" (the core's bootstrap configuration) or anything that is not one. */
export function decodeContext(text: string): MembershipContext | null {
  if (text === "") return null;
  try {
    const raw = JSON.parse(text) as { members?: unknown; autoPromote?: unknown };
    if (typeof raw.members !== "object" || raw.members === null) return null;
    const members = new Map<NodeId, NodeAddresses>();
    for (const [key, v] of Object.entries(raw.members as Record<string, Record<string, unknown>>)) {
      const id = Number(key);
      if (!Number.isSafeInteger(id) || id < 1) return null;
      members.set(id, { id, peer: parseAddress(v.peer, `member ${id} peer`), client: parseAddress(v.client, `member ${id} client`), admin: parseAddress(v.admin, `member ${id} admin`) });
    }
    const autoPromote = Array.isArray(raw.autoPromote) ? raw.autoPromote.filter((x): x is number => Number.isSafeInteger(x)) : [];
    return { members, autoPromote };
  } catch {
    return null;
  }
}

/** The bootstrap context: every node of the cluster file. */
export function contextFromCluster(config: ClusterConfig): string {
  return encodeContext({ members: new Map(config.nodes.map((n) => [n.id, n])), autoPromote: [] });
}

/** Everybody the configuration names (voters old and new, learners), sorted. */
export function membersOf(cfg: Configuration): NodeId[] {
  return [...new Set([...cfg.voters, ...cfg.outgoing, ...cfg.learners])].sort((a, b) => a - b);
}

export function isJointConfiguration(cfg: Configuration): boolean {
  return cfg.outgoing.length > 0;
}

/**
 * A member's place in a configuration, as /members and /status show it:
 * voter; learner; joining (a voter that the joint configuration adds, or a
 * learner waiting to be promoted automatically); leaving (a voter that the
 * joint configuration removes). null: not a member.
 */
export type { MemberState } from "../util/members-json.js";

export function memberState(cfg: Configuration, id: NodeId, autoPromote: readonly NodeId[]): MemberState | null {
  const inNew = cfg.voters.includes(id);
  const inOld = cfg.outgoing.includes(id);
  if (isJointConfiguration(cfg)) {
    if (inNew && !inOld) return "joining";
    if (inOld && !inNew) return "leaving";
    if (inNew) return "voter";
  } else if (inNew) return "voter";
  if (cfg.learners.includes(id)) return autoPromote.includes(id) ? "joining" : "learner";
  return null;
}

// ---------------------------------------------------------------------
// members.json: the node's record of the configurations it knows
// ---------------------------------------------------------------------

export const MEMBERS_FILE = "members.json";

export interface MembersFile {
  /**
   * The configuration this node started the cluster with (its cluster file,
   * or for a joiner the members it was told of, itself not a voter). The core
   * uses it until the log or a snapshot holds a configuration; it never
   * changes after the first start, so a later edit of the cluster file cannot
   * change what an old log means.
   */
  readonly bootstrap: Configuration;
  /** The latest configuration this node knows (the log's), and the index of its entry (0: the bootstrap). */
  readonly latest: { readonly index: number; readonly configuration: Configuration };
  /** This node has been in a configuration it knew (a joiner: once it was added): its absence from a later one means it was removed. */
  readonly wasMember: boolean;
  /**
   * Set when this node learnt of its removal from other nodes (it was down
   * when it was removed, so its log does not show it): the configuration
   * index they reported and who reported it. A node whose file says so
   * refuses to start, as one whose log shows its removal does.
   */
  readonly removedAsReported?: { readonly index: number; readonly by: readonly NodeId[] };
}

/** The members file of a data directory; null if there is none (a new node, or data from before membership changes). */
export function readMembersFile(dir: string): MembersFile | null {
  let text: string;
  try {
    text = readFileSync(join(dir, MEMBERS_FILE), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  const raw = JSON.parse(text) as MembersFile;
  if (typeof raw !== "object" || raw === null || !isConfiguration(raw.bootstrap) || !isConfiguration(raw.latest?.configuration) || !Number.isSafeInteger(raw.latest.index)) {
    throw new Error(`${join(dir, MEMBERS_FILE)} is not a members file`);
  }
  const reported = raw.removedAsReported;
  const removed = typeof reported === "object" && reported !== null && Number.isSafeInteger(reported.index) && Array.isArray(reported.by) ? { removedAsReported: { index: reported.index, by: reported.by.filter((x) => Number.isSafeInteger(x)) } } : {};
  return { bootstrap: raw.bootstrap, latest: raw.latest, wasMember: raw.wasMember === true, ...removed };
}

/** Replaces the members file atomically: a crash leaves the old file or the new one, never a torn one. */
export function writeMembersFile(dir: string, file: MembersFile): void {
  const path = join(dir, MEMBERS_FILE);
  const temp = `${path}.tmp`;
  const fd = openSync(temp, "w");
  try {
    writeSync(fd, JSON.stringify(file, null, 1) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
  const dirFd = openSync(dir, "r");
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

function isConfiguration(x: unknown): x is Configuration {
  if (typeof x !== "object" || x === null) return false;
  const c = x as Record<string, unknown>;
  const ids = (v: unknown) => Array.isArray(v) && v.every((id) => Number.isSafeInteger(id) && (id as number) > 0);
  return ids(c.voters) && ids(c.outgoing) && ids(c.learners) && typeof c.context === "string";
}

// ---------------------------------------------------------------------
// Catching up (thesis §4.2.1) and keeping a quorum
// ---------------------------------------------------------------------

/**
 * How many entries the leader appended in the last `windowMs`: the allowed
 * lag of a learner that is promoted. Samples of (time, last index) are kept
 * for a little longer than the window.
 */
export class AppendRate {
  private readonly samples: { at: number; last: number }[] = [];

  constructor(private readonly windowMs: number) {}

  note(now: number, lastIndex: number): void {
    this.samples.push({ at: now, last: lastIndex });
    while (this.samples.length > 2 && this.samples[1]!.at <= now - this.windowMs) this.samples.shift();
  }

  /** Entries appended over (about) the last window. */
  recent(now: number, lastIndex: number): number {
    const old = this.samples.find((s) => s.at >= now - this.windowMs) ?? this.samples[0];
    return old === undefined ? 0 : Math.max(0, lastIndex - old.last);
  }
}

/**
 * The catch-up rule for promoting a learner: its match index is within one
 * election timeout's worth of entries of the leader's last index (what the
 * leader appended during the last election timeout, at least
 * MIN_CATCH_UP_LAG), and the leader heard from it within the last election
 * timeout. A voter this far behind needs less than an election timeout of
 * replication to be in step, so adding it does not stall commits for longer
 * than a leader change would (thesis §4.2.1 rounds, etcd's "learner is in
 * sync"). Returns null when caught up, else why not.
 */
export function notCaughtUp(id: NodeId, matchIndex: number | null, leaderLast: number, allowedLag: number, heardRecently: boolean): string | null {
  if (matchIndex === null) return `node ${id} is not replicated to by this leader`;
  if (!heardRecently) return `node ${id} has not answered the leader within the last election timeout`;
  const behind = leaderLast - matchIndex;
  if (behind > allowedLag) return `node ${id} is ${behind} entries behind the leader (match index ${matchIndex}, leader's last index ${leaderLast}); it can be promoted within ${allowedLag} entries`;
  return null;
}

/** Entries a learner may lag and still be caught up, whatever the write rate (heartbeats, a Config entry in flight). */
export const MIN_CATCH_UP_LAG = 16;

/**
 * Whether moving from `current` to the voters `next` keeps a quorum
 * reachable: the joint configuration needs a majority of the current voters
 * and of the next ones, counting only the reachable members (the leader
 * itself, and the peers it heard from recently). Null when it does, else
 * the reason, for the operator.
 */
export function quorumProblem(current: Configuration, next: readonly NodeId[], reachable: ReadonlySet<NodeId>): string | null {
  const sets: [string, readonly NodeId[]][] = [["the current voters", current.voters]];
  if (isJointConfiguration(current)) sets.push(["the outgoing voters", current.outgoing]);
  sets.push(["the new voters", next]);
  for (const [what, voters] of sets) {
    const up = voters.filter((id) => reachable.has(id));
    const need = Math.floor(voters.length / 2) + 1;
    if (up.length < need) {
      const down = voters.filter((id) => !reachable.has(id));
      return `the change needs a majority of ${what} {${voters.join(", ")}} (${need}) to commit, but only ${up.length} ${up.length === 1 ? "is" : "are"} reachable (${down.length === 1 ? "node" : "nodes"} ${down.join(", ")} ${down.length === 1 ? "is" : "are"} not): it would leave the cluster without a quorum`;
    }
  }
  return null;
}
