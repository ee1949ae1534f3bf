import { errorResponses, storageFailure, storageFailureField, type ResponseOf } from '../../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import { DELIVERY_STATES, type DeliveryState, type SiteNode } from '../../../node/index.js'

export interface SiteStatusOptions {
  node: SiteNode
  /** The site's display name, if the operator gave one. */
  name?: string
}

const count = { type: 'integer', minimum: 0 } as const

/** One count per delivery state. */
const stateCounts = {
  type: 'object',
  required: DELIVERY_STATES,
  properties: Object.fromEntries(DELIVERY_STATES.map(state => [state, count])) as Record<DeliveryState, typeof count>
} as const

const siteStatus = {
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
    states: stateCounts,
    activeDeliveries: count,
    storageFailure
  }
} as const

/** What the site's GET /v1/status answers. */
export type SiteStatusResponse = ResponseOf<typeof siteStatus>

/** GET /v1/status: the node's identity, addresses and delivery counts. */
export const siteStatusRoutes: FastifyPluginAsync<SiteStatusOptions> = async (app, { node, name }) => {
  app.get('/v1/status', {
    schema: {
      tags: ['status'],
      summary: 'Node identity, addresses and delivery counts',
      description: 'Counts come from a scan of the stored statuses: poll it, do not hammer it.',
      response: {
        200: { description: 'the node status', ...siteStatus },
        ...errorResponses()
      }
    }
  }, async (): Promise<SiteStatusResponse> => {
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
      activeDeliveries: stats.activeDeliveries,
      ...storageFailureField(node)
    }
  })
}
