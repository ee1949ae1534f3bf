import type { FromSchema, JSONSchema } from 'json-schema-to-ts'
import { nodeCodesOf } from './errors.js'
import { DEFAULT_PAGE_SIZE, GROUP_ID_PATTERN, MAX_CURSOR_LENGTH, MAX_PAGE_SIZE, MAX_REF_BYTES, MEMBER_ID_PATTERN, type StorageFailure } from '../node/index.js'

/**
 * JSON schema fragments shared by the routes of both APIs. Request schemas are strict
 * (`additionalProperties: false`, bounded strings); response schemas list every field the
 * library returns, because fastify serializes responses with them (unlisted fields are
 * dropped) and @fastify/swagger documents them. Bounds and value lists come from the node's
 * constants, and the TypeScript types of requests and answers from the schemas themselves.
 */

/** What a request schema lets through (request schemas are closed already). */
export type RequestOf<S extends JSONSchema> = FromSchema<S>

/**
 * What a response schema lets through. Response schemas do not say `additionalProperties:
 * false` (the OpenAPI documents would change), but fastify drops unlisted fields when it
 * serialises, so the type is closed: a client that reads a field the schema does not list
 * gets a type error. A handler typed with it fails to compile when the node's answer lacks a
 * required field or has one of another type; extra fields still compile (and are dropped).
 */
export type ResponseOf<S extends JSONSchema> = Closed<FromSchema<S>>

type Closed<T> = T extends ReadonlyArray<infer E>
  ? Array<Closed<E>>
  : T extends object ? { [K in keyof T as string extends K ? never : K]: Closed<T[K]> } : T

/**
 * How a site reads a name of a member: member ids (chosen by the site) and user references
 * (chosen by the site's backend) are separate namespaces, told apart by the id's shape.
 */
export const MEMBER_NAMES = `a name of a member id's shape (\`${MEMBER_ID_PATTERN.source}\`) is a member id, any other a user reference`

/** Any string that names a member: a member id or the site's user reference (MAX_REF_BYTES). */
export const memberRef = { type: 'string', minLength: 1, maxLength: MAX_REF_BYTES } as const

/** Path parameters of a route on one member: `:ref`, a member id or user reference. */
export const memberRefParams = {
  type: 'object',
  additionalProperties: false,
  required: ['ref'],
  properties: { ref: { ...memberRef, description: `member id or user reference: ${MEMBER_NAMES}` } }
} as const

/** How a site reads a name of a group: group ids (chosen by the site) and group names are told apart by the id's shape. */
export const GROUP_NAMES = `a name of a group id's shape (\`${GROUP_ID_PATTERN.source}\`) is a group id, any other a group name`

/** A page cursor is opaque (the node makes and checks it: one it did not make is 400 INVALID_ARGUMENT): base64url. */
export const pageCursor = { type: 'string', pattern: `^[A-Za-z0-9_-]{1,${MAX_CURSOR_LENGTH}}$`, maxLength: MAX_CURSOR_LENGTH } as const

/** The query of a paged listing: `after` the `next` of the previous page, `limit` the page size (the node checks its range). */
export const pageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    after: { ...pageCursor, description: 'the next cursor of the previous page' },
    limit: { type: 'string', pattern: '^[1-9][0-9]*$', maxLength: String(MAX_PAGE_SIZE).length, description: `an integer 1..${MAX_PAGE_SIZE}; default ${DEFAULT_PAGE_SIZE}` }
  }
} as const

/** The `next` of a page: the cursor to read on from, null at the end. */
export const pageNext = { type: 'string', nullable: true, description: 'cursor of the next page, null at the end' } as const

/** Room to spare: an Ed25519 PeerId is 52 characters in base58btc, 65 as a base32 CID. */
const MAX_PEER_ID_LENGTH = 128

/** A libp2p PeerId as text (base58btc or base32 CID). */
export const peerId = { type: 'string', minLength: 1, maxLength: MAX_PEER_ID_LENGTH, pattern: '^[A-Za-z0-9]+$' } as const

/** A TMTP message id: 128 bits as 32 lowercase hex digits. */
export const messageId = { type: 'string', pattern: '^[0-9a-f]{32}$', minLength: 32, maxLength: 32 } as const

/** Path parameters of a route on one message: `:id`. */
export const messageIdParams = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: messageId } } as const

/** An attachment's id (an upload's): 128 bits as 32 lowercase hex digits. */
export const attachmentId = { type: 'string', pattern: '^[0-9a-f]{32}$', minLength: 32, maxLength: 32 } as const

/** Milliseconds since the Unix epoch. */
export const time = { type: 'integer', description: 'milliseconds since the Unix epoch' } as const

/**
 * A node's storage failure, as GET /v1/status shows it (behind the token: LevelDB's reason
 * names a file of the data folder, so GET /healthz does not show it).
 */
export const storageFailure = {
  type: 'object',
  required: ['code', 'message', 'at'],
  description: 'set once a write failed: the node refuses every write until it is restarted (free disk space first)',
  properties: {
    code: { type: 'string', enum: ['STORAGE_FAILURE'] },
    message: { type: 'string', description: 'the database\'s reason' },
    at: time
  }
} as const

/** The `storageFailure` field of a status answer: there only once a write failed. */
export function storageFailureField (node: { storageFailure: () => StorageFailure | undefined }): { storageFailure?: StorageFailure } {
  const failure = node.storageFailure()
  return failure === undefined ? {} : { storageFailure: failure }
}

/** The fields of a message's content (spec: "Content"), as inbox messages and replies show them. */
export const CONTENT_FIELDS = ['subject', 'body', 'contentType', 'thread', 'replyTo'] as const
export const contentProperties = {
  subject: { type: 'string' },
  body: { type: 'string' },
  contentType: { type: 'string' },
  thread: { type: 'string' },
  replyTo: { type: 'string' }
} as const

export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'stable error code: match on it, never on the message' },
        message: { type: 'string' }
      }
    }
  }
} as const

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: `INVALID_REQUEST (schema, JSON), or refused by the node: ${nodeCodesOf(400).join(' / ')}`,
  401: 'UNAUTHORIZED: missing or wrong bearer token',
  404: `NOT_FOUND, or ${nodeCodesOf(404).join(' / ')}`,
  409: nodeCodesOf(409).join(' / '),
  411: 'LENGTH_REQUIRED: an upload states its size in Content-Length',
  413: `BODY_TOO_LARGE, or ${nodeCodesOf(413).join(' / ')}`,
  415: 'UNSUPPORTED_MEDIA_TYPE: send application/json',
  421: 'HOST_NOT_ALLOWED: the Host header names no host this API answers to (loopback names and those its operator allowed)',
  422: `${nodeCodesOf(422).join(' / ')}, or a protocol error code (a site refused the join: INVITE_USED, EXPIRED, BAD_TOKEN...; a site no longer has an attachment: UNKNOWN_BLOB)`,
  429: 'RATE_LIMITED, or QUEUE_FULL (a send whose every recipient device has its queue full)',
  500: 'INTERNAL',
  502: 'UNREACHABLE: the peer could not be reached',
  504: 'TIMEOUT: the peer did not answer in time',
  507: `${nodeCodesOf(507).join(' / ')}: the site holds as many bytes of attachments as it may (maxStoredAttachmentBytes); try again once some are deleted`
}

/** What any route may answer, public or not: a Host it does not answer to, a rate limit, a bug. */
const ANY_ROUTE_ERRORS = [421, 429, 500]

function describeErrors (statuses: number[]): Record<number, unknown> {
  const out: Record<number, unknown> = {}
  for (const status of [...new Set(statuses)].sort()) {
    out[status] = { description: ERROR_DESCRIPTIONS[status] ?? 'error', ...errorSchema }
  }
  return out
}

/** Error responses for a route's schema (every route needing the token may answer 401, 421, 429 and 500). */
export function errorResponses (...statuses: number[]): Record<number, unknown> {
  return describeErrors([...statuses, 401, ...ANY_ROUTE_ERRORS])
}

/** Error responses of a route that needs no token (421, 429 and 500 besides those given). */
export function publicErrorResponses (...statuses: number[]): Record<number, unknown> {
  return describeErrors([...statuses, ...ANY_ROUTE_ERRORS])
}

/** Errors of any route with a JSON body. */
export const BODY_ERRORS = [400, 413, 415] as const
