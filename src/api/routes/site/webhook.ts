import { errorResponses, type ResponseOf } from '../../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import type { WebhookDispatcher } from '../../webhooks.js'

const count = { type: 'integer', minimum: 0 } as const

const webhook = {
  type: 'object',
  required: ['url', 'pending'],
  properties: {
    url: { type: 'string', nullable: true },
    pending: count,
    sent: count,
    failedAttempts: count,
    abandoned: count
  }
} as const

/** What GET /v1/webhook answers. */
export type WebhookResponse = ResponseOf<typeof webhook>

/** GET /v1/webhook: where events go and how many wait (never the secret). */
export const webhookRoutes: FastifyPluginAsync<{ webhooks?: WebhookDispatcher }> = async (app, { webhooks }) => {
  app.get('/v1/webhook', {
    schema: {
      tags: ['webhooks'],
      summary: 'Webhook configuration and journal',
      description: 'The URL is shown without its query string. Events are signed: see X-TMTP-Signature in docs/api.md.',
      response: {
        200: { description: 'the webhook, or url null when none is configured', ...webhook },
        ...errorResponses()
      }
    }
  }, async (): Promise<WebhookResponse> => webhooks === undefined
    ? { url: null, pending: 0 }
    : { url: webhooks.displayUrl, ...await webhooks.stats() })
}
