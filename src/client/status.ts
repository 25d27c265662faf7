// Reads one node's GET /status from its admin port (SPEC §5).

import http from "node:http";
import type { StatusJson } from "../util/status-json.js";
import { type NodeAddress, formatHostPort } from "./address.js";

/** The fields of /status (StatusJson) that `raftkv status` shows and checks. */
export type NodeStatus = Pick<StatusJson, "id" | "role" | "term" | "leader" | "commitIndex" | "lastApplied"> & {
  /** Its place in the configuration (absent from nodes older than membership changes, read as voter). */
  readonly membership?: StatusJson["membership"]["state"];
};

/** The node's admin port did not give a usable answer; the message says why, in a few words. */
export class StatusUnavailableError extends Error {
  override readonly name = "StatusUnavailableError";
}

/** GETs http://ADMIN/status and checks its shape. */
export async function fetchStatus(admin: NodeAddress, timeoutMs: number): Promise<NodeStatus> {
  const { code, body } = await adminRequest(admin, "GET", "/status", timeoutMs);
  if (code !== 200) throw new StatusUnavailableError(`HTTP ${code} from ${formatHostPort(admin)}/status`);
  return parseStatus(body);
}

/**
 * One request to a node's admin port: its status code and body. A node that
 * cannot be reached, or does not answer within `timeoutMs`, is a
 * StatusUnavailableError saying why in a few words.
 */
export function adminRequest(
  admin: NodeAddress,
  method: "GET" | "POST" | "DELETE",
  path: string,
  timeoutMs: number,
  token: string | null = null,
  json: unknown = undefined,
): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = json === undefined ? null : Buffer.from(JSON.stringify(json), "utf8");
    const headers: Record<string, string> = {
      ...(token !== null && { authorization: `Bearer ${token}` }),
      ...(payload !== null && { "content-type": "application/json", "content-length": String(payload.length) }),
    };
    const request = http.request({ host: admin.host, port: admin.port, method, path, agent: false, timeout: timeoutMs, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", (err) => reject(new StatusUnavailableError(err.message)));
      response.on("end", () => resolve({ code: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    request.on("timeout", () => request.destroy(new StatusUnavailableError(`no answer within ${timeoutMs} ms`)));
    request.on("error", (err: NodeJS.ErrnoException) => {
      if (err instanceof StatusUnavailableError) reject(err);
      else reject(new StatusUnavailableError(err.code === "ECONNREFUSED" ? "connection refused" : (err.code ?? err.message)));
    });
    request.end(payload ?? undefined);
  });
}

/** Checks a /status body; throws StatusUnavailableError naming the first field that is wrong. */
export function parseStatus(body: string): NodeStatus {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    throw new StatusUnavailableError("/status did not answer JSON");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new StatusUnavailableError("/status did not answer a JSON object");
  const o = raw as Record<string, unknown>;
  if (typeof o.role !== "string") throw new StatusUnavailableError('/status: "role" is not a string');
  return {
    id: count(o, "id"),
    role: o.role,
    term: count(o, "term"),
    // A node that knows no leader may say null, 0 or nothing at all.
    leader: o.leader === null || o.leader === undefined || o.leader === 0 ? null : count(o, "leader"),
    commitIndex: count(o, "commitIndex"),
    lastApplied: count(o, "lastApplied"),
    ...membershipState(o.membership),
  };
}

const MEMBERSHIP_STATES: readonly string[] = ["voter", "learner", "joining", "leaving", "removed"];

function membershipState(m: unknown): { membership?: NodeStatus["membership"] } {
  const state = typeof m === "object" && m !== null ? (m as { state?: unknown }).state : undefined;
  return typeof state === "string" && MEMBERSHIP_STATES.includes(state) ? { membership: state as NodeStatus["membership"] } : {};
}

function count(o: Record<string, unknown>, field: string): number {
  const v = o[field];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new StatusUnavailableError(`/status: "${field}" is not a non-negative integer`);
  return v;
}
