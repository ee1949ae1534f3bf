import { healthRoutes } from './routes/health.js'
import { blockRoutes } from './routes/member/blocks.js'
import { inboxRoutes } from './routes/member/inbox.js'
import { postRoutes } from './routes/member/posts.js'
import { siteRoutes } from './routes/member/sites.js'
import { memberStatusRoutes } from './routes/member/status.js'
import { createApiServer, type ApiOptions } from './server.js'
import type { FastifyInstance } from 'fastify'
import { type MemberNode } from '../node/index.js'

export interface MemberApiOptions extends ApiOptions {
  node: MemberNode
}

export const MEMBER_API_INFO = {
  title: 'TMTP member node API',
  description: 'The local HTTP API of a TMTP member device: join sites, read the inbox, reply, leave and block. Every route but /healthz and /openapi.json needs `Authorization: Bearer <token>`. Errors are `{ error: { code, message } }` with a stable code.',
  tags: [
    { name: 'health', description: 'liveness' },
    { name: 'status', description: 'device status' },
    { name: 'sites', description: 'joining and leaving sites' },
    { name: 'blocks', description: 'blocked peers' },
    { name: 'inbox', description: 'messages and replies' }
  ]
}

/**
 * A member device's local HTTP API (not listening: the caller does `await api.listen(...)`).
 * Closing the API does not stop the node.
 */
export function createMemberApi (options: MemberApiOptions): FastifyInstance {
  const { node } = options
  return createApiServer(options, MEMBER_API_INFO, async app => {
    await app.register(healthRoutes, { role: 'member', peerId: node.peerId, storageFailure: () => node.storageFailure() })
    await app.register(memberStatusRoutes, { node })
    await app.register(siteRoutes, { node })
    await app.register(blockRoutes, { node })
    await app.register(inboxRoutes, { node })
    await app.register(postRoutes, { node })
  })
}
