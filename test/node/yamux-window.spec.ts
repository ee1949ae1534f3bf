import assert from 'node:assert/strict'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Stream, StreamMuxer } from '@libp2p/interface'
import { multiaddrConnectionPair } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'

/**
 * scripts/patches/@chainsafe+libp2p-yamux+*.patch: a Yamux stream sends a window update once
 * half of its receive window is used, as go-yamux and rust-yamux do, not after every data
 * frame: an update per frame doubled the frames and socket writes of every small message
 * (docs/BENCHMARKS.md, issue #14). These tests fail if the installed package lacks the patch,
 * or if a sender stalls for want of an update.
 */
describe('node: the patched Yamux window updates of @chainsafe/libp2p-yamux', () => {
  const HEADER_BYTES = 12
  const WINDOW_UPDATE = 1
  const INITIAL_WINDOW = 256 * 1024

  /** Yamux frames' types as they arrive at one end, read from the bytes its connection receives. */
  const frameTypes = (bytes: Uint8ArrayList): Array<{ type: number, flags: number }> => {
    const frames: Array<{ type: number, flags: number }> = []
    let at = 0
    while (bytes.byteLength - at >= HEADER_BYTES) {
      const type = bytes.get(at + 1)
      const flags = bytes.getUint16(at + 2)
      const length = bytes.getUint32(at + 8)
      frames.push({ type, flags })
      at += HEADER_BYTES + (type === 0 ? length : 0)
    }
    return frames
  }

  let muxers: StreamMuxer[] = []
  afterEach(async () => {
    await Promise.all(muxers.map(async m => { await m.close() }))
    muxers = []
  })

  /** A stream from one muxer to another over an in-memory connection, and what the sender's end receives. */
  const streamPair = async (): Promise<{ sender: Stream, received: () => number, returned: Uint8ArrayList }> => {
    const [outbound, inbound] = multiaddrConnectionPair()
    const returned = new Uint8ArrayList()
    outbound.addEventListener('message', evt => { returned.append(evt.data) })
    const factory = yamux()()
    const client = factory.createStreamMuxer(outbound)
    const server = factory.createStreamMuxer(inbound)
    muxers = [client, server]
    let received = 0
    server.addEventListener('stream', evt => {
      evt.detail.addEventListener('message', msg => { received += msg.data.byteLength })
    })
    const sender = await client.createStream()
    return { sender, received: () => received, returned }
  }

  const until = async (done: () => boolean, what: string): Promise<void> => {
    const end = Date.now() + 5_000
    while (!done()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
      await new Promise(resolve => setTimeout(resolve, 5))
    }
  }

  it('sends no window update for small messages that use less than half the window', async () => {
    const { sender, received, returned } = await streamPair()
    for (let i = 0; i < 100; i++) sender.send(new Uint8Array(100).fill(i))
    await until(() => received() === 100 * 100, 'every message')
    await new Promise(resolve => setTimeout(resolve, 50))
    const updates = frameTypes(returned).filter(f => f.type === WINDOW_UPDATE && f.flags === 0)
    assert.equal(updates.length, 0)
  })

  it('updates the window once half of it is used, and a sender of several windows never stalls', async () => {
    const { sender, received, returned } = await streamPair()
    const total = 4 * INITIAL_WINDOW
    for (let sent = 0; sent < total; sent += 16 * 1024) {
      if (!sender.send(new Uint8Array(16 * 1024))) await new Promise(resolve => sender.addEventListener('drain', resolve, { once: true }))
    }
    await until(() => received() === total, `${total} bytes`)
    const updates = frameTypes(returned).filter(f => f.type === WINDOW_UPDATE && f.flags === 0)
    assert.ok(updates.length >= 1, 'updates were sent')
    assert.ok(updates.length <= total / (INITIAL_WINDOW / 2), `at most one per half window: ${updates.length}`)
  })
})
