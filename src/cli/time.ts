import { setTimeout as delay } from 'node:timers/promises'

/**
 * Waiting and pacing for the demo, and for the tests and scripts that drive nodes from
 * outside. A plain sleep is `setTimeout` from node:timers/promises.
 */

/** What waitFor and withTimeout throw when time runs out. */
export class WaitTimeout extends Error {
  override readonly name = 'WaitTimeout'
}

/**
 * Calls check() every `intervalMs` until it returns something other than undefined or
 * false, and resolves with that; rejects with WaitTimeout after `timeoutMs`, saying what it
 * waited for (`what` as it reads then). An error from check() rejects at once.
 */
export async function waitFor<T> (what: string | (() => string), check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new WaitTimeout(`timed out after ${timeoutMs / 1000} s waiting for ${typeof what === 'string' ? what : what()}`)
    await delay(intervalMs)
  }
}

/** Settles as `promise` does, or rejects with WaitTimeout(message()) after `ms`. */
export async function withTimeout<T> (promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<never>((resolve, reject) => {
      timer = setTimeout(() => { reject(new WaitTimeout(message())) }, ms)
    })])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Calls fn(0), fn(1), … fn(count - 1), at most `limit` at a time. Each worker takes the next
 * index synchronously when its previous call settles, so call i starts i-th (a node's send()
 * takes its outbox lock in call order). No new call starts once `stop()` returns true. The
 * first error rejects; calls already running finish on their own.
 */
export async function concurrently (count: number, limit: number, fn: (i: number) => Promise<unknown>, stop: () => boolean = () => false): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count && !stop()) await fn(next++)
  }
  await Promise.all(Array.from({ length: Math.max(0, Math.min(limit, count)) }, worker))
}

/** Wall-clock time in ms with sub-ms resolution, comparable between processes on one machine. */
export function now (): number {
  return performance.timeOrigin + performance.now()
}
