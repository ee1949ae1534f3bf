/**
 * W1 online throughput: 1 site → 1 connected member, 100,000 messages of 1 KiB, sealed,
 * stored and acknowledged; messages/s from the first send to the last acknowledgement.
 * Also W7's first half (the same with fsync on).
 */
import { BODY_BYTES, cpuOf, fmtRatio, left, ratio, scaled, startMembers, startSite, stopAll, type BenchContext, type Figure, type Workload, type WorkloadResult } from './common.js'
import type { NodeProcess } from '../lib/node-process.js'
import { mosquittoOnline, runPeer } from './mosquitto.js'

export interface ThroughputResult {
  count: number
  elapsedMs: number
  perSec: number
  queuedPerSec: number
  /** CPU time per message over the measured run, every thread of the process: the site's and the member's. */
  siteCpuUs: number
  memberCpuUs: number
}

/** Sends `count` messages to one connected member and waits for every acknowledgement. */
export async function onlineThroughput (ctx: BenchContext, opts: { fsync: boolean, count: number, label: string }): Promise<ThroughputResult> {
  let site: NodeProcess | undefined
  let members: NodeProcess[] = []
  try {
    site = await startSite(ctx, { fsync: opts.fsync, name: `site-${opts.label}` })
    const group = await startMembers(ctx, site, 1, 1, { fsync: opts.fsync })
    members = group.workers
    // warm-up: the key epoch, the stream and the JIT
    await site.call('throughput', { to: group.refs, perRecipient: 500, bodyBytes: BODY_BYTES, concurrency: 256, prefix: 'warm-', timeoutMs: left(ctx) }, left(ctx))
    ctx.progress(`  ${opts.label}: ${opts.count} messages`)
    const cpuBefore = await Promise.all([cpuOf(site), cpuOf(members[0])])
    const r = await site.call('throughput', {
      to: group.refs, perRecipient: opts.count, bodyBytes: BODY_BYTES, concurrency: 256, prefix: 'w1-', timeoutMs: left(ctx)
    }, left(ctx) + 5_000)
    const cpuAfter = await Promise.all([cpuOf(site), cpuOf(members[0])])
    return {
      count: opts.count,
      elapsedMs: r.elapsedMs,
      perSec: opts.count / (r.elapsedMs / 1000),
      queuedPerSec: opts.count / ((r.queuedAt - r.startAt) / 1000),
      siteCpuUs: (cpuAfter[0] - cpuBefore[0]) / opts.count,
      memberCpuUs: (cpuAfter[1] - cpuBefore[1]) / opts.count
    }
  } finally {
    await stopAll([site, ...members])
  }
}

export function throughputRows (label: string, r: ThroughputResult, ctx: BenchContext): { rows: Figure[][], figures: Record<string, Figure> } {
  const vsLibp2p = ratio(r.perSec, ctx.floors?.libp2pPerSec)
  const vsTcp = ratio(r.perSec, ctx.floors?.tcpPerSec)
  const vsWork = ratio(r.perSec, ctx.floors?.workPerSec)
  const cpuUs = r.siteCpuUs + r.memberCpuUs
  const cpuVsWork = ratio(cpuUs, ctx.floors?.workCpuUs)
  return {
    rows: [
      [label, r.count, (r.elapsedMs / 1000).toFixed(2), r.perSec, fmtRatio(vsLibp2p), fmtRatio(vsTcp), fmtRatio(vsWork), `${cpuUs.toFixed(0)} (site ${r.siteCpuUs.toFixed(0)} + member ${r.memberCpuUs.toFixed(0)})`, fmtRatio(cpuVsWork)]
    ],
    figures: { count: r.count, elapsedMs: r.elapsedMs, perSec: r.perSec, queuedPerSec: r.queuedPerSec, siteCpuUsPerMessage: r.siteCpuUs, memberCpuUsPerMessage: r.memberCpuUs, ratioToLibp2pFloor: vsLibp2p, ratioToTcpFloor: vsTcp, ratioToWorkFloor: vsWork, cpuRatioToWorkFloor: cpuVsWork }
  }
}

export const COLUMNS = ['system', 'messages', 'seconds', 'messages/s', '÷ libp2p floor', '÷ TCP floor', '÷ work floor', 'CPU µs per message', 'CPU ÷ work floor']

export const w1: Workload = {
  id: 'W1',
  title: 'W1 online throughput: 1 site → 1 connected member, 1 KiB, sealed + stored (fsync) + acknowledged',
  run: async (ctx: BenchContext): Promise<WorkloadResult> => {
    const count = scaled(ctx, 100_000, 1000)
    // durable by default, as the node is: every group-committed batch fsynced (W7 shows the cost)
    const r = await onlineThroughput(ctx, { fsync: true, count, label: 'w1' })
    const { rows, figures } = throughputRows('TMTP', r, ctx)
    const notes = [
      `site sends with 256 send() calls in flight; enqueue alone ran at ${Math.round(r.queuedPerSec)}/s`,
      '÷ work floor: W1\'s messages/s over the required-work floor\'s (F: seal, store, frame, open, store, sign and verify the batch ack, one process, no transport); CPU ÷ work floor: the site\'s and the member\'s CPU per message together over the floor\'s, what the design cannot avoid',
      `CPU per message (every thread of the process: JS, LevelDB, libuv, GC): site ${r.siteCpuUs.toFixed(0)} µs, member ${r.memberCpuUs.toFixed(0)} µs; the 2 cores allow at most ${Math.round(2e6 / (r.siteCpuUs + r.memberCpuUs))} msg/s at that cost`
    ]
    const m = await runPeer(ctx, async bin => await mosquittoOnline(ctx, bin, count))
    if (typeof m === 'string') {
      notes.push(m)
    } else {
      const vs = ratio(r.perSec, m.perSec)
      rows.push(['Mosquitto (QoS 1, persistent session)', m.count, (m.elapsedMs / 1000).toFixed(2), m.perSec, fmtRatio(ratio(m.perSec, ctx.floors?.libp2pPerSec)), fmtRatio(ratio(m.perSec, ctx.floors?.tcpPerSec)), fmtRatio(ratio(m.perSec, ctx.floors?.workPerSec)), '', ''])
      rows.push(['TMTP ÷ Mosquitto', '', '', fmtRatio(vs), '', '', '', '', ''])
      Object.assign(figures, { mosquittoPerSec: m.perSec, mosquittoDuplicates: m.duplicates, ratioToMosquitto: vs, target: '≥ 1.2× Mosquitto' })
      notes.push('Mosquitto: 1 publisher → 1 subscriber (clean: false), QoS 1, 256 publishes unacknowledged at most, from the first publish to the last message received')
    }
    // the floor beside it, for reference
    if (ctx.floors !== undefined) rows.push(['required work alone (F, one process)', '', '', ctx.floors.workPerSec, '', '', '1.00×', ctx.floors.workCpuUs.toFixed(1), '1.00×'])
    return { id: 'W1', title: w1.title, table: { columns: COLUMNS, rows }, figures, notes }
  }
}
