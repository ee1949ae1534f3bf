import { CONTENT_FIELDS, contentProperties, errorResponses, time } from '../../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import { type SiteNode } from '../../../node/index.js'

/** A replies cursor is opaque (the node makes and checks it): base64url characters. */
const CURSOR = '^[A-Za-z0-9_-]{1,128}$'

const reply = {
  type: 'object',
  required: ['id', 'device', 'member', 'ref', ...CONTENT_FIELDS, 'created', 'received', 'cursor'],
  properties: {
    id: { type: 'string' },
    device: { type: 'string' },
    member: { type: 'string' },
    ref: { type: 'string' },
    ...contentProperties,
    created: time,
    received: time,
    cursor: { type: 'string', description: 'pass as after= to read on from this reply' }
  }
} as const

/** GET /v1/replies: replies from members, oldest first, paged by cursor. */
export const replyRoutes: FastifyPluginAsync<{ node: SiteNode }> = async (app, { node }) => {
  app.get<{ Querystring: { after?: string, limit?: string } }>('/v1/replies', {
    schema: {
      tags: ['replies'],
      summary: 'Replies received from members, oldest first',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          after: { type: 'string', pattern: CURSOR, maxLength: 128, description: 'the next cursor of the previous page' },
          limit: { type: 'string', pattern: '^(?:[1-9][0-9]{0,2}|1000)$', description: 'an integer 1..1000; default 100' }
        }
      },
      response: {
        200: {
          description: 'a page of replies',
          type: 'object',
          required: ['replies', 'next'],
          properties: {
            replies: { type: 'array', items: reply },
            next: { type: 'string', nullable: true, description: 'cursor of the next page, null at the end' }
          }
        },
        ...errorResponses(400)
      }
    }
  }, async request => {
    const limit = request.query.limit === undefined ? 100 : Number(request.query.limit)
    // one more than asked tells whether a next page exists
    const replies = await node.replies({ after: request.query.after, limit: limit + 1 })
    const page = replies.slice(0, limit)
    return { replies: page, next: replies.length > limit ? page[page.length - 1].cursor : null }
  })
}
