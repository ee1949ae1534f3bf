import { errorResponses, memberRefParams, time, type ResponseOf } from '../../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import { type SiteNode } from '../../../node/index.js'

export const memberView = {
  type: 'object',
  required: ['id', 'ref', 'created', 'devices'],
  properties: {
    id: { type: 'string' },
    ref: { type: 'string' },
    created: time,
    devices: {
      type: 'array',
      items: {
        type: 'object',
        required: ['peerId', 'name', 'joined'],
        properties: { peerId: { type: 'string' }, name: { type: 'string' }, joined: time }
      }
    }
  }
} as const

const members = { type: 'object', required: ['members'], properties: { members: { type: 'array', items: memberView } } } as const

/** A member and its devices (GET and DELETE /v1/members/:ref). */
export type MemberResponse = ResponseOf<typeof memberView>
/** What GET /v1/members answers. */
export type MembersResponse = ResponseOf<typeof members>

/** GET /v1/members, GET and DELETE /v1/members/:ref. */
export const memberRoutes: FastifyPluginAsync<{ node: SiteNode }> = async (app, { node }) => {
  app.get('/v1/members', {
    schema: {
      tags: ['members'],
      summary: 'List members and their devices',
      response: {
        200: { description: 'every member', ...members },
        ...errorResponses()
      }
    }
  }, async (): Promise<MembersResponse> => ({ members: await node.members() }))

  app.get<{ Params: { ref: string } }>('/v1/members/:ref', {
    schema: {
      tags: ['members'],
      summary: 'One member, by member id or user reference',
      params: memberRefParams,
      response: { 200: { description: 'the member', ...memberView }, ...errorResponses(400, 404) }
    }
  }, async (request): Promise<MemberResponse> => await node.member(request.params.ref))

  app.delete<{ Params: { ref: string } }>('/v1/members/:ref', {
    schema: {
      tags: ['members'],
      summary: 'Remove a member and all its devices',
      description: 'At once: the connections of its devices end, messages still queued for them are dropped, and every invite not yet redeemed for its user reference is revoked (a device that joins with one is refused INVITE_UNKNOWN). Invites issued afterwards for the reference work (they make a new member). Answers the removed member.',
      params: memberRefParams,
      response: { 200: { description: 'the member as it was before removal', ...memberView }, ...errorResponses(400, 404) }
    }
  }, async (request): Promise<MemberResponse> => await node.removeMember(request.params.ref))
}
