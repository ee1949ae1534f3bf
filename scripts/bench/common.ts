/**
 * Shared pieces of the bench workloads: the context each gets, results, tables, progress
 * lines and the helpers that start TMTP sites and members in their own processes
 * (scripts/lib/node-process.ts).
 */
import { mkdir } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { concurrently } from '../../src/cli/time.js'
import type { IpcChild } from '../lib/ipc-child.js'
import { NodeProcess, type HostOptions } from '../lib/node-process.js'
import { keepLog } from './ipc.js'

export const BODY_BYTES = 1024
/** Each workload's bound (the issue: each under 2 minutes). */
export const WORKLOAD_TIMEOUT_MS = 120_000

export type Figure = number | string | boolean | null

export interface Table {
  columns: string[]
  rows: Figure[][]
}

export interface WorkloadResult {
  id: string
  title: string
  table: Table
  /** Further tables, printed after the first with their captions. */
  extra?: Array<{ caption: string, table: Table }>
  /** Every figure and ratio, for --json. */
  figures: Record<string, Figure>
  notes: string[]
}

/** The floors, measured once per run, that TMTP figures are divided by. */
export interface Floors {
  libp2pPerSec: number
  tcpPerSec: number
  /** The required-work floor (work-floor.ts): messages/s in its one process, and its CPU µs per message (every thread). */
  workPerSec: number
  workCpuUs: number
}

export interface BenchContext {
  /** A fresh folder for this workload. */
  dir: string
  /** Multiplies message and member counts (1 = the sizes; smaller for a smoke run). */
  scale: number
  /** Wall-clock time (Date.now) by which the workload must be done. */
  deadline: number
  progress: (message: string) => void
  floors?: Floors
  /** Extra node flags for the site child (e.g. --cpu-prof). */
  siteExecArgv?: string[]
  /** Run the Mosquitto peer where a workload has one (and mosquitto is installed). */
  peer: boolean
  /** The site's delivery window (envelopes in flight per device), when not the default. */
  window?: number
  /** Deferred acks (spec 15.2) of every node, ms, when not the default. */
  ackDelayMs?: number
  /** Extra node flags for the member children. */
  memberExecArgv?: string[]
}

export interface Workload {
  id: string
  title: string
  /** Its bound, when not WORKLOAD_TIMEOUT_MS. */
  boundMs?: number
  /** Runs only when named with --only: it takes far longer than the rest of the suite together. */
  onlyWhenNamed?: boolean
  run: (ctx: BenchContext) => Promise<WorkloadResult>
}

export function scaled (ctx: BenchContext, n: number, min = 1): number {
  return Math.max(min, Math.round(n * ctx.scale))
}

/** Milliseconds left before the workload's deadline (at least 1 s, so that a late step still fails cleanly). */
export function left (ctx: BenchContext): number {
  return Math.max(1_000, ctx.deadline - Date.now())
}

export function rate (count: number, ms: number): number {
  return ms > 0 ? count / (ms / 1000) : NaN
}

export function ratio (a: number | undefined, b: number | undefined): number | null {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null
  return a / b
}

export function fmt (v: Figure, digits = 0): string {
  if (v === null) return 'n/a'
  if (typeof v !== 'number') return String(v)
  if (!Number.isFinite(v)) return 'n/a'
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

export function fmtRatio (v: number | null): string {
  return v === null ? 'n/a' : `${v.toFixed(2)}×`
}

export function mb (bytes: number): number {
  return bytes / (1024 * 1024)
}

export function renderTable (table: Table): string {
  const cells = [table.columns, ...table.rows.map(r => r.map(c => typeof c === 'string' ? c : fmt(c)))]
  const widths = table.columns.map((_, i) => Math.max(...cells.map(r => String(r[i] ?? '').length)))
  const line = (r: Array<Figure | string>): string => '| ' + r.map((c, i) => String(c ?? '').padEnd(widths[i])).join(' | ') + ' |'
  return [line(cells[0]), '|' + widths.map(w => '-'.repeat(w + 2)).join('|') + '|', ...cells.slice(1).map(line)].join('\n')
}

export async function subdir (ctx: BenchContext, name: string): Promise<string> {
  const path = join(ctx.dir, name)
  await mkdir(path, { recursive: true })
  return path
}

/** The bench's nodes: no DHT; a node that takes long to stop is cut short, the bench needs the process gone. */
const BENCH_NODES: Omit<HostOptions, 'dataDir'> = { dht: false, stopGraceMs: 3_000 }

/** A TMTP site in its own process. W6 queues 200,000 messages for one device: above the default bound per device. */
export async function startSite (ctx: BenchContext, opts: { fsync?: boolean, name?: string, listen?: string } = {}): Promise<NodeProcess> {
  const site = await NodeProcess.start('site', {
    ...BENCH_NODES, dataDir: join(ctx.dir, opts.name ?? 'site'), name: 'Bench site', fsync: opts.fsync, listen: opts.listen, window: ctx.window, ackDelayMs: ctx.ackDelayMs, maxQueuePerDevice: 1_000_000
  }, { execArgv: ctx.siteExecArgv, maxOutput: 32 * 1024 })
  keepLog(site)
  return site
}

/** A free TCP port on 127.0.0.1 (for a site that restarts on the same address). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => { resolve(port) })
    })
  })
}

/** Member groups started so far in this run. */
let memberGroups = 0

export interface MemberGroup {
  workers: NodeProcess[]
  /** Member refs at the site, in member order: `m${i}`. */
  refs: string[]
  /** The refs each worker hosts. */
  refsOf: string[][]
}

/**
 * `count` TMTP member nodes spread over `processes` processes, each joined to the site with an
 * invite for ref `m${i}`. With `joinInTurn` the processes' members join one process after the
 * other (8 at a time in all, not 8 per process): tens of processes joining at once on two
 * cores let joins run past their 10 s timeout.
 */
export async function startMembers (ctx: BenchContext, site: NodeProcess, count: number, processes: number, opts: { fsync?: boolean, joinInTurn?: boolean } = {}): Promise<MemberGroup> {
  const n = Math.max(1, Math.min(processes, count))
  // a folder of its own for each group: a later workload must not reopen an earlier one's devices and inboxes
  const group = ++memberGroups
  // a few processes start at a time: W8's hundred loading at once on two cores took longer than a start may
  const workers = new Array<NodeProcess>(n)
  await concurrently(n, 4, async p => {
    workers[p] = await NodeProcess.start('members', { ...BENCH_NODES, dataDir: join(ctx.dir, `members-${group}-${p}`), name: 'bench device', fsync: opts.fsync, ackDelayMs: ctx.ackDelayMs }, { execArgv: ctx.memberExecArgv, maxOutput: 32 * 1024 })
    keepLog(workers[p])
  })
  const refs: string[] = []
  const refsOf: string[][] = []
  const per = workers.map((_, p) => Math.floor(count / n) + (p < count % n ? 1 : 0))
  let base = 0
  let joined = 0
  let turn = Promise.resolve()
  await Promise.all(workers.map(async (w, p) => {
    const myRefs = Array.from({ length: per[p] }, (_, i) => `m${base + i}`)
    base += per[p]
    refs.push(...myRefs)
    refsOf.push(myRefs)
    await w.call('add', { refs: myRefs }, left(ctx))
    const tokens = await site.call('invite', { refs: myRefs }, left(ctx))
    const join = async (): Promise<void> => { await concurrently(myRefs.length, 8, async i => { await joinAgainOnTimeout(ctx, async () => await w.call('join', { ref: myRefs[i], token: tokens[i] }, left(ctx))) }) }
    if (opts.joinInTurn === true) await (turn = turn.then(join))
    else await join()
    joined += per[p]
    ctx.progress(`  ${joined}/${count} members joined`)
  }))
  return { workers, refs, refsOf }
}

/** Attempts at a member's join that timed out or could not dial, as a device on a loaded machine would try again. */
const JOIN_ATTEMPTS = 3

/** Runs a join again when it timed out: a join is idempotent for the device that redeemed the invite (spec 15.1, step 7). */
async function joinAgainOnTimeout (ctx: BenchContext, join: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await join()
      return
    } catch (err) {
      const message = (err as Error).message
      if (attempt === JOIN_ATTEMPTS || !/timed out|dials failed/.test(message)) throw err
      ctx.progress(`  a join failed (${message}); attempt ${attempt + 1} of ${JOIN_ATTEMPTS}`)
    }
  }
}

export async function stopAll (children: Array<IpcChild<object> | undefined>): Promise<void> {
  await Promise.all(children.map(async c => await c?.stop()))
}

export async function rssOf (node: NodeProcess): Promise<number> {
  return (await node.call('rss', {})).rss
}

/** CPU time a node process has used so far (all threads), in µs. */
export async function cpuOf (node: NodeProcess): Promise<number> {
  return await node.call('cpu', {})
}
