/**
 * W2 fan-out: 1 site → 1,000 connected members (member nodes, 100 per process), one
 * message each, 10 rounds; messages/s over the rounds.
 */
import { BODY_BYTES, left, rate, scaled, startMembers, startSite, stopAll, type BenchContext, type Workload, type WorkloadResult } from './common.js'
import type { Worker } from './ipc.js'
import { MEMBERS_PER_PROCESS } from './w3-store-forward.js'

export const w2: Workload = {
  id: 'W2',
  title: 'W2 fan-out: 1 site → 1,000 connected members, one message each, 10 rounds',
  run: async (ctx: BenchContext): Promise<WorkloadResult> => {
    let site: Worker | undefined
    let workers: Worker[] = []
    try {
      site = await startSite(ctx)
      const members = scaled(ctx, 1000, 10)
      const processes = Math.ceil(members / MEMBERS_PER_PROCESS)
      ctx.progress(`  w2: ${members} members in ${processes} processes`)
      const group = await startMembers(ctx, site, members, processes)
      workers = group.workers
      // warm-up round: key epochs and streams
      await site.request('throughput', { to: group.refs, perRecipient: 1, bodyBytes: BODY_BYTES, concurrency: 256, prefix: 'warm-', timeoutMs: left(ctx) }, left(ctx))
      const rounds = 10
      let totalMs = 0
      const perRound: number[] = []
      for (let round = 0; round < rounds && Date.now() < ctx.deadline; round++) {
        const r = await site.request<{ elapsedMs: number }>('throughput', { to: group.refs, perRecipient: 1, bodyBytes: BODY_BYTES, concurrency: 256, prefix: `r${round}-`, timeoutMs: left(ctx) }, left(ctx))
        totalMs += r.elapsedMs
        perRound.push(r.elapsedMs)
        ctx.progress(`  w2: round ${round + 1}/${rounds}: ${r.elapsedMs.toFixed(0)} ms`)
      }
      const messages = members * perRound.length
      const perSec = rate(messages, totalMs)
      return {
        id: 'W2',
        title: w2.title,
        table: {
          columns: ['system', 'members', 'rounds', 'messages', 'seconds', 'messages/s', 'slowest round ms'],
          rows: [['TMTP', members, perRound.length, messages, (totalMs / 1000).toFixed(2), perSec, Math.max(...perRound)]]
        },
        figures: { members, memberProcesses: processes, rounds: perRound.length, messages, elapsedMs: totalMs, perSec, roundsMs: perRound.map(r => Math.round(r)).join(',') },
        notes: [`${processes} member processes of up to ${MEMBERS_PER_PROCESS} member nodes each; each round is timed from its first send() to its last acknowledgement`]
      }
    } finally {
      await stopAll([site, ...workers])
    }
  }
}
