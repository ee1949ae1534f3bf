import { BODY_ERRORS, errorResponses, peerId, time } from '../../schemas.js'
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

/** POST /v1/join, GET /v1/sites, DELETE /v1/sites/:peerId (leave). */
export const siteRoutes: FastifyPluginAsync<{ node: MemberNode }> = async (app, { node }) => {
  app.post<{ Body: { token: string } }>('/v1/join', {
    schema: {
      tags: ['sites'],
      summary: 'Join a site with an invite token',
      description: 'A site that refuses answers 422 with the protocol code (INVITE_USED, INVITE_UNKNOWN, EXPIRED, BAD_TOKEN, BAD_SIGNATURE, BLOCKED...).',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['token'],
        properties: { token: { type: 'string', minLength: 1, maxLength: MAX_TOKEN_LENGTH } }
      },
      response: {
        201: {
          description: 'joined',
          type: 'object',
          required: ['site', 'siteName', 'member'],
          properties: { site: { type: 'string' }, siteName: { type: 'string' }, member: { type: 'string' } }
        },
        ...errorResponses(...BODY_ERRORS, 422, 502, 504)
      }
    }
  }, async (request, reply) => await reply.code(201).send(await node.join(request.body.token)))

  app.get('/v1/sites', {
    schema: {
      tags: ['sites'],
      summary: 'Sites joined (and left)',
      response: {
        200: { description: 'every site joined, left ones included', type: 'object', required: ['sites'], properties: { sites: { type: 'array', items: siteRecord } } },
        ...errorResponses()
      }
    }
  }, async () => ({ sites: await node.sites() }))

  app.delete<{ Params: { peerId: string } }>('/v1/sites/:peerId', {
    schema: {
      tags: ['sites'],
      summary: 'Leave a site',
      description: 'Tells the site (signed) and blocks it locally whatever it answers: nothing from it is accepted again. notified says whether the site acknowledged.',
      params: { type: 'object', additionalProperties: false, required: ['peerId'], properties: { peerId } },
      response: {
        200: {
          description: 'left (and blocked)',
          type: 'object',
          required: ['site', 'notified'],
          properties: { site: { type: 'string' }, notified: { type: 'boolean' }, code: { type: 'string' } }
        },
        ...errorResponses(400, 404)
      }
    }
  }, async request => await node.leave(request.params.peerId))
}
