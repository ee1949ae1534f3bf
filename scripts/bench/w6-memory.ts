/**
 * W6 memory: the site's RSS per connected member (at 1,000 connected member nodes) and the
 * site's RSS as a backlog grows to 200,000 queued messages (the outbox is in LevelDB, so RSS
 * should stay flat).
 */
import { BODY_BYTES, left, mb, scaled, startMembers, startSite, stopAll, rssOf, type BenchContext, type Workload, type WorkloadResult } from './common.js'
import type { Worker } from './ipc.js'
import { MEMBERS_PER_PROCESS } from './w3-store-forward.js'

const settle = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

export const w6: Workload = {
  id: 'W6',
  title: 'W6 memory: site RSS per connected member, and with a 200,000-message backlog',
  run: async (ctx: BenchContext): Promise<WorkloadResult> => {
    let site: Worker | undefined
    let workers: Worker[] = []
    const rows: Array<Array<string | number>> = []
    const figures: Record<string, number | string | boolean> = {}
    try {
      // backlog first (one member, offline), so that the connected-member half does not run into the bound
      site = await startSite(ctx, { name: 'site-backlog' })
      const backlog = scaled(ctx, 200_000, 2000)
      const one = await startMembers(ctx, site, 1, 1)
      await one.workers[0].request('stopAll', {}, left(ctx))
      await settle(500)
      const base = await rssOf(site)
      rows.push(['backlog 0', mb(base).toFixed(1), ''])
      const steps = 5
      let queued = 0
      let last = base
      for (let step = 1; step <= steps && Date.now() < ctx.deadline - 40_000; step++) {
        const n = Math.round(backlog / steps)
        await site.request('send', { to: one.refs, perRecipient: n, bodyBytes: BODY_BYTES, concurrency: 256, prefix: `b${step}-`, timeoutMs: left(ctx) }, left(ctx))
        queued += n
        last = await rssOf(site)
        rows.push([`backlog ${queued.toLocaleString('en-US')}`, mb(last).toFixed(1), `+${mb(last - base).toFixed(1)}`])
        ctx.progress(`  w6: ${queued} queued, site RSS ${mb(last).toFixed(1)} MB`)
      }
      figures.backlog = queued
      figures.backlogBaseRssMB = mb(base)
      figures.backlogRssMB = mb(last)
      figures.backlogGrowthMB = mb(last - base)
      figures.backlogTargetMet = mb(last - base) < 50
      await stopAll([site, ...one.workers])

      site = await startSite(ctx, { name: 'site-connected' })
      await settle(500)
      const idle = await rssOf(site)
      const members = scaled(ctx, 1000, 10)
      const processes = Math.ceil(members / MEMBERS_PER_PROCESS)
      ctx.progress(`  w6: ${members} members in ${processes} processes`)
      const group = await startMembers(ctx, site, members, processes)
      workers = group.workers
      await settle(2000)
      const connected = await site.request<number>('connections', {})
      const full = await rssOf(site)
      const perMemberKB = (full - idle) / members / 1024
      rows.push(['no member connected', mb(idle).toFixed(1), ''])
      rows.push([`${connected} members connected`, mb(full).toFixed(1), `+${mb(full - idle).toFixed(1)} (${perMemberKB.toFixed(0)} KB each)`])
      Object.assign(figures, { members, connections: connected, idleRssMB: mb(idle), connectedRssMB: mb(full), perMemberKB, perMemberTargetMet: perMemberKB < 100 })
      return {
        id: 'W6',
        title: w6.title,
        table: { columns: ['site state', 'RSS MB', 'growth MB'], rows },
        figures,
        notes: [
          'RSS of the site process as sampled (no forced GC); the members are member nodes in their own processes',
          'the connected members joined through invites in this run, so their growth includes join-time state (member and device records cached at the site)'
        ]
      }
    } finally {
      await stopAll([site, ...workers])
    }
  }
}
