export interface BackoffOptions {
  /** First retry delay. */
  baseMs: number
  /** Largest retry delay. */
  capMs: number
}

/**
 * Exponential backoff with full jitter: a uniform delay in [0, min(cap, base * 2^attempt)],
 * so that many senders retrying one peer do not retry in step.
 */
export function backoffDelay (attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(attempt, 30))
  return Math.floor(random() * ceiling)
}
