import { errorSchema, publicErrorResponses, type ResponseOf } from '../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import { type StorageFailure } from '../../node/index.js'

export interface HealthOptions {
  role: 'site' | 'member'
  node: {
    /** The node's storage failure, if a write failed (then every write is refused until a restart). */
    storageFailure: () => StorageFailure | undefined
  }
}

// nothing that identifies the node or its owner: anyone who reaches the port may ask
const health = {
  type: 'object',
  required: ['status', 'role'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    role: { type: 'string', enum: ['site', 'member'] }
  }
} as const

/** What GET /healthz answers while the node works (200). */
export type HealthResponse = ResponseOf<typeof health>

/**
 * GET /healthz, without authentication, for supervisors and load balancers: 200 while the
 * node works; 503 STORAGE_FAILURE once a write failed (the node stays up and readable, but
 * stores and acknowledges nothing until it is restarted on its data folder). It names neither
 * the node (its PeerId is in GET /v1/status) nor the failure's reason, which carries the data
 * folder's path (a user's home, on a device): that is in GET /v1/status and the node's log.
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
        503: { description: 'STORAGE_FAILURE: a write failed; the node refuses every write until it is restarted (free disk space first); the reason is in GET /v1/status', ...errorSchema },
        ...publicErrorResponses()
      }
    }
  }, async (_request, reply) => {
    const failure = node.storageFailure()
    if (failure === undefined) return { status: 'ok', role } satisfies HealthResponse
    return await reply.code(503).send({ error: { code: failure.code, message: `a write failed at ${new Date(failure.at).toISOString()}: restart the node once the disk has room (the reason is in GET /v1/status and the node's log)` } })
  })
}
