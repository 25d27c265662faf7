// Tools for the membership tests on real processes (SPEC §10): the admin
// port's /members requests, joining a spare node, and a background writer.

import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { sleep, type TestCluster } from "../helpers/cluster.js";
import type { MembersJson } from "../../src/server/membership.js";
import { readLog, show, waitUntil } from "./support.js";

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** One admin request to node `id`; null if it does not answer. */
export async function adminRequest(c: TestCluster, id: number, method: string, path: string, body?: unknown): Promise<Answer | null> {
  const n = c.node(id);
  try {
    const res = await fetch(`http://${n.host}:${n.adminPort}${path}`, {
      method,
      signal: AbortSignal.timeout(5000),
      ...(body !== undefined && { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  } catch {
    return null;
  }
}

/** GET /members of node `id` (null if it does not answer). */
export async function members(c: TestCluster, id: number): Promise<MembersJson | null> {
  const a = await adminRequest(c, id, "GET", "/members");
  return a === null ? null : (a.body as unknown as MembersJson);
}

/**
 * A change sent the way the CLI sends it: to any live node among `via`,
 * following 421 to the leader's admin address, retrying while no leader is
 * known. Resolves with the leader's answer (whatever its status).
 */
export async function change(c: TestCluster, method: string, path: string, body?: unknown, via: number[] = c.nodes.filter((n) => n.process).map((n) => n.id), timeoutMs = 20_000): Promise<Answer> {
  const until = Date.now() + timeoutMs;
  let i = 0;
  let target: number = via[0]!;
  let last = "";
  while (Date.now() < until) {
    const a = await adminRequest(c, target, method, path, body);
    if (a !== null && a.status !== 421) return a;
    last = a === null ? `node ${target} did not answer` : JSON.stringify(a.body);
    const admin = a?.body.admin;
    const next = typeof admin === "string" ? c.nodes.find((n) => `${n.host}:${n.adminPort}` === admin) : undefined;
    target = next !== undefined && next.id !== target ? next.id : via[++i % via.length]!;
    await sleep(50);
  }
  throw new Error(`${method} ${path} found no leader within ${timeoutMs} ms (last: ${last})`);
}

/** POST /members for spare node `id` with its addresses. */
export function addMember(c: TestCluster, id: number, learner = false, via?: number[]): Promise<Answer> {
  const n = c.node(id);
  return change(c, "POST", "/members", { id, peer: `${n.host}:${n.peerPort}`, client: `${n.host}:${n.clientPort}`, admin: `${n.host}:${n.adminPort}`, learner }, via);
}

/** Starts spare node `id` with --join (cluster-all.json) and waits for its admin port. */
export async function join(c: TestCluster, id: number): Promise<ChildProcess> {
  const p = c.startNode(id, ["--join"], c.allConfigPath);
  await c.waitForPort(id);
  return p;
}

/** Waits until node `id`'s /members satisfies `ok`; returns it. */
export function waitForMembers(c: TestCluster, id: number, what: string, ok: (m: MembersJson) => boolean, timeoutMs = 30_000): Promise<MembersJson> {
  return waitUntil(what, async () => {
    const m = await members(c, id);
    return m !== null && ok(m) ? m : null;
  }, timeoutMs);
}

/** The voters and learners of a /members answer, as text: "voters 1,2,3 learners 4". */
export function shape(m: MembersJson): string {
  const ids = (role: string) => m.members.filter((x) => x.role === role).map((x) => x.id).join(",");
  return `voters ${ids("voter")} learners ${ids("learner")}${m.joint ? " (joint)" : ""}`;
}

/** A settled configuration (committed, not joint) with exactly these voters and learners. */
export function settled(voters: number[], learners: number[] = []): (m: MembersJson) => boolean {
  return (m) => m.committed && !m.joint && shape(m) === `voters ${voters.join(",")} learners ${learners.join(",")}`;
}

/**
 * Writes keys one after another through whichever node leads until stopped;
 * every acknowledged write is recorded. It asks the nodes in `among` (the
 * live members; a removed node answers CLUSTERDOWN for good), follows MOVED,
 * and moves to the next node on CLUSTERDOWN, TIMEOUT or a dead connection,
 * each time with a new key.
 */
export class Writer {
  readonly acked = new Map<string, string>();
  /** The nodes to ask; default every running node. */
  among: () => number[];
  private stopped = false;
  private readonly done: Promise<void>;
  errors = 0;

  constructor(
    private readonly c: TestCluster,
    private readonly prefix: string,
  ) {
    this.among = () => c.nodes.filter((n) => n.process).map((n) => n.id);
    this.done = this.run();
  }

  private async run(): Promise<void> {
    let target = this.among()[0]!;
    let hops = 0;
    for (let i = 0; !this.stopped; i++) {
      const key = `${this.prefix}-${i}`;
      const value = `v${i}`;
      let reply: string;
      try {
        reply = show(await this.c.command(target, "SET", key, value));
      } catch {
        reply = "-connection failed";
      }
      if (reply === "+OK") {
        this.acked.set(key, value);
        hops = 0;
        continue;
      }
      this.errors++;
      const moved = /^-MOVED 0 (.*)$/.exec(reply);
      const to = moved === null ? undefined : this.c.nodes.find((n) => `${n.host}:${n.clientPort}` === moved[1]);
      const among = this.among();
      target = to !== undefined && hops < among.length ? to.id : among[(among.indexOf(target) + 1) % among.length] ?? among[0]!;
      hops = moved === null ? 0 : hops + 1;
      if (moved === null) await sleep(50);
    }
  }

  /** Waits until `n` more writes were acknowledged. */
  async progress(n: number, timeoutMs = 30_000): Promise<void> {
    const target = this.acked.size + n;
    await waitUntil(`${n} more acknowledged writes`, () => this.acked.size >= target, timeoutMs);
  }

  async stop(): Promise<Map<string, string>> {
    this.stopped = true;
    await this.done;
    return this.acked;
  }
}

/**
 * The terms above `since`, up to `upTo`, that none of `members` campaigned
 * for (no member's log shows it turned candidate in that term). On a busy
 * machine a member may miss heartbeats and hold a legitimate election; a
 * term that no member campaigned for came from outside the members (a
 * removed node disturbing the cluster).
 */
export function termsNoMemberCampaignedFor(c: TestCluster, members: readonly number[], since: number, upTo: number): number[] {
  const campaigned = new Set<number>();
  for (const id of members) {
    for (const line of readLog(c.logPath(id)).split("\n")) {
      if (!line.includes('"event":"role_changed"')) continue;
      const rec = JSON.parse(line) as { term?: number; to?: string };
      if (rec.to === "candidate" && typeof rec.term === "number") campaigned.add(rec.term);
    }
  }
  const strays: number[] = [];
  for (let t = since + 1; t <= upTo; t++) if (!campaigned.has(t)) strays.push(t);
  return strays;
}

/**
 * While a removed node runs, the members' term and leader: they stay as
 * they were, or, if the term moved (a member missed heartbeats on a busy
 * machine), it moved only through the members' own elections and they
 * follow one of themselves.
 */
export async function assertUndisturbed(c: TestCluster, members: readonly number[], term: number, leader: number): Promise<void> {
  let states = await Promise.all(members.map(async (id) => ({ id, s: (await c.status(id))! })));
  const top = Math.max(...states.map(({ s }) => s.term));
  if (top !== term) {
    console.error(`the members' term moved from ${term} to ${top}: checking that members campaigned for each new term`);
    assert.deepEqual(termsNoMemberCampaignedFor(c, members, term, top), [], `terms above ${term} that no member campaigned for: a removed node disturbed the cluster`);
    leader = await c.waitForLeader(20_000, [...members]);
    states = await Promise.all(members.map(async (id) => ({ id, s: (await c.status(id))! })));
  }
  for (const { id, s } of states) assert.equal(s.leader, leader, `node ${id}'s leader (term ${s.term})`);
}
