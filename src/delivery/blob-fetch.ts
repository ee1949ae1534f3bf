import { blobKey, chunkCount, openChunk } from '../crypto/index.js'
import { BlobReply, BlobRequest, codeFromWire, decodeMessage, ErrorCode, TmtpError, type Attachment } from '../protocol/index.js'
import type { FramedStream } from './framed-stream.js'

/** Where a device puts the chunks it opened, in order: a file it appends to. */
export interface ChunkSink {
  /** Chunk `index` (the next one) opened: kept before the next is opened. */
  append: (index: number, plaintext: Uint8Array) => Promise<void>
}

/**
 * The device's end of one /tmtp/blob/1.0.0 request for chunks (spec 15.6): asks for the
 * chunks from `first`, opens each as it comes and hands it to the sink, in order. Resolves
 * when the stream ends: with every chunk kept, or fewer when it was cut (the caller resumes
 * from what its sink kept). A refusal throws its code; a chunk out of place or of the wrong
 * length BAD_FRAME, one that does not authenticate DECRYPT_FAILED, before it is kept.
 */
export async function fetchChunks (framed: FramedStream, attachment: Attachment, proof: Uint8Array, first: number, sink: ChunkSink): Promise<void> {
  const key = blobKey(attachment.key, attachment.size)
  await framed.write([BlobRequest.encode({ blob: attachment.blob, first, fetched: false, proof: proof as Uint8Array<ArrayBuffer> })])
  let next = first
  let sinkFailure: unknown
  try {
    for await (const frames of framed.batches()) {
      for (const frame of frames) {
        const reply = decodeMessage(BlobReply, frame, 'blob reply')
        if (reply.error !== undefined) throw new TmtpError(codeFromWire(reply.error.code), `the site refused the blob: ${reply.error.detail}`)
        if (reply.chunk === undefined) throw new TmtpError(ErrorCode.BAD_FRAME, 'a blob reply sets one member')
        if (reply.chunk.index !== next) throw new TmtpError(ErrorCode.BAD_FRAME, `chunk ${reply.chunk.index} came where chunk ${next} was due`)
        const plaintext = openChunk(key, next, reply.chunk.sealed)
        await sink.append(next, plaintext).catch(err => { sinkFailure = err; throw err })
        next++
      }
    }
  } catch (err) {
    framed.abort(err as Error)
    // a cut (the connection or the site went away) leaves what was kept: the caller resumes from it
    if (err === sinkFailure || (err instanceof TmtpError && err.code !== ErrorCode.INTERNAL)) throw err
    return
  }
  await framed.close()
}

/** Tells the site the device holds the whole blob, checked (spec 15.6): resolves once the site recorded it. */
export async function reportFetched (framed: FramedStream, attachment: Pick<Attachment, 'blob' | 'size'>, proof: Uint8Array): Promise<void> {
  await framed.write([BlobRequest.encode({ blob: attachment.blob, first: chunkCount(attachment.size), fetched: true, proof: proof as Uint8Array<ArrayBuffer> })])
  // the site answers a report it recorded with no frame at all: the stream just ends
  const answer = await framed.batches().next()
  if (answer.done === true) {
    await framed.close()
    return
  }
  const reply = decodeMessage(BlobReply, answer.value[0], 'blob reply')
  const failure = new TmtpError(reply.error === undefined ? ErrorCode.BAD_FRAME : codeFromWire(reply.error.code), `the site did not record the blob fetched: ${reply.error?.detail ?? 'a chunk came instead'}`)
  framed.abort(failure)
  throw failure
}
