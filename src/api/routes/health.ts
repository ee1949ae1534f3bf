import { errorSchema, type ResponseOf } from '../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import { type StorageFailure } from '../../node/index.js'

export interface HealthOptions {
  role: 'site' | 'member'
  node: {
    peerId: string
    /** The node's storage failure, if a write failed (then every write is refused until a restart). */
    storageFailure: () => StorageFailure | undefined
  }
}

const health = {
  type: 'object',
  required: ['status', 'role', 'peerId'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    role: { type: 'string', enum: ['site', 'member'] },
    peerId: { type: 'string' }
  }
} as const

/** What GET /healthz answers while the node works (200). */
export type HealthResponse = ResponseOf<typeof health>

/**
 * GET /healthz, without authentication, for supervisors and load balancers: 200 while the
 * node works; 503 STORAGE_FAILURE once a write failed (the node stays up and readable, but
 * stores and acknowledges nothing until it is restarted on its data folder).
 */
export const healthRoutes: FastifyPluginAsync<HealthOptions> = async (app, { role, node }) => {
  app.get('/healthz', {
    config: { public: true },
    schema: {
      tags: ['health'],
      summary: 'Health check (no authentication)',
      security: [],
      response: {
        // each API documents its own role
        200: { description: 'the node is running', ...health, properties: { ...health.properties, role: { type: 'string', enum: [role] } } },
        503: { description: 'STORAGE_FAILURE: a write failed; the node refuses every write until it is restarted (free disk space first)', ...errorSchema }
      }
    }
  }, async (_request, reply) => {
    const failure = node.storageFailure()
    if (failure === undefined) return { status: 'ok', role, peerId: node.peerId } satisfies HealthResponse
    return await reply.code(503).send({ error: { code: failure.code, message: `${failure.message} (since ${new Date(failure.at).toISOString()}): restart the node once the disk has room` } })
  })
}
