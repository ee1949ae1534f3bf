import { errorResponses, storageFailure, storageFailureField, type ResponseOf } from '../../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import { type MemberNode } from '../../../node/index.js'

const count = { type: 'integer', minimum: 0 } as const

const memberStatus = {
  type: 'object',
  required: ['role', 'peerId', 'listen', 'connectedPeers', 'sites', 'unread'],
  properties: {
    role: { type: 'string', enum: ['member'] },
    peerId: { type: 'string' },
    listen: { type: 'array', items: { type: 'string' } },
    connectedPeers: count,
    sites: { ...count, description: 'sites joined and not left' },
    unread: count,
    storageFailure
  }
} as const

/** What the member's GET /v1/status answers. */
export type MemberStatusResponse = ResponseOf<typeof memberStatus>

/** GET /v1/status: the device's identity, addresses, joined sites and unread messages. */
export const memberStatusRoutes: FastifyPluginAsync<{ node: MemberNode }> = async (app, { node }) => {
  app.get('/v1/status', {
    schema: {
      tags: ['status'],
      summary: 'Device identity, addresses, sites and unread count',
      response: {
        200: { description: 'the device status', ...memberStatus },
        ...errorResponses()
      }
    }
  }, async (): Promise<MemberStatusResponse> => {
    const sites = await node.sites()
    const unread = await node.inbox({ unread: true })
    return {
      role: 'member',
      peerId: node.peerId,
      listen: node.multiaddrs(),
      connectedPeers: node.libp2p.getPeers().length,
      sites: sites.filter(s => s.left === undefined).length,
      unread: unread.length,
      ...storageFailureField(node)
    }
  })
}
