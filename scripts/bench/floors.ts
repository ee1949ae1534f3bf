/**
 * The floors: what the transport alone does with the same traffic, and what the work alone
 * costs. The raw libp2p stream (two nodes built as TMTP's: TCP, Noise, Yamux; TMTP's varint
 * framing; 256 frames per write as TMTP's window; no sealing, no storage, one answer at the
 * end instead of acknowledgements) and a plain TCP socket with the same framing; and the
 * required work (work-floor.ts: seal, store, frame, open, store, sign and verify the batch
 * ack, in one process, without a transport). W1's figures are shown as ratios of these.
 */
import { BODY_BYTES, left, rate, scaled, stopAll, subdir, type BenchContext, type Figure, type Floors, type Workload, type WorkloadResult } from './common.js'
import { Worker } from './ipc.js'
import { WORK_STEPS, type WorkArgs, type WorkResult } from './work-floor.js'

export const FLOOR_BATCH = 256

export async function measureFloors (ctx: BenchContext): Promise<{ floors: Floors, count: number, work: WorkResult }> {
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
    // the transport floors' processes go before the work floor runs, so that it has the cores to itself
    await stopAll([sender, receiver])
    sender = receiver = undefined
    ctx.progress(`  floors: the required work, ${count} messages`)
    const work = await requiredWork(ctx, count)
    return { floors: { libp2pPerSec, tcpPerSec, workPerSec: rate(work.count, work.elapsedMs), workCpuUs: work.cpuUs / work.count }, count, work }
  } finally {
    await stopAll([sender, receiver])
  }
}

/** Nodes dialling the bare libp2p node at most: enough for a per-connection figure, few enough for one process. */
export const CONNECTION_FLOOR_MAX = 300

export interface ConnectionFloor {
  connections: number
  /** The receiving node's CPU per identified connection, µs, and its RSS growth per connection, bytes. */
  cpuUs: number
  rssBytes: number
}

/**
 * libp2p's own cost of an inbound connection, the floor under the site's (W3, W6): a bare
 * libp2p node built as the site's (TCP, Noise, Yamux, identify, ping; src/node/libp2p.ts; no
 * TMTP handler) dialled at once by `count` libp2p nodes built as member devices', in another
 * process; its CPU and RSS growth from the first dial until `settleMs` after the last
 * connection was identified. Undefined when it could not run (the workload goes on without it).
 */
export async function connectionFloor (ctx: BenchContext, count: number, settleMs: number): Promise<ConnectionFloor | undefined> {
  let receiver: Worker | undefined
  let dialler: Worker | undefined
  try {
    ctx.progress(`  libp2p's own connection floor: ${count} nodes dialling a bare libp2p node`)
    receiver = await Worker.start('floor', [await subdir(ctx, 'connections-receiver')])
    dialler = await Worker.start('floor', [await subdir(ctx, 'connections-dialler')])
    const addr = await receiver.request<string>('listen', { kind: 'libp2p' })
    await dialler.request('clients', { count }, left(ctx))
    const waitMs = Math.max(1_000, left(ctx) - 10_000)
    const watch = receiver.request<{ identified: number, cpuUs: number, rssBytes: number }>('connections', { count, settleMs, timeoutMs: waitMs }, waitMs + settleMs + 5_000)
    // awaited below; if the dials fail first, stopping the receiver rejects it unawaited, which must not end the bench
    watch.catch(() => {})
    await dialler.request('dialAll', { addr, timeoutMs: waitMs }, waitMs + 5_000)
    const { identified, cpuUs, rssBytes } = await watch
    return identified === 0 ? undefined : { connections: identified, cpuUs: cpuUs / identified, rssBytes: rssBytes / identified }
  } catch (err) {
    ctx.progress(`  libp2p's connection floor failed: ${(err as Error).message}`)
    return undefined
  } finally {
    await stopAll([receiver, dialler])
  }
}

/** The required-work floor in a process of its own, durable as the node is (fsync per group commit). */
async function requiredWork (ctx: BenchContext, count: number): Promise<WorkResult> {
  let worker: Worker | undefined
  try {
    worker = await Worker.start('work', [await subdir(ctx, 'work')])
    const args: WorkArgs = { count, warmup: 2048, batch: FLOOR_BATCH, bodyBytes: BODY_BYTES, fsync: true, timeoutMs: left(ctx) }
    return await worker.request<WorkResult>('run', args, left(ctx) + 5_000)
  } finally {
    await stopAll([worker])
  }
}

/** The required-work floor's rows: one per step, CPU and wall time per message. */
function stepTable (work: WorkResult): { columns: string[], rows: Figure[][] } {
  const per = (us: number): string => (us / work.count).toFixed(1)
  const stepsCpu = WORK_STEPS.reduce((sum, s) => sum + work.steps[s].cpuUs, 0)
  return {
    columns: ['step', 'CPU µs per message', 'share of CPU', 'wall µs per message'],
    rows: [
      ...WORK_STEPS.map(s => [s, per(work.steps[s].cpuUs), `${(100 * work.steps[s].cpuUs / stepsCpu).toFixed(0)} %`, per(work.steps[s].wallMs * 1000)]),
      ['all steps', per(stepsCpu), '', per(work.elapsedMs * 1000)]
    ]
  }
}

export const floorsWorkload: Workload = {
  id: 'F',
  title: 'Floors: raw libp2p stream and plain TCP, same framing, 1 KiB frames',
  run: async (ctx: BenchContext): Promise<WorkloadResult> => {
    const { floors, count, work } = await measureFloors(ctx)
    ctx.floors = floors
    const stepFigures = Object.fromEntries(WORK_STEPS.map(s => [`workStepCpuUs ${s}`, work.steps[s].cpuUs / work.count]))
    return {
      id: 'F',
      title: floorsWorkload.title,
      table: {
        columns: ['path', 'frames (messages)', 'frames/s (messages/s)', 'CPU µs per message'],
        rows: [
          ['libp2p stream (TCP+Noise+Yamux)', count, floors.libp2pPerSec, ''],
          ['plain TCP socket', count, floors.tcpPerSec, ''],
          ['required work: seal, store, frame, open, store, sign + verify ack (one process)', work.count, floors.workPerSec, floors.workCpuUs.toFixed(1)]
        ]
      },
      extra: [{ caption: 'The required work, step by step (CPU: every thread of its process, over each step):', table: stepTable(work) }],
      figures: { frames: count, libp2pPerSec: floors.libp2pPerSec, tcpPerSec: floors.tcpPerSec, workMessages: work.count, workPerSec: floors.workPerSec, workCpuUsPerMessage: floors.workCpuUs, workBatches: work.batches, workSiteCommits: work.commits.site, workDeviceCommits: work.commits.device, workSyncedCommits: work.commits.synced, ...stepFigures },
      notes: [
        `transport floors: ${FLOOR_BATCH} frames per write, one answer after the last frame; sender and receiver in two processes`,
        `required work: the project's own functions (src/crypto, src/protocol, src/store's Database on LevelDB), 1 KiB bodies, batches of ${FLOOR_BATCH}: per batch one group commit at the site (the sealed frames), one at the device (the envelopes), one signed ack, one group commit settling it (outbox entries deleted, the proof kept); ${work.commits.synced} of ${work.commits.site + work.commits.device} commits fsynced; both ends in one process taking turns, so its messages/s is one core's; two cores at ${floors.workCpuUs.toFixed(1)} µs would allow ${Math.round(2e6 / floors.workCpuUs)} msg/s`,
        'left out as avoidable: libp2p (Noise, Yamux), reading the outbox back, the device\'s deduplication read, message and status records, events, delivery windows and timers'
      ]
    }
  }
}
