// The live membership as the admin ports serve it (SPEC §10, GET /members),
// and the membership changes (POST /members, POST /members/ID/promote,
// DELETE /members/ID) sent to the leader: what `raftkv member` and the
// client commands use to find a cluster whose membership has changed since
// its cluster file was written.

import { setTimeout as sleep } from "node:timers/promises";
import { performance } from "node:perf_hooks";
import { type NodeAddress, formatHostPort, parseHostPort } from "./address.js";
import { adminRequest, StatusUnavailableError } from "./status.js";
import type { MemberJson, MembersJson, MemberState, PendingChangeJson } from "../util/members-json.js";

export type MemberRole = MemberJson["role"];
export type { MemberState } from "../util/members-json.js";

/** A member as the client takes it: checked, with every address known. */
export interface MemberInfo extends MemberJson {
  readonly peer: string;
  readonly client: string;
  readonly admin: string;
}

export type PendingChange = PendingChangeJson;

/** One node's answer to GET /members, checked. */
export interface MembersAnswer extends Omit<MembersJson, "members"> {
  readonly members: readonly MemberInfo[];
}

/** GET http://ADMIN/members, checked. */
export async function fetchMembers(admin: NodeAddress, timeoutMs: number): Promise<MembersAnswer> {
  const { code, body } = await adminRequest(admin, "GET", "/members", timeoutMs);
  if (code === 404) throw new StatusUnavailableError(`${formatHostPort(admin)} has no /members (a raftkv older than membership changes?)`);
  if (code !== 200) throw new StatusUnavailableError(`HTTP ${code} from ${formatHostPort(admin)}/members`);
  return parseMembers(body);
}

/** Checks a GET /members body; throws StatusUnavailableError naming the first field that is wrong. */
export function parseMembers(body: string): MembersAnswer {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new StatusUnavailableError("/members did not answer JSON");
  }
  const o = object(raw, "/members");
  if (!Array.isArray(o.members)) throw new StatusUnavailableError('/members: "members" is not a list');
  const members = o.members.map((m: unknown, i: number): MemberInfo => {
    const r = object(m, `/members: members[${i}]`);
    const where = `/members: members[${i}]`;
    for (const k of ["peer", "client", "admin"] as const) if (typeof r[k] !== "string" || parseHostPort(r[k]) === null) throw new StatusUnavailableError(`${where}.${k} is not host:port`);
    if (r.role !== "voter" && r.role !== "learner") throw new StatusUnavailableError(`${where}.role is not voter or learner`);
    const state = typeof r.state === "string" && ["voter", "learner", "joining", "leaving"].includes(r.state) ? (r.state as MemberState) : r.role;
    return {
      id: count(r, "id", where),
      peer: r.peer as string,
      client: r.client as string,
      admin: r.admin as string,
      role: r.role,
      state,
      reachable: typeof r.reachable === "boolean" ? r.reachable : null,
      matchIndex: r.matchIndex === null || r.matchIndex === undefined ? null : count(r, "matchIndex", where),
      waiting: typeof r.waiting === "string" ? r.waiting : null,
    };
  });
  let pending: PendingChange | null = null;
  if (o.pending !== null && o.pending !== undefined) {
    const p = object(o.pending, "/members: pending");
    pending = { index: count(p, "index", "/members: pending"), voters: ids(p.voters), outgoing: ids(p.outgoing), learners: ids(p.learners) };
  }
  return {
    leader: o.leader === null || o.leader === undefined || o.leader === 0 ? null : count(o, "leader", "/members"),
    configIndex: o.configIndex === undefined ? 0 : count(o, "configIndex", "/members"),
    committed: o.committed !== false,
    joint: o.joint === true,
    members,
    pending,
  };
}

export interface Survey {
  /** The nodes that answered, the one that knows the latest configuration (then: the leader) first. */
  readonly answers: readonly { readonly from: NodeAddress; readonly members: MembersAnswer }[];
  /** Why each other node asked did not answer. */
  readonly failures: readonly { readonly from: NodeAddress; readonly reason: string }[];
}

/**
 * Asks every admin address at once for GET /members; then, once, the admin
 * addresses those answers name that were not asked yet (members added since
 * the cluster file was written). Any one live member is enough to find the rest.
 */
export async function surveyMembers(admins: readonly NodeAddress[], timeoutMs: number): Promise<Survey> {
  const asked = new Set<string>();
  const answers: { from: NodeAddress; members: MembersAnswer }[] = [];
  const failures: { from: NodeAddress; reason: string }[] = [];
  const ask = async (list: readonly NodeAddress[]) => {
    const fresh = list.filter((a) => {
      const key = formatHostPort(a);
      if (asked.has(key)) return false;
      asked.add(key);
      return true;
    });
    await Promise.all(
      fresh.map((from) =>
        fetchMembers(from, timeoutMs).then(
          (members) => void answers.push({ from, members }),
          (err: Error) => void failures.push({ from, reason: err.message }),
        ),
      ),
    );
  };
  await ask(admins);
  await ask(answers.flatMap((a) => a.members.members.map((m) => parseHostPort(m.admin)!)));
  answers.sort((a, b) => b.members.configIndex - a.members.configIndex || Number(isLeaderAnswer(b)) - Number(isLeaderAnswer(a)));
  return { answers, failures };
}

/** Whether the node that gave this answer is the leader it names (its answer then has reachable/matchIndex). */
function isLeaderAnswer(a: { members: MembersAnswer }): boolean {
  return a.members.members.some((m) => m.reachable !== null);
}

/** The admin address of the leader an answer names, if it names one among its members. */
export function leaderAdmin(answer: MembersAnswer): NodeAddress | null {
  const m = answer.members.find((x) => x.id === answer.leader);
  return m === undefined ? null : parseHostPort(m.admin);
}

/**
 * A discovery function for RaftKvClient's `discover` option: the client
 * addresses of the live configuration, asked of these admin ports and of
 * every admin port a later answer named (so it keeps up as members come and go).
 */
export function membersDiscovery(admins: readonly NodeAddress[], timeoutMs = 1_000): () => Promise<NodeAddress[]> {
  let known = [...admins];
  return async () => {
    const { answers } = await surveyMembers(known, timeoutMs);
    const best = answers[0];
    if (best === undefined) return [];
    const learned = best.members.members.map((m) => parseHostPort(m.admin)!);
    known = dedupe([...learned, ...known]);
    return best.members.members.map((m) => parseHostPort(m.client)!);
  };
}

export type MemberChange =
  | { readonly kind: "add"; readonly id: number; readonly peer: string; readonly client: string; readonly admin: string; readonly learner: boolean }
  | { readonly kind: "promote"; readonly id: number; readonly force: boolean }
  | { readonly kind: "remove"; readonly id: number; readonly force: boolean };

export type ChangeOutcome =
  /** The leader took the change; `body` is its answer ({"ok":true,"index":N}). */
  | { readonly kind: "done"; readonly body: Record<string, unknown>; readonly leader: NodeAddress }
  /** The leader refused it (HTTP 4xx): `message` is its reason, `code` its status. */
  | { readonly kind: "refused"; readonly code: number; readonly message: string }
  /** No node answered, or none led in time, or the answer was lost (`unknown`: the change may have been made). */
  | { readonly kind: "unavailable"; readonly message: string; readonly unknown: boolean };

/**
 * Sends a membership change to the leader: finds it through any admin port
 * that answers, follows 421 answers to the leader they name, and waits out
 * an election until `timeoutMs` has passed. A request whose answer is lost
 * is not sent again (it may have been made): the outcome says so.
 */
export async function changeMembers(admins: readonly NodeAddress[], change: MemberChange, options: { timeoutMs: number; token: string | null }): Promise<ChangeOutcome> {
  const deadline = performance.now() + options.timeoutMs;
  const perRequestMs = Math.max(500, Math.min(options.timeoutMs, 5_000));
  const { method, path, body } = request(change);
  let survey = await surveyMembers(admins, Math.min(perRequestMs, 2_000));
  let lastReason = "";
  let redirected: NodeAddress | null = null;
  for (let round = 0; ; round++) {
    if (survey.answers.length === 0 && redirected === null) {
      if (performance.now() >= deadline || round > 0) {
        const why = survey.failures.map((f) => `${formatHostPort(f.from)}: ${f.reason}`).join(", ");
        return { kind: "unavailable", unknown: false, message: `no node answered (${why || "no admin address to ask"})` };
      }
    }
    const targets = dedupe([
      ...(redirected === null ? [] : [redirected]),
      ...survey.answers.map((a) => leaderAdmin(a.members)).filter((a): a is NodeAddress => a !== null),
      ...survey.answers.map((a) => a.from),
    ]);
    redirected = null;
    for (const target of targets) {
      let answer: { code: number; body: string };
      try {
        answer = await adminRequest(target, method, path, Math.max(1, Math.min(perRequestMs, deadline - performance.now())), options.token, body);
      } catch (err) {
        const reason = (err as Error).message;
        if (reason !== "connection refused") {
          // The request may have reached the leader: do not make the change twice.
          return { kind: "unavailable", unknown: true, message: `${formatHostPort(target)} did not answer (${reason}); the change may or may not have been made: see \`raftkv member list\`` };
        }
        lastReason = `${formatHostPort(target)}: ${reason}`;
        continue;
      }
      const parsed = jsonObject(answer.body);
      if (answer.code >= 200 && answer.code < 300) return { kind: "done", body: parsed, leader: target };
      if (answer.code === 421) {
        const admin = typeof parsed.admin === "string" ? parseHostPort(parsed.admin) : null;
        lastReason = `${formatHostPort(target)} does not lead${parsed.leader === null || parsed.leader === undefined ? " and knows no leader" : ` (node ${String(parsed.leader)} does)`}`;
        if (admin !== null && formatHostPort(admin) !== formatHostPort(target)) {
          redirected = admin;
          break;
        }
        continue;
      }
      if (answer.code >= 500) {
        lastReason = `${formatHostPort(target)}: HTTP ${answer.code}${typeof parsed.error === "string" ? ` (${parsed.error})` : ""}`;
        if (answer.code === 503) continue;
        return { kind: "unavailable", unknown: true, message: `${lastReason}; the change may or may not have been made: see \`raftkv member list\`` };
      }
      if (parsed.retry === true) {
        // A leader just elected, before its first entry commits: worth asking again shortly.
        lastReason = `${formatHostPort(target)}: ${typeof parsed.error === "string" ? parsed.error : `HTTP ${answer.code}`}`;
        continue;
      }
      return { kind: "refused", code: answer.code, message: typeof parsed.error === "string" ? parsed.error : `HTTP ${answer.code}` };
    }
    if (redirected !== null && round < 8) continue;
    if (performance.now() >= deadline) return { kind: "unavailable", unknown: false, message: `no leader took the change within ${options.timeoutMs} ms (last: ${lastReason || "no answer"})` };
    await sleep(Math.min(200, Math.max(0, deadline - performance.now())));
    survey = await surveyMembers(dedupe([...admins, ...survey.answers.flatMap((a) => a.members.members.map((m) => parseHostPort(m.admin)!))]), Math.min(perRequestMs, 2_000));
  }
}

function request(change: MemberChange): { method: "POST" | "DELETE"; path: string; body: unknown } {
  switch (change.kind) {
    case "add":
      return { method: "POST", path: "/members", body: { id: change.id, peer: change.peer, client: change.client, admin: change.admin, learner: change.learner } };
    case "promote":
      return { method: "POST", path: `/members/${change.id}/promote${change.force ? "?force=1" : ""}`, body: undefined };
    case "remove":
      return { method: "DELETE", path: `/members/${change.id}${change.force ? "?force=1" : ""}`, body: undefined };
  }
}

function dedupe(list: readonly NodeAddress[]): NodeAddress[] {
  const seen = new Set<string>();
  return list.filter((a) => {
    const key = formatHostPort(a);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function jsonObject(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new StatusUnavailableError(`${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

function count(o: Record<string, unknown>, field: string, where: string): number {
  const v = o[field];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new StatusUnavailableError(`${where}: "${field}" is not a non-negative integer`);
  return v;
}

function ids(v: unknown): number[] {
  return Array.isArray(v) ? v.filter((x): x is number => Number.isSafeInteger(x)) : [];
}
