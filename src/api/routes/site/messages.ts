import { attachmentId, BODY_ERRORS, errorResponses, GROUP_NAMES, MEMBER_NAMES, memberRef, messageId, messageIdParams, pageCursor, pageNext, time, type RequestOf, type ResponseOf } from '../../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import {
  COPY_STATES, DEFAULTS, DEFAULT_CONTENT_TYPE, MAX_ATTACHMENTS, MAX_BODY_BYTES, MAX_CONTENT_TYPE_BYTES, MAX_GROUP_NAME_BYTES, MAX_IDEMPOTENCY_KEY_LENGTH, MAX_PAGE_SIZE, MAX_SEND_GROUPS, MAX_SEND_RECIPIENTS,
  MAX_SUBJECT_BYTES, MAX_TOPIC_LENGTH, REPORT_MODES, URGENCIES, type SiteNode
} from '../../../node/index.js'

/** The longest TTL the schema lets through; the node refuses more than its own maximum (400 INVALID_ARGUMENT). */
const MAX_TTL_SECONDS = 365 * 24 * 3600

/** How a send to many devices is accepted and sealed, as POST /v1/messages describes it. */
export const SEND_BROADCAST = `A send to at most ${DEFAULTS.directMaxDevices} devices is sealed for each before the answer, which lists them (recipients). A send to more devices (or with report: once) is a broadcast: the answer comes as soon as the message and its resolved recipients are stored (fanout: true, recipients empty, devices the count), and its copies are sealed in the background; GET /v1/messages/{id} counts them by state (pending until sealed) and pages through them.`

/** Who a send is for, as POST /v1/messages describes it. */
export const SEND_ADDRESSING = 'Recipients are any mix of to (members), groups and all, at least one of them given (a list given is not empty, all is true; else 400 INVALID_REQUEST). They are resolved once, when the message is accepted: each device of each member so named gets one copy, however many ways it is named, and later changes of groups and members do not change who the message is for (removing a member from the site drops its queued copies). A member reached through a group sees that group\'s name beside the site\'s (the first group listed that holds it); one named in to or reached by all alone sees none.'

// String lengths count characters and the node's limits count UTF-8 bytes: the schema
// refuses what is surely too long, the node what is too long once encoded (INVALID_ARGUMENT).
const sendBody = {
  type: 'object',
  additionalProperties: false,
  required: ['subject', 'body'],
  description: SEND_ADDRESSING,
  // at least one of to, groups and all: true (a list given is never empty)
  anyOf: [{ required: ['to'] }, { required: ['groups'] }, { required: ['all'], properties: { all: { const: true } } }],
  properties: {
    to: { type: 'array', minItems: 1, maxItems: MAX_SEND_RECIPIENTS, items: memberRef, description: `member ids or user references: ${MEMBER_NAMES}` },
    groups: { type: 'array', minItems: 1, maxItems: MAX_SEND_GROUPS, items: { type: 'string', minLength: 1, maxLength: MAX_GROUP_NAME_BYTES }, description: `every member of each group, by group id or name (404 UNKNOWN_GROUP if there is none): ${GROUP_NAMES}` },
    all: { type: 'boolean', description: 'true: every member of the site' },
    subject: { type: 'string', maxLength: MAX_SUBJECT_BYTES },
    body: { type: 'string', maxLength: MAX_BODY_BYTES },
    contentType: { type: 'string', maxLength: MAX_CONTENT_TYPE_BYTES, description: `MIME type of body; empty means ${DEFAULT_CONTENT_TYPE}` },
    ttlSeconds: { type: 'integer', minimum: 1, maximum: MAX_TTL_SECONDS, description: 'time to live; default the node\'s (7 days)' },
    urgency: { type: 'string', enum: URGENCIES },
    topic: { type: 'string', minLength: 1, maxLength: MAX_TOPIC_LENGTH, description: 'a newer message with the same topic replaces an undelivered older one' },
    thread: messageId,
    replyTo: messageId,
    attachments: { type: 'array', minItems: 1, maxItems: MAX_ATTACHMENTS, uniqueItems: true, items: attachmentId, description: `ids of uploads (POST /v1/attachments) every copy carries: 404 UNKNOWN_ATTACHMENT for one that is gone or past its hold, 413 ATTACHMENTS_TOO_LARGE past maxMessageAttachmentBytes (default ${DEFAULTS.maxMessageAttachmentBytes}) together` },
    report: { type: 'string', enum: REPORT_MODES, description: 'per-device (default): a webhook event per device copy as it settles; once: a single broadcast event with the counts when every copy settled or expired (the message is then a broadcast)' }
  }
} as const

const sendHeaders = {
  type: 'object',
  properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: MAX_IDEMPOTENCY_KEY_LENGTH } }
} as const

/** The body of POST /v1/messages. */
export type SendBody = RequestOf<typeof sendBody>

const sendResult = {
  type: 'object',
  required: ['id', 'created', 'expires', 'devices', 'fanout', 'recipients', 'duplicate'],
  properties: {
    id: { type: 'string' },
    created: time,
    expires: time,
    devices: { type: 'integer', minimum: 1, description: 'device copies the message is for' },
    fanout: { type: 'boolean', description: 'true: a broadcast, its copies sealed in the background' },
    recipients: {
      type: 'array',
      description: 'the copies sealed before the answer, one per device; empty for a broadcast',
      items: { type: 'object', required: ['member', 'device'], properties: { member: { type: 'string' }, device: { type: 'string' } } }
    },
    duplicate: { type: 'boolean', description: 'true when an earlier send with the same Idempotency-Key is returned' }
  }
} as const

const statusQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    after: { ...pageCursor, description: 'the next cursor of the previous page of devices' },
    limit: { type: 'string', pattern: '^[1-9][0-9]*$', maxLength: String(MAX_PAGE_SIZE).length, description: `devices a page, an integer 1..${MAX_PAGE_SIZE}; default ${MAX_PAGE_SIZE}` }
  }
} as const

const messageStatus = {
  type: 'object',
  required: ['id', 'created', 'expires', 'subject', 'urgency', 'total', 'counts', 'devices', 'next'],
  properties: {
    id: { type: 'string' },
    created: time,
    expires: time,
    subject: { type: 'string' },
    urgency: { type: 'string' },
    topic: { type: 'string' },
    total: { type: 'integer', minimum: 0, description: 'devices the message is for' },
    counts: {
      type: 'object',
      description: 'copies by state; pending: a broadcast\'s copies not sealed yet',
      required: COPY_STATES,
      properties: Object.fromEntries(COPY_STATES.map(s => [s, { type: 'integer', minimum: 0 }])) as Record<typeof COPY_STATES[number], { type: 'integer', minimum: 0 }>
    },
    next: pageNext,
    devices: {
      type: 'array',
      description: 'a page of the copies, one per device in the order resolved',
      items: {
        type: 'object',
        required: ['device', 'member', 'seq', 'state', 'at'],
        properties: {
          device: { type: 'string' },
          member: { type: 'string' },
          seq: { type: 'integer' },
          state: { type: 'string', enum: COPY_STATES },
          at: time,
          code: { type: 'string' },
          detail: { type: 'string' },
          proof: { type: 'string', description: 'the device\'s signed acknowledgement, base64' }
        }
      }
    }
  }
} as const

/** What POST /v1/messages answers (202). */
export type SendResponse = ResponseOf<typeof sendResult>
/** What GET /v1/messages/:id answers. */
export type MessageStatusResponse = ResponseOf<typeof messageStatus>

/** POST /v1/messages, GET /v1/messages/:id. */
export const messageRoutes: FastifyPluginAsync<{ node: SiteNode }> = async (app, { node }) => {
  app.post<{ Body: SendBody, Headers: RequestOf<typeof sendHeaders> }>('/v1/messages', {
    schema: {
      tags: ['messages'],
      summary: 'Send a message to members, groups or all',
      description: `Seals the message for every device of every recipient and queues it. ${SEND_ADDRESSING} ${SEND_BROADCAST} A retry with the same Idempotency-Key returns the first result (duplicate: true) and sends nothing.`,
      headers: sendHeaders,
      body: sendBody,
      response: { 202: { description: 'queued (or, with a known Idempotency-Key, the earlier send)', ...sendResult }, ...errorResponses(...BODY_ERRORS, 404, 422) }
    }
  }, async (request, reply) => {
    const { ttlSeconds, ...rest } = request.body
    const result: SendResponse = await node.send({
      ...rest,
      ttlMs: ttlSeconds === undefined ? undefined : ttlSeconds * 1000,
      idempotencyKey: request.headers['idempotency-key']
    })
    return await reply.code(202).send(result)
  })

  app.get<{ Params: { id: string }, Querystring: RequestOf<typeof statusQuery> }>('/v1/messages/:id', {
    schema: {
      tags: ['messages'],
      summary: 'Delivery status of a message: counts by state, and its devices a page at a time',
      params: messageIdParams,
      querystring: statusQuery,
      response: { 200: { description: 'the message, its copies by state, and a page of its state on each device (next: the cursor of the next page, null at the end)', ...messageStatus }, ...errorResponses(400, 404) }
    }
  }, async (request): Promise<MessageStatusResponse> => await node.message(request.params.id, { after: request.query.after, limit: request.query.limit === undefined ? undefined : Number(request.query.limit) }))
}
