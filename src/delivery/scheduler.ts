import { ErrorCode, isTmtpError } from '../protocol/index.js'
import { backoffDelay, type BackoffOptions } from '../util/index.js'
import type { SenderResult } from './sender.js'
import type { Logger } from '@libp2p/interface'

export interface SchedulerOptions {
  backoff: BackoffOptions
  /** Runs one sending session to the peer (dial, stream, send until drained or failed). */
  session: (peer: string) => Promise<SenderResult>
  /** Whether the peer still has envelopes waiting. */
  hasWork: (peer: string) => Promise<boolean>
  log: Logger
}

interface PeerState {
  running: boolean
  attempt: number
  again: boolean
  timer?: NodeJS.Timeout
}

/**
 * Decides when to deliver to each peer (spec 15.2, "Retry"): at once when woken (a message
 * was queued or the peer connected), otherwise after exponential backoff with jitter,
 * until its outbox is empty. At most one session runs per peer.
 */
export class DeliveryScheduler {
  private readonly opts: SchedulerOptions
  private readonly peers = new Map<string, PeerState>()
  private readonly running = new Set<Promise<void>>()
  private stopped = false

  constructor (opts: SchedulerOptions) {
    this.opts = opts
  }

  /**
   * Something new was queued for the peer: deliver now unless a session is running (it
   * picks the new envelopes up) or the peer is backing off (an unreachable peer is not
   * dialled once per message; its retry timer stands).
   */
  nudge (peer: string): void {
    if (this.stopped) return
    const state = this.state(peer)
    if (state.running) {
      state.again = true
      return
    }
    if (state.timer !== undefined) return
    this.run(peer, state)
  }

  /** The peer connected, or is otherwise known to be reachable: try now, forgetting the backoff. */
  wake (peer: string): void {
    if (this.stopped) return
    const state = this.state(peer)
    state.attempt = 0
    if (state.running) {
      state.again = true
      return
    }
    clearTimeout(state.timer)
    state.timer = undefined
    this.run(peer, state)
  }

  /** Number of peers with a session running now. */
  get active (): number {
    let n = 0
    for (const s of this.peers.values()) if (s.running) n++
    return n
  }

  /**
   * Starts no more sessions. Running sessions end when their streams close, so the node
   * closes its connections before it awaits the returned promise.
   */
  async stop (): Promise<void> {
    this.stopped = true
    for (const s of this.peers.values()) clearTimeout(s.timer)
    await Promise.allSettled([...this.running])
    this.peers.clear()
  }

  private state (peer: string): PeerState {
    let state = this.peers.get(peer)
    if (state === undefined) {
      state = { running: false, attempt: 0, again: false }
      this.peers.set(peer, state)
    }
    return state
  }

  private run (peer: string, state: PeerState): void {
    state.running = true
    const task = this.loop(peer, state).finally(() => {
      state.running = false
      this.running.delete(task)
    })
    this.running.add(task)
  }

  /** Sessions back to back while there is work; on failure, one backoff timer and return. */
  private async loop (peer: string, state: PeerState): Promise<void> {
    for (;;) {
      state.again = false
      // a connect wakes every device, most with nothing queued: no session, no stream then
      if (!await this.hasWork(peer)) {
        if (state.again) continue
        if (this.peers.get(peer) === state) this.peers.delete(peer)
        return
      }
      if (this.stopped) return
      const result = await this.opts.session(peer).catch((err: unknown): SenderResult => {
        this.opts.log('session to %s failed: %e', peer, err)
        return { drained: false, error: err as never }
      })
      if (this.stopped) return
      if (result.drained) {
        state.attempt = 0
        continue
      }
      // a session that delivered before it failed starts the count again (spec 15.2: the retry
      // counter resets when a delivery succeeds), so its next retry waits at most the base delay
      state.attempt = result.delivered === true ? 1 : state.attempt + 1
      // a peer that blocked this node is tried again only at the backoff cap (spec 18), whatever was queued meanwhile
      const blocked = isTmtpError(result.error, ErrorCode.BLOCKED)
      if (state.again && !blocked) continue
      const delay = blocked ? this.opts.backoff.capMs : backoffDelay(state.attempt - 1, this.opts.backoff)
      this.opts.log('retrying %s in %d ms (attempt %d)', peer, delay, state.attempt)
      state.timer = setTimeout(() => {
        state.timer = undefined
        if (!state.running && !this.stopped) this.run(peer, state)
      }, delay)
      return
    }
  }

  private async hasWork (peer: string): Promise<boolean> {
    try {
      return await this.opts.hasWork(peer)
    } catch (err) {
      this.opts.log('cannot read the outbox of %s: %e', peer, err)
      return true
    }
  }
}
