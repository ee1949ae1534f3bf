import { DELIVERY_STATES, SETTLED_STATES, type BroadcastEvent, type CopyCounts, type DeliveryState, type SiteStore, type Write } from '../store/index.js'

interface Active {
  devices: number
  report: string
  created: number
  counts: CopyCounts
}

/** What one change did to a broadcast: its counters' writes, and its event once every copy settled. */
export interface TallyChange {
  writes: Write[]
  done?: BroadcastEvent
}

/**
 * The broadcasts with copies not settled yet, with their counts by state, in memory (a few
 * numbers each, reloaded from their counters at start): the outbox adds to them in the
 * batches that change them, and the change that settles the last copy writes the broadcast's
 * completion (and its event) in the same batch. Counting here, under the outbox's writes, and
 * not by reading the counters, means two batches settling copies at once cannot both miss the end.
 */
export class BroadcastTally {
  private readonly store: SiteStore
  private readonly active = new Map<string, Active>()

  constructor (store: SiteStore) {
    this.store = store
  }

  /** Loads the broadcasts a restart found active. */
  async load (): Promise<void> {
    for await (const id of this.store.broadcasts.active()) {
      const message = await this.store.message(id)
      if (message?.broadcast === undefined) continue
      this.active.set(id, { devices: message.broadcast.devices, report: message.broadcast.report, created: message.created, counts: await this.store.broadcasts.counts(id) })
    }
  }

  /** A broadcast was accepted. */
  track (id: string, devices: number, report: string, created: number): void {
    this.active.set(id, { devices, report, created, counts: Object.fromEntries(DELIVERY_STATES.map(s => [s, 0])) as CopyCounts })
  }

  /** No broadcast has a copy to settle. */
  get empty (): boolean {
    return this.active.size === 0
  }

  /** Whether the message is an active broadcast that reports once (its copies' events are not journaled). */
  reportsOnce (id: string): boolean {
    return this.active.get(id)?.report === 'once'
  }

  /** `n` copies of the message were queued. */
  queued (id: string, n: number): Write[] {
    const active = this.active.get(id)
    if (active === undefined || n === 0) return []
    active.counts.queued += n
    return [this.store.broadcasts.count(id, 'queued', n)]
  }

  /** `n` copies of the message reached `state`, from the outbox (`fromQueue`) or before they were queued. */
  settled (id: string, state: DeliveryState, n: number, fromQueue: boolean, at: number): TallyChange {
    const active = this.active.get(id)
    if (active === undefined || n === 0) return { writes: [] }
    const writes = [this.store.broadcasts.count(id, state, n)]
    active.counts[state] += n
    if (fromQueue) {
      writes.push(this.store.broadcasts.count(id, 'queued', -n))
      active.counts.queued -= n
    }
    if (SETTLED_STATES.reduce((sum, s) => sum + active.counts[s], 0) < active.devices) return { writes }
    this.active.delete(id)
    writes.push(...this.store.broadcasts.settled(id))
    return { writes, done: { type: 'broadcast', id, created: active.created, at, devices: active.devices, counts: { ...active.counts } } }
  }
}
