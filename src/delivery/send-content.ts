import { encodeContent } from '../crypto/index.js'
import { isTmtpError, type Attachment } from '../protocol/index.js'
import { NodeError } from '../util/index.js'
import { messageIdFromHex } from './ids.js'
import type { SendRequest } from './send-request.js'

/**
 * A send whose attachments the site node resolved (src/node/site-blobs.ts): every copy's
 * Content lists each with its key (spec 11.2). The outbox hands the request to the encoder as
 * it is, so they travel with it.
 */
export interface ResolvedSend extends SendRequest {
  sealedAttachments?: Attachment[]
}

/**
 * The encoded Content of a send for each group label its members see (spec 11.2: `group`):
 * one encoding per label, the first (no label) at once, so that a content over its limits
 * fails the send before anything is resolved (INVALID_ARGUMENT).
 */
export function contentEncoder (req: ResolvedSend): (group?: string) => Uint8Array {
  const thread = messageIdFromHex(req.thread, 'thread')
  const replyTo = messageIdFromHex(req.replyTo, 'replyTo')
  const encoded = new Map<string, Uint8Array>()
  const contentFor = (group = ''): Uint8Array => {
    let content = encoded.get(group)
    if (content === undefined) {
      try {
        // the fields written out: spreading a shared object into each cost ~2 µs a send (issue #14)
        content = encodeContent({ subject: req.subject, body: req.body, contentType: req.contentType ?? '', thread, replyTo, attachments: req.sealedAttachments ?? [], group })
      } catch (err) {
        if (isTmtpError(err)) throw new NodeError('INVALID_ARGUMENT', err.message)
        throw err
      }
      encoded.set(group, content)
    }
    return content
  }
  contentFor()
  return contentFor
}
