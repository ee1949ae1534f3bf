import { ApiError } from '../../errors.js'
import { attachmentId, errorResponses, time, type ResponseOf } from '../../schemas.js'
import type { FastifyPluginAsync } from 'fastify'
import { DEFAULT_MEDIA_TYPE, DEFAULTS, MAX_ATTACHMENT_NAME_BYTES, MAX_MEDIA_TYPE_BYTES, type SiteNode } from '../../../node/index.js'

/** What an upload is for and how long it lasts, as POST /v1/attachments describes it. */
export const ATTACHMENT_LIFE = `A send lists the upload by its id in attachments (at most ${DEFAULTS.maxMessageAttachmentBytes} bytes together by default, maxMessageAttachmentBytes) for attachmentHoldMs after the upload (default ${DEFAULTS.attachmentHoldMs / 60_000} minutes; later: 404 UNKNOWN_ATTACHMENT); any number of sends may list it. The file is sealed once, under a key of its own that every copy of those messages carries; each recipient device fetches it from the site. The site deletes it once every device it was sent to fetched it (or is no member device any more), or every message listing it expired.`

export const attachmentView = {
  type: 'object',
  required: ['id', 'name', 'mediaType', 'size', 'sha256', 'created', 'holdUntil'],
  properties: {
    id: { ...attachmentId, description: 'what a send lists in attachments' },
    name: { type: 'string', description: 'the file\'s name, as members see it' },
    mediaType: { type: 'string', description: `the file's media type; empty: ${DEFAULT_MEDIA_TYPE}` },
    size: { type: 'integer', minimum: 0, description: 'bytes' },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the file, hex' },
    created: time,
    holdUntil: { ...time, description: 'until when a send may list it' }
  }
} as const

const uploadQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: MAX_ATTACHMENT_NAME_BYTES, description: `the file's name as members see it: 1 to ${MAX_ATTACHMENT_NAME_BYTES} bytes of UTF-8, no control characters, / or \\` }
  }
} as const

const attachmentParams = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: attachmentId } } as const

/** What POST /v1/attachments (201) and GET /v1/attachments/:id answer. */
export type AttachmentResponse = ResponseOf<typeof attachmentView>

/** The media type of an upload: its Content-Type, but for the generic one (then none is stated). */
function mediaTypeOf (contentType: string | undefined): string {
  const type = (contentType ?? '').trim()
  return type === '' || type.toLowerCase() === DEFAULT_MEDIA_TYPE ? '' : type
}

/** POST /v1/attachments (the file's bytes, streamed), GET /v1/attachments/:id. */
export const attachmentRoutes: FastifyPluginAsync<{ node: SiteNode }> = async (app, { node }) => {
  // an upload is the file itself, of any type, taken in as it arrives: in this scope no parser
  // buffers a body (nor the JSON parser a file that is JSON), the route reads the request's stream
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_request, payload, done) => { done(null, payload) })

  app.post<{ Querystring: { name: string } }>('/v1/attachments', {
    schema: {
      tags: ['messages'],
      summary: 'Upload a file for messages to carry',
      description: `The body is the file, sent as it is (not JSON, not a form), with its size in Content-Length (else 411 LENGTH_REQUIRED; more than maxAttachmentBytes, default ${DEFAULTS.maxAttachmentBytes}: 413 ATTACHMENT_TOO_LARGE before a byte is read; one that would take the site's attachments past maxStoredAttachmentBytes, default ${DEFAULTS.maxStoredAttachmentBytes}, counting uploads under way: 507 ATTACHMENT_STORE_FULL, also before a byte is read, until deleted attachments make room) and its media type in Content-Type (at most ${MAX_MEDIA_TYPE_BYTES} bytes; ${DEFAULT_MEDIA_TYPE} when absent). The node seals it as it arrives and never holds it in memory. ${ATTACHMENT_LIFE}`,
      consumes: ['*/*'],
      querystring: uploadQuery,
      body: { description: 'the file\'s bytes' },
      response: { 201: { description: 'taken in', ...attachmentView }, ...errorResponses(400, 411, 413, 507) }
    }
  }, async (request, reply) => {
    const length = request.headers['content-length']
    if (length === undefined || !/^[0-9]{1,16}$/.test(length)) throw new ApiError('LENGTH_REQUIRED', 'an upload states its size in Content-Length')
    const view: AttachmentResponse = await node.uploadAttachment({
      name: request.query.name,
      mediaType: mediaTypeOf(request.headers['content-type']),
      size: Number(length),
      body: request.body as AsyncIterable<Uint8Array>
    })
    return await reply.code(201).send(view)
  })

  app.get<{ Params: { id: string } }>('/v1/attachments/:id', {
    schema: {
      tags: ['messages'],
      summary: 'An upload: its name, media type, size and SHA-256',
      params: attachmentParams,
      response: { 200: { description: 'the upload', ...attachmentView }, ...errorResponses(400, 404) }
    }
  }, async (request): Promise<AttachmentResponse> => await node.attachment(request.params.id))
}
