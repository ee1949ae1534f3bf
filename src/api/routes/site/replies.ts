import { CONTENT_FIELDS, contentProperties, errorResponses, pageCursor, pageNext, time, type RequestOf, type ResponseOf } from '../../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import { DEFAULT_PAGE_SIZE, type SiteNode } from '../../../node/index.js'

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

const repliesQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    after: { ...pageCursor, description: 'the next cursor of the previous page' },
    limit: { type: 'string', pattern: '^(?:[1-9][0-9]{0,2}|1000)$', description: `an integer 1..1000; default ${DEFAULT_PAGE_SIZE}` }
  }
} as const

const page = {
  type: 'object',
  required: ['replies', 'next'],
  properties: {
    replies: { type: 'array', items: reply },
    next: pageNext
  }
} as const

const deleteQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['through'],
  properties: {
    through: { ...pageCursor, description: 'the cursor of the last reply collected: it and every reply before it are deleted' }
  }
} as const

const deleted = {
  type: 'object',
  required: ['deleted'],
  properties: { deleted: { type: 'integer', minimum: 0, description: 'replies deleted' } }
} as const

/** What DELETE /v1/replies answers. */
export type DeleteRepliesResponse = ResponseOf<typeof deleted>

/** A reply as GET /v1/replies lists it. */
export type ReplyResponse = ResponseOf<typeof reply>
/** What GET /v1/replies answers. */
export type RepliesResponse = ResponseOf<typeof page>

/** GET /v1/replies: replies from members, oldest first, paged by cursor; DELETE /v1/replies: collected replies go. */
export const replyRoutes: FastifyPluginAsync<{ node: SiteNode }> = async (app, { node }) => {
  app.get<{ Querystring: RequestOf<typeof repliesQuery> }>('/v1/replies', {
    schema: {
      tags: ['replies'],
      summary: 'Replies received from members, oldest first',
      querystring: repliesQuery,
      response: {
        200: { description: 'a page of replies', ...page },
        ...errorResponses(400)
      }
    }
  }, async (request): Promise<RepliesResponse> => {
    const limit = request.query.limit === undefined ? DEFAULT_PAGE_SIZE : Number(request.query.limit)
    // one more than asked tells whether a next page exists
    const replies = await node.replies({ after: request.query.after, limit: limit + 1 })
    const page = replies.slice(0, limit)
    return { replies: page, next: replies.length > limit ? page[page.length - 1].cursor : null }
  })

  app.delete<{ Querystring: RequestOf<typeof deleteQuery> }>('/v1/replies', {
    schema: {
      tags: ['replies'],
      summary: 'Delete the replies collected, up to a cursor',
      description: 'Deletes the reply the cursor names and every reply received before it: the backend has them. That frees the members\' reply quota (replyBytesPerMember); replies never collected are deleted after replyRetentionMs.',
      querystring: deleteQuery,
      response: {
        200: { description: 'the replies deleted', ...deleted },
        ...errorResponses(400)
      }
    }
  }, async (request): Promise<DeleteRepliesResponse> => await node.deleteReplies({ through: request.query.through }))
}
