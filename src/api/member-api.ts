import { blockRoutes } from './routes/member/blocks.js'
import { inboxRoutes } from './routes/member/inbox.js'
import { postRoutes } from './routes/member/posts.js'
import { siteRoutes } from './routes/member/sites.js'
import { memberStatusRoutes } from './routes/member/status.js'
import { apiInfo } from './openapi.js'
import { createApiServer, type ApiOptions } from './server.js'
import type { FastifyInstance } from 'fastify'
import { type MemberNode } from '../node/index.js'

export interface MemberApiOptions extends ApiOptions {
  node: MemberNode
}

export const MEMBER_API_INFO = apiInfo(
  'TMTP member node API',
  'The local HTTP API of a TMTP member device: join sites, read the inbox, reply, leave and block.',
  { health: 'liveness', status: 'device status', sites: 'joining and leaving sites', blocks: 'blocked peers', inbox: 'messages and replies' }
)

/**
 * A member device's local HTTP API (not listening: the caller does `await api.listen(...)`).
 * Closing the API does not stop the node.
 */
export function createMemberApi (options: MemberApiOptions): FastifyInstance {
  const { node } = options
  return createApiServer(options, MEMBER_API_INFO, { role: 'member', node }, async app => {
    await app.register(memberStatusRoutes, { node })
    await app.register(siteRoutes, { node })
    await app.register(blockRoutes, { node })
    await app.register(inboxRoutes, { node })
    await app.register(postRoutes, { node })
  })
}
