import { BODY_ERRORS, CONTENT_FIELDS, contentProperties, errorResponses, messageIdParams, peerId, time, type RequestOf, type ResponseOf } from '../../schemas.js'
import { postRecord, type PostResponse } from './posts.js'
import { createReadStream } from 'node:fs'
import type { FastifyPluginAsync } from 'fastify'
import { ATTACHMENT_STATES, DEFAULT_MEDIA_TYPE, MAX_ATTACHMENTS, MAX_BODY_BYTES, MAX_SUBJECT_BYTES, type MemberNode } from '../../../node/index.js'

const inboxAttachment = {
  type: 'object',
  required: ['index', 'name', 'mediaType', 'size', 'sha256', 'state'],
  properties: {
    index: { type: 'integer', minimum: 0, description: 'its place in the message: GET /v1/inbox/{id}/attachments/{index}' },
    name: { type: 'string', description: 'the file\'s name, as the site gave it (text, never a path)' },
    mediaType: { type: 'string' },
    size: { type: 'integer', minimum: 0 },
    sha256: { type: 'string', description: 'SHA-256 of the file, hex' },
    state: { type: 'string', enum: ['available', ...ATTACHMENT_STATES], description: 'available: fetched when asked; wanted: being fetched; fetched: on this device; failed: given up (code)' },
    at: time,
    code: { type: 'string', description: 'why it failed, or why the last attempt did' }
  }
} as const

export const inboxMessage = {
  type: 'object',
  required: ['id', 'site', 'siteName', 'seq', ...CONTENT_FIELDS, 'group', 'attachments', 'created', 'expires', 'received', 'read'],
  properties: {
    id: { type: 'string' },
    site: { type: 'string', description: 'the PeerId of the site that sent it' },
    siteName: { type: 'string' },
    seq: { type: 'integer' },
    ...contentProperties,
    group: { type: 'string', description: 'the name of the site\'s group the message was sent to, shown beside the site\'s name; empty when it was not sent to a group' },
    attachments: { type: 'array', maxItems: MAX_ATTACHMENTS, items: inboxAttachment, description: 'files the message carries, each fetched from the site at once when small enough (autoFetchBytes), else when asked for' },
    created: time,
    expires: time,
    received: time,
    read: { type: 'boolean' }
  }
} as const

const inboxQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    unread: { type: 'string', enum: ['true', 'false'], description: 'true: only unread messages' },
    site: { ...peerId, description: 'only messages of this site' }
  }
} as const

// ids are unique per site only (spec 11.7): the site names the message where two sent one id
export const messageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    site: { ...peerId, description: 'the PeerId of the site that sent the message; needed only where two joined sites sent a message with this id (without it: 400 INVALID_ARGUMENT naming them)' }
  }
} as const

const inbox = { type: 'object', required: ['messages'], properties: { messages: { type: 'array', items: inboxMessage } } } as const

// lengths in characters: the node checks the UTF-8 bytes (INVALID_ARGUMENT)
const replyBody = {
  type: 'object',
  additionalProperties: false,
  required: ['body'],
  properties: { body: { type: 'string', maxLength: MAX_BODY_BYTES }, subject: { type: 'string', maxLength: MAX_SUBJECT_BYTES } }
} as const

/** A message as GET /v1/inbox lists it and GET /v1/inbox/:id answers it. */
export type InboxMessageResponse = ResponseOf<typeof inboxMessage>
/** What GET /v1/inbox answers. */
export type InboxResponse = ResponseOf<typeof inbox>
/** The body of POST /v1/inbox/:id/reply. */
export type ReplyBody = RequestOf<typeof replyBody>
/** The query of GET /v1/inbox/:id and POST /v1/inbox/:id/reply: which site's message, where two sent the id. */
export type InboxMessageQuery = RequestOf<typeof messageQuery>

const attachmentParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'index'],
  properties: { id: messageIdParams.properties.id, index: { type: 'string', pattern: '^(0|[1-9][0-9]?)$', description: 'the attachment\'s place in the message, from 0' } }
} as const

/** A file name in Content-Disposition (RFC 6266): ASCII fallback, and the name itself in UTF-8. */
function contentDisposition (name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(name)}`
}

/** GET /v1/inbox, GET and DELETE /v1/inbox/:id, POST /v1/inbox/:id/reply, GET /v1/inbox/:id/attachments/:index. */
export const inboxRoutes: FastifyPluginAsync<{ node: MemberNode }> = async (app, { node }) => {
  app.get<{ Querystring: RequestOf<typeof inboxQuery> }>('/v1/inbox', {
    schema: {
      tags: ['inbox'],
      summary: 'Messages in the inbox, opened',
      querystring: inboxQuery,
      response: {
        200: { description: 'the messages, oldest first per site', ...inbox },
        ...errorResponses(400, 409)
      }
    }
  }, async (request): Promise<InboxResponse> => ({ messages: await node.inbox({ unread: request.query.unread === 'true', site: request.query.site }) }))

  app.get<{ Params: { id: string }, Querystring: InboxMessageQuery }>('/v1/inbox/:id', {
    schema: {
      tags: ['inbox'],
      summary: 'One message; marks it read',
      description: 'Ids are unique per site: where two joined sites sent a message with this id, the site query parameter says which.',
      params: messageIdParams,
      querystring: messageQuery,
      response: { 200: { description: 'the message, now read', ...inboxMessage }, ...errorResponses(400, 404, 409) }
    }
  }, async (request): Promise<InboxMessageResponse> => await node.read(request.params.id, { site: request.query.site }))

  app.delete<{ Params: { id: string }, Querystring: InboxMessageQuery }>('/v1/inbox/:id', {
    schema: {
      tags: ['inbox'],
      summary: 'Delete a message, with its attachments\' files',
      description: 'Its id stays known to the device: the site sending it again is answered as for a duplicate, and nothing is stored again. Where two joined sites sent a message with this id, the site query parameter says which.',
      params: messageIdParams,
      querystring: messageQuery,
      response: { 204: { description: 'deleted', type: 'null' }, ...errorResponses(400, 404) }
    }
  }, async (request, reply) => {
    await node.deleteMessage(request.params.id, { site: request.query.site })
    return await reply.code(204).send()
  })

  app.get<{ Params: { id: string, index: string }, Querystring: InboxMessageQuery }>('/v1/inbox/:id/attachments/:index', {
    schema: {
      tags: ['inbox'],
      summary: 'An attachment of a message, as a file (fetched from its site first if need be)',
      description: `Answers the file with its media type (${DEFAULT_MEDIA_TYPE} when it names none) as a download. A file this device does not hold yet is fetched from the site first, resuming what an earlier attempt fetched; the answer waits for it. 404 UNKNOWN_ATTACHMENT for an index the message does not have; 422 UNKNOWN_BLOB once the site deleted it (every device fetched it, or it expired); 502 UNREACHABLE when the site cannot be reached.`,
      params: attachmentParams,
      querystring: messageQuery,
      response: { 200: { description: 'the file\'s bytes' }, ...errorResponses(400, 404, 409, 422, 502) }
    }
  }, async (request, reply) => {
    const file = await node.attachmentFile(request.params.id, Number(request.params.index), { site: request.query.site })
    return await reply
      .type(file.mediaType === '' ? DEFAULT_MEDIA_TYPE : file.mediaType)
      .header('Content-Disposition', contentDisposition(file.name))
      .header('Content-Length', String(file.size))
      // the site chose the type: a browser must not guess another, nor run what it downloads
      .header('X-Content-Type-Options', 'nosniff')
      .header('Content-Security-Policy', 'sandbox')
      .send(createReadStream(file.path))
  })

  app.post<{ Params: { id: string }, Querystring: InboxMessageQuery, Body: ReplyBody }>('/v1/inbox/:id/reply', {
    schema: {
      tags: ['inbox'],
      summary: 'Reply to a message (sealed to its site, sent as soon as it is reachable)',
      description: 'The subject defaults to "Re: " and the original subject. Where two joined sites sent a message with this id, the site query parameter says which. Answers the queued reply; follow it at GET /v1/posts/{id}.',
      params: messageIdParams,
      querystring: messageQuery,
      body: replyBody,
      response: { 202: { description: 'the reply, queued for the site', ...postRecord }, ...errorResponses(...BODY_ERRORS, 404, 409) }
    }
  }, async (request, reply) => {
    const posted: PostResponse = await node.reply(request.params.id, { ...request.body, site: request.query.site })
    return await reply.code(202).send(posted)
  })
}
