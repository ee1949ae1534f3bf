import { BlobReply, BlobRequest, BLOB_ID_BYTES, codeToWire, decodeMessage, ErrorCode, isTmtpError, TmtpError } from '../protocol/index.js'
import { chunkCount } from '../crypto/index.js'
import type { FramedStream } from './framed-stream.js'
import type { Logger } from '@libp2p/interface'

/** A blob the site serves: its size and where its sealed chunks come from. */
export interface ServedBlob {
  size: number
  chunks: (first: number) => AsyncIterable<{ index: number, sealed: Uint8Array<ArrayBuffer> }>
}

/** What the site's end of /tmtp/blob/1.0.0 asks of the site. */
export interface BlobSource {
  /** Before anything is read: NOT_MEMBER unless the peer is a member device. */
  admit: (remote: Uint8Array) => Promise<void>
  /** The blob, if the peer's proof is that of its key (spec 15.6); else UNKNOWN_BLOB. */
  open: (blob: Uint8Array, remote: Uint8Array, proof: Uint8Array) => Promise<ServedBlob>
  /** The peer reports it holds the whole blob, checked: stored durably before the answer. */
  fetched: (blob: Uint8Array, remote: Uint8Array) => Promise<void>
}

export interface ServeBlobOptions {
  remote: Uint8Array
  log: Logger
  /** A refused request (the peer may be penalised for it). */
  onRefused?: (code: ErrorCode) => void
}

/**
 * The site's end of one /tmtp/blob/1.0.0 stream (spec 15.6): one request in; the chunks from
 * the one asked for, each written after the last was taken (back-pressure), or nothing for a
 * device reporting the blob fetched; a refusal as BlobReply{error}.
 */
export async function serveBlob (framed: FramedStream, source: BlobSource, opts: ServeBlobOptions): Promise<void> {
  try {
    try {
      await source.admit(opts.remote)
      const request = decodeMessage(BlobRequest, await framed.readOne(), 'blob request')
      if (request.blob.byteLength !== BLOB_ID_BYTES || request.proof.byteLength !== 32) throw new TmtpError(ErrorCode.BAD_FRAME, 'a blob request names a blob of 16 bytes and has a proof of 32')
      const blob = await source.open(request.blob, opts.remote, request.proof)
      if (request.first > chunkCount(blob.size)) throw new TmtpError(ErrorCode.BAD_FRAME, `the blob has ${chunkCount(blob.size)} chunks`)
      if (request.fetched) await source.fetched(request.blob, opts.remote)
      else {
        for await (const chunk of blob.chunks(request.first)) await framed.write([BlobReply.encode({ chunk })])
      }
    } catch (err) {
      if (!isTmtpError(err)) throw err
      opts.log('refused blob request: %s %s', err.code, err.message)
      opts.onRefused?.(err.code)
      await framed.write([BlobReply.encode({ error: { code: codeToWire(err.code), detail: err.message } })])
    }
    await framed.close()
  } catch (err) {
    opts.log.error('blob stream failed: %e', err)
    framed.abort(err as Error)
  }
}
