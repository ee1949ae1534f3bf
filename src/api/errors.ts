import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ErrorCode, NODE_ERROR_CODES, NodeError, TmtpError, type NodeErrorCode } from '../node/index.js'

/**
 * The one place where errors become HTTP answers. Every error response of both APIs is
 * `{ error: { code, message } }`; `code` is stable (clients match on it, never on the
 * message), the status follows from the code.
 */

/** Codes of the HTTP layer itself; library and protocol errors keep their own codes. */
export const API_ERROR_CODES = [
  'INVALID_REQUEST',
  'UNAUTHORIZED',
  'NOT_FOUND',
  'HOST_NOT_ALLOWED',
  'BODY_TOO_LARGE',
  'LENGTH_REQUIRED',
  'UNSUPPORTED_MEDIA_TYPE',
  'RATE_LIMITED',
  'INTERNAL'
] as const

export type ApiErrorCode = typeof API_ERROR_CODES[number]

const API_STATUS: Record<ApiErrorCode, number> = {
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  // 421 Misdirected Request: this server does not answer for that name (a DNS-rebound page)
  HOST_NOT_ALLOWED: 421,
  BODY_TOO_LARGE: 413,
  // an upload states its size first: the node checks it against its limit before reading a byte
  LENGTH_REQUIRED: 411,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  INTERNAL: 500
}

/** An error the HTTP layer raises on purpose (bad query, rate limit, missing token, a Host it does not answer to). */
export class ApiError extends Error {
  override readonly name = 'ApiError'
  readonly code: ApiErrorCode
  readonly statusCode: number
  /** For RATE_LIMITED: the Retry-After header. */
  readonly retryAfterSeconds?: number

  constructor (code: ApiErrorCode, message: string, options: { retryAfterSeconds?: number } = {}) {
    super(message)
    this.code = code
    this.statusCode = API_STATUS[code]
    this.retryAfterSeconds = options.retryAfterSeconds
  }
}

/** NodeError (library API) codes. IDENTITY_UNSAFE is an operator problem, not the caller's: a 500. */
const NODE_STATUS: Record<NodeErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  WRONG_ROLE: 400,
  UNKNOWN_MEMBER: 404,
  UNKNOWN_MESSAGE: 404,
  UNKNOWN_SITE: 404,
  UNKNOWN_GROUP: 404,
  INVALID_GROUP_NAME: 400,
  TOO_MANY_MEMBERS: 400,
  NO_KEY_EPOCH: 409,
  GROUP_NAME_TAKEN: 409,
  NO_DEVICES: 422,
  QUEUE_FULL: 429,
  UNKNOWN_ATTACHMENT: 404,
  ATTACHMENT_TOO_LARGE: 413,
  ATTACHMENTS_TOO_LARGE: 413,
  // 507 Insufficient Storage: the site holds as many bytes of attachments as it may
  ATTACHMENT_STORE_FULL: 507,
  ATTACHMENTS_NOT_SUPPORTED: 422,
  UNREACHABLE: 502,
  NOT_RUNNING: 503,
  IDENTITY_UNSAFE: 500
}

/** The library's codes that answer with this status, in NODE_ERROR_CODES' order (the OpenAPI documents list them). */
export function nodeCodesOf (status: number): NodeErrorCode[] {
  return NODE_ERROR_CODES.filter(code => NODE_STATUS[code] === status)
}

/**
 * TmtpError codes (a peer refused, or a token or frame is bad) are 422 with the protocol's
 * code, except the few that say something about this node or the network rather than the
 * request.
 */
const TMTP_STATUS: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.TIMEOUT]: 504,
  [ErrorCode.STORAGE_FAILURE]: 503,
  [ErrorCode.INTERNAL]: 500
}

/** Fastify's own request errors (body parsing, routing, validation). */
const FASTIFY_CODES: Record<string, ApiErrorCode> = {
  FST_ERR_VALIDATION: 'INVALID_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_REQUEST',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'INVALID_REQUEST',
  FST_ERR_BAD_URL: 'INVALID_REQUEST',
  FST_ERR_ASYNC_CONSTRAINT: 'INVALID_REQUEST',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_NOT_FOUND: 'NOT_FOUND'
}

export interface HttpError {
  status: number
  code: string
  message: string
  /** True when the error is not the caller's fault: it is logged. */
  unexpected: boolean
}

const INTERNAL_MESSAGE = 'internal error: see the node log'

/** Server-side statuses of library errors that say something to the caller (a peer, the node, its storage), not "a bug". */
const TOLD_5XX = new Set([502, 503, 507])

/** Maps any thrown value to the HTTP answer. Unknown errors become 500 INTERNAL with a fixed message. */
export function toHttpError (err: unknown): HttpError {
  if (err instanceof ApiError) return { status: err.statusCode, code: err.code, message: err.message, unexpected: err.statusCode >= 500 }
  if (err instanceof NodeError) {
    const status = NODE_STATUS[err.code] ?? 500
    return status >= 500 && !TOLD_5XX.has(status)
      ? { status, code: 'INTERNAL', message: INTERNAL_MESSAGE, unexpected: true }
      : { status, code: err.code, message: err.message, unexpected: false }
  }
  if (err instanceof TmtpError) {
    const status = TMTP_STATUS[err.code] ?? 422
    return { status, code: err.code, message: err.message, unexpected: status === 500 || status === 503 }
  }
  const fastifyCode = typeof (err as { code?: unknown })?.code === 'string' ? FASTIFY_CODES[(err as { code: string }).code] : undefined
  if (fastifyCode !== undefined) {
    return { status: API_STATUS[fastifyCode], code: fastifyCode, message: (err as Error).message, unexpected: false }
  }
  // any other client error fastify raises (aborted body, bad header...) stays a 4xx
  const status = (err as { statusCode?: unknown })?.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, code: status === 413 ? 'BODY_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'INVALID_REQUEST', message: 'invalid request', unexpected: false }
  }
  return { status: 500, code: 'INTERNAL', message: INTERNAL_MESSAGE, unexpected: true }
}

/** The JSON body of every error response. */
export function errorBody (code: string, message: string): { error: { code: string, message: string } } {
  return { error: { code, message } }
}

function answer (err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const http = toHttpError(err)
  if (http.unexpected) {
    // the error only: never the request (its headers carry the bearer token)
    request.log.error({ err, route: request.routeOptions.url, method: request.method }, 'request failed')
  }
  if (http.code === 'UNAUTHORIZED') reply.header('WWW-Authenticate', 'Bearer')
  if (err instanceof ApiError && err.retryAfterSeconds !== undefined) reply.header('Retry-After', String(err.retryAfterSeconds))
  reply.code(http.status).type('application/json; charset=utf-8').send(errorBody(http.code, http.message))
}

/**
 * Installs the error handler, the 404 handler and the handler of errors raised before
 * routing (a URL that does not decode), so that no response leaves in another shape.
 */
export function installErrorHandlers (app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => { answer(err, request, reply) })
  app.setNotFoundHandler((request, reply) => {
    answer(new ApiError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0].slice(0, 200)}`), request, reply)
  })
}

/** For the `frameworkErrors` server option: errors raised before a route is found. */
export function frameworkErrorHandler (err: unknown, request: FastifyRequest, reply: FastifyReply): void {
  answer(err, request, reply)
}

/**
 * For the `clientErrorHandler` server option: HTTP that does not parse never reaches fastify.
 * Answers in the same shape, and logs nothing: fastify's default handler logs the error with
 * its raw packet, which may hold the Authorization header.
 */
export function clientErrorHandler (err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return
  const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400
  const message = status === 408 ? 'request timed out' : status === 431 ? 'request headers too large' : 'malformed HTTP request'
  const body = JSON.stringify(errorBody('INVALID_REQUEST', message))
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
}
