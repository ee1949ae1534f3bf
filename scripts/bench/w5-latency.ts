/**
 * W5 latency: p50/p99/p99.9 from send() to the member's acknowledgement at the site, at a
 * steady 1,000 messages/s round robin to 100 connected members.
 */
import { BODY_BYTES, left, scaled, startMembers, startSite, stopAll, type BenchContext, type Workload, type WorkloadResult } from './common.js'
import type { NodeProcess } from '../lib/node-process.js'

export const w5: Workload = {
  id: 'W5',
  title: 'W5 latency: send → acknowledgement at a steady 1,000 messages/s to 100 members',
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
      const r = await site.call('latency', { to: group.refs, rate: rateTarget, count, bodyBytes: BODY_BYTES, timeoutMs: left(ctx) }, left(ctx) + 5_000)
      return {
        id: 'W5',
        title: w5.title,
        table: {
          columns: ['system', 'members', 'messages', 'achieved/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'mean ms'],
          rows: [['TMTP', members, r.acknowledged, r.sent / (r.durationMs / 1000), r.p50.toFixed(2), r.p99.toFixed(2), r.p999.toFixed(2), r.max.toFixed(1), r.mean.toFixed(2)]]
        },
        figures: { members, rate: rateTarget, sent: r.sent, acknowledged: r.acknowledged, failed: r.failed, p50Ms: r.p50, p99Ms: r.p99, p999Ms: r.p999, maxMs: r.max, meanMs: r.mean, p99TargetMet: r.p99 < 5 },
        notes: [
          'latency = the site\'s \'delivered\' event (the device\'s signed batch acknowledgement verified and stored) minus the send() call, both in the site process',
          `${r.lateTicks} sends started more than 5 ms behind schedule (timer or event-loop delay at the site)`
        ]
      }
    } finally {
      await stopAll([site, ...workers])
    }
  }
}
