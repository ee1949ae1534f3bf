import assert from 'node:assert/strict'
import { logger } from '@libp2p/logger'
import { streamPair } from '@libp2p/utils'
import { Ed25519Signer } from '../../src/crypto/ed25519.js'
import { encodeContent, sealEnvelopeMessage } from '../../src/crypto/envelope.js'
import { directionKey } from '../../src/crypto/epoch.js'
import { FramedStream } from '../../src/delivery/framed-stream.js'
import { newMessageId } from '../../src/delivery/ids.js'
import { receiveEnvelopes, type InboundSink } from '../../src/delivery/receiver.js'
import { ACK_DEFER_MAX_IDS, MAX_FRAME_SIZE } from '../../src/protocol/constants.js'
import { codeToWire, ErrorCode, TmtpError } from '../../src/protocol/errors.js'
import { AckBody, EnvelopeHeader, Push, Receipt, type SignedPayload } from '../../src/protocol/pb/tmtp.js'
import { waitFor } from '../../src/cli/time.js'

/** A site and a device, and the site's Push frame of a sealed envelope with sequence number `seq`. */
function ends (): { site: Ed25519Signer, device: Ed25519Signer, push: (seq: number) => Uint8Array } {
  const site = Ed25519Signer.generate()
  const device = Ed25519Signer.generate()
  const key = directionKey(new Uint8Array(32).fill(7), new Uint8Array(12))
  const push = (seq: number): Uint8Array => Push.encode({
    envelope: sealEnvelopeMessage(key, {
      version: 1, id: newMessageId(), sender: site.peerId as Uint8Array<ArrayBuffer>, recipient: device.peerId as Uint8Array<ArrayBuffer>, epoch: 1, seq, created: Date.now(), expires: 0
    }, encodeContent({ subject: `m${seq}`, body: '' }))
  })
  return { site, device, push }
}

/** A device's receiver whose sink stores everything, deferring its acks by `ackDelayMs`; the site's end of the stream. */
async function storingReceiver (ackDelayMs: number, parties = ends()): Promise<{ sender: FramedStream, receiving: Promise<void>, push: (seq: number) => Uint8Array }> {
  const { site, device, push } = parties
  const sink: InboundSink<null> = {
    admit: async () => {},
    open: () => null,
    known: async ids => ids.map(() => false),
    store: async () => {}
  }
  const [outbound, inbound] = await streamPair()
  const receiving = receiveEnvelopes(new FramedStream(inbound, MAX_FRAME_SIZE), sink, { self: device, remote: site.peerId, log: logger('test:receiver'), ackDelayMs })
  return { sender: new FramedStream(outbound, MAX_FRAME_SIZE), receiving, push }
}

describe('delivery/receiver', () => {
  it('stores and acknowledges what arrived in several writes as one batch with one signed ack', async () => {
    const { site, device, push } = ends()
    const batches: number[] = []
    const sink: InboundSink<null> = {
      admit: async () => {},
      open: () => null,
      known: async ids => ids.map(() => false),
      store: async (_remote, accepted) => { batches.push(accepted.length) }
    }
    const [outbound, inbound] = await streamPair()
    const sender = new FramedStream(outbound, MAX_FRAME_SIZE)
    const receiving = receiveEnvelopes(new FramedStream(inbound, MAX_FRAME_SIZE), sink, { self: device, remote: site.peerId, log: logger('test:receiver') })
    // three transport writes in one turn of the event loop, as a window's chunks arrive together
    await Promise.all([sender.write([push(1)]), sender.write([push(2), push(3)]), sender.write([push(4)])])
    const receipts: Receipt[] = []
    for await (const batch of sender.batches()) {
      receipts.push(...batch.map(frame => Receipt.decode(frame)))
      if (receipts.length === 1) await sender.close()
    }
    await receiving
    assert.deepEqual(batches, [4], 'one store')
    assert.equal(receipts.length, 1, 'one receipt')
    assert.equal(receipts[0].ack !== undefined, true)
  })

  it('defers the acks of a trickle (spec 15.2): the first at once, then one ack for what was stored within the delay, sent by its timer on an open stream', async () => {
    const { sender, receiving, push } = await storingReceiver(2_000)
    const acks: Array<{ ids: number, at: number }> = []
    const reading = (async () => {
      let acked = 0
      for await (const batch of sender.batches()) {
        for (const frame of batch) {
          const ack = Receipt.decode(frame).ack
          assert.ok(ack !== undefined, 'only acks')
          const ids = AckBody.decode(ack.payload).ids.length
          acks.push({ ids, at: performance.now() })
          acked += ids
        }
        // the stream stays open until every envelope is acknowledged: the held ones go by timer
        if (acked === 10) await sender.close()
      }
    })()
    const start = performance.now()
    for (let seq = 1; seq <= 10; seq++) {
      await sender.write([push(seq)])
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    await reading
    await receiving
    assert.deepEqual(acks.map(a => a.ids).reduce((sum, n) => sum + n, 0), 10, 'every envelope acknowledged once')
    assert.equal(acks[0].ids, 1, 'the first ack at once')
    assert.ok(acks.length < 10, `fewer acks than envelopes: ${acks.map(a => a.ids).join(', ')}`)
    assert.ok(acks[1].at - start >= 1_500, 'the held ids waited for the delay after the first ack')
  })

  it('acknowledges at once what it holds when it reaches ACK_DEFER_MAX_IDS, whatever the delay', async () => {
    const { sender, receiving, push } = await storingReceiver(60_000)
    const acked: number[] = []
    const reading = (async () => {
      for await (const batch of sender.batches()) {
        for (const frame of batch) acked.push(AckBody.decode((Receipt.decode(frame).ack as SignedPayload).payload).ids.length)
        if (acked.reduce((sum, n) => sum + n, 0) === 1 + ACK_DEFER_MAX_IDS) await sender.close()
      }
    })()
    await sender.write([push(1)])
    await waitFor('the first ack', async () => acked.length === 1)
    await sender.write(Array.from({ length: ACK_DEFER_MAX_IDS }, (_, i) => push(i + 2)))
    await reading
    await receiving
    assert.deepEqual(acked, [1, ACK_DEFER_MAX_IDS], 'a full batch does not wait a minute')
  })

  it('stops storing and acknowledging after a failed store, and aborts the stream', async () => {
    const { site, device, push } = ends()
    let stores = 0
    const sink: InboundSink<null> = {
      admit: async () => {},
      open: () => null,
      known: async ids => ids.map(() => false),
      // the disk is full: every store fails, slowly enough for more envelopes to wait behind it
      store: async () => {
        stores++
        await new Promise(resolve => setTimeout(resolve, 20))
        throw new TmtpError(ErrorCode.STORAGE_FAILURE, 'no space left')
      }
    }
    const [outbound, inbound] = await streamPair()
    const sender = new FramedStream(outbound, MAX_FRAME_SIZE)
    const receiving = receiveEnvelopes(new FramedStream(inbound, MAX_FRAME_SIZE), sink, { self: device, remote: site.peerId, log: logger('test:receiver') })
    await sender.write([push(1)])
    await new Promise(resolve => setTimeout(resolve, 5))
    await sender.write([push(2), push(3)])

    // (a receiver that restarted its failed flush used to spin here: test/node/faults.spec.ts
    // catches that, as a member process that stops answering)
    await receiving
    assert.equal(stores, 1, 'nothing is stored after the failure')
    const answers: Uint8Array[] = []
    try {
      for await (const batch of sender.batches()) answers.push(...batch)
    } catch {
      // the receiver aborted the stream: that is its answer
    }
    assert.deepEqual(answers, [], 'nothing is acknowledged')
  })

  it('ends the stream with BAD_FRAME, not a reject, when the header does not decode though a lenient decoder reads its id (a uint32 above 2^32 - 1)', async () => {
    const site = Ed25519Signer.generate()
    const device = Ed25519Signer.generate()
    const key = directionKey(new Uint8Array(32).fill(7), new Uint8Array(12))
    const envelope = sealEnvelopeMessage(key, {
      version: 1, id: newMessageId(), sender: site.peerId as Uint8Array<ArrayBuffer>, recipient: device.peerId as Uint8Array<ArrayBuffer>, epoch: 1, seq: 1, created: Date.now(), expires: 0
    }, encodeContent({ subject: 'm', body: '' }))
    // version (field 1, first: 08 01) as 2^32 + 1, whose low 32 bits are 1
    const header = Uint8Array.from([0x08, 0x81, 0x80, 0x80, 0x80, 0x10, ...envelope.header.subarray(2)])
    assert.equal(EnvelopeHeader.decode(header).id.byteLength, 16, 'protons reads the id')
    const { sender, receiving } = await storingReceiver(0, { site, device, push: () => new Uint8Array() })
    await sender.write([Push.encode({ envelope: { header, ciphertext: envelope.ciphertext } })])
    const receipts: Receipt[] = []
    for await (const batch of sender.batches()) receipts.push(...batch.map(frame => Receipt.decode(frame)))
    await receiving
    assert.deepEqual(receipts.map(r => [r.reject?.code, r.error?.code]), [[undefined, codeToWire(ErrorCode.BAD_FRAME)]])
  })
})
