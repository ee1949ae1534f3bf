/**
 * W3 store-and-forward: 1,000 members offline, 20 messages each queued, then all come
 * online; time and messages/s from the start of reconnecting to the last acknowledgement;
 * no loss, no duplicates (checked by reading every inbox).
 * W4 crash: the same with the site SIGKILLed after queuing and restarted (same data, same
 * address) before the members return: lost and duplicated must both be 0.
 */
import { BODY_BYTES, fmtRatio, freePort, left, rate, ratio, scaled, startMembers, startSite, stopAll, type BenchContext, type Figure, type Workload, type WorkloadResult } from './common.js'
import type { NodeProcess } from '../lib/node-process.js'
import { mosquittoStoreForward, runPeer, type PeerStoreForward } from './mosquitto.js'

/** Member nodes per member process. */
export const MEMBERS_PER_PROCESS = 100

export interface StoreForwardResult {
  members: number
  processes: number
  messages: number
  acknowledged: number
  /** Every message acknowledged within the bound. */
  complete: boolean
  queueMs: number
  elapsedMs: number
  perSec: number
  lost: number
  duplicated: number
  siteQueuedAfter: number
  notes: string[]
}

export async function storeAndForward (ctx: BenchContext, opts: { fsync: boolean, crash: boolean, members: number, perMember: number, label: string }): Promise<StoreForwardResult> {
  let site: NodeProcess | undefined
  let workers: NodeProcess[] = []
  let complete = false
  const notes: string[] = []
  try {
    const listen = `/ip4/127.0.0.1/tcp/${await freePort()}`
    const siteName = `site-${opts.label}`
    site = await startSite(ctx, { fsync: opts.fsync, name: siteName, listen })
    const processes = Math.ceil(opts.members / MEMBERS_PER_PROCESS)
    ctx.progress(`  ${opts.label}: starting ${opts.members} members in ${processes} processes`)
    const group = await startMembers(ctx, site, opts.members, processes, { fsync: opts.fsync })
    workers = group.workers
    ctx.progress(`  ${opts.label}: members offline`)
    await Promise.all(workers.map(async w => await w.call('down', {}, left(ctx))))
    const total = opts.members * opts.perMember
    ctx.progress(`  ${opts.label}: queuing ${total} messages`)
    const queued = await site.call('send', { to: group.refs, perRecipient: opts.perMember, bodyBytes: BODY_BYTES, concurrency: 256, prefix: 'sf-', timeoutMs: left(ctx) }, left(ctx))
    if (opts.crash) {
      ctx.progress(`  ${opts.label}: SIGKILL the site`)
      site.kill('SIGKILL')
      await site.waitForExit(10_000)
      site = await startSite(ctx, { fsync: opts.fsync, name: siteName, listen })
      const stats = await site.call('stats', {}, left(ctx))
      notes.push(`after SIGKILL and restart the site's outbox held ${stats.queued} of ${total} envelopes`)
    }
    ctx.progress(`  ${opts.label}: members online`)
    const starts = await Promise.all(workers.map(async w => await w.call('up', {}, left(ctx))))
    const startAt = Math.min(...starts.map(s => s.startAt))
    ctx.progress(`  ${opts.label}: ${opts.members} members started in ${((Math.max(...starts.map(s => s.startedAt)) - startAt) / 1000).toFixed(1)} s`)
    // keep 20 s of the bound to count what arrived when not everything did
    const waitMs = Math.max(1_000, left(ctx) - 20_000)
    const acks = await site.call('waitDelivered', { count: total, timeoutMs: waitMs }, waitMs + 5_000).catch(async () => {
      const partial = await site!.call('delivered', {}, 10_000)
      const connections = await site!.call('connections', {}, 10_000)
      notes.push(`INCOMPLETE: ${partial.delivered} of ${total} acknowledged within the bound (${(waitMs / 1000).toFixed(0)} s); the site had ${connections} connections at the end`)
      return partial
    })
    complete = acks.delivered >= total
    const elapsedMs = acks.lastAt - startAt
    ctx.progress(`  ${opts.label}: ${acks.delivered} of ${total} acknowledged after ${(elapsedMs / 1000).toFixed(1)} s; checking every inbox`)
    let lost = 0
    let duplicated = 0
    const subjects = Array.from({ length: opts.perMember }, (_, k) => `sf-${k}`)
    for (const [p, w] of workers.entries()) {
      const v = await w.call('check', { expected: Object.fromEntries(group.refsOf[p].map(ref => [ref, subjects])) }, left(ctx))
      lost += v.lost
      duplicated += v.duplicated
    }
    const stats = await site.call('stats', {}, left(ctx))
    notes.push(`${processes} member processes of up to ${MEMBERS_PER_PROCESS} member nodes each (each its own libp2p node, keys and LevelDB)`)
    notes.push(`queuing ${total} messages took ${((queued.queuedAt - queued.startAt) / 1000).toFixed(1)} s (${Math.round(rate(total, queued.queuedAt - queued.startAt))}/s)`)
    return { members: opts.members, processes, messages: total, acknowledged: acks.delivered, complete, queueMs: queued.queuedAt - queued.startAt, elapsedMs, perSec: rate(acks.delivered, elapsedMs), lost, duplicated, siteQueuedAfter: stats.queued, notes }
  } finally {
    await stopAll([site, ...workers])
  }
}

/** The Mosquitto peer first (it takes seconds), so that TMTP gets the rest of the bound. */
async function peer (ctx: BenchContext, opts: { members: number, perMember: number, crash: boolean }): Promise<PeerStoreForward | string> {
  return await runPeer(ctx, async bin => {
    ctx.progress(`  mosquitto: ${opts.members} sessions × ${opts.perMember}${opts.crash ? ', broker SIGKILLed' : ''}`)
    return await mosquittoStoreForward(ctx, bin, opts)
  })
}

function result (id: string, title: string, r: StoreForwardResult, m: PeerStoreForward | string): WorkloadResult {
  const rows: Figure[][] = [['TMTP', r.members, r.messages, r.acknowledged, (r.elapsedMs / 1000).toFixed(2), r.perSec, r.lost, r.duplicated, r.siteQueuedAfter]]
  const extra: Record<string, Figure> = {}
  const notes = [...r.notes]
  if (typeof m === 'string') {
    notes.push(m)
  } else {
    rows.push(['Mosquitto (QoS 1, persistent sessions)', m.members, m.messages, m.messages - m.lost, (m.elapsedMs / 1000).toFixed(2), m.perSec, m.lost, m.duplicates, ''])
    const vs = ratio(r.perSec, m.perSec)
    rows.push(['TMTP ÷ Mosquitto', '', '', '', '', fmtRatio(vs), '', '', ''])
    Object.assign(extra, { mosquittoPerSec: m.perSec, mosquittoLost: m.lost, mosquittoDuplicates: m.duplicates, ratioToMosquitto: vs })
    notes.push('Mosquitto: one mqtt.js process with every subscriber session (clean: false) and one publisher, QoS 1; "missing" for Mosquitto = messages never received')
  }
  return {
    id,
    title,
    table: {
      columns: ['system', 'members', 'messages', 'acknowledged', 'seconds', 'messages/s', 'missing from inboxes', 'duplicated', 'left in outbox'],
      rows
    },
    figures: {
      ...extra, members: r.members, memberProcesses: r.processes, messages: r.messages, acknowledged: r.acknowledged, complete: r.complete, queueMs: r.queueMs, elapsedMs: r.elapsedMs, perSec: r.perSec, lost: r.lost, duplicated: r.duplicated, leftInOutbox: r.siteQueuedAfter
    },
    notes
  }
}

export const w3: Workload = {
  id: 'W3',
  title: 'W3 store-and-forward: 1,000 offline members × 20 queued, then all online',
  run: async (ctx: BenchContext): Promise<WorkloadResult> => {
    const members = scaled(ctx, 1000, 10)
    const m = await peer(ctx, { members, perMember: 20, crash: false })
    const r = await storeAndForward(ctx, { fsync: false, crash: false, members, perMember: 20, label: 'w3' })
    return result('W3', w3.title, r, m)
  }
}

export const w4: Workload = {
  id: 'W4',
  title: 'W4 crash: W3 with the site SIGKILLed after queuing and restarted before members return',
  run: async (ctx: BenchContext): Promise<WorkloadResult> => {
    const members = scaled(ctx, 1000, 10)
    const m = await peer(ctx, { members, perMember: 20, crash: true })
    const r = await storeAndForward(ctx, { fsync: false, crash: true, members, perMember: 20, label: 'w4' })
    return result('W4', w4.title, r, m)
  }
}
