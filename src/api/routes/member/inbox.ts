import { BODY_ERRORS, CONTENT_FIELDS, contentProperties, errorResponses, messageIdParams, peerId, time } from '../../schemas.js'
import { postRecord } from './posts.js'
import type { FastifyPluginAsync } from 'fastify'
import { type MemberNode } from '../../../node/index.js'

const inboxMessage = {
  type: 'object',
  required: ['id', 'site', 'siteName', 'seq', ...CONTENT_FIELDS, 'created', 'expires', 'received', 'read'],
  properties: {
    id: { type: 'string' },
    site: { type: 'string', description: 'the PeerId of the site that sent it' },
    siteName: { type: 'string' },
    seq: { type: 'integer' },
    ...contentProperties,
    created: time,
    expires: time,
    received: time,
    read: { type: 'boolean' }
  }
} as const

/** GET /v1/inbox, GET /v1/inbox/:id, POST /v1/inbox/:id/reply. */
export const inboxRoutes: FastifyPluginAsync<{ node: MemberNode }> = async (app, { node }) => {
  app.get<{ Querystring: { unread?: 'true' | 'false', site?: string } }>('/v1/inbox', {
    schema: {
      tags: ['inbox'],
      summary: 'Messages in the inbox, opened',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          unread: { type: 'string', enum: ['true', 'false'], description: 'true: only unread messages' },
          site: { ...peerId, description: 'only messages of this site' }
        }
      },
      response: {
        200: { description: 'the messages, oldest first per site', type: 'object', required: ['messages'], properties: { messages: { type: 'array', items: inboxMessage } } },
        ...errorResponses(400, 409)
      }
    }
  }, async request => ({ messages: await node.inbox({ unread: request.query.unread === 'true', site: request.query.site }) }))

  app.get<{ Params: { id: string } }>('/v1/inbox/:id', {
    schema: {
      tags: ['inbox'],
      summary: 'One message; marks it read',
      params: messageIdParams,
      response: { 200: { description: 'the message, now read', ...inboxMessage }, ...errorResponses(400, 404, 409) }
    }
  }, async request => await node.read(request.params.id))

  app.post<{ Params: { id: string }, Body: { body: string, subject?: string } }>('/v1/inbox/:id/reply', {
    schema: {
      tags: ['inbox'],
      summary: 'Reply to a message (sealed to its site, sent as soon as it is reachable)',
      description: 'The subject defaults to "Re: " and the original subject. Answers the queued reply; follow it at GET /v1/posts/{id}.',
      params: messageIdParams,
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['body'],
        properties: { body: { type: 'string', maxLength: 65536 }, subject: { type: 'string', maxLength: 1024 } }
      },
      response: { 202: { description: 'the reply, queued for the site', ...postRecord }, ...errorResponses(...BODY_ERRORS, 404, 409) }
    }
  }, async (request, reply) => await reply.code(202).send(await node.reply(request.params.id, request.body)))
}
