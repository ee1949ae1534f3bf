import { BODY_ERRORS, errorResponses, peerId, time } from '../../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import { type MemberNode } from '../../../node/index.js'

const noContent = { description: 'done', type: 'null' } as const

/** GET /v1/blocks, POST /v1/blocks, DELETE /v1/blocks/:peer. */
export const blockRoutes: FastifyPluginAsync<{ node: MemberNode }> = async (app, { node }) => {
  app.get('/v1/blocks', {
    schema: {
      tags: ['blocks'],
      summary: 'Blocked peers',
      response: {
        200: {
          description: 'the blocked peers',
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
        },
        ...errorResponses()
      }
    }
  }, async () => ({ blocks: await node.blocked() }))

  app.post<{ Body: { peer: string, reason?: string } }>('/v1/blocks', {
    schema: {
      tags: ['blocks'],
      summary: 'Block a peer: its connections are closed and refused',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['peer'],
        properties: { peer: peerId, reason: { type: 'string', maxLength: 256 } }
      },
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
