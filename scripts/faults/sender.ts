import { setTimeout as delay } from 'node:timers/promises'
import type { Ledger } from './ledger.js'
import type { NodeSlot } from './node-slot.js'

export interface SenderOptions {
  /** The member reference to send to. */
  to: string
  /** Sends per request to the site process, and how many of them run at once. */
  batch: number
  concurrency: number
  /** Pause between requests: bounds the rate, and so the data the run stores. */
  pauseMs: number
  /** How long one request may take before its sends count as in doubt. */
  timeoutMs: number
}

/**
 * Keeps sending to the site, whatever happens to it: while the site is down it waits; when
 * the site dies during a request, that request's sends are in doubt (the ledger says what
 * each may do). A request that fails while the site keeps running is an anomaly.
 */
export class ContinuousSender {
  private readonly site: NodeSlot
  private readonly ledger: Ledger
  private readonly opts: SenderOptions
  private stopped = false
  private loop?: Promise<void>
  /** Requests that failed although the site process was running (timeouts). */
  readonly anomalies: string[] = []

  constructor (site: NodeSlot, ledger: Ledger, opts: SenderOptions) {
    this.site = site
    this.ledger = ledger
    this.opts = opts
  }

  start (): void {
    this.loop ??= this.run()
  }

  /** Stops sending; resolves when the last request has been answered (or failed). */
  async stop (): Promise<void> {
    this.stopped = true
    await this.loop
  }

  private async run (): Promise<void> {
    while (!this.stopped) {
      const process = this.site.process
      if (process === undefined) {
        await delay(20)
        continue
      }
      const subjects = this.ledger.subjects(this.opts.batch)
      try {
        this.ledger.record(await process.call('sendEach', { to: this.opts.to, subjects, concurrency: this.opts.concurrency }, this.opts.timeoutMs))
      } catch (err) {
        this.ledger.lost(subjects)
        if (!process.exited) this.anomalies.push(`sendEach failed while the site ran: ${(err as Error).message}`)
      }
      await delay(this.opts.pauseMs)
    }
  }
}
