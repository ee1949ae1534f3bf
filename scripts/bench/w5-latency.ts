/**
 * W5 latency: p50/p99/p99.9 at a steady 1,000 messages/s round robin to 100 connected members,
 * from send() to the member's inbox (stored, its 'message' event) and to the member's
 * acknowledgement at the site.
 */
import { BODY_BYTES, cpuOf, left, scaled, startMembers, startSite, stopAll, type BenchContext, type Workload, type WorkloadResult } from './common.js'
import type { NodeProcess } from '../lib/node-process.js'
import { summarizeLatencies, type LatencySummary } from '../lib/latency.js'

/** Subjects of the measured messages: `w5-<number>`. */
const PREFIX = 'w5-'

export const w5: Workload = {
  id: 'W5',
  title: 'W5 latency: send → member\'s inbox and send → acknowledgement, at a steady 1,000 messages/s to 100 members',
  run: async (ctx: BenchContext): Promise<WorkloadResult> => {
    let site: NodeProcess | undefined
    let workers: NodeProcess[] = []
    try {
      site = await startSite(ctx)
      const members = scaled(ctx, 100, 10)
      const group = await startMembers(ctx, site, members, 1)
      workers = group.workers
      // warm-up: every member's key epoch and stream, and the JIT
      await site.call('throughput', { to: group.refs, perRecipient: 20, bodyBytes: BODY_BYTES, concurrency: 64, prefix: 'warm-', timeoutMs: left(ctx) }, left(ctx))
      const count = scaled(ctx, 20_000, 2000)
      const rateTarget = 1000
      ctx.progress(`  w5: ${count} messages at ${rateTarget}/s to ${members} members`)
      await Promise.all(workers.map(async w => await w.call('watchArrivals', { prefix: PREFIX }, left(ctx))))
      const cpuBefore = await Promise.all([site, ...workers].map(cpuOf))
      const r = await site.call('latency', { to: group.refs, rate: rateTarget, count, bodyBytes: BODY_BYTES, timeoutMs: left(ctx) }, left(ctx) + 5_000)
      const cpuAfter = await Promise.all([site, ...workers].map(cpuOf))
      const siteCpuUs = (cpuAfter[0] - cpuBefore[0]) / r.sent
      const membersCpuUs = cpuAfter.slice(1).reduce((sum, c, i) => sum + c - cpuBefore[i + 1], 0) / r.sent
      // every arrival was stored before its ack, which the site waited for: none is still to come
      const arrivals = (await Promise.all(workers.map(async w => await w.call('arrivals', {}, left(ctx))))).flat()
      const inboxLatencies = arrivals.filter(([i]) => r.sentAt[i] !== undefined).map(([i, at]) => at - r.sentAt[i])
      const inbox = summarizeLatencies(inboxLatencies)
      const row = (what: string, n: number, l: LatencySummary): Array<string | number> =>
        [what, members, n, r.sent / (r.durationMs / 1000), l.p50.toFixed(2), l.p99.toFixed(2), l.p999.toFixed(2), l.max.toFixed(1), l.mean.toFixed(2)]
      return {
        id: 'W5',
        title: w5.title,
        table: {
          columns: ['TMTP, send() →', 'members', 'messages', 'achieved/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'mean ms'],
          rows: [
            row('the member\'s inbox', inboxLatencies.length, inbox),
            row('the acknowledgement at the site', r.acknowledged, r)
          ]
        },
        figures: {
          members,
          rate: rateTarget,
          ackDelayMs: ctx.ackDelayMs ?? null,
          sent: r.sent,
          arrived: inboxLatencies.length,
          acknowledged: r.acknowledged,
          failed: r.failed,
          p50Ms: inbox.p50,
          p99Ms: inbox.p99,
          p999Ms: inbox.p999,
          maxMs: inbox.max,
          meanMs: inbox.mean,
          ackP50Ms: r.p50,
          ackP99Ms: r.p99,
          ackP999Ms: r.p999,
          ackMaxMs: r.max,
          siteCpuUsPerMessage: siteCpuUs,
          membersCpuUsPerMessage: membersCpuUs,
          p99TargetMet: inbox.p99 < 5
        },
        notes: [
          'the member\'s inbox: its \'message\' event (the envelope opened, checked and stored durably in a group commit) minus the send() call at the site; both times from performance.timeOrigin + performance.now() in their own processes, on one machine',
          'the acknowledgement: the site\'s \'delivered\' event (the device\'s signed batch acknowledgement verified and its settlement stored) minus the send() call, both in the site process',
          `CPU per message over the measured sends (process.cpuUsage(), every thread): the site ${siteCpuUs.toFixed(0)} µs, the member process ${membersCpuUs.toFixed(0)} µs; deferred acks ${ctx.ackDelayMs === undefined ? 'as the nodes\' default' : `at ${ctx.ackDelayMs} ms`}`,
          `${r.lateTicks} sends started more than 5 ms behind schedule (timer or event-loop delay at the site)`
        ]
      }
    } finally {
      await stopAll([site, ...workers])
    }
  }
}
