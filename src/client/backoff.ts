// How long to wait before retry number `retry` (0 = the first): exponential,
// capped, and jittered over the upper half of each step, so that clients
// that failed together (say, when a leader died) do not come back together.

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

/**
 * Sized for Raft elections (election timeouts of 150-300 ms by default):
 * the first retries come quickly enough to catch a new leader soon after it
 * wins, and the cap keeps a long outage from being polled hard.
 */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 25, maxMs: 1000 };

export function backoffDelay(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** retry);
  return ceiling / 2 + (random() * ceiling) / 2;
}
