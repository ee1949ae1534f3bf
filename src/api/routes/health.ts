import { errorSchema } from '../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import { type StorageFailure } from '../../node/index.js'

export interface HealthOptions {
  role: 'site' | 'member'
  peerId: string
  /** The node's storage failure, if a write failed (then every write is refused until a restart). */
  storageFailure: () => StorageFailure | undefined
}

/**
 * GET /healthz, without authentication, for supervisors and load balancers: 200 while the
 * node works; 503 STORAGE_FAILURE once a write failed (the node stays up and readable, but
 * stores and acknowledges nothing until it is restarted on its data folder).
 */
export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, { role, peerId, storageFailure }) => {
  app.get('/healthz', {
    config: { public: true },
    schema: {
      tags: ['health'],
      summary: 'Health check (no authentication)',
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
        },
        503: { description: 'STORAGE_FAILURE: a write failed; the node refuses every write until it is restarted (free disk space first)', ...errorSchema }
      }
    }
  }, async (_request, reply) => {
    const failure = storageFailure()
    if (failure === undefined) return { status: 'ok', role, peerId }
    return await reply.code(503).send({ error: { code: failure.code, message: `${failure.message} (since ${new Date(failure.at).toISOString()}): restart the node once the disk has room` } })
  })
}
