/**
 * W2 fan-out: 1 site → 1,000 connected members (member nodes, 100 per process), one
 * message each, 10 rounds; messages/s over the rounds. The Mosquitto peer: 1 publisher →
 * 1,000 persistent sessions, one topic per member.
 */
import { BODY_BYTES, cpuOf, fmtRatio, left, rate, ratio, scaled, startMembers, startSite, stopAll, type BenchContext, type Figure, type Workload, type WorkloadResult } from './common.js'
import type { NodeProcess } from '../lib/node-process.js'
import { mosquittoFanout, runPeer, SESSIONS_PER_PROCESS } from './mosquitto.js'
import { MEMBERS_PER_PROCESS } from './w3-store-forward.js'

const ROUNDS = 10

export const w2: Workload = {
  id: 'W2',
  title: 'W2 fan-out: 1 site → 1,000 connected members, one message each, 10 rounds',
  run: async (ctx: BenchContext): Promise<WorkloadResult> => {
    const members = scaled(ctx, 1000, 10)
    const processes = Math.ceil(members / MEMBERS_PER_PROCESS)
    // the peer first (it takes seconds), so that TMTP gets the rest of the bound
    const peer = await runPeer(ctx, async bin => {
      ctx.progress(`  mosquitto: ${members} sessions, ${ROUNDS} rounds`)
      return await mosquittoFanout(ctx, bin, { members, rounds: ROUNDS })
    })
    let site: NodeProcess | undefined
    let workers: NodeProcess[] = []
    try {
      site = await startSite(ctx)
      ctx.progress(`  w2: ${members} members in ${processes} processes`)
      const group = await startMembers(ctx, site, members, processes)
      workers = group.workers
      // warm-up round: key epochs and streams
      await site.call('throughput', { to: group.refs, perRecipient: 1, bodyBytes: BODY_BYTES, concurrency: 256, prefix: 'warm-', timeoutMs: left(ctx) }, left(ctx))
      let totalMs = 0
      const perRound: number[] = []
      // CPU over the measured rounds: the site's own, and the member processes' together
      const cpuBefore = await Promise.all([site, ...workers].map(cpuOf))
      for (let round = 0; round < ROUNDS && Date.now() < ctx.deadline; round++) {
        const r = await site.call('throughput', { to: group.refs, perRecipient: 1, bodyBytes: BODY_BYTES, concurrency: 256, prefix: `r${round}-`, timeoutMs: left(ctx) }, left(ctx))
        totalMs += r.elapsedMs
        perRound.push(r.elapsedMs)
        ctx.progress(`  w2: round ${round + 1}/${ROUNDS}: ${r.elapsedMs.toFixed(0)} ms`)
      }
      const cpuAfter = await Promise.all([site, ...workers].map(cpuOf))
      const messages = members * perRound.length
      const perSec = rate(messages, totalMs)
      const siteCpuUs = (cpuAfter[0] - cpuBefore[0]) / messages
      const membersCpuUs = cpuAfter.slice(1).reduce((sum, c, i) => sum + c - cpuBefore[i + 1], 0) / messages
      const rows: Figure[][] = [['TMTP', members, processes, perRound.length, messages, (totalMs / 1000).toFixed(2), perSec, Math.max(...perRound), siteCpuUs.toFixed(0), membersCpuUs.toFixed(0)]]
      const figures: Record<string, Figure> = { members, memberProcesses: processes, rounds: perRound.length, messages, elapsedMs: totalMs, perSec, roundsMs: perRound.map(r => Math.round(r)).join(','), siteCpuUsPerMessage: siteCpuUs, membersCpuUsPerMessage: membersCpuUs }
      const notes = [
        `TMTP: ${processes} member processes of up to ${MEMBERS_PER_PROCESS} member nodes each; each round is timed from its first send() to its last acknowledgement, after a warm-up round`,
        `CPU per delivered device-message over the measured rounds (process.cpuUsage(), every thread): the site's own ${siteCpuUs.toFixed(0)} µs (sealing, outbox, sender, verifying one signed ack per message: at one message per device a round no two share an ack), the ${processes} member processes' ${membersCpuUs.toFixed(0)} µs together; the site alone would allow ${Math.round(1e6 / siteCpuUs)} msg/s on one core at that cost`
      ]
      if (typeof peer === 'string') {
        notes.push(peer)
      } else {
        const { perMember: m, shared } = peer
        const peerProcesses = peer.processes
        const vs = ratio(perSec, m.perSec)
        const vsShared = ratio(perSec, shared.perSec)
        rows.push(['Mosquitto (QoS 1, persistent sessions), a topic per member', members, peerProcesses, m.rounds, m.messages, (m.elapsedMs / 1000).toFixed(2), m.perSec, Math.max(...m.roundsMs), '', ''])
        rows.push(['TMTP ÷ Mosquitto (a topic per member)', '', '', '', '', '', fmtRatio(vs), '', '', ''])
        rows.push(['Mosquitto, one shared topic (for reference)', members, peerProcesses, shared.rounds, shared.messages, (shared.elapsedMs / 1000).toFixed(2), shared.perSec, Math.max(...shared.roundsMs), '', ''])
        rows.push(['TMTP ÷ Mosquitto (one shared topic)', '', '', '', '', '', fmtRatio(vsShared), '', '', ''])
        Object.assign(figures, {
          mosquittoPerSec: m.perSec,
          mosquittoElapsedMs: m.elapsedMs,
          mosquittoRounds: m.rounds,
          mosquittoProcesses: peerProcesses,
          mosquittoDuplicates: m.duplicates,
          mosquittoRoundsMs: m.roundsMs.map(r => Math.round(r)).join(','),
          ratioToMosquitto: vs,
          target: '≥ 1.5× Mosquitto',
          mosquittoSharedTopicPerSec: shared.perSec,
          mosquittoSharedTopicDuplicates: shared.duplicates - m.duplicates,
          mosquittoSharedTopicRoundsMs: shared.roundsMs.map(r => Math.round(r)).join(','),
          ratioToMosquittoSharedTopic: vsShared
        })
        notes.push(`Mosquitto (the compared figure): each member is a persistent session (clean: false, fixed client id) subscribed at QoS 1 to its own topic t/<member> (and to t/all, below), in ${peerProcesses} mqtt.js process${peerProcesses === 1 ? '' : 'es'} (up to ${SESSIONS_PER_PROCESS.toLocaleString('en-US')} sessions a process) and one publisher process; per round one publisher publishes one 1 KiB message to each member's topic: ${members} publishes a round, as TMTP seals one envelope per member, 256 unacknowledged at most; a round is timed from its first publish to the later of the last message received and the last PUBACK, after a warm-up round; ${m.duplicates} duplicates`)
        notes.push(`Mosquitto, one shared topic (for reference, not the target's comparison): the same sessions and broker, all subscribed to t/all: one publish a round that the broker fans out to every session; TMTP cannot do this, as each member's copy is sealed to that member; ${shared.duplicates - m.duplicates} duplicates`)
      }
      return {
        id: 'W2',
        title: w2.title,
        table: { columns: ['system', 'members', 'client processes', 'rounds', 'messages', 'seconds', 'messages/s', 'slowest round ms', 'site CPU µs per message', 'members\' CPU µs per message'], rows },
        figures,
        notes
      }
    } finally {
      await stopAll([site, ...workers])
    }
  }
}
