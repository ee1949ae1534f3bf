import { peerIdFromString } from '../crypto/index.js'
import { MAX_FRAME_SIZE, RECEIPT_TIMEOUT_MS } from '../protocol/index.js'
import { FramedStream } from './framed-stream.js'
import { DeliveryScheduler } from './scheduler.js'
import { sendEnvelopes, type OutboundQueue, type SenderResult } from './sender.js'
import type { BackoffOptions } from '../util/index.js'
import type { Logger, Stream } from '@libp2p/interface'

/** An outbox as the courier serves it: one queue per peer, and word of what was queued. */
export interface CourierOutbox {
  queue: (peer: string) => OutboundQueue<any>
  hasWork: (peer: string) => Promise<boolean>
  /** Registers the listener told of every peer that has new entries queued. */
  onQueued: (listener: (peer: string) => void) => void
}

/** The end of one sending session to a peer: ok when its queue drained, else the error code. */
export interface SessionEvent {
  peer: string
  ok: boolean
  code?: string
}

export interface CourierInit {
  outbox: CourierOutbox
  /**
   * Opens a stream of the courier's protocol to the peer: the node's dialler (its peer store,
   * DHT lookups) as a port, so that delivery/ knows nothing of the node. Resolves undefined
   * when there is nothing to send to that peer any more (it is no longer a member): the
   * session then counts as drained.
   */
  open: (peer: string) => Promise<Stream | undefined>
  self: Uint8Array
  /** Envelopes in flight per stream. */
  window: number
  /** A stream with nothing queued closes after this long; 0 closes it as soon as the queue is empty. */
  idleTimeoutMs: number
  /** libp2p closes a stream with no traffic for this long (beyond the sender's own idle close). */
  inactivityTimeoutMs: number
  backoff: BackoffOptions
  log: Logger
  onSession?: (event: SessionEvent) => void
}

/**
 * Carries an outbox to its peers (spec section 15.2): decides when (at once when something
 * is queued or the peer connects, else after backoff), dials through the node's port, and
 * runs the sender engine on the stream until the peer's queue is drained. The site's
 * deliveries and the member's replies are the same courier with other outboxes.
 */
export class Courier {
  private readonly init: CourierInit
  private readonly scheduler: DeliveryScheduler

  constructor (init: CourierInit) {
    this.init = init
    this.scheduler = new DeliveryScheduler({
      backoff: init.backoff,
      hasWork: async peer => await init.outbox.hasWork(peer),
      session: async peer => await this.session(peer),
      log: init.log
    })
    init.outbox.onQueued(peer => { this.scheduler.nudge(peer) })
  }

  /** Something was queued for the peer: deliver now, unless it is backing off. */
  nudge (peer: string): void {
    this.scheduler.nudge(peer)
  }

  /** The peer is reachable now (it connected): deliver at once, forgetting its backoff. */
  wake (peer: string): void {
    this.scheduler.wake(peer)
  }

  /** Peers with a session running now. */
  get active (): number {
    return this.scheduler.active
  }

  /** Starts no more sessions; the returned promise settles when the running ones end (their streams close with libp2p). */
  async stop (): Promise<void> {
    await this.scheduler.stop()
  }

  private async session (peer: string): Promise<SenderResult> {
    try {
      const result = await this.deliver(peer)
      this.init.onSession?.({ peer, ok: result.drained, code: result.drained ? undefined : result.error.code })
      return result
    } catch (err) {
      this.init.onSession?.({ peer, ok: false, code: (err as { code?: string }).code ?? 'UNREACHABLE' })
      throw err
    }
  }

  private async deliver (peer: string): Promise<SenderResult> {
    const stream = await this.init.open(peer)
    if (stream === undefined) return { drained: true }
    stream.inactivityTimeout = this.init.inactivityTimeoutMs
    return await sendEnvelopes(new FramedStream(stream, MAX_FRAME_SIZE), this.init.outbox.queue(peer), {
      self: this.init.self,
      remote: peerIdFromString(peer),
      window: this.init.window,
      receiptTimeoutMs: RECEIPT_TIMEOUT_MS,
      idleTimeoutMs: this.init.idleTimeoutMs,
      log: this.init.log
    })
  }
}
