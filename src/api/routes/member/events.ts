import { ApiError } from '../../errors.js'
import { errorResponses } from '../../schemas.js'
import { inboxMessage, type InboxMessageResponse } from './inbox.js'
import type { FastifyPluginAsync } from 'fastify'
import { type InboxMessage, type MemberNode } from '../../../node/index.js'

/** Streams open at once (a browser tab holds one): past it 429, so that forgotten clients cannot pile up listeners. */
export const MAX_EVENT_STREAMS = 16
/** A comment line this often keeps idle connections open through timeouts and shows a dead client. */
const HEARTBEAT_MS = 25_000
/** A client that reads slower than messages arrive is dropped past this backlog; it reconnects and lists the inbox again. */
const MAX_BACKLOG_BYTES = 1024 * 1024

const MESSAGE_FIELDS = Object.keys(inboxMessage.properties) as Array<keyof InboxMessageResponse>

/** The message as GET /v1/inbox lists it: the schema's fields only, as fastify's serializer would send. */
function messageData (message: InboxMessage): string {
  return JSON.stringify(Object.fromEntries(MESSAGE_FIELDS.map(field => [field, message[field]])))
}

/**
 * GET /v1/events: Server-Sent Events of the messages the device receives. Authenticated with
 * the bearer token like every route: a browser reads it with fetch() and a ReadableStream,
 * which can send the Authorization header (EventSource cannot), so the token travels in no
 * URL and no cookie.
 */
export const eventRoutes: FastifyPluginAsync<{ node: MemberNode }> = async (app, { node }) => {
  const open = new Set<() => void>()
  // streams never end by themselves: close them, or closing the API would wait for them
  app.addHook('preClose', async () => { for (const end of open) end() })

  app.get('/v1/events', {
    schema: {
      tags: ['inbox'],
      summary: 'New messages as they arrive (Server-Sent Events)',
      description: `A text/event-stream: first \`event: ready\` (the stream is subscribed), then one \`event: message\` per message received, its data the message as GET /v1/inbox lists it; a comment line every ${HEARTBEAT_MS / 1000} s. Nothing is replayed: a client that reconnects lists the inbox again. At most ${MAX_EVENT_STREAMS} streams at once (429 past it).`,
      response: {
        200: { description: 'the event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        ...errorResponses()
      }
    }
  }, async (_request, reply) => {
    if (open.size >= MAX_EVENT_STREAMS) throw new ApiError('RATE_LIMITED', `${MAX_EVENT_STREAMS} event streams are open already`, { retryAfterSeconds: 5 })
    reply.hijack()
    const res = reply.raw
    // connection: close, so that an ended stream frees its socket at once (an idle keep-alive socket would hold a closing API open)
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', connection: 'close' })
    const write = (chunk: string): void => {
      if (res.writableLength > MAX_BACKLOG_BYTES) res.destroy()
      else res.write(chunk)
    }
    const onMessage = ({ detail }: CustomEvent<InboxMessage>): void => { write(`event: message\ndata: ${messageData(detail)}\n\n`) }
    const heartbeat = setInterval(() => { write(': ping\n\n') }, HEARTBEAT_MS)
    const end = (): void => {
      if (!open.delete(end)) return
      clearInterval(heartbeat)
      node.removeEventListener('message', onMessage)
      res.end()
    }
    open.add(end)
    node.addEventListener('message', onMessage)
    res.on('close', end)
    res.write('event: ready\ndata: {}\n\n')
  })
}
