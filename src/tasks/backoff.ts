// Exponential backoff with jitter between attempts of a failed task.

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * The wait after `attemptsMade` failed attempts: base × 2^(attempts−1), capped, then "equal jitter"
 * (half fixed, half random) so that tasks that failed together do not all come back together.
 */
export function backoffDelayMs(policy: BackoffPolicy, attemptsMade: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}
