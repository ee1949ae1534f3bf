import { DeliveryScheduler } from './scheduler.js'
import type { BackoffOptions } from '../util/index.js'
import type { Logger } from '@libp2p/interface'

export interface RedialerInit {
  /** Whether the peer should be dialled now (wanted and not connected). */
  wanted: (peer: string) => boolean
  /** Connects to the peer: the node's dialler as a port. */
  dial: (peer: string) => Promise<void>
  /** The peer is connected (after a dial that succeeded). */
  onConnected: (peer: string) => void
  backoff: BackoffOptions
  log: Logger
}

/**
 * Keeps a member device connected to its sites, so that they can deliver at once: dials a
 * peer when woken, and after a failure again with jittered backoff, until it is connected
 * or no longer wanted. Many devices coming back at once (a site's restart, a network
 * outage) spread out instead of all waiting for the next reconnect tick.
 */
export class Redialer {
  private readonly scheduler: DeliveryScheduler

  constructor (init: RedialerInit) {
    this.scheduler = new DeliveryScheduler({
      backoff: init.backoff,
      hasWork: async peer => init.wanted(peer),
      session: async peer => {
        await init.dial(peer)
        init.onConnected(peer)
        return { drained: true }
      },
      log: init.log
    })
  }

  /** Dials the peer now, forgetting its backoff, unless it is connected or not wanted. */
  wake (peer: string): void {
    this.scheduler.wake(peer)
  }

  async stop (): Promise<void> {
    await this.scheduler.stop()
  }
}
