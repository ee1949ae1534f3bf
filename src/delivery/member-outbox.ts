import { encodeContent, peerIdFromString, sealPushFrame, type Ed25519Signer } from '../crypto/index.js'
import { isTmtpError, pushedEnvelopeHeader, WIRE_VERSION } from '../protocol/index.js'
import type { MemberStore, PostStatus } from '../store/index.js'
import { Mutex, NodeError, toHex } from '../util/index.js'
import { messageIdFromHex, newMessageId } from './ids.js'
import type { EpochCache } from './epoch-cache.js'
import type { OutboundQueue, QueuedEnvelope } from './sender.js'

export interface PostRequest {
  subject?: string
  body: string
  contentType?: string
  /** Hex ids of the message answered and of its thread's first message. */
  replyTo?: string
  thread?: string
  ttlMs: number
}

export interface MemberOutboxOptions {
  store: MemberStore
  signer: Ed25519Signer
  epochs: EpochCache
  now: () => number
}

/**
 * The member device's outbox of posts to its sites (spec 15.3, "/tmtp/post/1.0.0"): each post is sealed
 * under the device-to-site key of the newest epoch from that site, with the device's own
 * sequence counter written in the same batch, and kept until the site acknowledges it.
 */
export class MemberOutbox {
  private readonly opts: MemberOutboxOptions
  private readonly lock = new Mutex()
  private readonly listeners = new Map<string, () => void>()
  private queuedListener?: (peer: string) => void
  /** The last post counter used per site, once read from the store (the store's is written with each post). */
  private readonly seqs = new Map<string, number>()

  constructor (opts: MemberOutboxOptions) {
    this.opts = opts
  }

  async post (site: string, req: PostRequest): Promise<PostStatus> {
    const record = await this.opts.store.site(site)
    if (record === undefined || record.left !== undefined) throw new NodeError('UNKNOWN_SITE', `not a member of site ${site}`)
    let content: Uint8Array
    try {
      content = encodeContent({
        subject: req.subject ?? '',
        body: req.body,
        contentType: req.contentType ?? '',
        replyTo: messageIdFromHex(req.replyTo, 'replyTo'),
        thread: messageIdFromHex(req.thread, 'thread')
      })
    } catch (err) {
      if (isTmtpError(err)) throw new NodeError('INVALID_ARGUMENT', err.message)
      throw err
    }
    const { post, done } = await this.lock.run(async () => {
      const epochs = await this.opts.epochs.load(site)
      const newest = Math.max(0, ...epochs.keys())
      const epoch = epochs.get(newest)
      if (epoch === undefined) throw new NodeError('NO_KEY_EPOCH', 'the site has not set up keys with this device yet: a reply needs a message from the site first')
      const seq = (this.seqs.get(site) ?? await this.opts.store.postSeq(site)) + 1
      this.seqs.set(site, seq)
      const now = this.opts.now()
      const id = newMessageId()
      const frame = sealPushFrame(epoch.keys.deviceToSite, {
        version: WIRE_VERSION,
        id: id as Uint8Array<ArrayBuffer>,
        sender: this.opts.signer.peerId as Uint8Array<ArrayBuffer>,
        recipient: peerIdFromString(site) as Uint8Array<ArrayBuffer>,
        epoch: newest,
        seq,
        created: now,
        expires: now + req.ttlMs
      }, content)
      const post: PostStatus = {
        id: toHex(id),
        site,
        seq,
        created: now,
        state: 'queued',
        at: now,
        replyTo: req.replyTo ?? '',
        subject: req.subject ?? ''
      }
      // enqueued inside the lock, so batches reach LevelDB in counter order, and awaited outside
      // it, so that concurrent posts share a group commit. Synced whatever the fsync setting: a
      // post counter that a power loss rolled back would seal two posts under one nonce (spec 11.4)
      const done = this.opts.store.write(this.opts.store.queuePost(post, frame), { sync: true }).catch((err: unknown) => {
        this.seqs.delete(site)
        throw err
      })
      return { post, done }
    })
    await done
    this.notify(site)
    return post
  }

  private notify (site: string): void {
    this.listeners.get(site)?.()
    this.queuedListener?.(site)
  }

  /** Registers the one listener (the courier) told of each site that has new entries queued. */
  onQueued (listener: (peer: string) => void): void {
    this.queuedListener = listener
  }

  async hasWork (site: string): Promise<boolean> {
    return await this.opts.store.hasPosts(site)
  }

  queue (site: string): OutboundQueue {
    return {
      next: async (limit, after, exclude) => {
        // posts are few: one page holds those in flight and `limit` more
        const page = await this.opts.store.postPage(site, { after, limit: limit + exclude.size })
        return page.filter(e => !exclude.has(e.key)).slice(0, limit).map(({ key, frame }) => {
          const header = pushedEnvelopeHeader(frame)
          return { key, idHex: toHex(header.id), epoch: header.epoch, frame }
        })
      },
      acknowledged: async (entries, _proof, at) => { await this.settle(entries, 'delivered', at) },
      rejected: async (entry, code) => { await this.settle([entry], 'rejected', this.opts.now(), code) },
      subscribe: (listener) => {
        this.listeners.set(site, listener)
        return () => this.listeners.delete(site)
      }
    }
  }

  private async settle (entries: QueuedEnvelope[], state: PostStatus['state'], at: number, code?: string): Promise<void> {
    await this.opts.store.write(await this.opts.store.settlePosts(entries, { state, at, code }))
  }
}
