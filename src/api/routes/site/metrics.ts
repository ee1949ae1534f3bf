import { errorResponses } from '../../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import type { SiteMetrics } from '../../metrics.js'

/** GET /metrics: Prometheus text format (behind the bearer token like the rest). */
export const metricsRoutes: FastifyPluginAsync<{ metrics: SiteMetrics }> = async (app, { metrics }) => {
  app.get('/metrics', {
    schema: {
      tags: ['status'],
      summary: 'Prometheus metrics (text exposition format)',
      response: {
        200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } },
        ...errorResponses()
      }
    }
  }, async (_request, reply) => {
    const text = await metrics.render()
    return await reply.type(metrics.contentType).send(text)
  })
}
