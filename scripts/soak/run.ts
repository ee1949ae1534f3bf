/**
 * The soak (issue #7, item 4; bounded, not in CI):
 *
 *   npm run soak [-- --minutes 10] [--seed N] [--rate 200] [--members 100] [--processes 3] [--keep]
 *
 * A real TMTP site and member nodes in a few child processes (scripts/lib/node-process.ts:
 * roles `site` and `members`), all on 127.0.0.1 with durable storage and the DHT off. For `--minutes` the site sends at a steady rate, round robin over the
 * members, while members keep joining (new invites) and leaving at the same rate (so that the
 * membership turns over at a steady size and RSS has no reason to grow), and disconnecting
 * (node stopped) and reconnecting (restarted on the same data folder). A row of RSS, heap,
 * outbox depth and counts is printed every `--row-seconds`. Then sending stops, every member
 * is brought back online, the outbox must drain (bounded by `--drain-seconds`), and every
 * inbox of a member that is still a member is checked against what was sent to it. The exit
 * code is 0 only when site RSS levelled off, the outbox drained to 0, and nothing was lost
 * or duplicated (and no send failed).
 *
 * Bounded: every request to a child has a timeout, every loop a count and a deadline; all
 * children are killed on the way out (also on Ctrl-C); the data folders are removed unless
 * `--keep`. `--seed` fixes the schedule of joins, disconnects and leaves and which members
 * they pick (the timing of a busy machine still varies).
 */
import { rmSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { IpcChild } from '../lib/ipc-child.js'
import { NodeProcess, type HostCheck } from '../lib/node-process.js'
import { BODY_BYTES, fmt, mb, renderTable, type Figure, type Table } from '../bench/common.js'

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    seed: { type: 'string' },
    rate: { type: 'string', default: '200' },
    members: { type: 'string', default: '100' },
    'joins-per-minute': { type: 'string', default: '6' },
    'leaves-per-minute': { type: 'string', default: '6' },
    'disconnect-every': { type: 'string', default: '3' },
    processes: { type: 'string', default: '3' },
    'row-seconds': { type: 'string' },
    'drain-seconds': { type: 'string', default: '60' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false }
  }
})

if (values.help) {
  process.stdout.write('usage: npm run soak -- [--minutes 10] [--seed N] [--rate 200] [--members 100] [--joins-per-minute 6] [--leaves-per-minute 6] [--disconnect-every 3] [--processes 3] [--row-seconds N] [--drain-seconds 60] [--keep]\n')
  process.exit(0)
}

function num (name: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max}`)
  return n
}

const MINUTES = num('minutes', values.minutes, 0.25, 120)
const DURATION_MS = MINUTES * 60_000
const SEED = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : num('seed', values.seed, 0, 2 ** 31)
const RATE = num('rate', values.rate, 1, 5_000)
const INITIAL = Math.round(num('members', values.members, 2, 2_000))
const JOINS = Math.round(num('joins-per-minute', values['joins-per-minute'], 0, 600) * MINUTES)
const LEAVES = Math.round(num('leaves-per-minute', values['leaves-per-minute'], 0, 60) * MINUTES)
const DISCONNECT_EVERY_MS = num('disconnect-every', values['disconnect-every'], 0.1, 3_600) * 1000
const PROCESSES = Math.round(num('processes', values.processes, 1, 16))
const ROW_MS = values['row-seconds'] === undefined ? Math.min(30_000, Math.max(5_000, DURATION_MS / 20)) : num('row-seconds', values['row-seconds'], 1, 600) * 1000
const DRAIN_MS = num('drain-seconds', values['drain-seconds'], 5, 1_800) * 1000
/** RSS is sampled this often (rows are printed every ROW_MS). */
const SAMPLE_MS = Math.min(5_000, ROW_MS)
/** A disconnected member stays offline this long (uniform), at most a quarter of the run. */
const OFFLINE_MS: [number, number] = [5_000, Math.max(6_000, Math.min(40_000, DURATION_MS / 4))]
/** At most this share of the members is offline at once (a disconnect beyond it is skipped). */
const MAX_OFFLINE_SHARE = 0.2
/** Churn actions (join, disconnect, reconnect, leave) running at once; more wait for the next tick. */
const MAX_ACTIONS = 8
const SEND_TICK_MS = 100
const REQUEST_MS = 30_000
/** Site RSS has levelled off when the last third's median and peak are at most this share above the middle third's (see rssVerdict). */
const LEVEL_SHARE = 0.10

// ---------------------------------------------------------------- state

interface Member {
  ref: string
  proc: NodeProcess
  /** Joined (invite accepted) and not left: messages may be sent to it. */
  joined: boolean
  running: boolean
  /** A churn action is running on it. */
  busy: boolean
  leaving: boolean
  left: boolean
  /** When an offline member is to come back (ms since the start of sending). */
  upAt?: number
  /** Subjects sent to it (each once). */
  sent: string[]
}

interface Sample {
  t: number
  phase: 'send' | 'drain'
  siteRss: number
  /** Of siteRss: anonymous memory (heap, buffers, malloc) and file pages (LevelDB's mmapped tables), from /proc. */
  siteAnon: number
  siteFile: number
  /** V8 heap committed, and memory outside it held by JS objects (Buffers). */
  siteHeapTotal: number
  siteExternal: number
  siteHeap: number
  membersRss: number[]
}

const members: Member[] = []
const samples: Sample[] = []
const churnErrors: string[] = []
const counts = { joins: 0, downs: 0, ups: 0, leaves: 0, sent: 0, sendErrors: 0, lateMs: 0 }
let sitePeer = ''
let root: string | undefined
let t0 = Date.now()
const start = Date.now()

const elapsed = (): number => Date.now() - t0
const log = (message: string): void => { process.stderr.write(`[soak ${((Date.now() - start) / 1000).toFixed(1).padStart(6)} s] ${message}\n`) }

/** mulberry32: a small seeded PRNG, so that --seed reproduces the churn schedule. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// ---------------------------------------------------------------- churn

interface ChurnEvent {
  at: number
  kind: 'join' | 'down' | 'leave'
  /** Picks the member (and, for a disconnect, how long it stays offline). */
  r: number
  r2: number
}

/** The whole schedule, drawn up front from the seed. */
function schedule (random: () => number): ChurnEvent[] {
  const events: ChurnEvent[] = []
  const draw = (kind: ChurnEvent['kind'], from: number, to: number): void => {
    events.push({ at: DURATION_MS * (from + (to - from) * random()), kind, r: random(), r2: random() })
  }
  for (let i = 0; i < JOINS; i++) draw('join', 0.02, 0.9)
  for (let i = 0; i < LEAVES; i++) draw('leave', 0.05, 0.9)
  // disconnects: a Poisson process with mean interval DISCONNECT_EVERY_MS, none in the last 5 %
  for (let at = 0, i = 0; i < 100_000; i++) {
    at += -Math.log(1 - random()) * DISCONNECT_EVERY_MS
    if (at >= DURATION_MS * 0.95) break
    events.push({ at, kind: 'down', r: random(), r2: random() })
  }
  return events.sort((a, b) => a.at - b.at)
}

function pick<T> (list: T[], r: number): T | undefined {
  return list.length === 0 ? undefined : list[Math.min(list.length - 1, Math.floor(r * list.length))]
}

const sendable = (m: Member): boolean => m.joined && !m.leaving
const idle = (m: Member): boolean => m.joined && m.running && !m.busy && !m.leaving

let nextRef = 0
let nextProc = 0

async function addMember (site: NodeProcess, procs: NodeProcess[]): Promise<void> {
  const m: Member = { ref: `m${nextRef++}`, proc: procs[nextProc++ % procs.length], joined: false, running: false, busy: true, leaving: false, left: false, sent: [] }
  members.push(m)
  try {
    await m.proc.call('add', { refs: [m.ref] }, REQUEST_MS)
    m.running = true
    const [token] = await site.call('invite', { refs: [m.ref] }, REQUEST_MS)
    sitePeer = (await m.proc.call('join', { ref: m.ref, token }, REQUEST_MS)).site
    m.joined = true
    counts.joins++
  } finally {
    m.busy = false
  }
}

async function down (m: Member, offlineMs: number): Promise<void> {
  m.busy = true
  try {
    await m.proc.call('down', { refs: [m.ref] }, REQUEST_MS)
    m.running = false
    m.upAt = elapsed() + offlineMs
    counts.downs++
  } finally {
    m.busy = false
  }
}

async function up (m: Member): Promise<void> {
  m.busy = true
  try {
    m.upAt = undefined
    await m.proc.call('up', { refs: [m.ref] }, REQUEST_MS)
    m.running = true
    counts.ups++
  } finally {
    m.busy = false
  }
}

async function leave (m: Member, sending: () => Promise<unknown>): Promise<void> {
  m.busy = true
  m.leaving = true
  try {
    // a send already on its way to the site may include this member: let it be queued first
    await sending()
    await m.proc.call('leave', { ref: m.ref, site: sitePeer }, REQUEST_MS)
    m.running = false
    m.joined = false
    m.left = true
    counts.leaves++
  } finally {
    m.busy = false
  }
}

/** Runs the churn schedule until `stop()` says so; returns when every action it started is done. */
async function churn (site: NodeProcess, procs: NodeProcess[], events: ChurnEvent[], stop: () => boolean, sending: () => Promise<unknown>): Promise<void> {
  const actions = new Set<Promise<void>>()
  const run = (what: string, action: Promise<void>): void => {
    const p = action.catch((err: unknown) => {
      churnErrors.push(`${(elapsed() / 1000).toFixed(1)} s ${what}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`)
    }).finally(() => actions.delete(p))
    actions.add(p)
  }
  let next = 0
  const maxTicks = Math.ceil(DURATION_MS / 250) + 100
  for (let tick = 0; tick < maxTicks && !stop(); tick++) {
    const now = elapsed()
    for (const m of members) {
      if (actions.size >= MAX_ACTIONS) break
      if (m.upAt !== undefined && m.upAt <= now && !m.busy) run(`reconnect ${m.ref}`, up(m))
    }
    while (next < events.length && events[next].at <= now && actions.size < MAX_ACTIONS) {
      const e = events[next++]
      if (e.kind === 'join') {
        run('join', addMember(site, procs))
        continue
      }
      const candidates = members.filter(idle)
      const m = pick(candidates, e.r)
      if (m === undefined) continue
      if (e.kind === 'leave') {
        run(`leave ${m.ref}`, leave(m, sending))
        continue
      }
      const offline = members.filter(x => x.joined && !x.running).length
      if (offline + 1 > MAX_OFFLINE_SHARE * members.filter(sendable).length) continue
      run(`disconnect ${m.ref}`, down(m, OFFLINE_MS[0] + (OFFLINE_MS[1] - OFFLINE_MS[0]) * e.r2))
    }
    await sleep(250)
  }
  await Promise.race([Promise.allSettled([...actions]), sleep(2 * REQUEST_MS)])
}

// ---------------------------------------------------------------- sending

/**
 * Sends RATE messages a second, one per member round robin, until `stop()`: every
 * SEND_TICK_MS what is due goes out in send requests of distinct members (subject
 * `s<request>-0`, so that each subject is unique per member). A site that falls behind is
 * not flooded: at most a second's worth is sent per tick, and the shortfall is reported.
 */
function sender (site: NodeProcess, stop: () => boolean): { done: Promise<void>, current: () => Promise<unknown> } {
  let current: Promise<unknown> = Promise.resolve()
  const done = (async () => {
    let request = 0
    let cursor = 0
    const maxTicks = Math.ceil(DURATION_MS / SEND_TICK_MS) * 2 + 100
    for (let tick = 0; tick < maxTicks && !stop(); tick++) {
      const tickAt = elapsed()
      let budget = Math.min(Math.floor(tickAt / 1000 * RATE) - counts.sent - counts.sendErrors, RATE)
      for (let round = 0; budget > 0 && round < 100; round++) {
        const eligible = members.filter(sendable)
        if (eligible.length === 0) break
        const n = Math.min(budget, eligible.length)
        const to = Array.from({ length: n }, (_, i) => eligible[(cursor + i) % eligible.length])
        cursor = (cursor + n) % eligible.length
        const prefix = `s${request++}-`
        // no await between choosing the members and issuing the request: a leave waits for `current`
        current = site.call('send', { to: to.map(m => m.ref), perRecipient: 1, bodyBytes: BODY_BYTES, concurrency: 8, prefix, timeoutMs: REQUEST_MS - 1_000 }, REQUEST_MS)
        try {
          await current
          for (const m of to) m.sent.push(`${prefix}0`)
          counts.sent += n
        } catch (err) {
          counts.sendErrors += n
          churnErrors.push(`${(elapsed() / 1000).toFixed(1)} s send of ${n}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`)
        }
        budget -= n
      }
      const wait = tickAt + SEND_TICK_MS - elapsed()
      if (wait < 0) counts.lateMs -= wait
      await sleep(Math.max(0, wait))
    }
  })()
  return { done, current: async () => await current.catch(() => {}) }
}

// ---------------------------------------------------------------- rows

const COLUMNS = ['elapsed s', 'phase', 'site RSS MB', 'anon + file', 'heap used/total', 'external MB', 'outbox', 'sent', 'delivered', 'members', 'online', 'connected', 'joins/leaves/restarts', 'member procs RSS MB']
const rows: Figure[][] = []

/** RssAnon and RssFile of a process in MB (Linux; NaN elsewhere). */
async function rssSplit (pid: number): Promise<{ anon: number, file: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '')
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024
  return { anon: kb('RssAnon'), file: kb('RssFile') }
}

/** Bytes in a folder and below (bounded by a count of entries). */
async function folderSize (path: string): Promise<number> {
  let total = 0
  const entries = await readdir(path, { recursive: true, withFileTypes: true }).catch(() => [])
  for (const e of entries.slice(0, 100_000)) {
    if (e.isFile()) total += (await stat(join(e.parentPath, e.name)).catch(() => ({ size: 0 }))).size
  }
  return total
}

async function sample (site: NodeProcess, procs: NodeProcess[], phase: Sample['phase']): Promise<Sample> {
  const [s, ms] = await Promise.all([
    site.call('rss', {}, REQUEST_MS),
    Promise.all(procs.map(async p => await p.call('rss', {}, REQUEST_MS).then(r => r.rss, () => NaN)))
  ])
  const split = await rssSplit(site.pid)
  const x: Sample = { t: elapsed(), phase, siteRss: mb(s.rss), siteAnon: split.anon, siteFile: split.file, siteHeap: mb(s.heapUsed), siteHeapTotal: mb(s.heapTotal), siteExternal: mb(s.external), membersRss: ms.map(mb) }
  samples.push(x)
  return x
}

async function outboxDepth (site: NodeProcess): Promise<number> {
  return (await site.call('stats', {}, REQUEST_MS)).queued
}

async function row (site: NodeProcess, procs: NodeProcess[], phase: Sample['phase'], s?: Sample): Promise<number> {
  const x = s ?? await sample(site, procs, phase)
  const [queued, delivered, connected] = await Promise.all([
    outboxDepth(site).catch(() => NaN),
    site.call('delivered', {}, REQUEST_MS).then(d => d.delivered, () => NaN),
    site.call('connections', {}, REQUEST_MS).catch(() => NaN)
  ])
  const r: Figure[] = [
    Math.round(x.t / 1000), phase, fmt(x.siteRss, 1), `${fmt(x.siteAnon, 0)} + ${fmt(x.siteFile, 0)}`, `${fmt(x.siteHeap, 0)} / ${fmt(x.siteHeapTotal, 0)}`, fmt(x.siteExternal, 1), queued, counts.sent, delivered,
    members.filter(m => m.joined).length, members.filter(m => m.joined && m.running).length, connected,
    `${counts.joins}/${counts.leaves}/${counts.ups}`, x.membersRss.map(v => fmt(v, 0)).join(' + ')
  ]
  rows.push(r)
  const cell = (v: Figure, i: number): string => (typeof v === 'number' ? fmt(v) : String(v)).padStart(i === 1 ? 5 : Math.min(14, COLUMNS[i].length))
  process.stdout.write(r.map(cell).join('  ') + '\n')
  return queued
}

// ---------------------------------------------------------------- verdict

function median (list: Sample[], of: (s: Sample) => number): number {
  const v = list.map(of).sort((x, y) => x - y)
  return v.length === 0 ? NaN : v.length % 2 === 1 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2
}

function peak (list: Sample[]): number {
  return list.reduce((a, s) => Math.max(a, s.siteRss), 0)
}

/** Least-squares slope in MB per minute. */
function slope (list: Sample[], of: (s: Sample) => number): number {
  if (list.length < 2) return NaN
  const xs = list.map(s => s.t / 60_000)
  const ys = list.map(of)
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length
  const my = ys.reduce((a, b) => a + b, 0) / ys.length
  let num = 0
  let den = 0
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i] - mx) * (ys[i] - my)
    den += (xs[i] - mx) ** 2
  }
  return den === 0 ? NaN : num / den
}

interface RssVerdict { ok: boolean, text: string, detail: string }

/**
 * Site RSS levelled off: over the sending phase cut in thirds (the first is warm-up), the
 * last third's median and its peak are each at most LEVEL_SHARE above the middle third's.
 * Medians, because a single sample taken just before a garbage collection says nothing about
 * the level; peaks too, because a process that keeps growing raises both. The last third's
 * least-squares slope is printed but not judged: over the few minutes of a third it follows
 * the GC's and LevelDB compaction's swings (±20 MB between samples) more than any trend, so a
 * slow leak needs a longer run (--minutes 30) to show. The anonymous and file-backed parts of
 * RSS (the latter mostly LevelDB's memory-mapped table files) are printed alongside.
 */
function rssVerdict (): RssVerdict {
  const send = samples.filter(s => s.phase === 'send')
  const middle = send.filter(s => s.t >= DURATION_MS / 3 && s.t < 2 * DURATION_MS / 3)
  const last = send.filter(s => s.t >= 2 * DURATION_MS / 3)
  if (middle.length < 2 || last.length < 2) return { ok: false, text: `too few samples (${middle.length} middle, ${last.length} last)`, detail: '' }
  const rss = (s: Sample): number => s.siteRss
  const mm = median(middle, rss)
  const ml = median(last, rss)
  const pm = peak(middle)
  const pl = peak(last)
  const sl = slope(last, rss)
  const ok = ml <= mm * (1 + LEVEL_SHARE) && pl <= pm * (1 + LEVEL_SHARE)
  const pct = (a: number, b: number): string => `${a >= b ? '+' : ''}${fmt((a / b - 1) * 100, 1)} %`
  const part = (name: string, of: (s: Sample) => number): string =>
    `${name} ${fmt(median(middle, of), 1)} → ${fmt(median(last, of), 1)} MB (${pct(median(last, of), median(middle, of))}, last third's slope ${fmt(slope(last, of), 2)} MB/min)`
  return {
    ok,
    text: `median ${fmt(mm, 1)} MB in the middle third, ${fmt(ml, 1)} MB in the last (${pct(ml, mm)}); peak ${fmt(pm, 1)} → ${fmt(pl, 1)} MB (${pct(pl, pm)}); ` +
      `limit +${LEVEL_SHARE * 100} % each (last third's slope, not judged: ${fmt(sl, 2)} MB/min)`,
    detail: `site RSS: first sample ${fmt(send[0]?.siteRss ?? NaN, 1)} MB; peak ${fmt(peak(middle), 1)} MB in the middle third, ${fmt(peak(last), 1)} MB in the last; ` +
      `medians middle → last: ${part('anonymous', s => s.siteAnon)}, ${part('file-backed', s => s.siteFile)}, ${part('V8 heap used', s => s.siteHeap)}, ${part('V8 heap committed', s => s.siteHeapTotal)}, ${part('external (Buffers)', s => s.siteExternal)}; ${send.length} samples every ${SAMPLE_MS / 1000} s`
  }
}

// ---------------------------------------------------------------- main

async function main (): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'tmtp-soak-'))
  root = dir
  const load = (): string => loadavg().map(l => l.toFixed(2)).join(' ')
  log(`seed ${SEED}; ${MINUTES} min at ${RATE} msg/s of ${BODY_BYTES} B; ${INITIAL} members + ${JOINS} joining, ${LEAVES} leaving, a disconnect every ~${DISCONNECT_EVERY_MS / 1000} s (offline ${OFFLINE_MS[0] / 1000}–${(OFFLINE_MS[1] / 1000).toFixed(0)} s); ${PROCESSES} member processes; ${cpus().length} cores, load ${load()}; data in ${dir}`)
  let site: NodeProcess | undefined
  const procs: NodeProcess[] = []
  try {
    site = await NodeProcess.start('site', { dataDir: join(dir, 'site'), name: 'Soak site', dht: false, stopGraceMs: 3_000 })
    procs.push(...await Promise.all(Array.from({ length: PROCESSES }, async (_, p) => await NodeProcess.start('members', { dataDir: join(dir, `members-${p}`), name: 'soak device', dht: false }))))
    const s = site
    // the first members, 8 at a time
    let started = 0
    await Promise.all(Array.from({ length: Math.min(8, INITIAL) }, async () => {
      while (started < INITIAL) {
        started++
        await addMember(s, procs)
      }
    }))
    log(`${counts.joins} members joined; sending for ${MINUTES} min`)
    counts.joins = 0

    const events = schedule(prng(SEED))
    t0 = Date.now()
    const stopAt = t0 + DURATION_MS
    const send = sender(s, () => Date.now() >= stopAt)
    const churning = churn(s, procs, events, () => Date.now() >= stopAt, send.current)
    process.stdout.write(COLUMNS.map((c, i) => c.padStart(i === 1 ? 5 : Math.min(14, c.length))).join('  ') + '\n')
    let lastRow = 0
    const maxSamples = Math.ceil(DURATION_MS / SAMPLE_MS) + 10
    for (let i = 1; i <= maxSamples && Date.now() < stopAt; i++) {
      await sleep(Math.max(0, Math.min(t0 + i * SAMPLE_MS, stopAt) - Date.now()))
      const x = await sample(s, procs, 'send').catch(() => undefined)
      if (x !== undefined && x.t - lastRow >= ROW_MS - SAMPLE_MS / 2) {
        lastRow = x.t
        await row(s, procs, 'send', x)
      }
    }
    await send.done
    await churning
    const sentRate = counts.sent / (DURATION_MS / 1000)
    log(`sending stopped: ${counts.sent} sent (${sentRate.toFixed(0)} msg/s of ${RATE} asked), ${counts.sendErrors} failed; bringing every member online`)

    // drain: every member online, wait for the outbox to empty
    const offline = members.filter(m => m.joined && !m.running)
    await Promise.allSettled(offline.map(async m => { await up(m).catch((err: unknown) => { churnErrors.push(`final reconnect ${m.ref}: ${String(err)}`) }) }))
    const drainEnd = Date.now() + DRAIN_MS
    let depth = NaN
    let drainedAt: number | undefined
    const drainStart = elapsed()
    for (let i = 0; i < DRAIN_MS / 1000 + 10 && Date.now() < drainEnd; i++) {
      depth = await outboxDepth(s).catch(() => NaN)
      if (depth === 0) {
        drainedAt = elapsed()
        break
      }
      if (elapsed() - lastRow >= ROW_MS) {
        lastRow = elapsed()
        await row(s, procs, 'drain')
      }
      await sleep(1_000)
    }
    depth = await row(s, procs, 'drain')
    log(drainedAt === undefined ? `outbox NOT drained after ${DRAIN_MS / 1000} s: ${depth} queued` : `outbox drained in ${((drainedAt - drainStart) / 1000).toFixed(1)} s`)

    // verify: every message sent to a member that is still a member, exactly once in its inbox
    const verify: HostCheck = { members: 0, lost: 0, duplicated: 0, unexpected: 0, received: 0, extraEvents: 0, lostSamples: [] }
    const expectedTotal = members.filter(m => m.joined).reduce((a, m) => a + m.sent.length, 0)
    const unverified: string[] = []
    for (const p of procs) {
      const mine = members.filter(m => m.joined && m.proc === p)
      for (const m of mine) if (!m.running) unverified.push(m.ref)
      const expected = Object.fromEntries(mine.filter(m => m.running).map(m => [m.ref, m.sent]))
      const r = await p.call('check', { expected }, 120_000)
      verify.members += r.members
      verify.lost += r.lost
      verify.duplicated += r.duplicated
      verify.unexpected += r.unexpected
      verify.received += r.received
      verify.extraEvents += r.extraEvents
      verify.lostSamples.push(...r.lostSamples)
    }
    const leftSent = members.filter(m => m.left).reduce((a, m) => a + m.sent.length, 0)
    // the site's side: one final status per message (each has one device), one 'delivered' event per delivered status
    const final = await s.call('stats', {}, REQUEST_MS)
    const deliveredEvents = (await s.call('delivered', {}, REQUEST_MS)).delivered
    const statuses = Object.values(final.states).reduce((a, b) => a + b, 0)
    const extraEvents = deliveredEvents - (final.states.delivered ?? 0)

    const rss = rssVerdict()
    const siteBytes = await folderSize(join(dir, 'site'))
    const table: Table = { columns: COLUMNS, rows }
    process.stdout.write(`\n${renderTable(table)}\n\n`)
    const checks: Array<[string, boolean, string]> = [
      ['site RSS levelled off', rss.ok, rss.text],
      ['outbox drained to 0', depth === 0, drainedAt === undefined ? `${depth} still queued after ${DRAIN_MS / 1000} s` : `in ${((drainedAt - drainStart) / 1000).toFixed(1)} s once every member was back online`],
      ['lost 0', verify.lost === 0 && unverified.length === 0, `${verify.lost} of ${expectedTotal} missing from ${verify.members} inboxes${unverified.length > 0 ? `; ${unverified.length} members could not be brought back to check: ${unverified.slice(0, 5).join(', ')}` : ''}${verify.lostSamples.length > 0 ? ` (e.g. ${verify.lostSamples.slice(0, 5).join(', ')})` : ''}`],
      ['duplicated 0', verify.duplicated === 0 && verify.extraEvents === 0 && verify.unexpected === 0, `${verify.duplicated} extra copies in inboxes, ${verify.extraEvents} extra message events, ${verify.unexpected} messages not sent to that member`],
      ['site: one delivered event per delivered message', extraEvents === 0 && statuses === counts.sent,
        `${deliveredEvents} 'delivered' events for ${final.states.delivered} delivered statuses (${extraEvents} extra); statuses ${Object.entries(final.states).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ')} = ${statuses} for ${counts.sent} sent`],
      ['sends 0 failed', counts.sendErrors === 0, `${counts.sent} sent, ${counts.sendErrors} in failed send requests`]
    ]
    const ok = checks.every(c => c[1])
    const last = samples[samples.length - 1]
    process.stdout.write([
      `seed ${SEED}; ${MINUTES} min; asked ${RATE} msg/s, sent ${fmt(sentRate, 0)} msg/s (${counts.sent} messages, ${(counts.lateMs / 1000).toFixed(1)} s of sender ticks late)`,
      `members: ${INITIAL} at the start, ${counts.joins} joined during the run, ${counts.leaves} left (${leftSent} messages had been sent to them: not checked), ${counts.downs} disconnects, ${counts.ups} reconnects, ${members.filter(m => m.joined).length} members at the end over ${PROCESSES} processes (RSS ${last?.membersRss.map(v => fmt(v, 0)).join(' + ')} MB)`,
      `received ${verify.received} messages in ${verify.members} inboxes; churn errors: ${churnErrors.length}${churnErrors.length > 0 ? '\n  ' + churnErrors.slice(0, 10).join('\n  ') : ''}`,
      rss.detail,
      `site data folder at the end: ${fmt(mb(siteBytes), 0)} MB`,
      `load average at the end: ${load()} (${cpus().length} cores, shared with other work on this machine)`,
      '',
      ...checks.map(([what, pass, detail]) => `${pass ? 'PASS' : 'FAIL'}  ${what}: ${detail}`),
      '',
      `VERDICT: ${ok ? 'PASS' : 'FAIL'}`,
      ''
    ].join('\n'))
    return ok ? 0 : 1
  } finally {
    await Promise.allSettled([site?.stop(), ...procs.map(async p => { await p.stop(20_000) })])
    IpcChild.killAll()
    if (values.keep) log(`data kept in ${dir}`)
    else await rm(dir, { recursive: true, force: true }).catch(() => {})
    root = undefined
  }
}

// Ctrl-C: kill every child at once (SIGKILL), remove the data folder unless --keep, exit
const interrupt = (code: number): void => {
  IpcChild.killAll()
  if (root !== undefined && !values.keep) rmSync(root, { recursive: true, force: true })
  log(`interrupted${root !== undefined && values.keep ? `; data kept in ${root}` : ''}`)
  process.exit(code)
}

process.on('SIGINT', () => { interrupt(130) })
process.on('SIGTERM', () => { interrupt(143) })

main().then(code => { process.exitCode = code }, err => {
  IpcChild.killAll()
  log(`soak failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  process.exitCode = 1
})
