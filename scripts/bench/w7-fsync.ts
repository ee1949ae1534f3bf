/**
 * W7 fsync mode: what power-loss-safe writes (every group-committed batch fsynced, the node's
 * default) cost: W1 with and without fsync side by side in one run, and W4 with fsync. The
 * targets: fsync costs at most 20 % of W1's throughput; W1 and W4 with fsync against mnm's
 * fsync'd 840/s.
 */
import { fmtRatio, ratio, scaled, type BenchContext, type Workload, type WorkloadResult } from './common.js'
import { onlineThroughput } from './w1-throughput.js'
import { storeAndForward } from './w3-store-forward.js'

/** mnm v0.2, fsync per message, 1,000 × 1 KiB to an offline member (docs/LIBP2P-NOTES.md). */
export const MNM_FSYNC_PER_SEC = 840
/** Members in W7's crash half: W4's 1,000 do not fit in W7's 2-minute bound beside W1. */
export const W7_CRASH_MEMBERS = 100

export const w7: Workload = {
  id: 'W7',
  title: 'W7 fsync mode: W1 with and without fsync per batch, W4 with it',
  run: async (ctx: BenchContext): Promise<WorkloadResult> => {
    const count = scaled(ctx, 100_000, 1000)
    const online = await onlineThroughput(ctx, { fsync: true, count, label: 'w7-online' })
    const unsynced = await onlineThroughput(ctx, { fsync: false, count, label: 'w7-nofsync' })
    const kept = ratio(online.perSec, unsynced.perSec)
    // W4's 1,000 members take ~30 s to start and join and W3/W4 do not finish in 2 minutes at
    // that size yet (docs/BENCHMARKS.md): the crash half runs W4 with W7_CRASH_MEMBERS members
    const crash = await storeAndForward(ctx, { fsync: true, crash: true, members: scaled(ctx, W7_CRASH_MEMBERS, 10), perMember: 20, label: 'w7-crash' })
    const r1 = ratio(online.perSec, MNM_FSYNC_PER_SEC)
    const r4 = ratio(crash.perSec, MNM_FSYNC_PER_SEC)
    return {
      id: 'W7',
      title: w7.title,
      table: {
        columns: ['workload', 'messages', 'seconds', 'messages/s', '÷ mnm 840/s', '÷ libp2p floor', 'lost', 'duplicated'],
        rows: [
          ['W1 + fsync (the default)', online.count, (online.elapsedMs / 1000).toFixed(2), online.perSec, fmtRatio(r1), fmtRatio(ratio(online.perSec, ctx.floors?.libp2pPerSec)), '', ''],
          ['W1 without fsync', unsynced.count, (unsynced.elapsedMs / 1000).toFixed(2), unsynced.perSec, fmtRatio(ratio(unsynced.perSec, MNM_FSYNC_PER_SEC)), fmtRatio(ratio(unsynced.perSec, ctx.floors?.libp2pPerSec)), '', ''],
          ['W1 with ÷ without fsync', '', '', fmtRatio(kept), '', '', '', ''],
          [`W4 + fsync (${crash.members} members, drain)`, crash.messages, (crash.elapsedMs / 1000).toFixed(2), crash.perSec, fmtRatio(r4), '', crash.lost, crash.duplicated]
        ]
      },
      figures: {
        onlinePerSec: online.perSec,
        onlineRatioToMnm: r1,
        onlineRatioToLibp2pFloor: ratio(online.perSec, ctx.floors?.libp2pPerSec),
        onlineWithoutFsyncPerSec: unsynced.perSec,
        fsyncKeptRatio: kept,
        crashDrainPerSec: crash.perSec,
        crashRatioToMnm: r4,
        crashLost: crash.lost,
        crashDuplicated: crash.duplicated,
        target: 'W1 with fsync ≥ 0.8× without; ≥ 10× 840/s'
      },
      notes: ['this VM\'s fsync is ~0.1 ms (docs/LIBP2P-NOTES.md), so these are an upper bound for real disks', ...crash.notes]
    }
  }
}
