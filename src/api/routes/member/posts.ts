import { errorResponses, messageIdParams, time, type ResponseOf } from '../../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import { type MemberNode } from '../../../node/index.js'

export const postRecord = {
  type: 'object',
  required: ['id', 'site', 'seq', 'created', 'state', 'at', 'replyTo', 'subject'],
  properties: {
    id: { type: 'string' },
    site: { type: 'string' },
    seq: { type: 'integer' },
    created: time,
    state: { type: 'string', enum: ['queued', 'delivered', 'rejected'] },
    at: time,
    code: { type: 'string' },
    replyTo: { type: 'string' },
    subject: { type: 'string' }
  }
} as const

/** A reply this device sent, with its delivery state (POST /v1/inbox/:id/reply, GET /v1/posts/:id). */
export type PostResponse = ResponseOf<typeof postRecord>

/** GET /v1/posts/:id: a reply this device sent, with its delivery state. */
export const postRoutes: FastifyPluginAsync<{ node: MemberNode }> = async (app, { node }) => {
  app.get<{ Params: { id: string } }>('/v1/posts/:id', {
    schema: {
      tags: ['inbox'],
      summary: 'A reply sent by this device, with its delivery state',
      params: messageIdParams,
      response: { 200: { description: 'the reply and its delivery state', ...postRecord }, ...errorResponses(400, 404) }
    }
  }, async (request): Promise<PostResponse> => await node.post(request.params.id))
}
