/**
 * A timer that does not keep Node.js running on its own (Node's `unref`); a browser's timers
 * (plain numbers) never do.
 */
export function unref<T> (timer: T): T {
  (timer as { unref?: () => void }).unref?.()
  return timer
}

/**
 * Resolves once the event loop has handled what is ready now (I/O already read included):
 * Node's `setImmediate`, a zero timeout where there is none (a browser).
 */
export async function nextTurn (): Promise<void> {
  await new Promise<void>(resolve => {
    if (typeof setImmediate === 'function') setImmediate(resolve)
    else setTimeout(resolve, 0)
  })
}
