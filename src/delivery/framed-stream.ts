import { encodeFrames, ErrorCode, FrameDecoder, TmtpError } from '../protocol/index.js'
import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

/**
 * Length-prefixed frames over a libp2p stream (spec: "Framing"). Writes take many frames
 * at once and become one `send()`, which is what makes a window of envelopes cheap;
 * back-pressure waits for the stream's 'drain' event (stream.onDrain() stops waiting after
 * the first drain in @libp2p/utils 7.4, docs/LIBP2P-NOTES.md, trap 2).
 */
export class FramedStream {
  readonly stream: Stream
  private readonly decoder: FrameDecoder

  constructor (stream: Stream, maxFrameSize: number) {
    this.stream = stream
    this.decoder = new FrameDecoder(maxFrameSize)
  }

  /** The frames of each chunk read, as a batch; throws TmtpError on a bad or truncated frame. */
  async * batches (): AsyncGenerator<Uint8Array[]> {
    for await (const chunk of readChunks(this.stream)) {
      const frames = this.decoder.push(chunk)
      if (frames.length > 0) yield frames
    }
    this.decoder.end()
  }

  /** Reads exactly one frame (join, leave); BAD_FRAME if the stream ends first. */
  async readOne (): Promise<Uint8Array> {
    const first = await this.batches().next()
    if (first.done === true) throw new TmtpError(ErrorCode.BAD_FRAME, 'stream ended before a frame arrived')
    return first.value[0]
  }

  async write (frames: readonly Uint8Array[]): Promise<void> {
    if (frames.length === 0) return
    if (this.stream.send(encodeFrames(frames))) return
    await waitForDrain(this.stream)
  }

  async close (): Promise<void> {
    try {
      await this.stream.close()
    } catch (err) {
      this.stream.abort(err as Error)
    }
  }

  abort (err: Error): void {
    this.stream.abort(err)
  }
}

/**
 * The stream's data until its readable end ends. The stream's own async iterator (@libp2p/utils
 * 7.4) ends only on a 'remoteCloseWrite' event it sees: when the remote closed its end before
 * reading began (a handler that awaits something first, a post stream with nothing to send)
 * it never ends, and a receiver waits until the idle timeout. This reader goes by the
 * stream's `readableEnded` state instead, which no late start can miss.
 */
async function * readChunks (stream: Stream): AsyncGenerator<Uint8Array | Uint8ArrayList> {
  const chunks: Array<Uint8Array | Uint8ArrayList> = []
  let closed = false
  let failure: Error | undefined
  let wake: (() => void) | undefined
  let leftoverPolls = 0
  const signal = (): void => {
    const w = wake
    wake = undefined
    w?.()
  }
  const onMessage = (event: StreamMessageEvent): void => { chunks.push(event.data); signal() }
  const onClose = (event: StreamCloseEvent): void => {
    closed = true
    failure ??= event.error
    signal()
  }
  stream.addEventListener('message', onMessage)
  stream.addEventListener('end', signal)
  stream.addEventListener('close', onClose)
  try {
    for (;;) {
      const chunk = chunks.shift()
      if (chunk !== undefined) {
        yield chunk
        continue
      }
      // buffered data is dispatched in a microtask after a 'message' listener is added:
      // 'end' comes only once the buffer is empty
      if (failure !== undefined) throw failure
      if (closed || stream.readableEnded) {
        if (stream.status === 'aborted' || stream.status === 'reset') throw new TmtpError(ErrorCode.INTERNAL, `stream ${stream.status}`)
        // 'end' and 'close' can come while data still waits in the stream's read buffer: what
        // arrived with the protocol negotiation is put back only after the remote's close was
        // seen (a refusal written before reading, then a close). It is dispatched to the
        // 'message' listener in a moment: wait for it, briefly
        if (stream.readBufferLength === 0 || ++leftoverPolls > 20) return
        await new Promise<void>(resolve => { wake = resolve; setTimeout(signal, 5) })
        continue
      }
      await new Promise<void>(resolve => { wake = resolve })
    }
  } finally {
    stream.removeEventListener('message', onMessage)
    stream.removeEventListener('end', signal)
    stream.removeEventListener('close', onClose)
  }
}

function waitForDrain (stream: Stream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => { cleanup(); resolve() }
    const onClose = (): void => { cleanup(); reject(new TmtpError(ErrorCode.INTERNAL, 'stream closed while waiting to write')) }
    const cleanup = (): void => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
    }
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
  })
}
