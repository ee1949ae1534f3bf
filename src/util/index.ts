/** Small helpers every layer above uses: locks, backoff, rate limits, the library's error. */
export { Mutex } from './mutex.js'
export { Semaphore } from './semaphore.js'
export { backoffDelay, type BackoffOptions } from './backoff.js'
export { RateLimiter } from './rate-limit.js'
export { NODE_ERROR_CODES, NodeError, type NodeErrorCode } from './node-error.js'
export { nextTurn, unref } from './timers.js'
export { toHex } from './hex.js'
