import { fastify, LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { installBearerAuth } from './auth.js'
import { ApiError, clientErrorHandler, frameworkErrorHandler, installErrorHandlers } from './errors.js'
import { checkAllowedHosts, hostAllowed } from './hosts.js'
import { installOpenApi, type OpenApiInfo } from './openapi.js'
import { installRateLimit, type RateLimitOptions } from './rate-limit.js'
import { healthRoutes, type HealthOptions } from './routes/health.js'
import { NodeError } from '../util/index.js'

export interface ApiLimits {
  /** Largest request body in bytes; larger is 413 BODY_TOO_LARGE. @default DEFAULT_BODY_LIMIT */
  bodyLimit?: number
  /** Requests per client address and window; unlimited when not set. */
  rateLimit?: RateLimitOptions
}

/** Options common to the site API and the member API. */
export interface ApiOptions {
  /** The bearer token clients must send (at least 16 characters). */
  token: string
  limits?: ApiLimits
  /**
   * Host names the API answers to besides loopback's (`localhost`, 127.0.0.0/8, `[::1]`):
   * DNS names, IPv4 addresses or bracketed IPv6 addresses, without a port. A request whose
   * Host header names anything else is 421 HOST_NOT_ALLOWED. @default [] (loopback only)
   */
  allowedHosts?: string[]
  /**
   * A pino-compatible logger for errors the API did not expect. @default none (silent)
   * Request lines are never logged: their headers carry the token.
   */
  logger?: FastifyBaseLogger
}

/**
 * The default largest request body, 256 KiB: what one request may make the API hold in
 * memory. A send of the largest content (64 KiB body, 1 KiB subject) fits with room for
 * its JSON escapes; a send to hundreds of long user references at once may need more.
 */
export const DEFAULT_BODY_LIMIT = 256 * 1024

/**
 * Refuses, before any route and before the rate limit and the token are checked, a request
 * whose Host header names a host the API does not answer to: a page that reached a loopback
 * API by DNS rebinding gets nothing, not even the health check.
 */
function installHostCheck (app: FastifyInstance, allowed: ReadonlySet<string>): void {
  app.addHook('onRequest', async request => {
    if (!hostAllowed(request.headers.host, allowed)) {
      throw new ApiError('HOST_NOT_ALLOWED', 'this API answers only to loopback host names (localhost, 127.0.0.1, [::1]) and those its operator allowed')
    }
  })
}

/**
 * A fastify instance with what both APIs share: strict JSON-only bodies, schema validation
 * without type coercion or silent removal of unknown fields, the one error shape, the Host
 * check, bearer auth, the optional rate limit, the OpenAPI document at GET /openapi.json and
 * GET /healthz. The API's own routes go in `routes`, registered after @fastify/swagger so that it sees them.
 */
export function createApiServer (options: ApiOptions, info: OpenApiInfo, health: HealthOptions, routes: (app: FastifyInstance) => Promise<void>): FastifyInstance {
  const bodyLimit = options.limits?.bodyLimit ?? DEFAULT_BODY_LIMIT
  if (!Number.isSafeInteger(bodyLimit) || bodyLimit <= 0) throw new NodeError('INVALID_ARGUMENT', 'limits.bodyLimit must be a positive integer')
  const allowedHosts = new Set(checkAllowedHosts(options.allowedHosts ?? []))
  const app = fastify({
    ...(options.logger !== undefined ? { loggerInstance: options.logger } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    // ids longer than any schema allows still reach the schema (400), not a 404
    routerOptions: { maxParamLength: 16 * 1024 },
    // a client's request id header is not trusted, nor echoed into logs
    requestIdHeader: false,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // while closing, requests in flight finish normally (fastify's 503 would not have the error shape)
    return503OnClosing: false,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler
  })
  // JSON only: text/plain bodies are 415, not strings handed to the schema. An empty JSON
  // body is no body (routes whose body is optional take it; the others answer 400).
  const json = app.getDefaultJsonParser('error', 'error')
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined)
    else json(request, body as string, done)
  })
  installErrorHandlers(app)
  installHostCheck(app, allowedHosts)
  if (options.limits?.rateLimit !== undefined) installRateLimit(app, options.limits.rateLimit)
  installBearerAuth(app, options.token)
  installOpenApi(app, info)
  app.register(async instance => {
    await instance.register(healthRoutes, health)
    await routes(instance)
  })
  return app as unknown as FastifyInstance
}
