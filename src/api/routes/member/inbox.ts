import { BODY_ERRORS, CONTENT_FIELDS, contentProperties, errorResponses, messageIdParams, peerId, time, type RequestOf, type ResponseOf } from '../../schemas.js'
import { postRecord, type PostResponse } from './posts.js'
import type { FastifyPluginAsync } from 'fastify'
import { MAX_BODY_BYTES, MAX_SUBJECT_BYTES, type MemberNode } from '../../../node/index.js'

export const inboxMessage = {
  type: 'object',
  required: ['id', 'site', 'siteName', 'seq', ...CONTENT_FIELDS, 'group', 'created', 'expires', 'received', 'read'],
  properties: {
    id: { type: 'string' },
    site: { type: 'string', description: 'the PeerId of the site that sent it' },
    siteName: { type: 'string' },
    seq: { type: 'integer' },
    ...contentProperties,
    group: { type: 'string', description: 'the name of the site\'s group the message was sent to, shown beside the site\'s name; empty when it was not sent to a group' },
    created: time,
    expires: time,
    received: time,
    read: { type: 'boolean' }
  }
} as const

const inboxQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    unread: { type: 'string', enum: ['true', 'false'], description: 'true: only unread messages' },
    site: { ...peerId, description: 'only messages of this site' }
  }
} as const

// ids are unique per site only (spec 11.7): the site names the message where two sent one id
export const messageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    site: { ...peerId, description: 'the PeerId of the site that sent the message; needed only where two joined sites sent a message with this id (without it: 400 INVALID_ARGUMENT naming them)' }
  }
} as const

const inbox = { type: 'object', required: ['messages'], properties: { messages: { type: 'array', items: inboxMessage } } } as const

// lengths in characters: the node checks the UTF-8 bytes (INVALID_ARGUMENT)
const replyBody = {
  type: 'object',
  additionalProperties: false,
  required: ['body'],
  properties: { body: { type: 'string', maxLength: MAX_BODY_BYTES }, subject: { type: 'string', maxLength: MAX_SUBJECT_BYTES } }
} as const

/** A message as GET /v1/inbox lists it and GET /v1/inbox/:id answers it. */
export type InboxMessageResponse = ResponseOf<typeof inboxMessage>
/** What GET /v1/inbox answers. */
export type InboxResponse = ResponseOf<typeof inbox>
/** The body of POST /v1/inbox/:id/reply. */
export type ReplyBody = RequestOf<typeof replyBody>
/** The query of GET /v1/inbox/:id and POST /v1/inbox/:id/reply: which site's message, where two sent the id. */
export type InboxMessageQuery = RequestOf<typeof messageQuery>

/** GET /v1/inbox, GET /v1/inbox/:id, POST /v1/inbox/:id/reply. */
export const inboxRoutes: FastifyPluginAsync<{ node: MemberNode }> = async (app, { node }) => {
  app.get<{ Querystring: RequestOf<typeof inboxQuery> }>('/v1/inbox', {
    schema: {
      tags: ['inbox'],
      summary: 'Messages in the inbox, opened',
      querystring: inboxQuery,
      response: {
        200: { description: 'the messages, oldest first per site', ...inbox },
        ...errorResponses(400, 409)
      }
    }
  }, async (request): Promise<InboxResponse> => ({ messages: await node.inbox({ unread: request.query.unread === 'true', site: request.query.site }) }))

  app.get<{ Params: { id: string }, Querystring: InboxMessageQuery }>('/v1/inbox/:id', {
    schema: {
      tags: ['inbox'],
      summary: 'One message; marks it read',
      description: 'Ids are unique per site: where two joined sites sent a message with this id, the site query parameter says which.',
      params: messageIdParams,
      querystring: messageQuery,
      response: { 200: { description: 'the message, now read', ...inboxMessage }, ...errorResponses(400, 404, 409) }
    }
  }, async (request): Promise<InboxMessageResponse> => await node.read(request.params.id, { site: request.query.site }))

  app.post<{ Params: { id: string }, Querystring: InboxMessageQuery, Body: ReplyBody }>('/v1/inbox/:id/reply', {
    schema: {
      tags: ['inbox'],
      summary: 'Reply to a message (sealed to its site, sent as soon as it is reachable)',
      description: 'The subject defaults to "Re: " and the original subject. Where two joined sites sent a message with this id, the site query parameter says which. Answers the queued reply; follow it at GET /v1/posts/{id}.',
      params: messageIdParams,
      querystring: messageQuery,
      body: replyBody,
      response: { 202: { description: 'the reply, queued for the site', ...postRecord }, ...errorResponses(...BODY_ERRORS, 404, 409) }
    }
  }, async (request, reply) => {
    const posted: PostResponse = await node.reply(request.params.id, { ...request.body, site: request.query.site })
    return await reply.code(202).send(posted)
  })
}
