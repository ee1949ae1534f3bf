import { BODY_ERRORS, errorResponses, peerId, time, type RequestOf, type ResponseOf } from '../../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import { type MemberNode } from '../../../node/index.js'

const noContent = { description: 'done', type: 'null' } as const

/** A block's reason is the member's own note: bounded so that a block record stays small. */
const MAX_BLOCK_REASON_LENGTH = 256

const blocks = {
  type: 'object',
  required: ['blocks'],
  properties: {
    blocks: {
      type: 'array',
      items: {
        type: 'object',
        required: ['peer', 'at', 'reason'],
        properties: { peer: { type: 'string' }, at: time, reason: { type: 'string' } }
      }
    }
  }
} as const

const blockBody = {
  type: 'object',
  additionalProperties: false,
  required: ['peer'],
  properties: { peer: peerId, reason: { type: 'string', maxLength: MAX_BLOCK_REASON_LENGTH } }
} as const

/** What GET /v1/blocks answers. */
export type BlocksResponse = ResponseOf<typeof blocks>
/** The body of POST /v1/blocks. */
export type BlockBody = RequestOf<typeof blockBody>

/** GET /v1/blocks, POST /v1/blocks, DELETE /v1/blocks/:peer. */
export const blockRoutes: FastifyPluginAsync<{ node: MemberNode }> = async (app, { node }) => {
  app.get('/v1/blocks', {
    schema: {
      tags: ['blocks'],
      summary: 'Blocked peers',
      response: {
        200: { description: 'the blocked peers', ...blocks },
        ...errorResponses()
      }
    }
  }, async (): Promise<BlocksResponse> => ({ blocks: await node.blocked() }))

  app.post<{ Body: BlockBody }>('/v1/blocks', {
    schema: {
      tags: ['blocks'],
      summary: 'Block a peer: its connections are closed and refused',
      body: blockBody,
      response: { 204: noContent, ...errorResponses(...BODY_ERRORS) }
    }
  }, async (request, reply) => {
    await node.block(request.body.peer, request.body.reason)
    return await reply.code(204).send()
  })

  app.delete<{ Params: { peer: string } }>('/v1/blocks/:peer', {
    schema: {
      tags: ['blocks'],
      summary: 'Unblock a peer (no error if it was not blocked)',
      params: { type: 'object', additionalProperties: false, required: ['peer'], properties: { peer: peerId } },
      response: { 204: noContent, ...errorResponses(400) }
    }
  }, async (request, reply) => {
    await node.unblock(request.params.peer)
    return await reply.code(204).send()
  })
}
