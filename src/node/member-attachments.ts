import { fromString as uint8ArrayFromString } from 'uint8arrays'
import { blobProof, chunkCount } from '../crypto/index.js'
import { fetchChunks, FramedStream, reportFetched } from '../delivery/index.js'
import { BLOB_CHUNK_BYTES, ErrorCode, isTmtpError, MAX_FRAME_SIZE, TmtpError, type Attachment } from '../protocol/index.js'
import { backoffDelay, NodeError, Semaphore, unref, type BackoffOptions, toHex } from '../util/index.js'
import type { AttachmentRecord, AttachmentRef, AttachmentStore, OwedReport } from '../store/index.js'
import type { AttachmentFiles, WholeFile } from './attachment-files.js'
import type { Logger, Stream } from '@libp2p/interface'

/** What happened to an attachment: whole and checked, given up, or to be tried again after a failure. */
export interface AttachmentEvent extends AttachmentRef {
  state: 'fetched' | 'failed' | 'retrying'
  code?: string
}

/** An attachment's state as the member sees it: `available` until it is asked for. */
export type AttachmentStatus = { state: 'available' } | AttachmentRecord

export interface MemberAttachmentsOptions {
  store: AttachmentStore
  /** Where fetched files go (the platform's: files on Node.js, IndexedDB in a tab); absent: attachments are not fetched (ATTACHMENTS_NOT_SUPPORTED). */
  files?: AttachmentFiles
  /** This device's PeerId: what its proofs are bound to (spec 15.6). */
  self: Uint8Array
  /** Attachments of at most this many bytes are fetched when their message arrives. */
  autoFetchBytes: number
  /** A /tmtp/blob/1.0.0 stream to the site. */
  open: (site: string) => Promise<Stream>
  /** The attachments a message of the inbox lists (its Content, opened). */
  attachmentsOf: (site: string, id: string) => Promise<Attachment[]>
  backoff: BackoffOptions
  now: () => number
  log: Logger
  onEvent: (event: AttachmentEvent) => void
}

/** Failed attempts in a row (none bringing a chunk) before an attachment is given up. */
const MAX_FAILURES = 5

/**
 * Blob streams a device has open at once, all sites together: below a site's streams per
 * connection (maxInboundStreams, 8 by default), which resets those beyond it, so that a
 * message of 16 attachments fetches them in turn instead of failing half of them.
 */
const CONCURRENT_FETCHES = 4

function fileName (ref: AttachmentRef): string {
  return `${ref.site}-${ref.id}-${ref.index}`
}

/**
 * A member device's attachments (spec 15.6): fetched at once when small enough (the member's
 * `autoFetchBytes`), else when asked; chunk by chunk into a partial file that survives a cut
 * and a restart (it resumes from the chunks it holds), checked against the SHA-256 its message
 * gives, then reported fetched to the site. Each attachment is fetched by one task at a time.
 */
export class MemberAttachments {
  private readonly opts: MemberAttachmentsOptions
  private readonly running = new Map<string, Promise<WholeFile>>()
  /** Attachments whose message the member is deleting: a fetch of one stops at its next chunk. */
  private readonly dropped = new Set<string>()
  private readonly streams = new Semaphore(CONCURRENT_FETCHES)
  private readonly stopping = new AbortController()
  /** Reports being sent now, by site and blob: a retry does not send one twice at once. */
  private readonly reporting = new Set<string>()

  constructor (opts: MemberAttachmentsOptions) {
    this.opts = opts
  }

  /** A message arrived: its small attachments are fetched now (a device without files fetches none). */
  received (site: string, id: string, attachments: Attachment[]): void {
    if (this.opts.files === undefined) return
    attachments.forEach((attachment, index) => {
      if (attachment.size > this.opts.autoFetchBytes) return
      this.start({ site, id, index }, attachment).catch(err => { this.opts.log('attachment %d of %s not fetched: %e', index, id, err) })
    })
  }

  /** An attachment's state as its message arrives: being fetched if the policy fetches it, else available. */
  initialStatus (attachment: Attachment): AttachmentStatus {
    return this.opts.files !== undefined && attachment.size <= this.opts.autoFetchBytes ? { state: 'wanted', at: this.opts.now() } : { state: 'available' }
  }

  /** Fetches again what was wanted when the node stopped, and sends the reports still owed. */
  async resume (): Promise<void> {
    if (this.opts.files === undefined) return
    await this.retryReports()
    for await (const ref of this.opts.store.wanted()) {
      const attachment = (await this.opts.attachmentsOf(ref.site, ref.id).catch(() => []))[ref.index]
      if (attachment === undefined) {
        await this.opts.store.write(this.opts.store.forget(ref))
        continue
      }
      this.start(ref, attachment).catch(err => { this.opts.log('attachment %d of %s not fetched: %e', ref.index, ref.id, err) })
    }
  }

  /** The attachment's file, fetched first if need be: resolves with it once it is whole and checked. */
  async fetch (ref: AttachmentRef, attachment: Attachment): Promise<WholeFile> {
    return await this.start(ref, attachment)
  }

  /** The states of a message's attachments. */
  async states (site: string, id: string, count: number): Promise<AttachmentStatus[]> {
    const records = await this.opts.store.records(Array.from({ length: count }, (_, index) => ({ site, id, index })))
    return records.map(r => r ?? { state: 'available' })
  }

  /** Deletes a message's attachments: their files and what the device knew of them (the member deleted the message). */
  async remove (site: string, id: string, count: number): Promise<void> {
    const refs = Array.from({ length: count }, (_, index) => ({ site, id, index }))
    const names = refs.map(fileName)
    for (const name of names) this.dropped.add(name)
    try {
      // a fetch running now would write the file again: it stops, then the files go
      await Promise.allSettled(names.map(async name => await this.running.get(name)))
      for (const name of names) await this.opts.files?.remove(name)
      await this.opts.store.write(refs.flatMap(ref => this.opts.store.forget(ref)))
    } finally {
      for (const name of names) this.dropped.delete(name)
    }
  }

  /**
   * Sends again the reports a site has not recorded (every site's, or one's): when the device
   * starts, connects to the site, and with its periodic check of its sites. The site records
   * a report once however often it comes, so a report whose answer was lost costs one more.
   */
  async retryReports (site?: string): Promise<void> {
    for await (const owed of this.opts.store.owed(site)) this.report(owed)
  }

  /** Starts no further attempt; those running end at their next step. */
  stop (): void {
    this.stopping.abort()
  }

  private async start (ref: AttachmentRef, attachment: Attachment): Promise<WholeFile> {
    const files = this.opts.files
    if (files === undefined) throw new NodeError('ATTACHMENTS_NOT_SUPPORTED', 'this device keeps no files: it fetches no attachments')
    const whole = await files.whole(fileName(ref))
    if (whole !== undefined) return whole
    // UNKNOWN_BLOB and NOT_MEMBER are for good (spec 15.6): the site is not asked again
    const [before] = await this.opts.store.records([ref])
    if (before?.state === 'failed' && (before.code === ErrorCode.UNKNOWN_BLOB || before.code === ErrorCode.NOT_MEMBER)) {
      throw new TmtpError(before.code, `the site refused attachment ${ref.index} of ${ref.id} for good`)
    }
    const k = fileName(ref)
    let task = this.running.get(k)
    if (task === undefined) {
      task = this.run(files, ref, attachment).finally(() => this.running.delete(k))
      this.running.set(k, task)
    }
    return await task
  }

  private async record (ref: AttachmentRef, state: AttachmentRecord['state'], code?: string): Promise<void> {
    await this.opts.store.write(this.opts.store.set(ref, { state, at: this.opts.now(), code }))
  }

  private async run (files: AttachmentFiles, ref: AttachmentRef, attachment: Attachment): Promise<WholeFile> {
    await this.record(ref, 'wanted')
    const name = fileName(ref)
    const count = chunkCount(attachment.size)
    const proof = blobProof(attachment.key, this.opts.self)
    /** Whole chunks in the partial file: a chunk cut by a crash is fetched again. */
    const held = async (): Promise<number> => {
      const size = await files.partSize(name)
      return size >= attachment.size ? count : Math.floor(size / BLOB_CHUNK_BYTES)
    }
    // one more pass from the start if the whole file does not match its hash (a site that sealed another file)
    for (let pass = 0; pass < 2; pass++) {
      let next = await held()
      let failures = 0
      while (next < count) {
        if (this.stopping.signal.aborted) throw new NodeError('NOT_RUNNING', 'the node stopped')
        const part = await files.openPart(name, next * BLOB_CHUNK_BYTES)
        let failure: unknown
        try {
          await this.streams.run(async () => {
            const stream = await this.opts.open(ref.site)
            await fetchChunks(new FramedStream(stream, MAX_FRAME_SIZE), attachment, proof, next, {
              append: async (_, bytes) => {
                if (this.dropped.has(name)) throw new NodeError('UNKNOWN_MESSAGE', 'the member deleted the message')
                await part.append(bytes)
              }
            })
          })
        } catch (err) {
          failure = err
        } finally {
          await part.close()
        }
        if (this.dropped.has(name)) throw new NodeError('UNKNOWN_MESSAGE', 'the member deleted the message')
        const reached = await held()
        if (isTmtpError(failure) && (failure.code === ErrorCode.UNKNOWN_BLOB || failure.code === ErrorCode.NOT_MEMBER)) {
          return await this.giveUp(ref, failure.code, failure)
        }
        failures = reached > next ? 0 : failures + 1
        next = reached
        if (next >= count) break
        const code = failure === undefined ? 'TIMEOUT' : isTmtpError(failure) ? failure.code : 'UNREACHABLE'
        if (failures >= MAX_FAILURES) return await this.giveUp(ref, code, failure)
        this.opts.log('attachment %d of %s: %s at chunk %d, trying again', ref.index, ref.id, code, next)
        this.opts.onEvent({ ...ref, state: 'retrying', code })
        await this.pause(backoffDelay(failures, this.opts.backoff))
      }
      // an empty file has no chunk, so nothing wrote its partial file: it is made here, empty
      if (count === 0) await (await files.openPart(name, 0)).close()
      const hash = await files.hashPart(name)
      if (hash.byteLength === attachment.sha256.byteLength && hash.every((b, i) => b === attachment.sha256[i])) {
        await files.complete(name)
        // owed in the same write: a report that fails (or a crash before it) is sent again later
        const owed: OwedReport = { site: ref.site, blob: toHex(attachment.blob), size: attachment.size, proof: toHex(proof) }
        await this.opts.store.write([...this.opts.store.set(ref, { state: 'fetched', at: this.opts.now() }), ...this.opts.store.owe(owed)])
        this.opts.onEvent({ ...ref, state: 'fetched' })
        this.report(owed)
        return await files.whole(name) as WholeFile
      }
      await files.remove(name)
      this.opts.onEvent({ ...ref, state: 'retrying', code: ErrorCode.DECRYPT_FAILED })
    }
    return await this.giveUp(ref, ErrorCode.DECRYPT_FAILED, new TmtpError(ErrorCode.DECRYPT_FAILED, 'the file does not match the SHA-256 its message gives'))
  }

  private async giveUp (ref: AttachmentRef, code: string, cause: unknown): Promise<never> {
    await this.record(ref, 'failed', code)
    this.opts.onEvent({ ...ref, state: 'failed', code })
    if (isTmtpError(cause) || cause instanceof NodeError) throw cause
    throw new NodeError('UNREACHABLE', `attachment ${ref.index} of ${ref.id} could not be fetched: ${code}`, { cause })
  }

  /**
   * Tells the site the device holds the blob, so that it can delete it (in the background:
   * the file is the caller's already). Recorded, or refused for good (the blob is gone, the
   * device is no member), the report is settled; any other failure leaves it owed.
   */
  private report (owed: OwedReport): void {
    const k = `${owed.site}:${owed.blob}`
    if (this.reporting.has(k) || this.stopping.signal.aborted) return
    this.reporting.add(k)
    const send = async (): Promise<void> => {
      try {
        // a report is a blob stream too: it takes a turn with the fetches, or a burst of reports
        // beside four fetches goes over the streams a site takes per connection
        await this.streams.run(async () => {
          const framed = new FramedStream(await this.opts.open(owed.site), MAX_FRAME_SIZE)
          await reportFetched(framed, { blob: uint8ArrayFromString(owed.blob, 'base16'), size: owed.size }, uint8ArrayFromString(owed.proof, 'base16'))
        })
      } catch (err) {
        if (!isTmtpError(err) || (err.code !== ErrorCode.UNKNOWN_BLOB && err.code !== ErrorCode.NOT_MEMBER)) {
          this.opts.log('could not report blob %s fetched to %s, will try again: %e', owed.blob, owed.site, err)
          return
        }
      }
      await this.opts.store.write(this.opts.store.settle(owed))
    }
    send()
      .catch(err => { this.opts.log('could not settle the report of blob %s: %e', owed.blob, err) })
      .finally(() => this.reporting.delete(k))
  }

  private async pause (ms: number): Promise<void> {
    await new Promise<void>(resolve => {
      const timer = unref(setTimeout(done, ms))
      const signal = this.stopping.signal
      function done (): void {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        resolve()
      }
      signal.addEventListener('abort', done)
    })
  }
}
