import { BODY_ERRORS, errorResponses, peerId, time, type RequestOf, type ResponseOf } from '../../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import { type MemberNode } from '../../../node/index.js'

/** Invite tokens are `tmtp1:` and a base64url signed invite of a few hundred bytes. */
const MAX_TOKEN_LENGTH = 8192

const siteRecord = {
  type: 'object',
  required: ['peerId', 'name', 'member', 'addrs', 'joined'],
  properties: {
    peerId: { type: 'string' },
    name: { type: 'string' },
    member: { type: 'string', description: 'this member\'s id at the site' },
    addrs: { type: 'array', items: { type: 'string' } },
    joined: time,
    left: { ...time, description: 'set once the member left the site (final)' }
  }
} as const

const joinBody = {
  type: 'object',
  additionalProperties: false,
  required: ['token'],
  properties: { token: { type: 'string', minLength: 1, maxLength: MAX_TOKEN_LENGTH } }
} as const

const joined = {
  type: 'object',
  required: ['site', 'siteName', 'member'],
  properties: { site: { type: 'string' }, siteName: { type: 'string' }, member: { type: 'string' } }
} as const

const sites = { type: 'object', required: ['sites'], properties: { sites: { type: 'array', items: siteRecord } } } as const

const left = {
  type: 'object',
  required: ['site', 'notified'],
  properties: { site: { type: 'string' }, notified: { type: 'boolean' }, code: { type: 'string' } }
} as const

/** The body of POST /v1/join. */
export type JoinBody = RequestOf<typeof joinBody>
/** What POST /v1/join answers (201). */
export type JoinResponse = ResponseOf<typeof joined>
/** A site as GET /v1/sites lists it. */
export type SiteResponse = ResponseOf<typeof siteRecord>
/** What GET /v1/sites answers. */
export type SitesResponse = ResponseOf<typeof sites>
/** What DELETE /v1/sites/:peerId (leave) answers. */
export type LeaveResponse = ResponseOf<typeof left>

/** POST /v1/join, GET /v1/sites, DELETE /v1/sites/:peerId (leave). */
export const siteRoutes: FastifyPluginAsync<{ node: MemberNode }> = async (app, { node }) => {
  app.post<{ Body: JoinBody }>('/v1/join', {
    schema: {
      tags: ['sites'],
      summary: 'Join a site with an invite token',
      description: 'A site that refuses answers 422 with the protocol code (INVITE_USED, INVITE_UNKNOWN, EXPIRED, BAD_TOKEN, BAD_SIGNATURE, BLOCKED...).',
      body: joinBody,
      response: {
        201: { description: 'joined', ...joined },
        ...errorResponses(...BODY_ERRORS, 422, 502, 504)
      }
    }
  }, async (request, reply) => {
    const answer: JoinResponse = await node.join(request.body.token)
    return await reply.code(201).send(answer)
  })

  app.get('/v1/sites', {
    schema: {
      tags: ['sites'],
      summary: 'Sites joined (and left)',
      response: {
        200: { description: 'every site joined, left ones included', ...sites },
        ...errorResponses()
      }
    }
  }, async (): Promise<SitesResponse> => ({ sites: await node.sites() }))

  app.delete<{ Params: { peerId: string } }>('/v1/sites/:peerId', {
    schema: {
      tags: ['sites'],
      summary: 'Leave a site',
      description: 'Tells the site (signed) and blocks it locally whatever it answers: nothing from it is accepted again. notified says whether the site acknowledged.',
      params: { type: 'object', additionalProperties: false, required: ['peerId'], properties: { peerId } },
      response: {
        200: { description: 'left (and blocked)', ...left },
        ...errorResponses(400, 404)
      }
    }
  }, async (request): Promise<LeaveResponse> => await node.leave(request.params.peerId))
}
