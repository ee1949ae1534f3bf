import { SiteMetrics } from './metrics.js'
import { apiInfo } from './openapi.js'
import { attachmentRoutes } from './routes/site/attachments.js'
import { groupRoutes } from './routes/site/groups.js'
import { inviteRoutes } from './routes/site/invites.js'
import { memberRoutes } from './routes/site/members.js'
import { messageRoutes } from './routes/site/messages.js'
import { metricsRoutes } from './routes/site/metrics.js'
import { replyRoutes } from './routes/site/replies.js'
import { siteStatusRoutes } from './routes/site/status.js'
import { webhookRoutes } from './routes/site/webhook.js'
import { createApiServer, type ApiOptions } from './server.js'
import { WebhookDispatcher, forwardSiteEvents, type WebhookConfig } from './webhooks.js'
import type { FastifyInstance } from 'fastify'
import { NodeError, type SiteNode } from '../node/index.js'

export interface SiteApiOptions extends ApiOptions {
  node: SiteNode
  /** The site's display name, shown by GET /v1/status. */
  name?: string
  /** Where to POST delivery receipts and replies; none when not set. */
  webhook?: WebhookConfig
}

export const SITE_API_INFO = apiInfo(
  'TMTP site node API',
  'The local HTTP API of a TMTP site node, for the site\'s web backend: send messages to members, follow their delivery, issue invites, manage members and their groups, read replies.',
  {
    health: 'liveness',
    status: 'node status and metrics',
    messages: 'sending, attachments and delivery status',
    members: 'invites and members',
    groups: 'groups of members, which a send may name',
    replies: 'replies from members',
    webhooks: 'receipts and replies pushed to the backend'
  }
)

/**
 * The site node's local HTTP API (not listening: the caller does `await api.listen(...)`).
 * Closing the API stops its webhooks and metrics, not the node.
 */
export function createSiteApi (options: SiteApiOptions): FastifyInstance {
  const { node } = options
  if (options.webhook !== undefined && node.journal === undefined) throw new NodeError('INVALID_ARGUMENT', 'webhooks read the node\'s event journal: create the site node with eventJournal: true')
  const webhooks = options.webhook === undefined || node.journal === undefined ? undefined : new WebhookDispatcher(options.webhook, node.journal, { log: options.logger })
  const metrics = new SiteMetrics(node, webhooks)
  const unforward = webhooks === undefined ? undefined : forwardSiteEvents(node, webhooks)
  let app: FastifyInstance
  try {
    app = createApiServer(options, SITE_API_INFO, { role: 'site', node }, async app => {
      await app.register(siteStatusRoutes, { node, name: options.name })
      await app.register(metricsRoutes, { metrics })
      await app.register(messageRoutes, { node })
      await app.register(attachmentRoutes, { node })
      await app.register(inviteRoutes, { node })
      await app.register(memberRoutes, { node })
      await app.register(groupRoutes, { node })
      await app.register(replyRoutes, { node })
      await app.register(webhookRoutes, { webhooks })
    })
  } catch (err) {
    unforward?.()
    webhooks?.stop()
    metrics.stop()
    throw err
  }
  app.addHook('onClose', async () => {
    unforward?.()
    webhooks?.stop()
    metrics.stop()
  })
  return app
}
