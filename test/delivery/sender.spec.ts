import assert from 'node:assert/strict'
import { logger } from '@libp2p/logger'
import { streamPair } from '@libp2p/utils'
import { FramedStream } from '../../src/delivery/framed-stream.js'
import { sendEnvelopes, type OutboundQueue, type QueuedEnvelope, type SenderResult } from '../../src/delivery/sender.js'
import { MAX_FRAME_SIZE } from '../../src/protocol/constants.js'
import { Receipt, SignedPayload } from '../../src/protocol/pb/tmtp.js'
import { codeToWire, ErrorCode } from '../../src/protocol/errors.js'
import { signAck } from '../../src/crypto/ack.js'
import { Ed25519Signer } from '../../src/crypto/ed25519.js'
import { fromString as uint8ArrayFromString } from 'uint8arrays'

const IDLE_MS = 20_000

/** A queue whose entries are given by `reads`, one array per call of next(), then empty. */
function scriptedQueue (reads: Array<(notify: (first?: string) => void) => QueuedEnvelope[]>): OutboundQueue {
  let listener: ((first?: string) => void) | undefined
  let call = 0
  return {
    next: async () => reads[call++]?.(first => listener?.(first)) ?? [],
    acknowledged: async () => {},
    rejected: async () => {},
    subscribe: l => {
      listener = l
      return () => { listener = undefined }
    }
  }
}

/** A queue whose next() is `next`; `onAck` sees each acknowledgement applied. */
function queueOf (next: OutboundQueue['next'], onAck: () => void = () => {}): OutboundQueue {
  return { next, acknowledged: async () => { onAck() }, rejected: async () => {}, subscribe: () => () => {} }
}

const entry = (n: number): QueuedEnvelope => ({ key: `k:${n}`, idHex: n.toString(16).padStart(32, '0'), epoch: 1, frame: Uint8Array.of(n) })

/** The first `count` frames the receiving end reads within `ms` (fewer if they do not come). */
async function readFrames (framed: FramedStream, count: number, ms: number): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = []
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<void>(resolve => { timer = setTimeout(resolve, ms) })
  const read = (async () => {
    for await (const batch of framed.batches()) {
      frames.push(...batch)
      if (frames.length >= count) return
    }
  })()
  try {
    await Promise.race([read, timeout])
    return frames
  } finally {
    clearTimeout(timer)
  }
}

/** A sender on one end of a stream pair, draining `queue`; `ack(n)` acknowledges entry n from the other end. */
async function startSender (queue: OutboundQueue, timeouts: { receiptTimeoutMs: number, idleTimeoutMs: number } = { receiptTimeoutMs: IDLE_MS, idleTimeoutMs: IDLE_MS }): Promise<{ receiving: FramedStream, done: Promise<SenderResult>, ack: (n: number) => Promise<void> }> {
  const [outbound, inbound] = await streamPair()
  const receiving = new FramedStream(inbound, MAX_FRAME_SIZE)
  const site = Ed25519Signer.generate()
  const device = Ed25519Signer.generate()
  const done = sendEnvelopes(new FramedStream(outbound, MAX_FRAME_SIZE), queue, {
    self: site.peerId, remote: device.peerId, window: 8, ...timeouts, log: logger('test:sender')
  })
  const ack = async (n: number): Promise<void> => {
    const proof = signAck(device, site.peerId, [uint8ArrayFromString(entry(n).idHex, 'base16')], Date.now())
    await receiving.write([Receipt.encode({ ack: SignedPayload.decode(proof) })])
  }
  return { receiving, done, ack }
}

/** The next batch of frames if it comes within `ms`, else undefined. */
async function nextWithin (frames: AsyncGenerator<Uint8Array[]>, ms: number): Promise<Uint8Array[] | undefined> {
  let timer: NodeJS.Timeout | undefined
  try {
    const next = await Promise.race([frames.next(), new Promise<undefined>(resolve => { timer = setTimeout(() => { resolve(undefined) }, ms) })])
    return next?.done === false ? next.value : undefined
  } finally {
    clearTimeout(timer)
  }
}

describe('delivery/sender', () => {
  const cases: Array<[string, Array<(notify: (first?: string) => void) => QueuedEnvelope[]>, number[]]> = [
    // an entry queued while next() read the queue, too late for that read: its wake-up comes
    // before the sender sleeps, and must not be lost until the idle timeout
    ['an entry queued during an empty read', [notify => { notify('k:1'); return [] }, () => [entry(1)]], [1]],
    ['an entry queued after the cursor during a read', [notify => { notify('k:2'); return [entry(1)] }, () => [entry(2)]], [1, 2]]
  ]
  for (const [what, reads, expected] of cases) {
    it(`sends ${what} at once, not after the idle timeout`, async () => {
      const { receiving, done } = await startSender(scriptedQueue(reads))
      const frames = await readFrames(receiving, expected.length, 2_000)
      assert.deepEqual(frames.map(f => f[0]), expected, `frames arrive within 2 s (idle timeout ${IDLE_MS} ms)`)
      receiving.abort(new Error('test over'))
      assert.equal((await done).drained, false)
    })
  }

  it('wakes an idle sender for an entry queued after its cursor, and keeps the stream open', async () => {
    // what next() returns: the entries queued since the last read
    let pending = [entry(1)]
    let notify: ((first?: string) => void) | undefined
    const queue: OutboundQueue = {
      next: async () => pending.splice(0),
      acknowledged: async () => {},
      rejected: async () => {},
      subscribe: l => {
        notify = l
        return () => { notify = undefined }
      }
    }
    const { receiving, done, ack } = await startSender(queue)
    const frames = receiving.batches()
    assert.deepEqual((await frames.next()).value, [Uint8Array.of(1)])
    // acknowledged: nothing in flight, the sender goes idle
    await ack(1)
    await new Promise(resolve => setTimeout(resolve, 100))
    pending = [entry(2)]
    notify?.('k:2')
    assert.deepEqual(await nextWithin(frames, 2_000), [Uint8Array.of(2)], 'the second entry is sent on the same stream within 2 s')
    receiving.abort(new Error('test over'))
    assert.equal((await done).drained, false)
  })

  it('never resends an entry acknowledged while the queue was being read (the read\'s snapshot still holds it)', async () => {
    let acknowledged = 0
    let onAck: (() => void) | undefined
    const ackApplied = new Promise<void>(resolve => { onAck = resolve })
    let reads = 0
    const queue: OutboundQueue = {
      // like SiteOutbox.next: read a snapshot, then leave out what is in flight
      next: async (_limit, _after, exclude) => {
        reads++
        if (reads === 1) return [entry(1)]
        if (reads === 2) {
          const snapshot = [entry(1)]
          // the acknowledgement of entry 1 is applied (and settled) while this read is under way
          await ackApplied
          await new Promise(resolve => setTimeout(resolve, 20))
          return snapshot.filter(e => !exclude.has(e.key))
        }
        return []
      },
      acknowledged: async () => {
        acknowledged++
        onAck?.()
      },
      rejected: async () => {},
      subscribe: () => () => {}
    }
    const { receiving, done, ack } = await startSender(queue)
    const frames = receiving.batches()
    assert.deepEqual((await frames.next()).value, [Uint8Array.of(1)])
    await ack(1)
    assert.equal(await nextWithin(frames, 500), undefined, 'entry 1 is not sent a second time')
    assert.equal(acknowledged, 1)
    assert.ok(reads >= 2)
    receiving.abort(new Error('test over'))
    await done
  })

  it('ends at once on a stream error that comes while it reads its queue, not after the receipt timeout', async () => {
    let release: (() => void) | undefined
    const reading = new Promise<void>(resolve => { release = resolve })
    let reads = 0
    const queue: OutboundQueue = {
      next: async () => {
        reads++
        if (reads === 1) return [entry(1)]
        // the second read is under way when the receiver's error comes
        if (reads === 2) await reading
        return []
      },
      acknowledged: async () => {},
      rejected: async () => {},
      subscribe: () => () => {}
    }
    const { receiving, done } = await startSender(queue)
    assert.deepEqual((await readFrames(receiving, 1, 2_000)).map(f => f[0]), [1])
    await receiving.write([Receipt.encode({ error: { code: codeToWire(ErrorCode.RATE_LIMITED), detail: 'over the quota' } })])
    await new Promise(resolve => setTimeout(resolve, 50))
    release?.()
    const started = Date.now()
    const result = await done
    assert.equal(result.drained, false)
    assert.equal(result.drained ? undefined : result.error.code, ErrorCode.RATE_LIMITED)
    assert.ok(Date.now() - started < 2_000, `ended after ${Date.now() - started} ms (receipt timeout ${IDLE_MS} ms)`)
    receiving.abort(new Error('test over'))
  })

  it('ends quietly, drained, when the device closes an idle stream (spec 15.2, "Ending")', async () => {
    const pending = [entry(1)]
    const { receiving, done, ack } = await startSender(queueOf(async () => pending.splice(0)))
    const frames = receiving.batches()
    assert.deepEqual((await frames.next()).value, [Uint8Array.of(1)])
    await ack(1)
    await new Promise(resolve => setTimeout(resolve, 50))
    // nothing in flight: the device closes its side, as a device does with a stream idle too long
    const started = Date.now()
    await receiving.close()
    const result = await done
    assert.deepEqual(result, { drained: true }, 'the normal end of the stream: no error, no backoff')
    assert.ok(Date.now() - started < 2_000, `ended after ${Date.now() - started} ms (idle timeout ${IDLE_MS} ms)`)
  })

  it('ends with TIMEOUT when no receipt comes within the receipt timeout, counted from the last receipt', async () => {
    const timeouts = { receiptTimeoutMs: 400, idleTimeoutMs: IDLE_MS }
    const { receiving, done, ack } = await startSender(queueOf(scriptedQueue([() => [entry(1), entry(2)]]).next), timeouts)
    assert.deepEqual((await readFrames(receiving, 2, 2_000)).map(f => f[0]), [1, 2])
    await new Promise(resolve => setTimeout(resolve, 250))
    // a receipt before the deadline: the receiver has the whole timeout again for entry 2
    await ack(1)
    const acked = Date.now()
    const result = await done
    const waited = Date.now() - acked
    assert.equal(result.drained ? undefined : result.error.code, ErrorCode.TIMEOUT)
    assert.equal(!result.drained && result.delivered, true)
    assert.ok(waited >= timeouts.receiptTimeoutMs - 50 && waited < timeouts.receiptTimeoutMs + 1_000, `ended ${waited} ms after the last receipt (timeout ${timeouts.receiptTimeoutMs} ms)`)
  })

  it('closes a stream idle for the idle timeout, drained, whatever receipts came before', async () => {
    const timeouts = { receiptTimeoutMs: 300, idleTimeoutMs: 400 }
    const pending = [entry(1)]
    const { receiving, done, ack } = await startSender(queueOf(async () => pending.splice(0)), timeouts)
    assert.deepEqual((await readFrames(receiving, 1, 2_000)).map(f => f[0]), [1])
    await ack(1)
    const idle = Date.now()
    // past the receipt timeout with nothing in flight: no TIMEOUT, only the idle close of the
    // sender's side, which the device answers by closing its own (spec 15.2, "Ending")
    for await (const batch of receiving.batches()) assert.fail(`no frame after the last ack, got ${batch.length}`)
    const waited = Date.now() - idle
    await receiving.close()
    assert.deepEqual(await done, { drained: true })
    assert.ok(waited >= timeouts.idleTimeoutMs - 50 && waited < timeouts.idleTimeoutMs + 1_000, `closed ${waited} ms after going idle (idle timeout ${timeouts.idleTimeoutMs} ms)`)
  })

  it('fails when the device closes the stream with envelopes in flight: they stay queued', async () => {
    let acknowledged = 0
    const queue = queueOf(scriptedQueue([() => [entry(1), entry(2)]]).next, () => { acknowledged++ })
    const { receiving, done, ack } = await startSender(queue)
    assert.deepEqual((await readFrames(receiving, 2, 2_000)).map(f => f[0]), [1, 2])
    await ack(1)
    await new Promise(resolve => setTimeout(resolve, 50))
    await receiving.close()
    const result = await done
    assert.equal(result.drained, false, 'entry 2 was in flight')
    assert.equal(acknowledged, 1)
    assert.equal(!result.drained && result.delivered, true, 'entry 1 was delivered first: the retry counter starts again')
  })
})
