import { codeFromWire, type ErrorCode } from '../../src/protocol/errors.js'
import { decodeMessage } from '../../src/protocol/messages.js'
import { BlobReply } from '../../src/protocol/pb/tmtp.js'
import type { Answer } from './conversation.js'

/** What a site under test answered on a /tmtp/blob/1.0.0 stream, read as spec 15.6 says. */
export interface BlobReplies {
  chunks: Array<{ index: number, sealed: Uint8Array }>
  error?: ErrorCode
  end: Answer['end']
  /** What breaks the spec: frames that do not decode, or without exactly one member set. */
  problems: string[]
}

export function readBlobReplies (answer: Answer): BlobReplies {
  const out: BlobReplies = { chunks: [], end: answer.end, problems: [] }
  for (const frame of answer.frames) {
    let reply: BlobReply
    try {
      reply = decodeMessage(BlobReply, frame, 'blob reply')
    } catch (err) {
      out.problems.push(`a frame that is no BlobReply: ${(err as Error).message}`)
      continue
    }
    if ((reply.chunk === undefined) === (reply.error === undefined)) out.problems.push('a BlobReply without exactly one member set')
    if (out.error !== undefined) out.problems.push('a frame after BlobReply{error}')
    if (reply.chunk !== undefined) out.chunks.push({ index: reply.chunk.index, sealed: reply.chunk.sealed })
    if (reply.error !== undefined) out.error = codeFromWire(reply.error.code)
  }
  return out
}

/** One line for a reason: what was answered. */
export function describeBlobReplies (r: BlobReplies): string {
  const parts = [`chunks [${r.chunks.map(c => c.index).join(', ')}]`]
  if (r.error !== undefined) parts.push(`error ${r.error}`)
  parts.push(`stream ${r.end}`)
  if (r.problems.length > 0) parts.push(`problems: ${r.problems.join('; ')}`)
  return parts.join(', ')
}
