import assert from 'node:assert/strict'
import { logger } from '@libp2p/logger'
import { streamPair } from '@libp2p/utils'
import { toString as uint8ArrayToString } from 'uint8arrays'
import { Ed25519Signer, peerIdToString } from '../../src/crypto/ed25519.js'
import { createKeyEpoch } from '../../src/crypto/epoch.js'
import { generateX25519 } from '../../src/crypto/x25519.js'
import { FramedStream } from '../../src/delivery/framed-stream.js'
import { receiveEnvelopes } from '../../src/delivery/receiver.js'
import { siteRepliesSink } from '../../src/delivery/site-replies.js'
import { MAX_FRAME_SIZE } from '../../src/protocol/constants.js'
import { ErrorCode, codeFromWire } from '../../src/protocol/errors.js'
import { Push, Receipt } from '../../src/protocol/pb/tmtp.js'
import { epochKeysToRecord } from '../../src/store/epoch-keys.js'
import { envelope } from '../support/rogue.js'
import { openTempSiteStore } from '../support/site-store.js'
import type { Reply } from '../../src/store/site-store.js'

describe('delivery/site-replies', () => {
  let handle: Awaited<ReturnType<typeof openTempSiteStore>>
  beforeEach(async () => { handle = await openTempSiteStore() })
  afterEach(async () => { await handle.close() })

  it('checks membership again for every batch: a device removed while its post stream is open gets NOT_MEMBER, and nothing more is stored', async () => {
    const site = Ed25519Signer.generate()
    const device = Ed25519Signer.generate()
    const peer = peerIdToString(device.peerId)
    const x25519 = generateX25519()
    const now = Date.now()
    const member = { id: 'm-ann', ref: 'ann', created: now, devices: [peer] }
    const deviceRecord = { peerId: peer, member: member.id, x25519: uint8ArrayToString(x25519.publicKey, 'base16'), name: 'phone', joined: now, addrs: [] }
    await handle.store.write(handle.store.admitDevice(member, deviceRecord, { hash: 'h', ref: 'ann', created: now, expires: now + 60_000 }, true))
    const epoch = await createKeyEpoch({ site, device: device.peerId, deviceX25519: x25519.publicKey, epoch: 1, created: now, expires: now + 3600_000 })
    await handle.store.write(handle.store.putEpoch(peer, { epoch: 1, created: now, expires: now + 3600_000, x25519: deviceRecord.x25519, signed: uint8ArrayToString(epoch.signed, 'base16'), firstSeq: 1, ...epochKeysToRecord(epoch.keys) }))

    const replies: Reply[] = []
    const [outbound, inbound] = await streamPair()
    const receiving = receiveEnvelopes(new FramedStream(inbound, MAX_FRAME_SIZE), siteRepliesSink({ store: handle.store, self: site.peerId, now: Date.now, onReply: r => { replies.push(r) } }), {
      self: site, remote: device.peerId, log: logger('test:site-replies')
    })
    const sending = new FramedStream(outbound, MAX_FRAME_SIZE)
    const answers = sending.batches()
    const post = (seq: number): Uint8Array => Push.encode({ envelope: envelope(epoch, { sender: peer, recipient: peerIdToString(site.peerId), seq }, true) })

    await sending.write([post(1)])
    const first = Receipt.decode(((await answers.next()).value as Uint8Array[])[0])
    assert.notEqual(first.ack, undefined, 'a member device\'s reply is acknowledged')
    assert.equal(replies.length, 1)

    await handle.store.write(handle.store.removeMember(member, Date.now()))
    await sending.write([post(2)])
    const second = Receipt.decode(((await answers.next()).value as Uint8Array[])[0])
    assert.equal(second.ack, undefined, 'nothing is acknowledged after the removal')
    assert.equal(codeFromWire(second.error?.code ?? -1), ErrorCode.NOT_MEMBER)
    // the device's sender stops on the stream error, as a member's courier does
    await sending.close()
    await receiving
    assert.equal(replies.length, 1, 'no reply event after the removal')
    assert.equal((await handle.store.replies({ limit: 10 })).length, 1, 'nothing stored after the removal')
  })
})
