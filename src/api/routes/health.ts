import type { FastifyPluginAsync } from 'fastify'

export interface HealthOptions {
  role: 'site' | 'member'
  peerId: string
}

/** GET /healthz: a liveness check for supervisors, without authentication. */
export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, { role, peerId }) => {
  app.get('/healthz', {
    config: { public: true },
    schema: {
      tags: ['health'],
      summary: 'Liveness check (no authentication)',
      security: [],
      response: {
        200: {
          description: 'the node is running',
          type: 'object',
          required: ['status', 'role', 'peerId'],
          properties: {
            status: { type: 'string', enum: ['ok'] },
            role: { type: 'string', enum: [role] },
            peerId: { type: 'string' }
          }
        }
      }
    }
  }, async () => ({ status: 'ok', role, peerId }))
}
