import { createHash, timingSafeEqual } from 'node:crypto'
import { ApiError } from './errors.js'
import { NodeError } from '../util/index.js'
import type { FastifyInstance, FastifyRequest } from 'fastify'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route answers without a bearer token (health check, OpenAPI document). */
    public?: boolean
  }
}

/** The shortest token accepted: the API guards a node's members and messages. */
export const MIN_TOKEN_LENGTH = 16

function digest (value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}

/**
 * Checks `Authorization: Bearer <token>` on every route not marked `config.public`
 * (including unknown routes). Both sides are hashed first, so the comparison is constant
 * time whatever the lengths. The token never appears in an error or a log line.
 */
export function installBearerAuth (app: FastifyInstance, token: string): void {
  if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH) {
    throw new NodeError('INVALID_ARGUMENT', `the API token must be a string of at least ${MIN_TOKEN_LENGTH} characters`)
  }
  const expected = digest(token)
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (request.routeOptions.config?.public === true) return
    if (!authorized(request.headers.authorization, expected)) {
      throw new ApiError('UNAUTHORIZED', 'a valid bearer token is required (Authorization: Bearer <token>)')
    }
  })
}

function authorized (header: string | undefined, expected: Buffer): boolean {
  if (typeof header !== 'string') return false
  const match = /^Bearer +(\S+) *$/i.exec(header)
  if (match === null) return false
  return timingSafeEqual(digest(match[1]), expected)
}
