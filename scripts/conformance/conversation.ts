import { FramedStream } from '../../src/delivery/framed-stream.js'
import type { Stream } from '@libp2p/interface'

/** How a stream ended from the kit's side: the peer closed it, aborted it, or kept silent. */
export type End = 'closed' | 'reset' | 'timeout'

/** The frames a peer wrote on a stream, and how the stream ended. */
export interface Answer {
  frames: Uint8Array[]
  end: End
}

/**
 * One TMTP stream as the kit drives it: bytes are written raw (the kit crafts the framing),
 * frames are read in the background as the peer writes them, and every wait is bounded.
 */
export class Conversation {
  readonly stream: Stream
  private readonly frames: Uint8Array[] = []
  private ended?: 'closed' | 'reset'
  private wake?: () => void

  constructor (stream: Stream, maxFrameSize: number) {
    this.stream = stream
    this.reading = this.pump(new FramedStream(stream, maxFrameSize))
  }

  /** Resolves once the stream's readable end has ended (the peer closed or aborted it). */
  readonly reading: Promise<void>

  private async pump (framed: FramedStream): Promise<void> {
    try {
      for await (const batch of framed.batches()) {
        // copies: a frame may be a view of a buffer the transport reuses
        this.frames.push(...batch.map(f => Uint8Array.from(f)))
        this.signal()
      }
      this.ended = 'closed'
    } catch {
      this.ended = 'reset'
    }
    this.signal()
  }

  /** Frames read so far (the kit consumes them with next()). */
  get buffered (): number {
    return this.frames.length
  }

  /** Writes bytes as they are; false if the stream is no longer writable. */
  async write (bytes: Uint8Array): Promise<boolean> {
    try {
      if (this.stream.status !== 'open' || this.stream.writeStatus !== 'writable') return false
      if (!this.stream.send(bytes)) await drained(this.stream)
      return true
    } catch {
      return false
    }
  }

  /** Half-closes: the kit writes nothing more and goes on reading. */
  async closeWrite (): Promise<void> {
    try {
      await this.stream.close({ signal: AbortSignal.timeout(5_000) })
    } catch {
      // the peer already ended the stream: the read side says how
    }
  }

  abort (): void {
    if (this.stream.status === 'open') this.stream.abort(new Error('conformance kit: done'))
  }

  /** The next frame, or how the stream ended if it ends (or `timeoutMs` passes) first. */
  async next (timeoutMs: number): Promise<Uint8Array | End> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const frame = this.frames.shift()
      if (frame !== undefined) return frame
      if (this.ended !== undefined) return this.ended
      const left = deadline - Date.now()
      if (left <= 0) return 'timeout'
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, left)
        this.wake = () => { clearTimeout(timer); resolve() }
      })
    }
  }

  /** Every frame until the stream ends (or `timeoutMs` passes), then aborts what is left. */
  async rest (timeoutMs: number): Promise<Answer> {
    const deadline = Date.now() + timeoutMs
    const frames: Uint8Array[] = []
    for (;;) {
      const next = await this.next(Math.max(0, deadline - Date.now()))
      if (next instanceof Uint8Array) {
        frames.push(next)
        continue
      }
      this.abort()
      return { frames, end: next }
    }
  }

  private signal (): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }
}

/** Resolves at the stream's next 'drain' (not stream.onDrain(): docs/LIBP2P-NOTES.md, trap 2). */
export async function drained (stream: Stream): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const done = (): void => {
      stream.removeEventListener('drain', onDrain)
      stream.removeEventListener('close', onClose)
    }
    const onDrain = (): void => { done(); resolve() }
    const onClose = (): void => { done(); reject(new Error('stream closed')) }
    stream.addEventListener('drain', onDrain)
    stream.addEventListener('close', onClose)
  })
}
