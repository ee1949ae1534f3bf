import { randomBytes } from '../crypto/index.js'
import { decodeJson, del, pad, put, type Database, type Write } from './database.js'
import type { Reply } from './site-store.js'
import type { SettledState } from './states.js'
import type { CopyCounts } from './broadcast-store.js'
import { toHex } from '../util/index.js'

/**
 * The site's journal of events for its backend (webhooks), kept in the same LevelDB and
 * written in the same atomic batches as the changes they report, so that an event survives a
 * restart and is never reported for a change that was not stored. One queue per member, so
 * that one member's flood never holds up another's events. Layout:
 *
 *   ev:<member id>:<at, 16 digits>:<event id>   JournalEvent
 */

/** A message reached a final state on one device. */
export interface DeliveryEvent {
  type: SettledState
  id: string
  device: string
  member: string
  /** When the message was sent. */
  created: number
  /** When the state was reached. */
  at: number
  code?: string
}

/** A reply arrived from a member's device. */
export interface ReplyEvent extends Reply {
  type: 'reply'
  at: number
}

/** Every copy of a broadcast settled (or expired): its counts, once, for a send that asked for `report: 'once'`. */
export interface BroadcastEvent {
  type: 'broadcast'
  id: string
  /** When the message was sent. */
  created: number
  /** When its last copy settled. */
  at: number
  /** Devices it was for. */
  devices: number
  counts: CopyCounts
}

export type JournalEvent = DeliveryEvent | ReplyEvent | BroadcastEvent

export interface JournalEntry {
  /** Opaque: give it back to `remove`. */
  key: string
  /** Unique per event and stable across attempts and restarts: receivers deduplicate on it. */
  eventId: string
  member: string
  event: JournalEvent
}

const PREFIX = 'ev:'

export class EventJournal {
  private readonly db: Database

  constructor (db: Database) {
    this.db = db
  }

  /** The writes that journal these events, for the batch of the change they report. */
  append (events: JournalEvent[]): Write[] {
    // a broadcast's event is no member's: it has a queue of its own
    return events.map(event => put(`${PREFIX}${event.type === 'broadcast' || event.member === '' ? '-' : event.member}:${pad(event.at)}:${toHex(randomBytes(16))}`, event))
  }

  /**
   * The oldest event of each member, for up to `limit` members in turn, starting with the
   * member after `afterMember` and coming round to the first: one member's backlog of any size
   * takes one place in a round.
   */
  async next (options: { limit: number, afterMember?: string }): Promise<JournalEntry[]> {
    const out: JournalEntry[] = []
    const taken = new Set<string>()
    let after = options.afterMember === undefined ? undefined : `${PREFIX}${options.afterMember}:\xff`
    let wrapped = after === undefined
    while (out.length < options.limit) {
      const found = await this.db.first(PREFIX, { after })
      if (found === undefined) {
        // past the last member: come round to the first, once
        if (wrapped) break
        wrapped = true
        after = undefined
        continue
      }
      const [key, value] = found
      const member = key.slice(PREFIX.length, key.indexOf(':', PREFIX.length))
      if (taken.has(member)) break
      taken.add(member)
      out.push({ key, eventId: key.slice(key.lastIndexOf(':') + 1), member, event: decodeJson<JournalEvent>(value) })
      after = `${PREFIX}${member}:\xff`
    }
    return out
  }

  /** Events in the journal (a scan of keys: for stats and tests, not for hot paths). */
  async size (): Promise<number> {
    return await this.db.count(PREFIX)
  }

  /** Takes sent (or abandoned) events out. */
  async remove (keys: string[]): Promise<void> {
    await this.db.write(keys.map(k => del(k)))
  }
}
