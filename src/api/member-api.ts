import { blockRoutes } from './routes/member/blocks.js'
import { eventRoutes } from './routes/member/events.js'
import { identityRoutes } from './routes/member/identity.js'
import { inboxRoutes } from './routes/member/inbox.js'
import { pageRoutes } from './routes/member/page.js'
import { postRoutes } from './routes/member/posts.js'
import { readStateRoutes } from './routes/member/read-state.js'
import { siteRoutes } from './routes/member/sites.js'
import { memberStatusRoutes } from './routes/member/status.js'
import { apiInfo } from './openapi.js'
import { createApiServer, type ApiOptions } from './server.js'
import type { FastifyInstance } from 'fastify'
import { type MemberNode } from '../node/index.js'

export interface MemberApiOptions extends ApiOptions {
  node: MemberNode
  /** The node's data folder: POST /v1/identity/backup seals its key files (without it, that route answers 404). */
  dataDir?: string
}

export const MEMBER_API_INFO = apiInfo(
  'TMTP member node API',
  'The local HTTP API of a TMTP member device: join sites, read the inbox, reply, leave and block.',
  { health: 'liveness', status: 'device status', sites: 'joining and leaving sites', blocks: 'blocked peers', inbox: 'messages and replies', identity: 'the device identity\'s encrypted backup' }
)

/**
 * A member device's local HTTP API (not listening: the caller does `await api.listen(...)`),
 * and the inbox page at GET / (src/web). Closing the API does not stop the node.
 */
export function createMemberApi (options: MemberApiOptions): FastifyInstance {
  const { node, dataDir } = options
  return createApiServer(options, MEMBER_API_INFO, { role: 'member', node }, async app => {
    await app.register(memberStatusRoutes, { node })
    await app.register(siteRoutes, { node })
    await app.register(blockRoutes, { node })
    await app.register(inboxRoutes, { node })
    await app.register(postRoutes, { node })
    await app.register(readStateRoutes, { node })
    await app.register(eventRoutes, { node })
    await app.register(identityRoutes, { node, dataDir })
    await app.register(pageRoutes)
  })
}
