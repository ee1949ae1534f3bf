import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { logger } from '@libp2p/logger'
import { streamPair } from '@libp2p/utils'
import { fromString as uint8ArrayFromString } from 'uint8arrays'
import { Ed25519Signer, peerIdToString } from '../../src/crypto/ed25519.js'
import { directionKey } from '../../src/crypto/epoch.js'
import { EpochCache } from '../../src/delivery/epoch-cache.js'
import { FramedStream } from '../../src/delivery/framed-stream.js'
import { memberInboxSink } from '../../src/delivery/member-inbox.js'
import { receiveEnvelopes } from '../../src/delivery/receiver.js'
import { MAX_FRAME_SIZE } from '../../src/protocol/constants.js'
import { codeFromWire } from '../../src/protocol/errors.js'
import { Envelope, EnvelopeHeader, Push, Receipt } from '../../src/protocol/pb/tmtp.js'
import { Database } from '../../src/store/database.js'
import { epochKeysToRecord } from '../../src/store/epoch-keys.js'
import { MemberStore } from '../../src/store/member-store.js'
import { toHex } from '../../src/util/hex.js'

interface DuplicateCase {
  name: string
  input: { envelope: string, sender: string, recipient: string, now: number, key: string, base_nonce: string, epoch: number, epoch_expires: number, stored: Array<{ sender: string, id: string }> }
  outcome: string
}

const hex = (text: string): Uint8Array<ArrayBuffer> => uint8ArrayFromString(text, 'base16') as Uint8Array<ArrayBuffer>

describe('delivery/member-inbox', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'tmtp-member-inbox-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  /**
   * The node's own receiver and member inbox, on a real store, give each outcome of
   * spec/vectors/duplicate.json: a duplicate is acknowledged again unless steps 1 to 5 of
   * "Receiving an envelope" refuse it first.
   */
  it('answers every case of spec/vectors/duplicate.json as the spec\'s step order says', async () => {
    const file = JSON.parse(await readFile(new URL('../../spec/vectors/duplicate.json', import.meta.url), 'utf8'))
    const device = new Ed25519Signer(hex(file.keys.device.ed25519_seed))
    const devicePrivateKey = hex(file.keys.device.x25519_private_key)
    const cases: DuplicateCase[] = file.cases
    for (const [n, c] of cases.entries()) {
      const db = await Database.open(join(dir, `db-${n}`), { fsync: false })
      try {
        const store = await MemberStore.open(db)
        const site = peerIdToString(hex(c.input.sender))
        const keys = directionKey(hex(c.input.key), hex(c.input.base_nonce))
        await store.write([
          ...store.putSite({ peerId: site, name: 'Site', member: 'm', addrs: [], joined: 0 }),
          ...store.putEpoch(site, { epoch: c.input.epoch, created: 0, expires: c.input.epoch_expires, signed: '00', ...epochKeysToRecord({ siteToDevice: keys, deviceToSite: keys }) }),
          ...store.putInbox(c.input.stored.map((s, i) => {
            const header = EnvelopeHeader.encode({ version: 1, id: hex(s.id), sender: hex(s.sender), recipient: device.peerId as Uint8Array<ArrayBuffer>, epoch: 1, seq: i + 1, created: 0, expires: 0 })
            return { id: s.id, site: peerIdToString(hex(s.sender)), seq: i + 1, epoch: 1, created: 0, expires: 0, received: 0, read: false, envelope: Envelope.encode({ header, ciphertext: new Uint8Array(16) }) }
          }))
        ])
        const delivered: string[] = []
        const sink = memberInboxSink({
          store, self: device.peerId, devicePrivateKey, now: () => c.input.now, epochs: new EpochCache(store), onMessage: record => delivered.push(record.id)
        })
        const [outbound, inbound] = await streamPair()
        const sender = new FramedStream(outbound, MAX_FRAME_SIZE)
        const receiving = receiveEnvelopes(new FramedStream(inbound, MAX_FRAME_SIZE), sink, { self: device, remote: hex(c.input.sender), log: logger('test:member-inbox') })
        await sender.write([Push.encode({ envelope: Envelope.decode(hex(c.input.envelope)) })])
        let receipt: Receipt | undefined
        for await (const batch of sender.batches()) {
          receipt = Receipt.decode(batch[0])
          await sender.close()
        }
        await receiving
        let outcome: string
        if (receipt?.reject !== undefined) outcome = codeFromWire(receipt.reject.code)
        else if (receipt?.ack !== undefined) outcome = delivered.length === 1 ? 'store' : 'acknowledge'
        else assert.fail(`${c.name}: no receipt`)
        assert.equal(outcome, c.outcome, c.name)
        if (outcome === 'acknowledge') assert.deepEqual(delivered, [], `${c.name}: not stored again`)
        if (outcome === 'store') {
          // kept as it came, byte for byte: the envelope as it was in the Push frame
          const stored = await store.inboxById(delivered[0])
          assert.deepEqual(stored.filter(r => r.site === site).map(r => toHex(r.envelope)), [c.input.envelope], `${c.name}: the envelope stored as received`)
        }
      } finally {
        await db.close()
      }
    }
  })
})
