/**
 * The floors: what the transport alone does with the same traffic. The raw libp2p stream
 * (two nodes built as TMTP's: TCP, Noise, Yamux; TMTP's varint framing; 256 frames per write
 * as TMTP's window; no sealing, no storage, one answer at the end instead of acknowledgements)
 * and a plain TCP socket with the same framing. W1's figures are shown as ratios of these.
 */
import { BODY_BYTES, left, rate, scaled, stopAll, subdir, type BenchContext, type Floors, type Workload, type WorkloadResult } from './common.js'
import { Worker } from './ipc.js'

export const FLOOR_BATCH = 256

export async function measureFloors (ctx: BenchContext): Promise<{ floors: Floors, count: number }> {
  const count = scaled(ctx, 100_000, 1000)
  let receiver: Worker | undefined
  let sender: Worker | undefined
  try {
    receiver = await Worker.start('floor', [await subdir(ctx, 'floor-receiver')])
    sender = await Worker.start('floor', [await subdir(ctx, 'floor-sender')])
    const blast = async (kind: 'libp2p' | 'tcp', addr: string): Promise<number> => {
      const { elapsedMs } = await sender!.request<{ elapsedMs: number }>('blast', { kind, addr, count, frameBytes: BODY_BYTES, batch: FLOOR_BATCH, timeoutMs: left(ctx) }, left(ctx))
      return rate(count, elapsedMs)
    }
    const p2pAddr = await receiver.request<string>('listen', { kind: 'libp2p' })
    const tcpAddr = await receiver.request<string>('listen', { kind: 'tcp' })
    // a short warm-up of each path first, so that JIT and connection set-up are not measured
    ctx.progress('  floors: warm-up')
    await sender.request('blast', { kind: 'libp2p', addr: p2pAddr, count: 2000, frameBytes: BODY_BYTES, batch: FLOOR_BATCH, timeoutMs: left(ctx) }, left(ctx))
    await sender.request('blast', { kind: 'tcp', addr: tcpAddr, count: 2000, frameBytes: BODY_BYTES, batch: FLOOR_BATCH, timeoutMs: left(ctx) }, left(ctx))
    ctx.progress(`  floors: libp2p stream, ${count} frames`)
    const libp2pPerSec = await blast('libp2p', p2pAddr)
    ctx.progress(`  floors: plain TCP, ${count} frames`)
    const tcpPerSec = await blast('tcp', tcpAddr)
    return { floors: { libp2pPerSec, tcpPerSec }, count }
  } finally {
    await stopAll([sender, receiver])
  }
}

export const floorsWorkload: Workload = {
  id: 'F',
  title: 'Floors: raw libp2p stream and plain TCP, same framing, 1 KiB frames',
  run: async (ctx: BenchContext): Promise<WorkloadResult> => {
    const { floors, count } = await measureFloors(ctx)
    ctx.floors = floors
    return {
      id: 'F',
      title: floorsWorkload.title,
      table: {
        columns: ['path', 'frames', 'frames/s'],
        rows: [
          ['libp2p stream (TCP+Noise+Yamux)', count, floors.libp2pPerSec],
          ['plain TCP socket', count, floors.tcpPerSec]
        ]
      },
      figures: { frames: count, libp2pPerSec: floors.libp2pPerSec, tcpPerSec: floors.tcpPerSec },
      notes: [`${FLOOR_BATCH} frames per write, one answer after the last frame; sender and receiver in two processes`]
    }
  }
}
