import type { Logger } from '@libp2p/interface'

export interface FanoutRunnerOptions {
  /** Seals and queues the next batch of a broadcast's copies, in one durable write; false once none is left. */
  step: (id: string) => Promise<boolean>
  log: Logger
  /** How long to wait before trying a broadcast again after its batch failed. */
  retryMs: number
}

/**
 * Runs broadcasts' fan-outs in the background, one batch at a time, one broadcast after the
 * other in the order accepted. Where a fan-out stands is durable (the batch's write moves its
 * cursor), so the runner holds only the ids of the broadcasts waiting; a restart gives it those
 * the store still has.
 */
export class FanoutRunner {
  private readonly opts: FanoutRunnerOptions
  private readonly waiting: string[] = []
  private readonly known = new Set<string>()
  private running?: Promise<void>
  private stopped = false

  constructor (opts: FanoutRunnerOptions) {
    this.opts = opts
  }

  /** A broadcast to fan out (again known ones are ignored). */
  add (id: string): void {
    if (this.stopped || this.known.has(id)) return
    this.known.add(id)
    this.waiting.push(id)
    this.running ??= this.run().finally(() => { this.running = undefined })
  }

  /** Broadcasts not fanned out yet. */
  get pending (): number {
    return this.waiting.length
  }

  private async run (): Promise<void> {
    while (this.waiting.length > 0 && !this.stopped) {
      const id = this.waiting[0]
      try {
        if (await this.opts.step(id)) continue
      } catch (err) {
        // a storage failure stops every write (fail-stop): the restart resumes from the cursor
        this.opts.log.error('fan-out of %s failed: %e', id, err)
        await new Promise(resolve => setTimeout(resolve, this.opts.retryMs))
        continue
      }
      this.waiting.shift()
      this.known.delete(id)
    }
  }

  /** Starts no further batch; resolves when the running one is written. */
  async stop (): Promise<void> {
    this.stopped = true
    await this.running
  }
}
