/**
 * The Mosquitto peer: a Mosquitto broker (Debian's `mosquitto` package; the bench installs
 * nothing) on a free 127.0.0.1 port with persistence on, driven by mqtt.js clients in their
 * own processes with QoS 1 and persistent sessions. When the broker is not installed the peer
 * is skipped and the workloads say how to install it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { delimiter, join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { waitFor } from '../../src/cli/time.js'
import { BODY_BYTES, freePort, left, mb, rate, stopAll, type BenchContext } from './common.js'
import { Worker } from './ipc.js'

export const INSTALL_HINT = 'Mosquitto peer skipped: mosquitto is not installed (Debian/Ubuntu: sudo apt-get install mosquitto; or put mosquitto on the PATH)'

/** The mosquitto binary, or undefined when it is not installed. */
export function findMosquitto (): string | undefined {
  // MOSQUITTO=/path/to/mosquitto picks a binary (and a path that does not exist skips the peer)
  const chosen = process.env.MOSQUITTO
  if (chosen !== undefined && chosen !== '') {
    try {
      accessSync(chosen, constants.X_OK)
      return chosen
    } catch {
      return undefined
    }
  }
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin']
  for (const dir of dirs) {
    if (dir === '') continue
    const path = join(dir, 'mosquitto')
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {}
  }
  return undefined
}

export class Broker {
  readonly url: string
  private child: ChildProcess
  private readonly bin: string
  private readonly conf: string
  private readonly port: number

  private constructor (bin: string, conf: string, port: number, child: ChildProcess) {
    this.bin = bin
    this.conf = conf
    this.port = port
    this.child = child
    this.url = `mqtt://127.0.0.1:${port}`
  }

  static async start (bin: string, dir: string): Promise<Broker> {
    await mkdir(dir, { recursive: true })
    const port = await freePort()
    const conf = join(dir, 'mosquitto.conf')
    await writeFile(conf, [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      // no caps on queues or in-flight messages: every message must arrive
      'max_queued_messages 0',
      'max_queued_bytes 0',
      'max_inflight_messages 0',
      'log_dest none',
      ''
    ].join('\n'))
    const broker = new Broker(bin, conf, port, Broker.spawn(bin, conf))
    await broker.ready()
    return broker
  }

  private static spawn (bin: string, conf: string): ChildProcess {
    return spawn(bin, ['-c', conf], { stdio: 'ignore' })
  }

  private async ready (timeoutMs = 10_000): Promise<void> {
    await waitFor(`mosquitto to listen on ${this.port}`, async () => await new Promise<boolean>(resolve => {
      const socket = connect(this.port, '127.0.0.1')
      socket.once('connect', () => { socket.destroy(); resolve(true) })
      socket.once('error', () => { resolve(false) })
    }), timeoutMs, 50)
  }

  /** The broker's resident set (VmRSS) in bytes. */
  async rss (): Promise<number> {
    const status = await readFile(`/proc/${this.child.pid}/status`, 'utf8').catch(() => '')
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN)
    return kb * 1024
  }

  async kill (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise(resolve => this.child.once('exit', resolve))
    this.child.kill(signal)
    await Promise.race([exited, delay(5_000)])
  }

  /** Starts the broker again on the same port and persistence folder. */
  async restart (): Promise<void> {
    this.child = Broker.spawn(this.bin, this.conf)
    await this.ready()
  }
}

/**
 * Runs a workload's peer with the broker's binary, unless `--no-peer` or the broker is not
 * installed: then the note that says so (for the workload's notes) instead.
 */
export async function runPeer<T> (ctx: BenchContext, fn: (bin: string) => Promise<T>): Promise<T | string> {
  if (!ctx.peer) return 'Mosquitto peer not run (--no-peer)'
  const bin = findMosquitto()
  return bin === undefined ? INSTALL_HINT : await fn(bin)
}

/** A broker (persistence in `ctx.dir/name`) and the mqtt.js processes `client()` starts, all stopped afterwards. */
async function withBroker<T> (ctx: BenchContext, bin: string, name: string, fn: (broker: Broker, client: () => Promise<Worker>) => Promise<T>): Promise<T> {
  const broker = await Broker.start(bin, join(ctx.dir, name))
  const workers: Worker[] = []
  try {
    return await fn(broker, async () => {
      const w = await Worker.start('mqtt')
      workers.push(w)
      return w
    })
  } finally {
    await stopAll(workers)
    await broker.kill('SIGTERM')
  }
}

/** Session ids as TMTP's member refs: `m${i}`; session `m${i}` subscribes to topic `t/m${i}`. */
function sessionIds (count: number): string[] {
  return Array.from({ length: count }, (_, i) => `m${i}`)
}

/**
 * Subscriber sessions per mqtt.js process: all of them in one, as W3/W4 have it. mqtt.js
 * sessions are light, unlike TMTP's member nodes (each its own libp2p node and LevelDB, 100 per
 * process); on this 2-core machine more processes measured no faster (W2: 1, 2 and 10
 * processes all between ~4,000 and ~12,000 msg/s run to run) and each costs ~1 s of CPU to start.
 */
export const SESSIONS_PER_PROCESS = 1000

interface Subscribers { worker: Worker, ids: string[] }

/** `ids`' persistent sessions connected and subscribed (each to its own topic, and to `shared` if given), SESSIONS_PER_PROCESS to an mqtt.js process. */
async function subscribeAll (ctx: BenchContext, broker: Broker, client: () => Promise<Worker>, ids: string[], shared?: string): Promise<Subscribers[]> {
  const per = SESSIONS_PER_PROCESS
  const slices = Array.from({ length: Math.ceil(ids.length / per) }, (_, p) => ids.slice(p * per, (p + 1) * per))
  return await Promise.all(slices.map(async slice => {
    const worker = await client()
    await worker.request('subscribe', { url: broker.url, ids: slice, shared }, left(ctx))
    return { worker, ids: slice }
  }))
}

export interface PeerThroughput { count: number, elapsedMs: number, perSec: number, duplicates: number, received: number }

/** W1's peer: 1 publisher → 1 subscriber with a persistent session, QoS 1. */
export async function mosquittoOnline (ctx: BenchContext, bin: string, count: number): Promise<PeerThroughput> {
  return await withBroker(ctx, bin, 'mosquitto-w1', async (broker, client) => {
    const [sub, pub] = await Promise.all([client(), client()])
    const ids = sessionIds(1)
    await sub.request('subscribe', { url: broker.url, ids }, left(ctx))
    // warm-up
    await pub.request('publish', { url: broker.url, ids, perTopic: 500, bodyBytes: BODY_BYTES, inflight: 256, timeoutMs: left(ctx) }, left(ctx))
    await sub.request('waitReceived', { count: 500, timeoutMs: left(ctx) }, left(ctx))
    await sub.request('reset', {})
    ctx.progress(`  mosquitto: ${count} messages`)
    const p = await pub.request<{ startAt: number }>('publish', { url: broker.url, ids, perTopic: count, bodyBytes: BODY_BYTES, inflight: 256, timeoutMs: left(ctx) }, left(ctx))
    const r = await sub.request<{ received: number, duplicates: number, lastAt: number }>('waitReceived', { count, timeoutMs: left(ctx) }, left(ctx))
    const elapsedMs = r.lastAt - p.startAt
    return { count, elapsedMs, perSec: rate(count, elapsedMs), duplicates: r.duplicates, received: r.received }
  })
}

export interface FanoutRun { rounds: number, messages: number, elapsedMs: number, perSec: number, roundsMs: number[], duplicates: number }
export interface PeerFanout { members: number, processes: number, perMember: FanoutRun, shared: FanoutRun }

/**
 * W2's peer: `members` persistent sessions (SESSIONS_PER_PROCESS to an mqtt.js process), each
 * subscribed at QoS 1 to its own topic and to one topic they all share. `perMember`: per round
 * one publisher publishes one message to every member's own topic (as TMTP seals one envelope
 * per member), 256 unacknowledged at most. `shared`, for reference: per round one message to
 * the shared topic, which the broker fans out. A round is timed from its first publish to the
 * later of the last message received and the last PUBACK; each series after a warm-up round.
 */
export async function mosquittoFanout (ctx: BenchContext, bin: string, opts: { members: number, rounds: number }): Promise<PeerFanout> {
  return await withBroker(ctx, bin, 'mosquitto-w2', async (broker, client) => {
    const ids = sessionIds(opts.members)
    const [pub, subs] = await Promise.all([client(), subscribeAll(ctx, broker, client, ids, 'all')])
    let rounds = 0
    // every session receives body number n on a topic in that topic's round n
    const round = async (topics: string[], n: number): Promise<{ ms: number, duplicates: number }> => {
      rounds++
      const p = await pub.request<{ startAt: number, publishedAt: number }>('publish', { url: broker.url, ids: topics, perTopic: 1, base: n, bodyBytes: BODY_BYTES, inflight: 256, timeoutMs: left(ctx) }, left(ctx))
      const got = await Promise.all(subs.map(async s => await s.worker.request<{ lastAt: number, duplicates: number }>('waitReceived', { count: s.ids.length * rounds, timeoutMs: left(ctx) }, left(ctx))))
      return { ms: Math.max(p.publishedAt, ...got.map(g => g.lastAt)) - p.startAt, duplicates: got.reduce((a, g) => a + g.duplicates, 0) }
    }
    const series = async (topics: string[], label: string): Promise<FanoutRun> => {
      await round(topics, 0)
      const roundsMs: number[] = []
      let duplicates = 0
      for (let n = 1; n <= opts.rounds && Date.now() < ctx.deadline; n++) {
        const r = await round(topics, n)
        roundsMs.push(r.ms)
        duplicates = r.duplicates
      }
      const elapsedMs = roundsMs.reduce((a, ms) => a + ms, 0)
      const messages = opts.members * roundsMs.length
      ctx.progress(`  mosquitto, ${label}: ${messages} messages in ${roundsMs.length} rounds, ${(elapsedMs / 1000).toFixed(2)} s`)
      return { rounds: roundsMs.length, messages, elapsedMs, perSec: rate(messages, elapsedMs), roundsMs, duplicates }
    }
    const perMember = await series(ids, 'a topic per member')
    const shared = await series(['all'], 'one shared topic')
    return { members: opts.members, processes: subs.length, perMember, shared }
  })
}

export interface PeerStoreForward { members: number, messages: number, elapsedMs: number, perSec: number, received: number, duplicates: number, lost: number, queueMs: number }

/**
 * W3's (and with crash, W4's) peer: `members` persistent sessions subscribed, then
 * disconnected, `perMember` messages each published at QoS 1, then (after a SIGKILL and
 * restart of the broker with crash) every session reconnects; from the start of reconnecting
 * to the last message received.
 */
export async function mosquittoStoreForward (ctx: BenchContext, bin: string, opts: { members: number, perMember: number, crash: boolean }): Promise<PeerStoreForward> {
  return await withBroker(ctx, bin, opts.crash ? 'mosquitto-w4' : 'mosquitto-w3', async (broker, client) => {
    const [sub, pub] = await Promise.all([client(), client()])
    const ids = sessionIds(opts.members)
    await sub.request('subscribe', { url: broker.url, ids }, left(ctx))
    await sub.request('disconnect', {}, left(ctx))
    const total = opts.members * opts.perMember
    const p = await pub.request<{ startAt: number, publishedAt: number }>('publish', { url: broker.url, ids, perTopic: opts.perMember, bodyBytes: BODY_BYTES, inflight: 256, timeoutMs: left(ctx) }, left(ctx))
    await pub.stop()
    if (opts.crash) {
      ctx.progress('  mosquitto: SIGKILL the broker')
      await broker.kill('SIGKILL')
      await broker.restart()
    }
    const { startAt } = await sub.request<{ startAt: number }>('reconnect', { url: broker.url, ids }, left(ctx))
    // with a crash nothing may come: wait a bounded while, then count what did
    const waitMs = opts.crash ? Math.min(10_000, left(ctx) - 10_000) : Math.max(1_000, left(ctx) - 10_000)
    await sub.request('waitReceived', { count: total, timeoutMs: waitMs }, waitMs + 5_000).catch(() => {})
    const c = await sub.request<{ received: number, duplicates: number, lastAt: number, distinct: number }>('counts', {})
    const elapsedMs = c.lastAt > 0 ? c.lastAt - startAt : NaN
    return { members: opts.members, messages: total, elapsedMs, perSec: rate(c.distinct, elapsedMs), received: c.received, duplicates: c.duplicates, lost: total - c.distinct, queueMs: p.publishedAt - p.startAt }
  })
}

export interface PeerMemory {
  /** The broker's RSS with no client, and with `connected` of `members` sessions connected and subscribed. */
  idleRss: number
  connectedRss: number
  members: number
  connected: number
  processes: number
  /** The broker's RSS (bytes) with `queued` messages queued for one offline session. */
  backlog: Array<{ queued: number, rss: number }>
}

/**
 * W6's peer, on one broker. Connected: the broker's VmRSS with no client, then with `members`
 * persistent sessions connected and subscribed (SESSIONS_PER_PROCESS to an mqtt.js process).
 * Backlog: those sessions disconnect (they stay at the broker), then `backlog` QoS 1 messages
 * are published to the first session's topic in `steps` equal steps, the broker's VmRSS
 * after each.
 */
export async function mosquittoMemory (ctx: BenchContext, bin: string, opts: { backlog: number, steps: number, members: number }): Promise<PeerMemory> {
  return await withBroker(ctx, bin, 'mosquitto-w6', async (broker, client) => {
    const pubStarted = client()
    await delay(500)
    const idleRss = await broker.rss()
    const ids = sessionIds(opts.members)
    const subs = await subscribeAll(ctx, broker, client, ids)
    // every session is connected and subscribed (SUBACKed) by now
    await delay(500)
    const connectedRss = await broker.rss()
    const counts = await Promise.all(subs.map(async s => await s.worker.request<{ connected: number }>('counts', {})))
    const connected = counts.reduce((a, c) => a + c.connected, 0)
    ctx.progress(`  mosquitto: ${connected} sessions connected, broker RSS ${mb(connectedRss).toFixed(1)} MB`)

    await Promise.all(subs.map(async s => await s.worker.request('disconnect', {}, left(ctx))))
    const pub = await pubStarted
    await delay(500)
    const backlog = [{ queued: 0, rss: await broker.rss() }]
    let queued = 0
    for (let step = 1; step <= opts.steps && Date.now() < ctx.deadline - 60_000; step++) {
      const n = Math.round(opts.backlog / opts.steps)
      await pub.request('publish', { url: broker.url, ids: ids.slice(0, 1), perTopic: n, base: queued, bodyBytes: BODY_BYTES, inflight: 256, timeoutMs: left(ctx) }, left(ctx))
      queued += n
      backlog.push({ queued, rss: await broker.rss() })
      ctx.progress(`  mosquitto: ${queued} queued, broker RSS ${mb(backlog[backlog.length - 1].rss).toFixed(1)} MB`)
    }
    return { idleRss, connectedRss, members: opts.members, connected, processes: subs.length, backlog }
  })
}
