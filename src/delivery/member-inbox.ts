import { toString as uint8ArrayToString } from 'uint8arrays'
import { openKeyEpoch, type EpochKeys } from '../crypto/epoch.js'
import { checkEnvelopeHeader, decryptEnvelope } from '../crypto/envelope.js'
import { peerIdToString } from '../crypto/ed25519.js'
import { MAX_CLOCK_SKEW_MS } from '../protocol/constants.js'
import { ErrorCode, TmtpError } from '../protocol/errors.js'
import { Envelope } from '../protocol/pb/tmtp.js'
import { put } from '../store/database.js'
import { encodeInboxEntry, key, type InboxRecord, type MemberEpochRecord, type MemberStore } from '../store/member-store.js'
import { epochKeysFromRecord, epochKeysToRecord } from './epochs.js'
import type { InboundSink } from './receiver.js'
import type { Content } from '../protocol/pb/tmtp.js'

export interface MemberInboxOptions {
  store: MemberStore
  self: Uint8Array
  devicePrivateKey: Uint8Array
  now: () => number
  /** Epoch keys per site, shared by every stream and by reading the inbox. */
  epochs: EpochCache
  onMessage: (record: InboxRecord, content: Content) => void
}

interface CachedEpoch { keys: EpochKeys, expires: number }

/** The epoch keys of each joined site, loaded from the store once. */
export class EpochCache {
  private readonly store: MemberStore
  private readonly sites = new Map<string, Map<number, CachedEpoch>>()

  constructor (store: MemberStore) {
    this.store = store
  }

  async load (site: string): Promise<Map<number, CachedEpoch>> {
    let epochs = this.sites.get(site)
    if (epochs === undefined) {
      epochs = new Map()
      for (const record of await this.store.epochs(site)) epochs.set(record.epoch, { keys: epochKeysFromRecord(record), expires: record.expires })
      this.sites.set(site, epochs)
    }
    return epochs
  }

  /** Epochs already loaded for a site (after load). */
  loaded (site: string): Map<number, CachedEpoch> | undefined {
    return this.sites.get(site)
  }

  add (site: string, epoch: number, value: CachedEpoch): void {
    this.sites.get(site)?.set(epoch, value)
  }

  forget (site: string): void {
    this.sites.delete(site)
  }
}

/**
 * The member device's end of one /tmtp/deliver/1.0.0 stream (spec: "Deliver"). Only a
 * joined, unblocked site gets past admit(); nothing else is decoded, decrypted or stored.
 */
export function memberInboxSink (opts: MemberInboxOptions): InboundSink<Content> {
  let epochs = new Map<number, CachedEpoch>()
  return {
    admit: async (remote) => {
      const peer = peerIdToString(remote)
      if (await opts.store.block(peer) !== undefined) throw new TmtpError(ErrorCode.BLOCKED, 'this device blocks you')
      const site = await opts.store.site(peer)
      if (site === undefined || site.left !== undefined) throw new TmtpError(ErrorCode.NOT_MEMBER, 'this device has not joined you')
      epochs = await opts.epochs.load(peer)
    },
    acceptEpoch: async (remote, signed) => {
      const opened = await openKeyEpoch(signed, { site: remote, device: opts.self, devicePrivateKey: opts.devicePrivateKey })
      const site = peerIdToString(remote)
      const { epoch } = opened
      if (epochs.has(epoch.epoch)) return
      const record: MemberEpochRecord = {
        epoch: epoch.epoch,
        created: epoch.created,
        expires: epoch.expires,
        signed: uint8ArrayToString(signed, 'base16'),
        ...epochKeysToRecord(opened.keys)
      }
      await opts.store.db.write([put(key.epoch(site, epoch.epoch), record)])
      opts.epochs.add(site, epoch.epoch, { keys: opened.keys, expires: epoch.expires })
    },
    open: (remote, parsed) => {
      const now = opts.now()
      checkEnvelopeHeader(parsed.header, { sender: remote, recipient: opts.self, now })
      const epoch = epochs.get(parsed.header.epoch)
      if (epoch === undefined) throw new TmtpError(ErrorCode.UNKNOWN_EPOCH, `no key epoch ${parsed.header.epoch} from this site`)
      if (parsed.header.created > epoch.expires + MAX_CLOCK_SKEW_MS) throw new TmtpError(ErrorCode.EXPIRED, 'sealed under an expired key epoch')
      return decryptEnvelope(epoch.keys.siteToDevice, parsed)
    },
    known: async (ids) => (await opts.store.db.getMany(ids.map(key.inboxId))).map(v => v !== undefined),
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
          envelope: Envelope.encode({ header: a.parsed.headerBytes as Uint8Array<ArrayBuffer>, ciphertext: a.parsed.ciphertext as Uint8Array<ArrayBuffer> })
        } satisfies InboxRecord,
        content: a.value
      }))
      await opts.store.db.write(records.flatMap(({ record }) => [
        put(key.inbox(site, record.seq), encodeInboxEntry(record)),
        put(key.inboxId(record.id), key.inbox(site, record.seq))
      ]))
      for (const { record, content } of records) opts.onMessage(record, content)
    }
  }
}
