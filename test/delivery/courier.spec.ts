import assert from 'node:assert/strict'
import { logger } from '@libp2p/logger'
import { streamPair } from '@libp2p/utils'
import { fromString as uint8ArrayFromString } from 'uint8arrays'
import { signAck } from '../../src/crypto/ack.js'
import { Ed25519Signer, peerIdToString } from '../../src/crypto/ed25519.js'
import { Courier, type CourierOutbox, type SessionEvent } from '../../src/delivery/courier.js'
import { FramedStream } from '../../src/delivery/framed-stream.js'
import { MAX_FRAME_SIZE } from '../../src/protocol/constants.js'
import { Push, Receipt, SignedPayload } from '../../src/protocol/pb/tmtp.js'
import { waitFor } from '../../src/cli/time.js'
import type { OutboundQueue, QueuedEnvelope } from '../../src/delivery/sender.js'
import type { Stream } from '@libp2p/interface'

const site = Ed25519Signer.generate()
const device = Ed25519Signer.generate()
const DEVICE = peerIdToString(device.peerId)

const entry = (n: number): QueuedEnvelope => ({ key: `k:${n}`, idHex: n.toString(16).padStart(32, '0'), epoch: 1, frame: Push.encode({}) })

/** An outbox of one peer's entries, held in memory: acknowledged entries leave it. */
class MemoryOutbox implements CourierOutbox {
  readonly entries = new Map<string, QueuedEnvelope>()
  readonly acknowledged: string[] = []
  private listener?: (peer: string) => void
  private subscriber?: (first?: string) => void

  add (n: number): void {
    this.entries.set(entry(n).key, entry(n))
    this.subscriber?.(entry(n).key)
    this.listener?.(DEVICE)
  }

  onQueued (listener: (peer: string) => void): void { this.listener = listener }
  hasWork = async (): Promise<boolean> => this.entries.size > 0
  queue (): OutboundQueue {
    return {
      next: async (limit, after, exclude) => [...this.entries.values()].filter(e => (after === undefined || e.key > after) && !exclude.has(e.key)).slice(0, limit),
      acknowledged: async (acked) => {
        for (const e of acked) {
          this.entries.delete(e.key)
          this.acknowledged.push(e.key)
        }
      },
      rejected: async () => {},
      subscribe: l => {
        this.subscriber = l
        return () => { this.subscriber = undefined }
      }
    }
  }
}

/** The device's end of a stream the courier opened: acknowledges every envelope it reads. */
async function acknowledgeAll (stream: Stream, ids: () => string[]): Promise<void> {
  const framed = new FramedStream(stream, MAX_FRAME_SIZE)
  try {
    for await (const batch of framed.batches()) {
      const acked = ids().slice(0, batch.length).map(id => uint8ArrayFromString(id, 'base16'))
      const proof = signAck(device, site.peerId, acked, Date.now())
      await framed.write([Receipt.encode({ ack: SignedPayload.decode(proof) })])
    }
    // the courier closed its end once the queue was empty: so does the device, as a receiver does
    await framed.close()
  } catch {
    // the courier closed the stream
  }
}

describe('delivery/courier', () => {
  let courier: Courier | undefined
  afterEach(async () => { await courier?.stop() })

  const make = (outbox: MemoryOutbox, open: (peer: string) => Promise<Stream | undefined>, sessions: SessionEvent[]): Courier => new Courier({
    outbox,
    open,
    self: site.peerId,
    window: 8,
    idleTimeoutMs: 0,
    inactivityTimeoutMs: 10_000,
    backoff: { baseMs: 10, capMs: 40 },
    log: logger('test:courier'),
    onSession: event => { sessions.push(event) }
  })

  it('dials again with backoff after failed dials, then delivers what was queued and reports each session', async () => {
    const outbox = new MemoryOutbox()
    const sessions: SessionEvent[] = []
    let dials = 0
    courier = make(outbox, async peer => {
      assert.equal(peer, DEVICE)
      if (++dials < 3) throw Object.assign(new Error('connection refused'), { code: 'UNREACHABLE' })
      const [outbound, inbound] = await streamPair()
      acknowledgeAll(inbound, () => [...outbox.entries.values()].map(e => e.idHex))
      return outbound
    }, sessions)
    outbox.add(1)
    outbox.add(2)
    await waitFor('the queue delivered', async () => outbox.entries.size === 0 && courier?.active === 0, 5_000)
    assert.equal(dials, 3)
    assert.deepEqual(outbox.acknowledged, ['k:1', 'k:2'])
    assert.deepEqual(sessions, [
      { peer: DEVICE, ok: false, code: 'UNREACHABLE' },
      { peer: DEVICE, ok: false, code: 'UNREACHABLE' },
      { peer: DEVICE, ok: true, code: undefined }
    ])
  })

  it('opens no stream for a peer with nothing queued, and counts a peer the node no longer serves as drained', async () => {
    const outbox = new MemoryOutbox()
    const sessions: SessionEvent[] = []
    let dials = 0
    courier = make(outbox, async () => {
      dials++
      // the node found the peer is no longer a member and dropped its queue
      outbox.entries.clear()
      return undefined
    }, sessions)
    courier.wake(DEVICE)
    await new Promise(resolve => setTimeout(resolve, 50))
    assert.equal(dials, 0, 'woken with an empty queue: no dial')
    outbox.add(1)
    await waitFor('the session', async () => sessions.length === 1, 5_000)
    assert.deepEqual(sessions, [{ peer: DEVICE, ok: true, code: undefined }])
    assert.equal(dials, 1)
  })
})
