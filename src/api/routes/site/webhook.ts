import { errorResponses } from '../../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import type { WebhookDispatcher } from '../../webhooks.js'

/** GET /v1/webhook: where events go and how many wait (never the secret). */
export const webhookRoutes: FastifyPluginAsync<{ webhooks?: WebhookDispatcher }> = async (app, { webhooks }) => {
  const count = { type: 'integer', minimum: 0 } as const
  app.get('/v1/webhook', {
    schema: {
      tags: ['webhooks'],
      summary: 'Webhook configuration and queue',
      description: 'The URL is shown without its query string. Events are signed: see X-TMTP-Signature in docs/api.md.',
      response: {
        200: {
          description: 'the webhook, or url null when none is configured',
          type: 'object',
          required: ['url', 'pending'],
          properties: {
            url: { type: 'string', nullable: true },
            pending: count,
            sent: count,
            failedAttempts: count,
            dropped: count,
            abandoned: count
          }
        },
        ...errorResponses()
      }
    }
  }, async () => webhooks === undefined
    ? { url: null, pending: 0 }
    : { url: webhooks.displayUrl, ...webhooks.stats() })
}
