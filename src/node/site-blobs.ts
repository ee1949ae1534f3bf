import { fromString as uint8ArrayFromString } from 'uint8arrays'
import { checkBlobProof, chunkCount, peerIdToString, randomBytes } from '../crypto/index.js'
import { BLOB_ID_BYTES, ErrorCode, MAX_ATTACHMENT_NAME_BYTES, MAX_ATTACHMENTS, MAX_MEDIA_TYPE_BYTES, TmtpError, type Attachment } from '../protocol/index.js'
import { NodeError, unref, toHex } from '../util/index.js'
import type { BlobSource, ResolvedSend, SendRequest, SendResult, ServedBlob } from '../delivery/index.js'
import type { BlobRecord, BlobStore, BlobView, Listing } from '../store/index.js'
import type { BlobFiles } from './blob-files.js'
import type { NodeLimits } from './limits.js'
import type { Logger } from '@libp2p/interface'

/** What an upload is: the file's bytes as they arrive, their count known before (Content-Length). */
export interface UploadRequest {
  name: string
  /** The file's media type; absent or empty: application/octet-stream. */
  mediaType?: string
  size: number
  body: AsyncIterable<Uint8Array>
}

export interface SiteBlobsOptions {
  store: BlobStore
  files: BlobFiles
  limits: Pick<NodeLimits, 'maxAttachmentBytes' | 'maxMessageAttachmentBytes' | 'attachmentHoldMs'>
  /** The longest time to live a send may have: how long a send that never finished keeps its blobs. */
  maxTtlMs: number
  /** The devices a message was sealed for, a page at a time. */
  recipients: (message: string) => AsyncIterable<string[]>
  /** Which of these PeerIds are member devices now, in their order. */
  areDevices: (peers: string[]) => Promise<boolean[]>
  now: () => number
  log: Logger
}

/** A blob listed by a send not known to have finished is kept this much past the longest TTL. */
const SEND_MARGIN_MS = 60_000

/**
 * A blob is deleted no sooner than this after its hold ended: a send that found it held just
 * before has written its listing by then (it writes it right after that check).
 */
const HOLD_GRACE_MS = 5_000

const encoder = new TextEncoder()

/** Names as a file has them: one line, no control characters, not a path's parts. */
function checkName (name: unknown): string {
  if (typeof name !== 'string' || name === '' || encoder.encode(name).byteLength > MAX_ATTACHMENT_NAME_BYTES) {
    throw new NodeError('INVALID_ARGUMENT', `an attachment's name is 1 to ${MAX_ATTACHMENT_NAME_BYTES} bytes of UTF-8`)
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f/\\]/.test(name)) throw new NodeError('INVALID_ARGUMENT', 'an attachment\'s name has no control characters, / or \\')
  return name
}

function checkMediaType (mediaType: unknown): string {
  if (mediaType === undefined || mediaType === '') return ''
  // a type/subtype with parameters, as Content-Type has them: printable ASCII
  if (typeof mediaType !== 'string' || mediaType.length > MAX_MEDIA_TYPE_BYTES || !/^[\x21-\x7e][\x20-\x7e]*$/.test(mediaType) || !mediaType.includes('/')) {
    throw new NodeError('INVALID_ARGUMENT', `a media type is type/subtype, at most ${MAX_MEDIA_TYPE_BYTES} bytes of printable ASCII`)
  }
  return mediaType
}

function view ({ key: _key, ...rest }: BlobRecord): BlobView {
  return rest
}

/**
 * The site's attachments (spec 15.6): files taken in once, sealed once; the Content of every
 * copy of a message that lists one carries its key; served on /tmtp/blob/1.0.0 to member
 * devices that prove they hold that key; deleted once every device they were sent to fetched
 * them, or their messages expired (and no later send may list them any more).
 */
export class SiteBlobs {
  private readonly opts: SiteBlobsOptions
  private readonly store: BlobStore
  /** Blobs to look at again when their hold ends (every device fetched them before it did). */
  private readonly holds = new Map<string, ReturnType<typeof setTimeout>>()
  /** Times devices were removed: a send that ran meanwhile may have sealed its blobs for one. */
  private removals = 0
  /** The recount of every blob under way, if one is; `recountAgain`: removals came during it. */
  private recounting?: Promise<void>
  private recountAgain = false

  constructor (opts: SiteBlobsOptions) {
    this.opts = opts
    this.store = opts.store
  }

  /** Takes a file in, sealing it as it arrives. Before a byte is read: ATTACHMENT_TOO_LARGE over the limit, ATTACHMENT_STORE_FULL past the site's room for attachments. */
  async upload (req: UploadRequest): Promise<BlobView> {
    const name = checkName(req.name)
    const mediaType = checkMediaType(req.mediaType)
    if (!Number.isSafeInteger(req.size) || req.size < 0) throw new NodeError('INVALID_ARGUMENT', 'a file\'s size is a byte count')
    if (req.size > this.opts.limits.maxAttachmentBytes) throw new NodeError('ATTACHMENT_TOO_LARGE', `an attachment is at most ${this.opts.limits.maxAttachmentBytes} bytes (maxAttachmentBytes)`)
    const id = toHex(randomBytes(BLOB_ID_BYTES))
    const taken = await this.opts.files.take(id, req.size, req.body)
    const now = this.opts.now()
    const record: BlobRecord = {
      id,
      name,
      mediaType,
      size: taken.size,
      sha256: toHex(taken.sha256),
      key: toHex(taken.key),
      created: now,
      holdUntil: now + this.opts.limits.attachmentHoldMs
    }
    try {
      await this.store.write(this.store.putBlob(record))
    } catch (err) {
      await this.opts.files.remove(id)
      throw err
    }
    return view(record)
  }

  async attachment (id: string): Promise<BlobView> {
    const record = typeof id === 'string' && /^[0-9a-f]{32}$/.test(id) ? await this.store.blob(id) : undefined
    if (record === undefined) throw new NodeError('UNKNOWN_ATTACHMENT', `no attachment ${JSON.stringify(id)}`)
    return view(record)
  }

  /**
   * Sends a message with its attachments: each must be an upload still held for sends
   * (UNKNOWN_ATTACHMENT), all together within maxMessageAttachmentBytes
   * (ATTACHMENTS_TOO_LARGE). The blobs are marked as listed by a pending send before it runs,
   * so that a crash during the send keeps them until its copies would have expired.
   */
  async send (req: SendRequest, send: (req: ResolvedSend) => Promise<SendResult>): Promise<SendResult> {
    const ids = req.attachments ?? []
    if (ids.length === 0) return await send(req)
    if (!Array.isArray(ids) || ids.length > MAX_ATTACHMENTS || new Set(ids).size !== ids.length) {
      throw new NodeError('INVALID_ARGUMENT', `attachments lists 1 to ${MAX_ATTACHMENTS} different attachment ids`)
    }
    const now = this.opts.now()
    const records = await this.store.blobs(ids.map(id => typeof id === 'string' && /^[0-9a-f]{32}$/.test(id) ? id : ''))
    const held: BlobRecord[] = records.map((record, i) => {
      if (record === undefined || now >= record.holdUntil) throw new NodeError('UNKNOWN_ATTACHMENT', `no attachment ${JSON.stringify(ids[i])} that a message may list`)
      return record
    })
    const total = held.reduce((sum, r) => sum + r.size, 0)
    if (total > this.opts.limits.maxMessageAttachmentBytes) {
      throw new NodeError('ATTACHMENTS_TOO_LARGE', `a message's attachments are at most ${this.opts.limits.maxMessageAttachmentBytes} bytes together (maxMessageAttachmentBytes)`)
    }
    const removals = this.removals
    const pending = toHex(randomBytes(16))
    // if the node stops before the send is known to have finished, its copies may live this long
    await this.store.write(this.store.listIn(ids, pending, { expires: now + this.opts.maxTtlMs + SEND_MARGIN_MS }))
    let result: SendResult
    try {
      result = await send({ ...req, sealedAttachments: held.map(toAttachment) })
    } catch (err) {
      await this.store.write(this.store.unlist(ids, pending))
      throw err
    }
    // a retried send returns the first one's result: that one listed the blobs already
    await this.store.write([
      ...this.store.unlist(ids, pending),
      ...(result.duplicate ? [] : this.store.listIn(ids, result.id, { expires: result.expires, devices: result.devices }))
    ])
    // a device removed while the send ran was not looked for in its listing, then still pending
    if (removals !== this.removals) await this.recount(ids)
    return result
  }

  /** The site's end of /tmtp/blob/1.0.0 (spec 15.6); `isMember` tells member devices. */
  source (isMember: (device: string) => Promise<boolean>): BlobSource {
    return {
      admit: async (remote) => {
        if (!await isMember(peerIdToString(remote))) throw new TmtpError(ErrorCode.NOT_MEMBER, 'you are not a member device of this site')
      },
      open: async (blob, remote, proof) => {
        const record = await this.store.blob(toHex(blob))
        // one answer for a blob that does not exist and one the device was not sent
        if (record === undefined || !checkBlobProof(uint8ArrayFromString(record.key, 'base16'), remote, proof)) {
          throw new TmtpError(ErrorCode.UNKNOWN_BLOB, 'no such blob for you')
        }
        return this.served(record)
      },
      fetched: async (blob, remote) => {
        const id = toHex(blob)
        try {
          await this.store.write(this.store.fetched(id, [peerIdToString(remote)]))
        } catch (err) {
          throw new TmtpError(ErrorCode.STORAGE_FAILURE, 'cannot record the blob fetched', { cause: err })
        }
        await this.sweepBlob(id).catch(err => { this.opts.log.error('cannot delete blob %s: %e', id, err) })
      }
    }
  }

  private lookAgain (id: string, ms: number): void {
    if (this.holds.has(id)) return
    const timer = setTimeout(() => {
      this.holds.delete(id)
      this.sweepBlob(id).catch(err => { this.opts.log.error('cannot delete blob %s: %e', id, err) })
    }, ms)
    unref(timer)
    this.holds.set(id, timer)
  }

  private served (record: BlobRecord): ServedBlob {
    const files = this.opts.files
    return {
      size: record.size,
      async * chunks (first) {
        let index = first
        for await (const chunk of files.chunks(record.id, record.size, first)) {
          yield chunk
          index++
        }
        // the file went (deleted meanwhile): what was not sent cannot be
        if (index < chunkCount(record.size)) throw new TmtpError(ErrorCode.UNKNOWN_BLOB, 'the blob was deleted')
      }
    }
  }

  /**
   * Devices were removed from the site (they left, or their member was removed), that store
   * written: no blob waits for them any more, and one that waited for them only goes.
   */
  async devicesGone (): Promise<void> {
    this.removals++
    // removals one after another (a backend removing many members) share a pass and one more
    if (this.recounting !== undefined) {
      this.recountAgain = true
      return await this.recounting
    }
    this.recounting = (async () => {
      do {
        this.recountAgain = false
        for await (const record of this.store.all()) await this.sweepBlob(record.id, record, true)
      } while (this.recountAgain)
    })().finally(() => { this.recounting = undefined })
    return await this.recounting
  }

  private async recount (ids: string[]): Promise<void> {
    for (const id of ids) await this.sweepBlob(id, undefined, true)
  }

  /**
   * Deletes the blobs no longer needed, and files without a record (a crash between the two).
   * With `recount` (at start: a crash may have come between a device's removal and its
   * recount), blobs also stop waiting for devices that are no members any more.
   */
  async sweep (recount = false): Promise<number> {
    let deleted = 0
    const known = new Set<string>()
    for await (const record of this.store.all()) {
      known.add(record.id)
      if (await this.sweepBlob(record.id, record, recount)) deleted++
    }
    for (const id of await this.opts.files.ids()) {
      if (!known.has(id) && await this.store.blob(id) === undefined) await this.opts.files.remove(id)
    }
    return deleted
  }

  /** Stops the timers of holds. */
  stop (): void {
    for (const timer of this.holds.values()) clearTimeout(timer)
    this.holds.clear()
  }

  /**
   * Deletes a blob that no device needs and no send may list any more: every device it was
   * sent to reported it fetched (or, counted with `recount`, is no member device any more),
   * or every message listing it expired (an upload no message lists: at once), and its hold
   * is over (else it is looked at again then).
   */
  private async sweepBlob (id: string, known?: BlobRecord, recount = false): Promise<boolean> {
    const record = known ?? await this.store.blob(id)
    if (record === undefined) return false
    const listing = await this.store.listing(id)
    const now = this.opts.now()
    const expired = listing.every(l => l.expires !== 0 && now >= l.expires)
    const sent = listing.every(l => l.devices !== undefined)
    const allFetched = sent && (await this.store.fetchedCount(id) >= listing.reduce((sum, l) => sum + (l.devices ?? 0), 0) ||
      (recount && !expired && await this.waitsForNone(id, listing)))
    if (!expired && !allFetched) return false
    if (now < record.holdUntil + HOLD_GRACE_MS) {
      this.lookAgain(id, record.holdUntil + HOLD_GRACE_MS - now)
      return false
    }
    await this.opts.files.remove(id)
    await this.store.deleteBlob(id)
    this.opts.log('deleted blob %s (%s)', id, expired ? 'its messages expired' : 'every device fetched it')
    return true
  }

  /**
   * Stops waiting for the devices the blob was sent to that are no member devices any more
   * (so that the count of a later report finds them done), and tells whether it still waits
   * for any: a recount through the messages' recipients, a page at a time.
   */
  private async waitsForNone (id: string, listing: Listing[]): Promise<boolean> {
    let waiting = false
    for (const { message } of listing) {
      for await (const page of this.opts.recipients(message)) {
        const [done, present] = await Promise.all([this.store.fetchedBy(id, page), this.opts.areDevices(page)])
        const gone = page.filter((_, i) => !done[i] && !present[i])
        if (gone.length > 0) await this.store.write(this.store.fetched(id, gone))
        waiting ||= page.some((_, i) => !done[i] && present[i])
      }
    }
    return !waiting
  }
}

/** An upload as every copy's Content lists it (spec 11.2). */
function toAttachment (record: BlobRecord): Attachment {
  return {
    blob: uint8ArrayFromString(record.id, 'base16') as Uint8Array<ArrayBuffer>,
    name: record.name,
    mediaType: record.mediaType,
    size: record.size,
    sha256: uint8ArrayFromString(record.sha256, 'base16') as Uint8Array<ArrayBuffer>,
    key: uint8ArrayFromString(record.key, 'base16') as Uint8Array<ArrayBuffer>
  }
}
