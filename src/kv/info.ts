// The INFO command's text, in Redis's layout ("# Section" headers,
// "field:value" lines, CRLF, a blank line between sections). redis_version
// says 7.0.0 because clients pick features by it and raftkv speaks the Redis
// 7 dialect of the commands it has. The Raftkv section carries this node's
// view of the cluster, which the server supplies.

import type { NodeId, Role } from "../core/types.js";
import type { KvStateMachine } from "./stateMachine.js";

/** This node's Raft state, as the server knows it when it runs INFO. */
export interface NodeStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  /** null when no leader is known. */
  readonly leaderId: NodeId | null;
  readonly commitIndex: number;
  readonly lastApplied: number;
}

const REDIS_VERSION = "7.0.0";

interface Section {
  readonly name: string;
  readonly title: string;
  readonly fields: (sm: KvStateMachine, node: NodeStatus) => [field: string, value: string | number][];
  readonly onlyOnLeader?: boolean;
}

const SECTIONS: readonly Section[] = [
  {
    name: "server",
    title: "Server",
    fields: () => [
      ["redis_version", REDIS_VERSION],
      ["redis_mode", "standalone"],
      ["arch_bits", 64],
    ],
  },
  {
    name: "persistence",
    title: "Persistence",
    fields: () => [
      ["loading", 0],
      ["async_loading", 0],
    ],
  },
  {
    name: "replication",
    title: "Replication",
    fields: (_sm, node) => [["role", node.role === "leader" ? "master" : "slave"]],
  },
  {
    name: "raftkv",
    title: "Raftkv",
    fields: (sm, node) => [
      ["raftkv_node_id", node.id],
      ["raftkv_role", node.role],
      ["raftkv_term", node.term],
      ["raftkv_leader_id", node.leaderId ?? "none"],
      ["raftkv_commit_index", node.commitIndex],
      ["raftkv_last_applied", node.lastApplied],
      ["raftkv_sessions", sm.sessionCount],
    ],
  },
  {
    name: "keyspace",
    title: "Keyspace",
    // Redis lists only non-empty databases. The key count is data: only a
    // leader that confirmed its leadership gives it (SPEC §4: a read is never
    // answered by a node that is not the leader), so a follower leaves the
    // whole section out rather than show a stale or empty count.
    fields: (sm) => {
      const { keys, expires } = sm.liveCounts();
      // avg_ttl is Redis's running estimate; raftkv does not keep one and says 0, as Redis does before its first estimate.
      return keys > 0 ? [["db0", `keys=${keys},expires=${expires},avg_ttl=0`]] : [];
    },
    onlyOnLeader: true,
  },
];

/** Section names as given to INFO (any case); none, "default", "all" or "everything" mean every section. Unknown names are skipped, as in Redis. */
export function renderInfo(requested: readonly string[], sm: KvStateMachine, node: NodeStatus): string {
  const wanted = requested.map((s) => s.toLowerCase());
  const everything = wanted.length === 0 || wanted.some((s) => s === "default" || s === "all" || s === "everything");
  const parts: string[] = [];
  for (const section of SECTIONS) {
    if (!everything && !wanted.includes(section.name)) continue;
    if (section.onlyOnLeader && node.role !== "leader") continue;
    let text = `# ${section.title}\r\n`;
    for (const [field, value] of section.fields(sm, node)) text += `${field}:${value}\r\n`;
    parts.push(text);
  }
  return parts.join("\r\n");
}
