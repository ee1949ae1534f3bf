import { errorResponses } from '../../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import { type SiteNode } from '../../../node/index.js'

export interface SiteStatusOptions {
  node: SiteNode
  /** The site's display name, if the operator gave one. */
  name?: string
}

const count = { type: 'integer', minimum: 0 } as const

/** GET /v1/status: the node's identity, addresses and delivery counts. */
export const siteStatusRoutes: FastifyPluginAsync<SiteStatusOptions> = async (app, { node, name }) => {
  app.get('/v1/status', {
    schema: {
      tags: ['status'],
      summary: 'Node identity, addresses and delivery counts',
      description: 'Counts come from a scan of the stored statuses: poll it, do not hammer it.',
      response: {
        200: {
          description: 'the node status',
          type: 'object',
          required: ['role', 'peerId', 'listen', 'connectedPeers', 'queued', 'delivered', 'states', 'activeDeliveries'],
          properties: {
            role: { type: 'string', enum: ['site'] },
            peerId: { type: 'string' },
            name: { type: 'string' },
            listen: { type: 'array', items: { type: 'string' } },
            connectedPeers: count,
            queued: { ...count, description: 'envelopes in the outbox (one per message and device)' },
            delivered: { ...count, description: 'per-device statuses in state delivered' },
            states: {
              type: 'object',
              required: ['queued', 'delivered', 'expired', 'rejected', 'dropped', 'replaced'],
              properties: { queued: count, delivered: count, expired: count, rejected: count, dropped: count, replaced: count }
            },
            activeDeliveries: count
          }
        },
        ...errorResponses()
      }
    }
  }, async () => {
    const stats = await node.stats()
    return {
      role: 'site',
      peerId: node.peerId,
      ...(name === undefined ? {} : { name }),
      listen: node.multiaddrs(),
      connectedPeers: node.libp2p.getPeers().length,
      queued: stats.queued,
      delivered: stats.states.delivered,
      states: stats.states,
      activeDeliveries: stats.activeDeliveries
    }
  })
}
