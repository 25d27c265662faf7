// Cluster configurations (thesis ch. 4): who votes, who only listens, and
// the joint configuration used while changing from one set of voters to
// another (§6 of the paper, thesis §4.3). Pure values and their encoding as
// the data of a Config entry; the rules that use them are in quorum.ts
// (counting) and membership.ts (changing).

import type { Configuration, NodeId } from "./types.js";

/** The configuration a cluster starts with: every listed server votes. */
export function bootstrapConfiguration(voters: readonly NodeId[], context = ""): Configuration {
  return { voters: sorted(voters), outgoing: [], learners: [], context };
}

/** Changing: decisions need a majority of the old voters as well as of the new. */
export function isJoint(cfg: Configuration): boolean {
  return cfg.outgoing.length > 0;
}

/** A server whose vote counts in some decision of this configuration. */
export function isVoter(cfg: Configuration, id: NodeId): boolean {
  return cfg.voters.includes(id) || cfg.outgoing.includes(id);
}

/** Everybody the leader replicates to, itself included: voters (both sets) and learners. Sorted. */
export function allMembers(cfg: Configuration): NodeId[] {
  return sorted([...new Set([...cfg.voters, ...cfg.outgoing, ...cfg.learners])]);
}

export function sameConfiguration(a: Configuration, b: Configuration): boolean {
  return sameIds(a.voters, b.voters) && sameIds(a.outgoing, b.outgoing) && sameIds(a.learners, b.learners) && a.context === b.context;
}

export function sameIds(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/** Short text for traces, fingerprints and errors: "1,2,3" or "1,2,3>1,2,4" (joint: old>new), learners after "+". */
export function describeConfiguration(cfg: Configuration): string {
  const voters = isJoint(cfg) ? `${cfg.outgoing.join(",")}>${cfg.voters.join(",")}` : cfg.voters.join(",");
  return cfg.learners.length > 0 ? `${voters}+${cfg.learners.join(",")}` : voters;
}

export function sorted(ids: readonly NodeId[]): NodeId[] {
  return [...ids].sort((a, b) => a - b);
}

// ---------------------------------------------------------------------
// The data of a Config entry: JSON text, so that logs stay readable.
// ---------------------------------------------------------------------

export function encodeConfiguration(cfg: Configuration): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ voters: cfg.voters, outgoing: cfg.outgoing, learners: cfg.learners, context: cfg.context }));
}

/** Throws on bytes that are not a configuration: a Config entry is written only by encodeConfiguration. */
export function decodeConfiguration(data: Uint8Array): Configuration {
  const v = JSON.parse(new TextDecoder().decode(data)) as Partial<Record<keyof Configuration, unknown>>;
  const ids = (x: unknown, what: string): NodeId[] => {
    if (!Array.isArray(x) || !x.every((id) => Number.isSafeInteger(id) && (id as number) > 0)) throw new Error(`configuration: bad ${what}`);
    return sorted(x as NodeId[]);
  };
  if (typeof v.context !== "string") throw new Error("configuration: bad context");
  return { voters: ids(v.voters, "voters"), outgoing: ids(v.outgoing, "outgoing"), learners: ids(v.learners, "learners"), context: v.context };
}
