import assert from 'node:assert/strict'
import { streamPair } from '@libp2p/utils'
import { FramedStream } from '../../src/delivery/framed-stream.js'
import { MAX_FRAME_SIZE } from '../../src/protocol/constants.js'
import type { StreamMessageEvent } from '@libp2p/interface'

async function collect (framed: FramedStream, timeoutMs = 2_000): Promise<Uint8Array[]> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`reading did not end within ${timeoutMs} ms`)) }, timeoutMs)
  })
  const read = (async () => {
    const frames: Uint8Array[] = []
    for await (const batch of framed.batches()) frames.push(...batch)
    return frames
  })()
  try {
    return await Promise.race([read, timeout])
  } finally {
    clearTimeout(timer)
  }
}

const settle = async (): Promise<void> => { await new Promise(resolve => setTimeout(resolve, 50)) }

describe('FramedStream', () => {
  // the stream's own iterator (@libp2p/utils 7.4) ends only on a 'remoteCloseWrite' event it
  // sees; a handler that awaits before reading (admit) used to wait for the idle timeout
  it('ends when the remote closed its end before reading began', async () => {
    const [outbound, inbound] = await streamPair()
    await new FramedStream(outbound, MAX_FRAME_SIZE).close()
    await settle()
    assert.deepEqual(await collect(new FramedStream(inbound, MAX_FRAME_SIZE)), [])
  })

  it('yields what the remote wrote before it closed, then ends', async () => {
    const [outbound, inbound] = await streamPair()
    const writer = new FramedStream(outbound, MAX_FRAME_SIZE)
    await writer.write([Uint8Array.of(1), Uint8Array.of(2, 3)])
    await writer.close()
    await settle()
    assert.deepEqual(await collect(new FramedStream(inbound, MAX_FRAME_SIZE)), [Uint8Array.of(1), Uint8Array.of(2, 3)])
  })

  it('reads frames written while reading, until the remote closes', async () => {
    const [outbound, inbound] = await streamPair()
    const writer = new FramedStream(outbound, MAX_FRAME_SIZE)
    const reading = collect(new FramedStream(inbound, MAX_FRAME_SIZE))
    await writer.write([Uint8Array.of(1)])
    await settle()
    await writer.write([Uint8Array.of(2)])
    await writer.close()
    assert.deepEqual(await reading, [Uint8Array.of(1), Uint8Array.of(2)])
  })

  // multistream-select reads the stream through its own 'message' listener and puts back
  // what it read past the protocol id only after negotiating: when the remote wrote a refusal
  // and closed at once, 'end' has fired by then and the frame waits in the read buffer
  it('reads data put back into the stream after its end was seen', async () => {
    const [outbound, inbound] = await streamPair()
    const taken: Uint8Array[] = []
    const take = (event: StreamMessageEvent): void => { taken.push(event.data.subarray()) }
    inbound.addEventListener('message', take)
    await new FramedStream(outbound, MAX_FRAME_SIZE).write([Uint8Array.of(7, 7)])
    await outbound.close()
    await settle()
    assert.ok(inbound.readableEnded, 'the end was seen while the data was taken')
    inbound.removeEventListener('message', take)
    inbound.unshift(taken[0])
    assert.deepEqual(await collect(new FramedStream(inbound, MAX_FRAME_SIZE)), [Uint8Array.of(7, 7)])
  })

  it('throws when the stream is aborted while reading', async () => {
    const [outbound, inbound] = await streamPair()
    const reading = collect(new FramedStream(inbound, MAX_FRAME_SIZE))
    await settle()
    outbound.abort(new Error('gone'))
    await assert.rejects(reading, (err: Error) => !err.message.includes('did not end'))
  })
})
