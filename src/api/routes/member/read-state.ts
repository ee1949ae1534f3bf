import { BODY_ERRORS, errorResponses, messageIdParams, type RequestOf } from '../../schemas.js'
import { messageQuery, type InboxMessageQuery } from './inbox.js'
import type { FastifyPluginAsync } from 'fastify'
import { type MemberNode } from '../../../node/index.js'

const readStateBody = {
  type: 'object',
  additionalProperties: false,
  required: ['read'],
  properties: { read: { type: 'boolean' } }
} as const

/** The body of PUT /v1/inbox/:id/read. */
export type ReadStateBody = RequestOf<typeof readStateBody>

/** PUT /v1/inbox/:id/read: marks a message read or unread (GET /v1/inbox/:id marks it read as it answers). */
export const readStateRoutes: FastifyPluginAsync<{ node: MemberNode }> = async (app, { node }) => {
  app.put<{ Params: { id: string }, Querystring: InboxMessageQuery, Body: ReadStateBody }>('/v1/inbox/:id/read', {
    schema: {
      tags: ['inbox'],
      summary: 'Mark a message read or unread',
      description: 'Where two joined sites sent a message with this id, the site query parameter says which.',
      params: messageIdParams,
      querystring: messageQuery,
      body: readStateBody,
      response: { 204: { description: 'done', type: 'null' }, ...errorResponses(...BODY_ERRORS, 404) }
    }
  }, async (request, reply) => {
    await node.markRead(request.params.id, request.body.read, { site: request.query.site })
    return await reply.code(204).send()
  })
}
