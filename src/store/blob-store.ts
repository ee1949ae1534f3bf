import { decodeJson, del, put, type Database, type Write } from './database.js'

/**
 * The site's records of attachments' blobs (spec 15.6); the sealed chunks themselves are
 * files in the data folder (src/node/blob-files.ts). Part of the site's layout
 * (site-store.ts lists the keys):
 *
 *   blob:<blob id hex>               BlobRecord (with the content key: the site seals once and
 *                                    puts the key in every copy's Content)
 *   bref:<blob id hex>:<message id>  Listing: a message that lists the blob, with its expiry
 *                                    and its device copies; a send still running is listed
 *                                    under a random id of its own, without copies
 *   bgot:<blob id hex>:<device>      a device the blob is no longer waited for (empty value): it
 *                                    reported the blob fetched, or it was sent the blob and is no
 *                                    member device any more; the site deletes the blob once as
 *                                    many devices are as it was sent to
 */

export interface BlobRecord {
  id: string
  name: string
  mediaType: string
  size: number
  /** SHA-256 of the file, hex. */
  sha256: string
  /** The content key, hex: a secret, never in a log or an answer. */
  key: string
  created: number
  /** Until when a send may list the blob. */
  holdUntil: number
}

/** What the site says of a blob: its record without the key. */
export type BlobView = Omit<BlobRecord, 'key'>

/** A message (or a send still running) that lists a blob. */
export interface Listing {
  /** The message's id (a running send's: an id of its own). */
  message: string
  /** When its copies expire (0: never). */
  expires: number
  /** Its device copies; absent while the send runs (or if it never finished). */
  devices?: number
}

const EMPTY = new Uint8Array(0)

const key = {
  blob: (id: string) => `blob:${id}`,
  listing: (id: string, message: string) => `bref:${id}:${message}`,
  listingPrefix: (id: string) => `bref:${id}:`,
  fetched: (id: string, device: string) => `bgot:${id}:${device}`,
  fetchedPrefix: (id: string) => `bgot:${id}:`
}

/** A blob's keys are deleted in writes of this many. */
const DELETE_BATCH = 1000

export class BlobStore {
  private readonly db: Database

  constructor (db: Database) {
    this.db = db
  }

  async write (writes: Write[]): Promise<void> {
    await this.db.write(writes)
  }

  blob = async (id: string): Promise<BlobRecord | undefined> => await this.db.getJson(key.blob(id))

  /** The records of these ids, in their order (undefined where there is none). */
  async blobs (ids: string[]): Promise<Array<BlobRecord | undefined>> {
    return (await this.db.getMany(ids.map(key.blob))).map(v => v === undefined ? undefined : decodeJson<BlobRecord>(v))
  }

  async * all (): AsyncGenerator<BlobRecord> {
    for await (const [, value] of this.db.entries('blob:')) yield decodeJson<BlobRecord>(value)
  }

  putBlob (record: BlobRecord): Write[] {
    return [put(key.blob(record.id), record)]
  }

  /** A message (or a running send, by an id of its own) lists the blobs. */
  listIn (ids: string[], message: string, listing: Omit<Listing, 'message'>): Write[] {
    return ids.map(id => put(key.listing(id, message), listing))
  }

  unlist (ids: string[], message: string): Write[] {
    return ids.map(id => del(key.listing(id, message)))
  }

  /** Every message and running send that lists the blob. */
  async listing (id: string): Promise<Listing[]> {
    const out: Listing[] = []
    const prefix = key.listingPrefix(id)
    for await (const [k, value] of this.db.entries(prefix)) out.push({ ...decodeJson<Omit<Listing, 'message'>>(value), message: k.slice(prefix.length) })
    return out
  }

  /** The blob is no longer waited for at these devices: they reported it fetched, or left the site (once per device, however often). */
  fetched (id: string, devices: string[]): Write[] {
    return devices.map(device => ({ key: key.fetched(id, device), value: EMPTY }))
  }

  /** Which of these devices the blob is no longer waited for at, in their order. */
  async fetchedBy (id: string, devices: string[]): Promise<boolean[]> {
    return (await this.db.getMany(devices.map(device => key.fetched(id, device)))).map(v => v !== undefined)
  }

  async fetchedCount (id: string): Promise<number> {
    return await this.db.count(key.fetchedPrefix(id))
  }

  /** Deletes the blob's record, its listings and its fetch reports, in writes of bounded size. */
  async deleteBlob (id: string): Promise<void> {
    for (const prefix of [key.fetchedPrefix(id), key.listingPrefix(id)]) {
      for (;;) {
        const page = await this.db.range(prefix, { limit: DELETE_BATCH })
        if (page.length === 0) break
        await this.db.write(page.map(([k]) => del(k)))
      }
    }
    await this.db.write([del(key.blob(id))])
  }
}
