/**
 * A fixed-window counter per key, for join attempts and similar (spec: "Limits"). The map
 * is bounded: past maxKeys the oldest windows are forgotten, so a flood of new peers cannot
 * grow memory without bound.
 */
export class RateLimiter {
  private readonly limit: number
  private readonly windowMs: number
  private readonly maxKeys: number
  private readonly windows = new Map<string, { start: number, count: number }>()

  constructor (limit: number, windowMs: number, maxKeys = 10_000) {
    this.limit = limit
    this.windowMs = windowMs
    this.maxKeys = maxKeys
  }

  /** Counts one attempt; false when the key is over its limit in the current window. */
  allow (key: string, now = Date.now()): boolean {
    const w = this.window(key, now)
    w.count++
    return w.count <= this.limit
  }

  /** How many of `n` more the key may have in the current window; counts only those. */
  take (key: string, n: number, now = Date.now()): number {
    const w = this.window(key, now)
    const granted = Math.max(0, Math.min(n, this.limit - w.count))
    w.count += granted
    return granted
  }

  /** Gives back what `take` granted but was not used. */
  giveBack (key: string, n: number): void {
    const w = this.windows.get(key)
    if (w !== undefined) w.count = Math.max(0, w.count - n)
  }

  private window (key: string, now: number): { start: number, count: number } {
    let w = this.windows.get(key)
    if (w === undefined || now - w.start >= this.windowMs) {
      this.windows.delete(key)
      w = { start: now, count: 0 }
      this.windows.set(key, w)
      if (this.windows.size > this.maxKeys) this.windows.delete(this.windows.keys().next().value as string)
    }
    return w
  }

  /** Forgets a key's window: its next attempt starts a new one. */
  reset (key: string): void {
    this.windows.delete(key)
  }
}
