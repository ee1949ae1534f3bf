import { decodeJson, del, put, type Database, type Write } from './database.js'
import type { AttachmentState } from './attachment-states.js'

/**
 * What a member device knows of the attachments of its messages (spec 15.6); the files are
 * in its data folder (src/node/attachment-files.ts). Part of the device's layout
 * (member-store.ts lists the keys):
 *
 *   att:<site PeerId>:<message id hex>:<index>   AttachmentRecord (none: not asked for yet)
 *   atr:<site PeerId>:<blob id hex>              OwedReport: the device fetched the blob and the site
 *                                                has not recorded it yet (sent again until it has)
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

/** A report the device owes a site (spec 15.6): it holds the whole blob, the site has not recorded it. */
export interface OwedReport {
  site: string
  /** The blob's id, hex. */
  blob: string
  /** The file's bytes: a report asks for the chunk past the last. */
  size: number
  /** The device's proof for the blob, hex (what the site checks a report by). */
  proof: string
}

const key = (ref: AttachmentRef): string => `att:${ref.site}:${ref.id}:${ref.index}`
const owedKey = (site: string, blob: string): string => `atr:${site}:${blob}`

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

  /** The report is owed until the site recorded it (one per blob and site, however many messages list it). */
  owe (report: OwedReport): Write[] {
    return [put(owedKey(report.site, report.blob), { size: report.size, proof: report.proof })]
  }

  /** The site recorded the report, or will never (the blob or the device's membership is gone). */
  settle (report: OwedReport): Write[] {
    return [del(owedKey(report.site, report.blob))]
  }

  /** The reports owed to a site, or to every site. */
  async * owed (site?: string): AsyncGenerator<OwedReport> {
    for await (const [k, value] of this.db.entries(site === undefined ? 'atr:' : `atr:${site}:`)) {
      const [, owedTo, blob] = k.split(':')
      yield { site: owedTo, blob, ...decodeJson<{ size: number, proof: string }>(value) }
    }
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
