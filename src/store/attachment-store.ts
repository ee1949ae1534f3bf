import { decodeJson, del, put, type Database, type Write } from './database.js'
import type { AttachmentState } from './attachment-states.js'

/**
 * What a member device knows of the attachments of its messages (spec 15.6); the files are
 * in its data folder (src/node/attachment-files.ts). Part of the device's layout
 * (member-store.ts lists the keys):
 *
 *   att:<site PeerId>:<message id hex>:<index>   AttachmentRecord (none: not asked for yet)
 */

export interface AttachmentRecord {
  state: AttachmentState
  at: number
  /** Why it failed, or why the last attempt did (a protocol or node error code). */
  code?: string
}

/** Which attachment of which message: the site, the message id, its place in the message. */
export interface AttachmentRef {
  site: string
  id: string
  index: number
}

const key = (ref: AttachmentRef): string => `att:${ref.site}:${ref.id}:${ref.index}`

export class AttachmentStore {
  private readonly db: Database

  constructor (db: Database) {
    this.db = db
  }

  async write (writes: Write[]): Promise<void> {
    await this.db.write(writes)
  }

  /** The records of these attachments, in their order. */
  async records (refs: AttachmentRef[]): Promise<Array<AttachmentRecord | undefined>> {
    return (await this.db.getMany(refs.map(key))).map(v => v === undefined ? undefined : decodeJson<AttachmentRecord>(v))
  }

  set (ref: AttachmentRef, record: AttachmentRecord): Write[] {
    return [put(key(ref), record)]
  }

  forget (ref: AttachmentRef): Write[] {
    return [del(key(ref))]
  }

  /** The attachments still to fetch (after a restart). */
  async * wanted (): AsyncGenerator<AttachmentRef> {
    for await (const [k, value] of this.db.entries('att:')) {
      if (decodeJson<AttachmentRecord>(value).state !== 'wanted') continue
      const [, site, id, index] = k.split(':')
      yield { site, id, index: Number(index) }
    }
  }
}
