import { BODY_ERRORS, errorResponses, GROUP_NAMES, MEMBER_NAMES, memberRef, messageId, messageIdParams, time, type RequestOf, type ResponseOf } from '../../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import {
  DEFAULT_CONTENT_TYPE, DELIVERY_STATES, MAX_BODY_BYTES, MAX_CONTENT_TYPE_BYTES, MAX_GROUP_NAME_BYTES, MAX_IDEMPOTENCY_KEY_LENGTH, MAX_SEND_GROUPS, MAX_SEND_RECIPIENTS,
  MAX_SUBJECT_BYTES, MAX_TOPIC_LENGTH, URGENCIES, type SiteNode
} from '../../../node/index.js'

/** The longest TTL the schema lets through; the node refuses more than its own maximum (400 INVALID_ARGUMENT). */
const MAX_TTL_SECONDS = 365 * 24 * 3600

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
    replyTo: messageId
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
  required: ['id', 'created', 'expires', 'recipients', 'duplicate'],
  properties: {
    id: { type: 'string' },
    created: time,
    expires: time,
    recipients: {
      type: 'array',
      items: { type: 'object', required: ['member', 'device'], properties: { member: { type: 'string' }, device: { type: 'string' } } }
    },
    duplicate: { type: 'boolean', description: 'true when an earlier send with the same Idempotency-Key is returned' }
  }
} as const

const messageStatus = {
  type: 'object',
  required: ['id', 'created', 'expires', 'subject', 'urgency', 'devices'],
  properties: {
    id: { type: 'string' },
    created: time,
    expires: time,
    subject: { type: 'string' },
    urgency: { type: 'string' },
    topic: { type: 'string' },
    devices: {
      type: 'array',
      items: {
        type: 'object',
        required: ['device', 'member', 'seq', 'state', 'at'],
        properties: {
          device: { type: 'string' },
          member: { type: 'string' },
          seq: { type: 'integer' },
          state: { type: 'string', enum: DELIVERY_STATES },
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
      description: `Seals the message for every device of every recipient and queues it. ${SEND_ADDRESSING} A retry with the same Idempotency-Key returns the first result (duplicate: true) and sends nothing.`,
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

  app.get<{ Params: { id: string } }>('/v1/messages/:id', {
    schema: {
      tags: ['messages'],
      summary: 'Delivery status of a message, per device',
      params: messageIdParams,
      response: { 200: { description: 'the message and its state on every device', ...messageStatus }, ...errorResponses(400, 404) }
    }
  }, async (request): Promise<MessageStatusResponse> => await node.message(request.params.id))
}
