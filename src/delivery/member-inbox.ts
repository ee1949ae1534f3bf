import { checkEnvelopeHeader, decryptEnvelope, openKeyEpoch, peerIdToString } from '../crypto/index.js'
import { ErrorCode, MAX_CLOCK_SKEW_MS, TmtpError, type Content } from '../protocol/index.js'
import { epochKeysToRecord, type InboxRecord, type MemberEpochRecord, type MemberStore } from '../store/index.js'
import type { CachedEpoch, EpochCache } from './epoch-cache.js'
import type { InboundSink } from './receiver.js'
import { toHex } from '../util/index.js'

export interface MemberInboxOptions {
  store: MemberStore
  self: Uint8Array
  devicePrivateKey: Uint8Array
  now: () => number
  /** Epoch keys per site, shared by every stream and by reading the inbox. */
  epochs: EpochCache
  onMessage: (record: InboxRecord, content: Content) => void
}

/**
 * The member device's end of one /tmtp/deliver/1.0.0 stream (spec 15.2, "/tmtp/deliver/1.0.0"). Only a
 * joined, unblocked site gets past admit(); nothing else is decoded, decrypted or stored.
 */
export function memberInboxSink (opts: MemberInboxOptions): InboundSink<Content> {
  let epochs = new Map<number, CachedEpoch>()
  /** The site this stream is from (set by admit): ids are deduplicated per sender. */
  let from = ''
  return {
    admit: async (remote) => {
      const peer = from = peerIdToString(remote)
      if (await opts.store.blockOf(peer) !== undefined) throw new TmtpError(ErrorCode.BLOCKED, 'this device blocks you')
      const site = await opts.store.site(peer)
      if (site === undefined || site.left !== undefined) throw new TmtpError(ErrorCode.NOT_MEMBER, 'this device has not joined you')
      epochs = await opts.epochs.load(peer)
    },
    acceptEpoch: async (remote, signed) => {
      const opened = await openKeyEpoch(signed, { site: remote, device: opts.self, devicePrivateKey: opts.devicePrivateKey })
      const site = peerIdToString(remote)
      const { epoch } = opened
      const signedHex = toHex(signed)
      const held = epochs.get(epoch.epoch)
      // the stored messages sealed under a held epoch must stay readable: its keys never change (spec 10.3)
      if (held !== undefined && held.signed !== signedHex) throw new TmtpError(ErrorCode.BAD_FRAME, `key epoch ${epoch.epoch} is already held with other keys`)
      if (held !== undefined) return
      const record: MemberEpochRecord = {
        epoch: epoch.epoch,
        created: epoch.created,
        expires: epoch.expires,
        signed: signedHex,
        ...epochKeysToRecord(opened.keys)
      }
      await opts.store.write(opts.store.putEpoch(site, record))
      opts.epochs.add(site, epoch.epoch, { keys: opened.keys, expires: epoch.expires, signed: signedHex })
    },
    open: (remote, parsed) => {
      const now = opts.now()
      checkEnvelopeHeader(parsed.header, { sender: remote, recipient: opts.self, now })
      const epoch = epochs.get(parsed.header.epoch)
      if (epoch === undefined) throw new TmtpError(ErrorCode.UNKNOWN_EPOCH, `no key epoch ${parsed.header.epoch} from this site`)
      if (parsed.header.created > epoch.expires + MAX_CLOCK_SKEW_MS) throw new TmtpError(ErrorCode.EXPIRED, 'sealed under an expired key epoch')
      return decryptEnvelope(epoch.keys.siteToDevice, parsed)
    },
    known: async (ids) => await opts.store.knownInbox(from, ids),
    store: async (remote, accepted) => {
      const site = peerIdToString(remote)
      const received = opts.now()
      const records = accepted.map(a => ({
        record: {
          id: a.idHex,
          site,
          seq: a.parsed.header.seq,
          epoch: a.parsed.header.epoch,
          created: a.parsed.header.created,
          expires: a.parsed.header.expires,
          received,
          read: false,
          envelope: a.envelope
        } satisfies InboxRecord,
        content: a.value
      }))
      await opts.store.write(opts.store.putInbox(records.map(r => r.record)))
      for (const { record, content } of records) opts.onMessage(record, content)
    }
  }
}
