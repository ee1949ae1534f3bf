/**
 * A timer that does not keep Node.js running on its own (Node's `unref`); a browser's timers
 * (plain numbers) never do.
 */
export function unref<T> (timer: T): T {
  (timer as { unref?: () => void }).unref?.()
  return timer
}
