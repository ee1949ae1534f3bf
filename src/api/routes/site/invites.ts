import { BODY_ERRORS, errorResponses, MEMBER_NAMES, time, type RequestOf, type ResponseOf } from '../../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import { MAX_REF_BYTES, type SiteNode } from '../../../node/index.js'

const inviteBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ref: { type: 'string', maxLength: MAX_REF_BYTES, description: `the site's user reference (at most ${MAX_REF_BYTES} UTF-8 bytes); ${MEMBER_NAMES}, so a reference of a member id's shape is refused (400 INVALID_ARGUMENT)` },
    expiresInSeconds: { type: 'integer', minimum: 1, maximum: 365 * 24 * 3600, description: 'default the node\'s (7 days)' }
  }
} as const

const invite = {
  type: 'object',
  required: ['token', 'ref', 'expires'],
  properties: { token: { type: 'string' }, ref: { type: 'string' }, expires: time }
} as const

/** The body of POST /v1/invites (optional). */
export type InviteBody = RequestOf<typeof inviteBody>
/** What POST /v1/invites answers (201). */
export type InviteResponse = ResponseOf<typeof invite>

/** POST /v1/invites. */
export const inviteRoutes: FastifyPluginAsync<{ node: SiteNode }> = async (app, { node }) => {
  app.post<{ Body: InviteBody | undefined }>('/v1/invites', {
    schema: {
      tags: ['members'],
      summary: 'Issue a one-time invite token',
      description: 'The body is optional. A ref binds the invite to the site\'s own user reference: every device that joins with an invite for it is a device of the same member.',
      body: inviteBody,
      response: {
        201: { description: 'the invite: give the token to the member', ...invite },
        ...errorResponses(...BODY_ERRORS)
      }
    },
    // no body at all means "no options"
    preValidation: async request => { request.body ??= {} }
  }, async (request, reply) => {
    const body = request.body ?? {}
    const issued: InviteResponse = await node.createInvite({
      ref: body.ref,
      expiresInMs: body.expiresInSeconds === undefined ? undefined : body.expiresInSeconds * 1000
    })
    return await reply.code(201).send(issued)
  })
}
