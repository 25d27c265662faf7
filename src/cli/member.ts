// `raftkv member list | add | promote | remove` (SPEC §10): the cluster's
// membership, through the admin ports (GET /members, POST /members, POST
// /members/ID/promote, DELETE /members/ID). The cluster file only has to
// name one live member: the rest are learned from its answer.

import { existsSync } from "node:fs";
import type { NodeAddress } from "../client/address.js";
import { formatHostPort, parseHostPort } from "../client/address.js";
import { changeMembers, type MemberChange, type MemberInfo, type MembersAnswer, surveyMembers } from "../client/members.js";
import { ConfigError, type ClusterConfig, loadClusterFile, readSecretFile } from "../server/config.js";
import { intFlag, parseArgs, stringFlag, UsageError } from "./args.js";

const DEFAULT_CONFIG = "./data/cluster.json";
const DEFAULT_TIMEOUT_MS = 10_000;

/** SPEC §10: 0 done, 2 refused (or a usage error), 1 no node answered. */
export const MEMBER_EXIT = { ok: 0, unavailable: 1, refused: 2 } as const;

const HELP = `usage: raftkv member list                [--config FILE] [--json]
       raftkv member add ID --peer H:P --client H:P --admin H:P [--learner]
       raftkv member promote ID [--force]
       raftkv member remove ID [--force]
       (each also takes --config FILE and --timeout MS)

The cluster's membership (step by step: docs/MEMBERSHIP.md; the rules:
docs/REFERENCE.md, Membership). The cluster file is only where
to start: any member it names that still answers is enough, and the command
finds the leader itself (following 421 answers).

  list      one line per member: id, peer, client and admin addresses, role
            (voter or learner), state (voter, learner, joining, leaving),
            whether the leader reaches it and its match index (the leader's
            view; "-" when no leader answered), then the leader and any
            change under way. --json prints GET /members as it came.
  add       adds node ID (started with \`raftkv server --join\`) as a learner:
            it receives the log but does not vote. Without --learner the
            leader promotes it by itself once it has caught up.
  promote   makes learner ID a voter; refused while it is behind (more than
            an election timeout's worth of entries, or not heard from).
  remove    takes node ID out of the configuration (the leader too: it
            commits the change, then steps down). A removal that would leave
            no quorum reachable is refused unless --force is given (also
            for promote: a new voter the leader cannot reach).

One change at a time: a change while another is pending is refused.
Changes need the admin token when the cluster has one: RAFTKV_ADMIN_TOKEN,
or the cluster file's adminTokenFile.

options:
  --config FILE   the cluster file (default ${DEFAULT_CONFIG}, which \`npm start\` writes)
  --timeout MS    give up after MS milliseconds (default ${DEFAULT_TIMEOUT_MS})
  --help          this help

exit codes: 0 done, 1 no node answered (or no leader in time), 2 usage error,
or the cluster refused the change (the reason is printed: a pending change,
a learner still behind, a quorum that would be lost, ...)`;

const FLAGS = {
  config: {},
  timeout: {},
  help: { boolean: true },
  json: { boolean: true },
  peer: {},
  client: {},
  admin: {},
  learner: { boolean: true },
  force: { boolean: true },
} as const;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs(argv, FLAGS);
  if (p.flags.has("help") || p.positional[0] === "help") {
    process.stdout.write(HELP + "\n");
    return MEMBER_EXIT.ok;
  }
  const [sub, ...rest] = p.positional;
  if (sub === undefined) throw new UsageError("expects list, add, promote or remove");
  if (!["list", "add", "promote", "remove"].includes(sub)) throw new UsageError(`expects list, add, promote or remove, got '${sub}'`);
  const allowed: Record<string, readonly string[]> = {
    list: ["config", "timeout", "json"],
    add: ["config", "timeout", "peer", "client", "admin", "learner"],
    promote: ["config", "timeout", "force"],
    remove: ["config", "timeout", "force"],
  };
  for (const name of p.flags.keys()) if (!allowed[sub]!.includes(name)) throw new UsageError(`member ${sub} takes no --${name}`);
  const timeoutMs = intFlag(p, "timeout", DEFAULT_TIMEOUT_MS, 1);
  if (sub === "list") {
    if (rest.length > 0) throw new UsageError(`member list takes no arguments, got '${rest[0]}'`);
  } else if (rest.length !== 1) {
    throw new UsageError(`member ${sub} expects one node ID, got ${rest.length === 0 ? "none" : rest.length}`);
  }
  const id = sub === "list" ? 0 : nodeId(rest[0]!);
  let change: MemberChange | null = null;
  if (sub === "add") {
    const addresses = Object.fromEntries(
      (["peer", "client", "admin"] as const).map((k) => {
        const v = stringFlag(p, k);
        if (v === undefined) throw new UsageError(`member add needs --${k} HOST:PORT (the new node's ${k} address, as in its cluster file entry)`);
        const a = parseHostPort(v);
        if (a === null) throw new UsageError(`--${k} must be HOST:PORT, got '${v}'`);
        return [k, formatHostPort(a)];
      }),
    ) as { peer: string; client: string; admin: string };
    change = { kind: "add", id, ...addresses, learner: p.flags.has("learner") };
  } else if (sub === "promote") {
    change = { kind: "promote", id, force: p.flags.has("force") };
  } else if (sub === "remove") {
    change = { kind: "remove", id, force: p.flags.has("force") };
  }

  const config = readConfig(stringFlag(p, "config") ?? DEFAULT_CONFIG);
  if (config === null) return MEMBER_EXIT.refused;
  const admins = config.nodes.map((n) => n.admin);
  if (change === null) return list(admins, timeoutMs, p.flags.has("json"));

  let token: string | null;
  try {
    token = process.env.RAFTKV_ADMIN_TOKEN ?? (config.adminTokenFile === undefined ? null : readSecretFile(config.adminTokenFile, "admin token").toString("utf8"));
  } catch (err) {
    process.stderr.write(`raftkv member: ${(err as Error).message}\n`);
    return MEMBER_EXIT.refused;
  }
  const outcome = await changeMembers(admins, change, { timeoutMs, token });
  switch (outcome.kind) {
    case "done":
      process.stdout.write(doneMessage(change, outcome.body) + "\n");
      return MEMBER_EXIT.ok;
    case "refused":
      process.stderr.write(`raftkv member ${sub}: refused: ${outcome.message.replace("add ?force=1", "give --force")}${outcome.code === 401 || outcome.code === 403 ? " (set RAFTKV_ADMIN_TOKEN, or adminTokenFile in the cluster file)" : ""}\n`);
      return MEMBER_EXIT.refused;
    case "unavailable":
      process.stderr.write(`raftkv member ${sub}: ${outcome.message}${outcome.unknown ? "" : "; is the cluster running?"}\n`);
      return MEMBER_EXIT.unavailable;
  }
}

function doneMessage(change: MemberChange, body: Record<string, unknown>): string {
  const at = typeof body.index === "number" ? ` (configuration entry at index ${body.index})` : "";
  switch (change.kind) {
    case "add":
      return change.learner
        ? `node ${change.id} added as a learner${at}; promote it with \`raftkv member promote ${change.id}\` once \`raftkv member list\` shows it caught up`
        : `node ${change.id} added as a learner${at}; the leader promotes it to voter once it has caught up`;
    case "promote":
      return `node ${change.id} promoted to voter${at}`;
    case "remove":
      return `node ${change.id} removed${at}`;
  }
}

async function list(admins: readonly NodeAddress[], timeoutMs: number, json: boolean): Promise<number> {
  const survey = await surveyMembers(admins, Math.min(timeoutMs, 2_000));
  const best = survey.answers[0];
  if (best === undefined) {
    const why = survey.failures.map((f) => `${formatHostPort(f.from)}: ${f.reason}`).join(", ");
    process.stderr.write(`raftkv member list: no node answered (${why}); is the cluster running?\n`);
    return MEMBER_EXIT.unavailable;
  }
  // The leader's answer knows who it reaches and how far each member is.
  const fromLeader = survey.answers.find((a) => a.members.configIndex === best.members.configIndex && a.members.members.some((m) => m.reachable !== null));
  const answer = (fromLeader ?? best).members;
  if (json) {
    process.stdout.write(JSON.stringify(answer) + "\n");
    return MEMBER_EXIT.ok;
  }
  process.stdout.write(formatMembers(answer, fromLeader !== undefined));
  return MEMBER_EXIT.ok;
}

const HEADER = ["ID", "PEER", "CLIENT", "ADMIN", "ROLE", "STATE", "REACHABLE", "MATCH"] as const;

/** The table `raftkv member list` prints: a header, one line per member, then the leader and any pending change. */
export function formatMembers(answer: MembersAnswer, leaderView: boolean): string {
  const row = (m: MemberInfo): string[] => [
    String(m.id) + (m.id === answer.leader ? "*" : ""),
    m.peer,
    m.client,
    m.admin,
    m.role,
    m.state,
    m.reachable === null ? "-" : m.reachable ? "yes" : "no",
    m.matchIndex === null ? "-" : String(m.matchIndex),
  ];
  const cells = [[...HEADER], ...answer.members.map(row)];
  const widths = HEADER.map((_, c) => Math.max(...cells.map((line) => line[c]!.length)));
  const lines = cells.map((line) => line.map((cell, c) => (c === line.length - 1 ? cell : cell.padEnd(widths[c]!))).join("  ").trimEnd());
  const config = `configuration at index ${answer.configIndex}${answer.configIndex === 0 ? " (the cluster file's)" : ""}, ${answer.committed ? "committed" : "not committed yet"}${answer.joint ? ", joint" : ""}`;
  lines.push(
    answer.leader === null
      ? `leader: none known (${config}); reachability and match indexes come from the leader`
      : `leader: node ${answer.leader} (marked *); ${config}${leaderView ? "" : "; the leader did not answer, so reachability and match indexes are unknown"}`,
  );
  for (const m of answer.members) {
    if (m.waiting !== null) lines.push(`node ${m.id} is joining: the leader promotes it once it can; not yet: ${m.waiting}`);
  }
  if (answer.pending !== null) {
    const p = answer.pending;
    lines.push(
      `pending change at index ${p.index}: voters ${list_(p.voters)}${p.outgoing.length > 0 ? ` (joint with old voters ${list_(p.outgoing)})` : ""}, learners ${list_(p.learners)}`,
    );
  }
  return lines.join("\n") + "\n";
}

function list_(ids: readonly number[]): string {
  return ids.length === 0 ? "none" : ids.join(",");
}

function nodeId(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 0xffffffff) throw new UsageError(`ID must be a node id (a positive integer), got '${text}'`);
  return Number(text);
}

function readConfig(path: string): ClusterConfig | null {
  if (!existsSync(path)) {
    process.stderr.write(`raftkv member: cluster file ${path} does not exist; give the cluster's file with --config FILE (\`npm start\` writes ${DEFAULT_CONFIG})\n`);
    return null;
  }
  try {
    return loadClusterFile(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`raftkv member: ${err.message}\n`);
    return null;
  }
}
