import { add, decodeJson, del, pad, put, type Database, type Write } from './database.js'
import { DELIVERY_STATES, type DeliveryState } from './states.js'

/**
 * Broadcasts: messages the site accepts at once and seals per device in the background (the
 * outbox's fan-out), so that neither the recipient list nor a state per device is held in
 * memory. Part of the site's layout (site-store.ts lists the keys):
 *
 *   rcp:<message id>:<page, 8 digits>   the devices it is for, resolved once at acceptance,
 *                                       RECIPIENT_PAGE a page: [member id, device PeerId, label]
 *   fc:<message id>                     FanoutContent: what to seal (there while the fan-out runs)
 *   fo:<message id>                     index of the next device to seal (there while it runs)
 *   rd:<message id>:<device PeerId>     Recipient: the copy sealed for the device (seq, rank)
 *   mc:<message id>:<delivery state>    copies in that state (a counter)
 *   bc:<message id>                     empty: some copy is not settled yet (start-up reloads these)
 */

/** Devices per recipient page. */
export const RECIPIENT_PAGE = 1000

/** A device a broadcast is for, as resolved at acceptance; `label` indexes FanoutContent.labels (-1: none). */
export interface PlannedCopy {
  member: string
  device: string
  label: number
}

/** What the fan-out seals for each device: the encoded Content, and the group names members see. */
export interface FanoutContent {
  /** The encoded Content without a group, base64. */
  content: string
  /** Group names (Content.group) a planned copy's `label` indexes. */
  labels: string[]
}

/** Copies of one message by state. */
export type CopyCounts = Record<DeliveryState, number>

const EMPTY = new Uint8Array(0)

const key = {
  page: (id: string, page: number) => `rcp:${id}:${pad(page, 8)}`,
  content: (id: string) => `fc:${id}`,
  cursor: (id: string) => `fo:${id}`,
  copy: (id: string, device: string) => `rd:${id}:${device}`,
  count: (id: string, state: DeliveryState) => `mc:${id}:${state}`,
  active: (id: string) => `bc:${id}`
}

export class BroadcastStore {
  private readonly db: Database

  constructor (db: Database) {
    this.db = db
  }

  /** A broadcast accepted: its recipients in pages, what to seal, its cursor at 0, and it is active. */
  plan (id: string, copies: PlannedCopy[], content: FanoutContent): Write[] {
    const writes = [put(key.content(id), content), put(key.cursor(id), 0), put(key.active(id), EMPTY)]
    for (let p = 0; p * RECIPIENT_PAGE < copies.length; p++) {
      writes.push(put(key.page(id, p), copies.slice(p * RECIPIENT_PAGE, (p + 1) * RECIPIENT_PAGE).map(c => [c.member, c.device, c.label])))
    }
    return writes
  }

  /** The planned copies from index `start` up to (not including) `end`, in the order resolved. */
  async planned (id: string, start: number, end: number): Promise<PlannedCopy[]> {
    const out: PlannedCopy[] = []
    if (end <= start) return out
    const first = Math.floor(start / RECIPIENT_PAGE)
    const last = Math.floor((end - 1) / RECIPIENT_PAGE)
    const pages = await this.db.getMany(Array.from({ length: last - first + 1 }, (_, i) => key.page(id, first + i)))
    pages.forEach((raw, i) => {
      if (raw === undefined) return
      const base = (first + i) * RECIPIENT_PAGE
      decodeJson<Array<[string, string, number]>>(raw).forEach(([member, device, label], j) => {
        const index = base + j
        if (index >= start && index < end) out.push({ member, device, label })
      })
    })
    return out
  }

  content = async (id: string): Promise<FanoutContent | undefined> => await this.db.getJson(key.content(id))

  /** The index of the next device to seal; undefined once the fan-out is done. */
  cursor = async (id: string): Promise<number | undefined> => await this.db.getJson(key.cursor(id))

  /** The fan-out sealed up to `next`; at the end its cursor and content go. */
  advance (id: string, next: number, done: boolean): Write[] {
    return done ? [del(key.cursor(id)), del(key.content(id))] : [put(key.cursor(id), next)]
  }

  /** Broadcasts whose fan-out has not finished (a restart resumes them), oldest key first. */
  async * fanningOut (): AsyncGenerator<string> {
    for await (const [k] of this.db.entries('fo:')) yield k.slice(3)
  }

  /** Broadcasts with a copy not yet settled. */
  async * active (): AsyncGenerator<string> {
    for await (const [k] of this.db.entries('bc:')) yield k.slice(3)
  }

  /** Every copy settled: the broadcast is no longer active (its counts stay). */
  settled (id: string): Write[] {
    return [del(key.active(id))]
  }

  /** The copy sealed for a device. */
  putCopy (id: string, copy: { member: string, device: string, seq: number, rank: number }): Write[] {
    return [put(key.copy(id, copy.device), copy)]
  }

  /** The copies sealed for these devices (undefined where none is: not reached yet, or never). */
  async copies (id: string, devices: string[]): Promise<Array<{ member: string, device: string, seq: number, rank: number } | undefined>> {
    return (await this.db.getMany(devices.map(d => key.copy(id, d)))).map(v => v === undefined ? undefined : decodeJson(v))
  }

  /** Adds `n` copies in `state`. */
  count (id: string, state: DeliveryState, n: number): Write {
    return add(key.count(id, state), n)
  }

  async counts (id: string): Promise<CopyCounts> {
    const values = await Promise.all(DELIVERY_STATES.map(async s => await this.db.counter(key.count(id, s))))
    return Object.fromEntries(DELIVERY_STATES.map((s, i) => [s, values[i]])) as CopyCounts
  }
}
