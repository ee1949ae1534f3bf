/**
 * The Mosquitto peer: a Mosquitto broker (Debian's `mosquitto` package; the bench installs
 * nothing) on a free 127.0.0.1 port with persistence on, driven by mqtt.js clients in their
 * own processes with QoS 1 and persistent sessions. When the broker is not installed the peer
 * is skipped and the workloads say how to install it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { delimiter, join } from 'node:path'
import { BODY_BYTES, freePort, left, rate, type BenchContext } from './common.js'
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
    const end = Date.now() + timeoutMs
    while (Date.now() < end) {
      const ok = await new Promise<boolean>(resolve => {
        const socket = connect(this.port, '127.0.0.1')
        socket.once('connect', () => { socket.destroy(); resolve(true) })
        socket.once('error', () => { resolve(false) })
      })
      if (ok) return
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    throw new Error(`mosquitto did not listen on ${this.port} within ${timeoutMs} ms`)
  }

  async rss (): Promise<number> {
    const { readFile } = await import('node:fs/promises')
    const status = await readFile(`/proc/${this.child.pid}/status`, 'utf8').catch(() => '')
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN)
    return kb * 1024
  }

  async kill (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise(resolve => this.child.once('exit', resolve))
    this.child.kill(signal)
    await Promise.race([exited, new Promise(resolve => setTimeout(resolve, 5_000))])
  }

  /** Starts the broker again on the same port and persistence folder. */
  async restart (): Promise<void> {
    this.child = Broker.spawn(this.bin, this.conf)
    await this.ready()
  }
}

export interface PeerThroughput { count: number, elapsedMs: number, perSec: number, duplicates: number, received: number }

/** W1's peer: 1 publisher → 1 subscriber with a persistent session, QoS 1. */
export async function mosquittoOnline (ctx: BenchContext, bin: string, count: number): Promise<PeerThroughput> {
  const broker = await Broker.start(bin, join(ctx.dir, 'mosquitto-w1'))
  let sub: Worker | undefined
  let pub: Worker | undefined
  try {
    sub = await Worker.start('mqtt')
    pub = await Worker.start('mqtt')
    const ids = ['m0']
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
  } finally {
    await Promise.all([sub?.stop(), pub?.stop()])
    await broker.kill('SIGTERM')
  }
}

export interface PeerStoreForward { members: number, messages: number, elapsedMs: number, perSec: number, received: number, duplicates: number, lost: number, queueMs: number }

/**
 * W3's (and with crash, W4's) peer: `members` persistent sessions subscribed, then
 * disconnected, `perMember` messages each published at QoS 1, then (after a SIGKILL and
 * restart of the broker with crash) every session reconnects; from the start of reconnecting
 * to the last message received.
 */
export async function mosquittoStoreForward (ctx: BenchContext, bin: string, opts: { members: number, perMember: number, crash: boolean }): Promise<PeerStoreForward> {
  const broker = await Broker.start(bin, join(ctx.dir, opts.crash ? 'mosquitto-w4' : 'mosquitto-w3'))
  let sub: Worker | undefined
  let pub: Worker | undefined
  try {
    sub = await Worker.start('mqtt')
    pub = await Worker.start('mqtt')
    const ids = Array.from({ length: opts.members }, (_, i) => `m${i}`)
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
  } finally {
    await Promise.all([sub?.stop(), pub?.stop()])
    await broker.kill('SIGTERM')
  }
}
