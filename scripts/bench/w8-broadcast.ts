/**
 * W8 broadcast: one message to every member of a site of 10,000 member devices (member nodes
 * hosted as in W2, many to a process), sent once with `all`: the time to accept the send, the
 * time until every device acknowledged, and the site's CPU per delivered device-message. The
 * Mosquitto peer: one message fanned out to as many persistent sessions.
 */
import { BODY_BYTES, cpuOf, fmtRatio, left, rate, ratio, scaled, startMembers, startSite, stopAll, type BenchContext, type Figure, type Workload, type WorkloadResult } from './common.js'
import type { NodeProcess } from '../lib/node-process.js'
import { mosquittoFanout, runPeer } from './mosquitto.js'
import { MEMBERS_PER_PROCESS } from './w3-store-forward.js'

/**
 * W8 may take longer than the others: 10,000 member nodes start and join before the broadcast
 * (each a new device: its keys, LevelDB and libp2p node, the invite's redemption at the site).
 * On two cores joins went from ~15 a second to ~5 as the connected devices' keep-alives grew
 * (2026-11-30: 7,400 joined in 17 minutes), so the bound leaves room for ~35 minutes of joins.
 */
const W8_BOUND_MS = 50 * 60_000

export const w8: Workload = {
  id: 'W8',
  title: 'W8 broadcast: one message to 10,000 member devices',
  boundMs: W8_BOUND_MS,
  onlyWhenNamed: true,
  run: async (ctx: BenchContext): Promise<WorkloadResult> => {
    const members = scaled(ctx, 10_000, 10)
    const processes = Math.ceil(members / MEMBERS_PER_PROCESS)
    // the peer first (it takes seconds), so that TMTP gets the rest of the bound
    const peer = await runPeer(ctx, async bin => {
      ctx.progress(`  mosquitto: ${members} sessions, one message`)
      return await mosquittoFanout(ctx, bin, { members, rounds: 1 })
    })
    let site: NodeProcess | undefined
    let workers: NodeProcess[] = []
    try {
      site = await startSite(ctx)
      ctx.progress(`  w8: ${members} members in ${processes} processes`)
      const group = await startMembers(ctx, site, members, processes, { joinInTurn: true })
      workers = group.workers
      // a warm-up broadcast: every device's key epoch and connection, as on a running site
      const warm = await site.call('broadcast', { subject: 'warm-up', bodyBytes: BODY_BYTES, report: 'once' }, left(ctx))
      await site.call('waitBroadcast', { id: warm.id, timeoutMs: left(ctx) }, left(ctx))
      ctx.progress('  w8: warm-up broadcast settled')
      const membersBefore = await Promise.all(workers.map(cpuOf))
      const sent = await site.call('broadcast', { subject: 'w8', bodyBytes: BODY_BYTES, report: 'once' }, left(ctx))
      const settled = await site.call('waitBroadcast', { id: sent.id, timeoutMs: left(ctx) }, left(ctx))
      const membersAfter = await Promise.all(workers.map(cpuOf))
      const delivered = settled.counts.delivered
      const acceptMs = sent.acceptedAt - sent.startAt
      const allMs = settled.at - sent.startAt
      const siteCpuUs = (settled.cpu - sent.cpuAtStart) / delivered
      const membersCpuUs = membersAfter.reduce((sum, c, i) => sum + c - membersBefore[i], 0) / delivered
      ctx.progress(`  w8: accepted in ${acceptMs.toFixed(0)} ms, ${delivered} of ${sent.devices} acknowledged in ${allMs.toFixed(0)} ms`)
      const rows: Figure[][] = [['TMTP', sent.devices, processes, acceptMs.toFixed(1), delivered, (allMs / 1000).toFixed(2), rate(delivered, allMs), siteCpuUs.toFixed(0), membersCpuUs.toFixed(0)]]
      const figures: Record<string, Figure> = { members, memberProcesses: processes, devices: sent.devices, acceptMs, delivered, allAcknowledgedMs: allMs, perSec: rate(delivered, allMs), siteCpuUsPerDeviceMessage: siteCpuUs, membersCpuUsPerDeviceMessage: membersCpuUs, counts: JSON.stringify(settled.counts) }
      const notes = [
        `TMTP: one send() with all: true to ${sent.devices} devices (${processes} member processes of up to ${MEMBERS_PER_PROCESS} member nodes each), after a warm-up broadcast (key epochs, connections); accepted: send() called to resolved (the message and its ${sent.devices} recipients durably stored, nothing sealed yet); all acknowledged: send() called to the site's broadcast event (every copy settled: ${JSON.stringify(settled.counts)})`,
        `CPU per delivered device-message (process.cpuUsage(), every thread) from send() to the broadcast event: the site's ${siteCpuUs.toFixed(0)} µs (resolving, the fan-out's sealing in batches, the outbox, the sender, verifying the signed acks), the ${processes} member processes' ${membersCpuUs.toFixed(0)} µs together`
      ]
      if (typeof peer === 'string') {
        notes.push(peer)
      } else {
        const { perMember: m, shared } = peer
        const sharedMs = shared.roundsMs[0]
        const perMemberMs = m.roundsMs[0]
        rows.push(['Mosquitto (QoS 1, persistent sessions), one shared topic', members, peer.processes, '', members, (sharedMs / 1000).toFixed(2), rate(members, sharedMs), '', ''])
        rows.push(['TMTP ÷ Mosquitto (one shared topic)', '', '', '', '', '', fmtRatio(ratio(rate(delivered, allMs), rate(members, sharedMs))), '', ''])
        rows.push(['Mosquitto, a topic per member', members, peer.processes, '', members, (perMemberMs / 1000).toFixed(2), rate(members, perMemberMs), '', ''])
        Object.assign(figures, { mosquittoSharedMs: sharedMs, mosquittoSharedPerSec: rate(members, sharedMs), mosquittoPerMemberMs: perMemberMs, mosquittoPerMemberPerSec: rate(members, perMemberMs), ratioToMosquittoShared: ratio(rate(delivered, allMs), rate(members, sharedMs)) })
        notes.push(`Mosquitto (the compared figure): ${members} persistent sessions (clean: false) in ${peer.processes} mqtt.js process${peer.processes === 1 ? '' : 'es'}, all subscribed at QoS 1 to one topic; one 1 KiB publish that the broker fans out to every session, timed from the publish to the later of the last message received and the PUBACK, after a warm-up message; for reference one publish to each session's own topic (as TMTP seals one copy per device); ${shared.duplicates} duplicates`)
      }
      return {
        id: 'W8',
        title: w8.title,
        table: { columns: ['system', 'devices', 'client processes', 'accepted ms', 'acknowledged', 'seconds to all acknowledged', 'device-messages/s', 'site CPU µs per device-message', 'members\' CPU µs per device-message'], rows },
        figures,
        notes
      }
    } finally {
      await stopAll([site, ...workers])
    }
  }
}
