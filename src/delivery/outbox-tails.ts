/**
 * What each device's running sender has not read yet of its outbox, kept in memory so that
 * an envelope queued while the session runs is handed to the sender without reading back
 * from LevelDB what was just written there (docs/BENCHMARKS.md: the read-back was an iterator
 * per sender wake, most of the site's LevelDB reads in W1 and W2). LevelDB stays the copy of
 * record: an entry enters a tail only once its write is durable, and the store is read
 * whenever a tail cannot vouch for what follows the sender's cursor.
 *
 * The invariant, per device with a tail: the outbox holds after `lastKey` exactly the tail's
 * entries, and entries the sender already had (in flight, or settled since).
 */
export interface OutboxTailsLimits {
  /** Entries one device's tail holds at most: beyond, the tail goes and the store is read. */
  perDevice: number
  /** Entries every tail together holds at most (their frames are in memory). */
  total: number
}

interface Tail<E> {
  lastKey: string
  entries: E[]
}

/** What was added for a device since its last store read began: the read may not have seen it. */
interface Capture<E> {
  version: number
  entries: E[]
  /** More were added than a tail may hold. */
  overflow: boolean
}

export class OutboxTails<E extends { key: string }> {
  private readonly limits: OutboxTailsLimits
  private readonly tails = new Map<string, Tail<E>>()
  /** Per device with a running sender: entries added since its last store read began. */
  private readonly captures = new Map<string, Capture<E>>()
  private versions = 0
  private total = 0

  constructor (limits: OutboxTailsLimits) {
    this.limits = limits
  }

  /**
   * Taken when a store read of the device's outbox begins, and given back to `established`:
   * from then on what is added is also kept aside, since the read may or may not see it.
   */
  version (device: string): number {
    const version = ++this.versions
    this.captures.set(device, { version, entries: [], overflow: false })
    return version
  }

  /**
   * A store read reached the end of the device's outbox: the sender has had everything up to
   * `lastKey`. What was added during the read and sorts after `lastKey` the read did not
   * return (it would have been its last key or before): that is the tail. One that sorts
   * before it and was not seen makes the sender read from the start (its `first`).
   */
  established (device: string, version: number, lastKey: string | undefined): void {
    const capture = this.captures.get(device)
    if (capture?.version !== version) return
    this.captures.delete(device)
    if (lastKey === undefined || capture.overflow) return
    this.drop(device)
    const entries = capture.entries.filter(e => e.key > lastKey).sort((a, b) => a.key < b.key ? -1 : 1)
    if (this.total + entries.length > this.limits.total) return
    this.tails.set(device, { lastKey, entries })
    this.total += entries.length
  }

  /** An entry durably queued for a device whose sender runs. */
  added (device: string, entry: E): void {
    const capture = this.captures.get(device)
    if (capture !== undefined && !capture.overflow) {
      if (capture.entries.length < this.limits.perDevice) capture.entries.push(entry)
      else capture.overflow = true
    }
    const tail = this.tails.get(device)
    if (tail === undefined) return
    // one that sorts before the cursor (a higher urgency) makes the sender read from the start
    if (entry.key <= tail.lastKey || tail.entries.length >= this.limits.perDevice || this.total >= this.limits.total) {
      this.drop(device)
      return
    }
    let i = tail.entries.length
    while (i > 0 && tail.entries[i - 1].key > entry.key) i--
    tail.entries.splice(i, 0, entry)
    this.total++
  }

  /**
   * Up to `limit` entries for a sender that reads on from `after`; undefined when the tail
   * cannot answer (none, or the sender reads from elsewhere): then the store is read.
   */
  take (device: string, after: string | undefined, limit: number): E[] | undefined {
    const tail = this.tails.get(device)
    if (tail === undefined || after === undefined || after !== tail.lastKey) return undefined
    const out = tail.entries.splice(0, limit)
    this.total -= out.length
    if (out.length > 0) tail.lastKey = out[out.length - 1].key
    return out
  }

  /** The device's outbox changed otherwise (entries settled outside its sender): its tail goes. */
  drop (device: string): void {
    const tail = this.tails.get(device)
    if (tail === undefined) return
    this.total -= tail.entries.length
    this.tails.delete(device)
  }

  /** The device's sender stopped. */
  ended (device: string): void {
    this.drop(device)
    this.captures.delete(device)
  }

  /** Entries held in every tail. */
  get size (): number {
    return this.total
  }
}
