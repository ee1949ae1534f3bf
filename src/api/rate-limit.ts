import { ApiError } from './errors.js'
import type { FastifyInstance } from 'fastify'
import { NodeError, RateLimiter } from '../util/index.js'

export interface RateLimitOptions {
  /** Requests a client (by remote address) may make per window. */
  max: number
  /** @default 60_000 */
  windowMs?: number
  /** Clients remembered at once; past it the oldest windows are forgotten. @default 10_000 */
  maxClients?: number
}

/**
 * Limits requests per client address with a fixed window, before authentication (so that
 * guessing tokens is limited too). Over the limit: 429 RATE_LIMITED with Retry-After.
 */
export function installRateLimit (app: FastifyInstance, options: RateLimitOptions, now: () => number = Date.now): void {
  if (!Number.isSafeInteger(options.max) || options.max <= 0) throw new NodeError('INVALID_ARGUMENT', 'rateLimit.max must be a positive integer')
  const windowMs = options.windowMs ?? 60_000
  if (!Number.isSafeInteger(windowMs) || windowMs <= 0) throw new NodeError('INVALID_ARGUMENT', 'rateLimit.windowMs must be a positive integer')
  const limiter = new RateLimiter(options.max, windowMs, options.maxClients ?? 10_000)
  const retryAfterSeconds = Math.max(1, Math.ceil(windowMs / 1000))
  app.addHook('onRequest', async request => {
    if (!limiter.allow(request.ip, now())) {
      throw new ApiError('RATE_LIMITED', `more than ${options.max} requests in ${windowMs} ms`, { retryAfterSeconds })
    }
  })
}
