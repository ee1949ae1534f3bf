/**
 * The TMTP benchmarks (docs/BENCHMARKS.md):
 *
 *   npm run bench [-- --only W1,W4] [--json] [--scale 0.1] [--keep] [--no-peer] [--window N] [--ack-delay MS] [--node-flags="--flag …"] [--profile-site DIR] [--profile-members DIR]
 *
 * Progress lines go to stderr, a table per workload to stdout (or, with --json, one JSON
 * object with every figure and ratio). Each workload is bounded to 2 minutes and the suite to 10;
 * W8, which starts 10,000 member nodes (~30 minutes of joins here), runs only with --only W8,
 * bounded to 50 minutes, and adds that to the suite's bound. Every child process is
 * killed on the way out. The floors (F) run first whenever a workload that is shown as a ratio
 * of them is selected.
 */
import '../../src/polyfill.js'
import { cpus, freemem, totalmem, tmpdir } from 'node:os'
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { renderTable, WORKLOAD_TIMEOUT_MS, type BenchContext, type Floors, type Workload, type WorkloadResult } from './common.js'
import { IpcChild } from '../lib/ipc-child.js'
import { floorsWorkload } from './floors.js'
import { w1 } from './w1-throughput.js'
import { w2 } from './w2-fanout.js'
import { w3, w4 } from './w3-store-forward.js'
import { w5 } from './w5-latency.js'
import { w6 } from './w6-memory.js'
import { w7 } from './w7-fsync.js'
import { w8 } from './w8-broadcast.js'

const SUITE_TIMEOUT_MS = 10 * 60_000
const WORKLOADS: Workload[] = [floorsWorkload, w1, w2, w3, w4, w5, w6, w7, w8]
/** Workloads shown as ratios of the floors. */
const NEEDS_FLOORS = new Set(['W1', 'W7'])

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    json: { type: 'boolean', default: false },
    scale: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
    'profile-site': { type: 'string' },
    'profile-members': { type: 'string' },
    window: { type: 'string' },
    'ack-delay': { type: 'string' },
    'node-flags': { type: 'string' },
    'no-peer': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false }
  }
})

if (values.help) {
  process.stdout.write('usage: npm run bench -- [--only F,W1,W2,W3,W4,W5,W6,W7,W8] [--json] [--scale 0.1] [--keep] [--no-peer] [--window N] [--ack-delay MS] [--node-flags="--flag …"] [--profile-site DIR] [--profile-members DIR]\n')
  process.exit(0)
}

/** Node.js flags for every site and member child (V8's heap sizes, say), besides the profiling ones. */
const nodeFlags = values['node-flags']?.split(' ').filter(flag => flag !== '') ?? []

/** A child's Node.js flags: those of --node-flags, and --cpu-prof into `profileDir` when one is given. */
function childFlags (profileDir: string | undefined): string[] {
  return profileDir === undefined ? nodeFlags : [...nodeFlags, '--cpu-prof', `--cpu-prof-dir=${profileDir}`]
}

const suiteStart = Date.now()
const progress = (message: string): void => {
  process.stderr.write(`[bench ${((Date.now() - suiteStart) / 1000).toFixed(1).padStart(6)} s] ${message}\n`)
}

async function main (): Promise<number> {
  const scale = Number(values.scale)
  if (!Number.isFinite(scale) || scale <= 0 || scale > 1) throw new Error('--scale must be in (0, 1]')
  const wanted = values.only === undefined ? WORKLOADS.filter(w => w.onlyWhenNamed !== true).map(w => w.id) : values.only.split(',').map(s => s.trim().toUpperCase()).filter(s => s !== '')
  for (const id of wanted) if (!WORKLOADS.some(w => w.id === id)) throw new Error(`unknown workload ${id} (known: ${WORKLOADS.map(w => w.id).join(', ')})`)
  const selected = new Set(wanted)
  if (wanted.some(id => NEEDS_FLOORS.has(id))) selected.add('F')
  const plan = WORKLOADS.filter(w => selected.has(w.id))
  // the suite's bound grows by what a longer workload takes beyond the usual bound
  const suiteBoundMs = SUITE_TIMEOUT_MS + plan.reduce((sum, w) => sum + Math.max(0, (w.boundMs ?? WORKLOAD_TIMEOUT_MS) - WORKLOAD_TIMEOUT_MS), 0)

  const root = await mkdtemp(join(tmpdir(), 'tmtp-bench-'))
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', memoryGiB: Math.round(totalmem() / 2 ** 30), freeGiB: Math.round(freemem() / 2 ** 30), node: process.version, platform: `${process.platform} ${process.arch}` }
  progress(`machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}; data in ${root}`)
  const results: WorkloadResult[] = []
  const failures: Array<{ id: string, error: string }> = []
  let floors: Floors | undefined
  try {
    for (const workload of plan) {
      if (Date.now() - suiteStart > suiteBoundMs - 30_000) {
        failures.push({ id: workload.id, error: 'skipped: the suite is out of time' })
        continue
      }
      progress(`${workload.id}: ${workload.title}`)
      const ctx: BenchContext = {
        dir: join(root, workload.id.toLowerCase()),
        scale,
        deadline: Math.min(Date.now() + (workload.boundMs ?? WORKLOAD_TIMEOUT_MS), suiteStart + suiteBoundMs),
        progress,
        floors,
        peer: !values['no-peer'],
        window: values.window === undefined ? undefined : Number(values.window),
        ackDelayMs: values['ack-delay'] === undefined ? undefined : Number(values['ack-delay']),
        siteExecArgv: childFlags(values['profile-site']),
        memberExecArgv: childFlags(values['profile-members'])
      }
      const t = Date.now()
      let timer: NodeJS.Timeout | undefined
      try {
        const result = await Promise.race([
          workload.run(ctx),
          new Promise<never>((resolve, reject) => { timer = setTimeout(() => { reject(new Error(`over its bound of ${(workload.boundMs ?? WORKLOAD_TIMEOUT_MS) / 1000} s`)) }, ctx.deadline - Date.now() + 10_000) })
        ])
        if (ctx.floors !== undefined) floors = ctx.floors
        results.push(result)
        progress(`${workload.id}: done in ${((Date.now() - t) / 1000).toFixed(1)} s`)
        const extra = (result.extra ?? []).map(x => `\n${x.caption}\n\n${renderTable(x.table)}\n`).join('')
        if (!values.json) process.stdout.write(`\n## ${result.title}\n\n${renderTable(result.table)}\n${extra}${result.notes.map(n => `\n- ${n}`).join('')}\n`)
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err)
        failures.push({ id: workload.id, error })
        progress(`${workload.id}: FAILED: ${error}`)
        IpcChild.killAll()
      } finally {
        clearTimeout(timer)
      }
    }
  } finally {
    IpcChild.killAll()
    if (!values.keep) await rm(root, { recursive: true, force: true }).catch(() => {})
  }
  if (values.json) {
    process.stdout.write(JSON.stringify({
      machine,
      scale,
      durationMs: Date.now() - suiteStart,
      workloads: Object.fromEntries(results.map(r => [r.id, { title: r.title, ...r.figures, notes: r.notes }])),
      failures
    }, null, 2) + '\n')
  } else if (failures.length > 0) {
    process.stdout.write(`\nFailed or skipped: ${failures.map(f => `${f.id} (${f.error.split('\n')[0]})`).join('; ')}\n`)
  }
  progress(`done in ${((Date.now() - suiteStart) / 1000).toFixed(1)} s`)
  return failures.length === 0 ? 0 : 1
}

process.on('SIGINT', () => { IpcChild.killAll(); process.exit(130) })
process.on('SIGTERM', () => { IpcChild.killAll(); process.exit(143) })

main().then(code => { process.exitCode = code }, err => {
  IpcChild.killAll()
  progress(`bench failed: ${err instanceof Error ? err.message : String(err)}`)
  process.exitCode = 1
})
