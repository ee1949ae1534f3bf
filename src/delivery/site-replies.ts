import { checkEnvelopeHeader, decryptEnvelope, peerIdToString, type EpochKeys } from '../crypto/index.js'
import { ErrorCode, TmtpError, type Content } from '../protocol/index.js'
import { epochKeysFromRecord, type Reply, type ReplyEvent, type SiteStore, type Write } from '../store/index.js'
import type { Accepted, InboundSink } from './receiver.js'
import type { ReplyQuota } from './reply-quota.js'
import { toHex } from '../util/index.js'

export interface SiteRepliesOptions {
  store: SiteStore
  self: Uint8Array
  now: () => number
  onReply: (reply: Reply) => void
  /** Journals reply events for the backend in the batch that stores the replies; absent: none kept. */
  journal?: (events: ReplyEvent[]) => Write[]
  /** What each member may have stored; absent: no bound. */
  quota?: ReplyQuota
}

/**
 * The site's end of one /tmtp/post/1.0.0 stream (spec 15.3, "/tmtp/post/1.0.0"): only member devices may
 * post; each envelope opens under the device-to-site key of an epoch the site issued to
 * that device.
 */
export function siteRepliesSink (opts: SiteRepliesOptions): InboundSink<Content> {
  const epochs = new Map<number, EpochKeys>()
  let who = { device: '', member: '', ref: '' }
  return {
    admit: async (remote) => {
      const peer = peerIdToString(remote)
      const device = await opts.store.device(peer)
      if (device === undefined) throw new TmtpError(ErrorCode.NOT_MEMBER, 'not a member device of this site')
      const member = await opts.store.member(device.member)
      who = { device: peer, member: device.member, ref: member?.ref ?? '' }
      for (const record of await opts.store.epochs(peer)) epochs.set(record.epoch, epochKeysFromRecord(record))
    },
    recheck: async (remote) => {
      const device = await opts.store.device(peerIdToString(remote))
      if (device === undefined || device.member !== who.member) throw new TmtpError(ErrorCode.NOT_MEMBER, 'no longer a member device of this site')
    },
    open: (remote, parsed) => {
      checkEnvelopeHeader(parsed.header, { sender: remote, recipient: opts.self, now: opts.now() })
      const keys = epochs.get(parsed.header.epoch)
      if (keys === undefined) throw new TmtpError(ErrorCode.UNKNOWN_EPOCH, `epoch ${parsed.header.epoch} was not issued to this device`)
      return decryptEnvelope(keys.deviceToSite, parsed)
    },
    known: async (ids) => await opts.store.knownReplies(who.device, ids),
    quota: async (_remote, accepted) => {
      const quota = opts.quota
      if (quota === undefined) return accepted.length
      const received = opts.now()
      return await quota.grant(who.device, who.member, accepted.map(a => byteLength(JSON.stringify(toReply(a, who, received)))))
    },
    store: async (_remote, accepted) => {
      const received = opts.now()
      const replies = accepted.map(a => toReply(a, who, received))
      const events: ReplyEvent[] = opts.journal === undefined ? [] : replies.map(r => ({ ...r, type: 'reply', at: r.received }))
      await opts.store.write([...opts.store.putReplies(replies), ...(opts.journal?.(events) ?? [])])
      for (const r of replies) opts.onReply(r)
    }
  }
}

/** A reply as the site keeps it, from an accepted envelope of `who`'s device. */
function toReply (a: Accepted<Content>, who: { device: string, member: string, ref: string }, received: number): Reply {
  return {
    id: a.idHex,
    device: who.device,
    member: who.member,
    ref: who.ref,
    subject: a.value.subject,
    body: a.value.body,
    contentType: a.value.contentType,
    thread: toHex(a.value.thread),
    replyTo: toHex(a.value.replyTo),
    created: a.parsed.header.created,
    received
  }
}

const encoder = new TextEncoder()

function byteLength (text: string): number {
  return encoder.encode(text).byteLength
}
