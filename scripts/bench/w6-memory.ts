/**
 * W6 memory: the site's RSS per connected member (at 1,000 connected member nodes) and the
 * site's RSS as a backlog grows to 200,000 queued messages (the outbox is in LevelDB, so RSS
 * should stay flat). The Mosquitto peer: the broker's RSS at the same points.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { BODY_BYTES, fmtRatio, left, mb, ratio, scaled, startMembers, startSite, stopAll, rssOf, type BenchContext, type Figure, type Workload, type WorkloadResult } from './common.js'
import type { NodeProcess } from '../lib/node-process.js'
import { mosquittoMemory, runPeer, type PeerMemory } from './mosquitto.js'
import { MEMBERS_PER_PROCESS } from './w3-store-forward.js'
import { CONNECTION_FLOOR_MAX, connectionFloor } from './floors.js'

const STEPS = 5

/** RSS samples of the backlog half: `warm` is the baseline with nothing queued after the same work. */
interface Samples { fresh: number, warm: number, warmSent: number, steps: Array<{ queued: number, rss: number }> }
interface Connected { idleRss: number, connectedRss: number, members: number, connected: number, processes: number }

/**
 * The site's RSS fresh, then warm: after sending backlog/STEPS messages to a connected member
 * and their acknowledgements (nothing queued: the baseline that has done the same kind of
 * work), then with 1/STEPS, … `backlog` messages queued for that member, offline.
 */
async function siteBacklog (ctx: BenchContext, backlog: number): Promise<Samples> {
  let site: NodeProcess | undefined
  let workers: NodeProcess[] = []
  try {
    site = await startSite(ctx, { name: 'site-backlog' })
    const one = await startMembers(ctx, site, 1, 1)
    workers = one.workers
    await delay(500)
    const fresh = await rssOf(site)
    const warmSent = Math.round(backlog / STEPS)
    await site.call('throughput', { to: one.refs, perRecipient: warmSent, bodyBytes: BODY_BYTES, concurrency: 256, prefix: 'warm-', timeoutMs: left(ctx) }, left(ctx))
    await one.workers[0].call('down', {}, left(ctx))
    await delay(500)
    const warm = await rssOf(site)
    ctx.progress(`  w6: site RSS ${mb(fresh).toFixed(1)} MB fresh, ${mb(warm).toFixed(1)} MB after ${warmSent} delivered`)
    const samples: Samples = { fresh, warm, warmSent, steps: [] }
    let queued = 0
    for (let step = 1; step <= STEPS && Date.now() < ctx.deadline - 40_000; step++) {
      const n = Math.round(backlog / STEPS)
      await site.call('send', { to: one.refs, perRecipient: n, bodyBytes: BODY_BYTES, concurrency: 256, prefix: `b${step}-`, timeoutMs: left(ctx) }, left(ctx))
      queued += n
      const rss = await rssOf(site)
      samples.steps.push({ queued, rss })
      ctx.progress(`  w6: ${queued} queued, site RSS ${mb(rss).toFixed(1)} MB`)
    }
    return samples
  } finally {
    await stopAll([site, ...workers])
  }
}

/** The site's RSS with no member connected, and with `members` member nodes connected. */
async function siteConnected (ctx: BenchContext, members: number): Promise<Connected> {
  let site: NodeProcess | undefined
  let workers: NodeProcess[] = []
  try {
    site = await startSite(ctx, { name: 'site-connected' })
    await delay(500)
    const idleRss = await rssOf(site)
    const processes = Math.ceil(members / MEMBERS_PER_PROCESS)
    ctx.progress(`  w6: ${members} members in ${processes} processes`)
    const group = await startMembers(ctx, site, members, processes)
    workers = group.workers
    await delay(2000)
    const connected = await site.call('connections', {})
    const connectedRss = await rssOf(site)
    return { idleRss, connectedRss, members, connected, processes }
  } finally {
    await stopAll([site, ...workers])
  }
}

const perClientKB = (m: { idleRss: number, connectedRss: number, members: number }): number => (m.connectedRss - m.idleRss) / m.members / 1024
const growth = (rss: number, base: number): string => `${rss >= base ? '+' : '−'}${Math.abs(mb(rss - base)).toFixed(1)}`

export const w6: Workload = {
  id: 'W6',
  title: 'W6 memory: site RSS per connected member, and with a 200,000-message backlog',
  run: async (ctx: BenchContext): Promise<WorkloadResult> => {
    const backlog = scaled(ctx, 200_000, 2000)
    const members = scaled(ctx, 1000, 10)
    // W6 measures memory, not speed: the peer runs beside TMTP's backlog half (separate
    // processes), so that the 1,000 joins of the connected half keep the rest of the bound
    const [p, tBacklog] = await Promise.all([
      runPeer(ctx, async bin => {
        ctx.progress(`  mosquitto: ${members} sessions connected; ${backlog} queued for 1 offline session`)
        return await mosquittoMemory(ctx, bin, { backlog, steps: STEPS, members })
      }),
      // backlog first (one member, offline), so that the connected-member half does not run into the bound
      siteBacklog(ctx, backlog)
    ])
    const m: PeerMemory | undefined = typeof p === 'string' ? undefined : p
    const t = { backlog: tBacklog, ...await siteConnected(ctx, members) }
    // the floor under the per-member figure: libp2p's own RSS per inbound connection
    const floor = await connectionFloor(ctx, Math.min(members, CONNECTION_FLOOR_MAX), 2000)

    const tBase = t.backlog.warm
    const mBase = m?.backlog[0].rss ?? NaN
    const peerAt = new Map(m?.backlog.map(s => [s.queued, s.rss]))
    const rows: Figure[][] = [
      ['backlog 0, fresh (TMTP: 1 member joined; Mosquitto: the sessions offline)', mb(t.backlog.fresh).toFixed(1), '', Number.isNaN(mBase) ? '' : mb(mBase).toFixed(1), '', ''],
      [`backlog 0, warm (TMTP: ${t.backlog.warmSent.toLocaleString('en-US')} sent and acknowledged, then the member offline)`, mb(tBase).toFixed(1), '', '', '', ''],
      ...t.backlog.steps.map(s => {
        const mRss = peerAt.get(s.queued)
        return [
          `backlog ${s.queued.toLocaleString('en-US')}`,
          mb(s.rss).toFixed(1), growth(s.rss, tBase),
          mRss === undefined ? '' : mb(mRss).toFixed(1), mRss === undefined ? '' : growth(mRss, mBase),
          mRss === undefined ? '' : fmtRatio(ratio(Math.max(0, s.rss - tBase), mRss - mBase))
        ]
      })
    ]
    const tLast = t.backlog.steps[t.backlog.steps.length - 1] ?? { queued: 0, rss: tBase }
    const mLast = m?.backlog.find(s => s.queued === tLast.queued)
    const tKB = perClientKB(t)
    const mKB = m === undefined ? NaN : perClientKB(m)
    rows.push(['none connected', mb(t.idleRss).toFixed(1), '', m === undefined ? '' : mb(m.idleRss).toFixed(1), '', ''])
    rows.push([
      `${members} connected (TMTP: ${t.connected} connections; Mosquitto: ${m?.connected ?? 'n/a'} sessions)`,
      mb(t.connectedRss).toFixed(1), `${growth(t.connectedRss, t.idleRss)} (${tKB.toFixed(0)} KB each)`,
      m === undefined ? '' : mb(m.connectedRss).toFixed(1), m === undefined ? '' : `${growth(m.connectedRss, m.idleRss)} (${mKB.toFixed(1)} KB each)`,
      m === undefined ? '' : fmtRatio(ratio(tKB, mKB))
    ])
    if (floor !== undefined) rows.push([`libp2p alone: a bare libp2p node built as the site's, ${floor.connections} libp2p nodes connected`, '', `(${(floor.rssBytes / 1024).toFixed(0)} KB each)`, '', '', ''])

    const figures: Record<string, Figure> = {
      backlog: tLast.queued,
      backlogFreshRssMB: mb(t.backlog.fresh),
      backlogBaseRssMB: mb(tBase),
      backlogRssMB: mb(tLast.rss),
      backlogGrowthMB: mb(tLast.rss - tBase),
      backlogGrowthOverFreshMB: mb(tLast.rss - t.backlog.fresh),
      backlogTargetMet: mb(tLast.rss - tBase) < 50,
      backlogSamplesRssMB: t.backlog.steps.map(s => mb(s.rss).toFixed(1)).join(','),
      members,
      connections: t.connected,
      idleRssMB: mb(t.idleRss),
      connectedRssMB: mb(t.connectedRss),
      perMemberKB: tKB,
      perMemberTargetMet: tKB < 100,
      libp2pPerConnectionKB: floor === undefined ? null : floor.rssBytes / 1024
    }
    const notes = [
      'TMTP: RSS of the site process as sampled (no forced GC); the members are member nodes in their own processes',
      `TMTP growth is over the warm baseline: the site after sending ${t.backlog.warmSent.toLocaleString('en-US')} messages that were delivered (RSS grows with the work done, heap and allocator arenas, whether or not anything stays queued); over the fresh site it is ${growth(tLast.rss, t.backlog.fresh)} MB`,
      'the connected members joined through invites in this run, so their growth includes join-time state (member and device records cached at the site)',
      'libp2p alone: the RSS growth of a bare libp2p node built as the site\'s (TCP, Noise, Yamux, identify, ping; no TMTP handler) as that many libp2p nodes from another process connect, 2 s after the last was identified (no forced GC): the floor under the per-member figure'
    ]
    if (typeof p === 'string') {
      notes.push(p)
    } else {
      Object.assign(figures, {
        mosquittoBacklog: p.backlog[p.backlog.length - 1].queued,
        mosquittoBacklogBaseRssMB: mb(mBase),
        mosquittoBacklogRssMB: mLast === undefined ? null : mb(mLast.rss),
        mosquittoBacklogGrowthMB: mLast === undefined ? null : mb(mLast.rss - mBase),
        mosquittoBacklogSamplesRssMB: p.backlog.map(s => mb(s.rss).toFixed(1)).join(','),
        mosquittoConnected: p.connected,
        mosquittoIdleRssMB: mb(p.idleRss),
        mosquittoConnectedRssMB: mb(p.connectedRss),
        mosquittoPerClientKB: mKB,
        ratioBacklogRssToMosquitto: mLast === undefined ? null : ratio(tLast.rss, mLast.rss),
        ratioBacklogGrowthToMosquitto: mLast === undefined ? null : ratio(tLast.rss - tBase, mLast.rss - mBase),
        ratioPerClientToMosquitto: ratio(tKB, mKB)
      })
      const last = p.backlog[p.backlog.length - 1].queued
      notes.push(`Mosquitto: VmRSS of the broker process, one broker for both halves: first ${p.members} persistent sessions (clean: false, fixed client ids) connected and subscribed at QoS 1 from ${p.processes} mqtt.js process${p.processes === 1 ? '' : 'es'}; then they disconnect (the sessions stay at the broker: "backlog 0") and ${last.toLocaleString('en-US')} × 1 KiB QoS 1 messages are published to the first session's topic, every one PUBACKed by the broker (no cap on queued messages); the peer ran at the same time as TMTP's backlog half (its own processes; W6 times nothing)`)
      notes.push('ratio = TMTP ÷ Mosquitto of the growth (backlog: TMTP\'s over its warm baseline, a fall counted as 0, Mosquitto\'s over backlog 0; connected: per client over none connected)')
    }
    return { id: 'W6', title: w6.title, table: { columns: ['state', 'TMTP site RSS MB', 'TMTP growth MB', 'Mosquitto RSS MB', 'Mosquitto growth MB', 'TMTP ÷ Mosquitto growth'], rows }, figures, notes }
  }
}
