/**
 * The child program that hosts TMTP nodes for the tests and scripts (node-process.ts drives
 * it over IPC; its commands and their types are there):
 *
 *   node build/scripts/lib/node-host.js <site|member|members> '<HostOptions as JSON>'
 *
 * `site` is one site node, `member` one member device, `members` many member devices, each
 * its own libp2p node, keys and LevelDB in `<dataDir>/<ref>`, that come and go by command.
 * It runs compiled (npm run build:harness) on plain Node.js and imports the node library by
 * its package name, so that it runs what a site backend runs: dist/. It exits when its parent
 * goes away. Every wait here is bounded by a deadline.
 */
import { join } from 'node:path'
import type { PeerId } from '@libp2p/interface'
import { setTimeout as delay } from 'node:timers/promises'
import { createMemberNode, createSiteNode, LIMIT_RANGES, type MemberNode, type SiteNode } from 'tmtp'
import { checkInbox } from '../../src/cli/exactly-once.js'
import { concurrently, now, waitFor, withTimeout } from '../../src/cli/time.js'
import { serveIpc, type IpcHandlers } from './ipc-child.js'
import { summarizeLatencies } from './latency.js'
import type { BroadcastSettled, Delivered, HostCheck, HostCommand, HostCommands, HostOptions, HostReady, HostRole, PeersSnapshot, SendArgs, SendOutcome, Sent } from './node-process.js'

type Handlers = { [C in HostCommand]?: (args: HostCommands[C]['args']) => Promise<HostCommands[C]['result']> }

/** Member nodes created at once (first start, keys made), and started, stopped or checked at once. */
const ADD_PARALLEL = 8
const PARALLEL = 16
/** How long the nodes may take to stop when the parent went away, before the process exits anyway. */
const PARENT_GONE_MS = 5_000
/** How often waits for acknowledgements or messages check. */
const POLL_MS = 5

function body (bytes: number, k: number): string {
  const head = `message ${k} `
  return head + 'x'.repeat(Math.max(0, bytes - head.length))
}

/** The handlers of a process that runs one node (site, member). */
function nodeHandlers (node: () => SiteNode | MemberNode): Handlers {
  return {
    storageFailure: async () => node().storageFailure() ?? null,
    abortConnections: async () => {
      const connections = node().libp2p.getConnections()
      for (const connection of connections) connection.abort(new Error('fault injection: connection cut'))
      return connections.length
    },
    connections: async () => node().libp2p.getConnections().length
  }
}

/** The process's CPU time so far, all threads, µs. */
function cpuTime (): number {
  const c = process.cpuUsage()
  return c.user + c.system
}

function siteHandlers (site: SiteNode): Handlers {
  const delivered: Delivered = { delivered: 0, firstAt: 0, lastAt: 0 }
  /** Broadcasts whose every copy settled, taken in the event itself. */
  const settled = new Map<string, BroadcastSettled>()
  site.addEventListener('broadcast', event => {
    settled.set(event.detail.id, { at: now(), cpu: cpuTime(), counts: event.detail.counts })
  })
  /** W5: send times by message id, acknowledgements that came before send() returned, and the latencies. */
  const started = new Map<string, number>()
  const early = new Map<string, number>()
  let latencies: number[] | undefined
  site.addEventListener('delivery', event => {
    if (event.detail.type !== 'delivered') return
    const t = now()
    delivered.delivered++
    if (delivered.firstAt === 0) delivered.firstAt = t
    delivered.lastAt = t
    if (latencies === undefined) return
    const s = started.get(event.detail.id)
    if (s === undefined) {
      early.set(event.detail.id, t)
      return
    }
    latencies.push(t - s)
    started.delete(event.detail.id)
  })
  const acknowledged = async (count: number, timeoutMs: number): Promise<Delivered> => {
    await waitFor(() => `${count} acknowledgements (${delivered.delivered} so far)`, () => delivered.delivered >= count, timeoutMs, POLL_MS)
    return { ...delivered }
  }

  const send = async (args: SendArgs): Promise<Sent> => {
    const total = args.to.length * args.perRecipient
    const ids = args.ids === true ? new Array<string>(total) : undefined
    const timeoutMs = args.timeoutMs ?? 60_000
    const end = Date.now() + timeoutMs
    const startAt = now()
    await withTimeout(concurrently(total, args.concurrency, async i => {
      // round robin: message i goes to recipient i % n, as its (i / n)-th
      const k = Math.floor(i / args.to.length)
      const { id } = await site.send({ to: [args.to[i % args.to.length]], subject: `${args.prefix}${k}`, body: body(args.bodyBytes ?? 0, k) })
      if (ids !== undefined) ids[i] = id
    }, () => Date.now() >= end), timeoutMs, () => `send: not done after ${timeoutMs} ms`)
    return { sent: total, startAt, queuedAt: now(), ids }
  }

  /** Device copies of these messages by state; with `unknownToo`, a message the site does not know is `unknown` instead of an error. */
  const countStates = async (ids: string[], unknownToo: boolean): Promise<Record<string, number>> => {
    const counts: Record<string, number> = {}
    for (const id of ids) {
      let states: string[]
      try {
        states = (await site.message(id)).devices.map(d => d.state)
      } catch (err) {
        if (!unknownToo || (err as { code?: string }).code !== 'UNKNOWN_MESSAGE') throw err
        states = ['unknown']
      }
      for (const state of states) counts[state] = (counts[state] ?? 0) + 1
    }
    return counts
  }

  return {
    invite: async ({ refs }) => {
      const tokens: string[] = []
      for (const ref of refs) tokens.push((await site.createInvite({ ref })).token)
      return tokens
    },
    send,
    sendEach: async ({ to, subjects, concurrency }) => {
      const outcomes = new Array<SendOutcome>(subjects.length)
      await concurrently(subjects.length, concurrency, async i => {
        const subject = subjects[i]
        try {
          outcomes[i] = { subject, id: (await site.send({ to: [to], subject, body: subject })).id }
        } catch (err) {
          outcomes[i] = { subject, code: (err as { code?: string }).code ?? 'UNKNOWN' }
        }
      })
      return outcomes
    },
    throughput: async args => {
      Object.assign(delivered, { delivered: 0, firstAt: 0, lastAt: 0 })
      const sent = await send(args)
      const acks = await acknowledged(sent.sent, args.timeoutMs)
      return { ...sent, ...acks, elapsedMs: acks.lastAt - sent.startAt }
    },
    latency: async args => {
      const measured: number[] = latencies = []
      started.clear()
      early.clear()
      let failed = 0
      let next = 0
      let late = 0
      const sentAt = new Array<number>(args.count)
      const t0 = now()
      const interval = 1000 / args.rate
      const end = Date.now() + args.timeoutMs
      while (next < args.count && Date.now() < end) {
        const t = now()
        while (next < args.count && t0 + next * interval <= t) {
          const i = next++
          if (t - (t0 + i * interval) > 5) late++
          const s = sentAt[i] = now()
          site.send({ to: [args.to[i % args.to.length]], subject: `w5-${i}`, body: body(args.bodyBytes, i) }).then(result => {
            const at = early.get(result.id)
            if (at === undefined) {
              started.set(result.id, s)
              return
            }
            measured.push(at - s)
            early.delete(result.id)
          }, () => { failed++ })
        }
        await delay(Math.max(0, t0 + next * interval - now()))
      }
      await waitFor(() => `${next} acknowledgements (${measured.length} so far)`, () => measured.length + failed >= next, Math.max(1000, end - Date.now()), POLL_MS)
      latencies = undefined
      return {
        sent: next,
        acknowledged: measured.length,
        failed,
        lateTicks: late,
        durationMs: now() - t0,
        sentAt: sentAt.slice(0, next),
        ...summarizeLatencies(measured)
      }
    },
    broadcast: async ({ subject, bodyBytes, report }) => {
      const cpuAtStart = cpuTime()
      const startAt = now()
      const sent = await site.send({ all: true, subject, body: body(bodyBytes, 0), report })
      return { id: sent.id, devices: sent.devices, fanout: sent.fanout, startAt, acceptedAt: now(), cpuAtStart }
    },
    waitBroadcast: async ({ id, timeoutMs }) => await waitFor(() => `every copy of ${id} settled`, () => settled.get(id), timeoutMs, POLL_MS),
    counts: async ({ id }) => {
      const status = await site.message(id, { limit: 1 })
      return { total: status.total, counts: status.counts }
    },
    waitDelivered: async ({ count, timeoutMs }) => await acknowledged(count, timeoutMs),
    delivered: async () => ({ ...delivered }),
    stats: async () => await site.stats(),
    states: async ({ ids }) => await countStates(ids, false),
    locate: async ({ ids }) => await countStates(ids, true),
    watchPeers: async ({ count, timeoutMs }) => {
      const seen = new Set(site.libp2p.getPeers().map(p => p.toString()))
      let snapshot: PeersSnapshot | undefined
      const take = (complete: boolean): PeersSnapshot => ({ complete, peers: seen.size, at: now(), cpu: cpuTime(), delivered: delivered.delivered })
      // the snapshot is taken in the event itself: the moment the last peer connected
      const onConnect = (event: CustomEvent<PeerId>): void => {
        seen.add(event.detail.toString())
        if (snapshot === undefined && seen.size >= count) snapshot = take(true)
      }
      if (seen.size >= count) return take(true)
      site.libp2p.addEventListener('peer:connect', onConnect)
      try {
        return await waitFor(() => `${count} peers`, () => snapshot, timeoutMs, POLL_MS).catch(() => take(false))
      } finally {
        site.libp2p.removeEventListener('peer:connect', onConnect)
      }
    }
  }
}

/** A member device this process hosts, across its restarts. */
interface Hosted {
  ref: string
  dir: string
  node?: MemberNode
  /** Inbox ids: those stored when it first started here, then each new one. */
  seen: Set<string>
  /** 'message' events since it first started here. */
  events: number
  started: boolean
}

/** The member devices of a `member` or `members` process, by reference ('' for the one of `member`). */
class Members {
  private readonly hosted = new Map<string, Hosted>()
  private readonly opts: HostOptions
  /** Arrival times being recorded (watchArrivals). */
  private watched?: { prefix: string, arrivals: Array<[number, number]> }

  constructor (opts: HostOptions) {
    this.opts = opts
  }

  get running (): number {
    return [...this.hosted.values()].filter(m => m.node !== undefined).length
  }

  /** The member `ref`; without one, the only member of the process. */
  get (ref?: string): Hosted {
    const m = ref === undefined && this.hosted.size === 1 ? [...this.hosted.values()][0] : this.hosted.get(ref ?? '')
    if (m === undefined) throw new Error(ref === undefined ? 'name the member (ref): this process hosts several' : `no member ${JSON.stringify(ref)} in this process`)
    return m
  }

  node (ref?: string): MemberNode {
    const m = this.get(ref)
    if (m.node === undefined) throw new Error(`member ${JSON.stringify(m.ref)} is not running`)
    return m.node
  }

  select (refs?: string[]): Hosted[] {
    return refs === undefined ? [...this.hosted.values()] : refs.map(ref => this.get(ref))
  }

  async add (ref: string, dir: string): Promise<MemberNode> {
    if (this.hosted.has(ref)) throw new Error(`member ${JSON.stringify(ref)} exists`)
    const m: Hosted = { ref, dir, seen: new Set(), events: 0, started: false }
    this.hosted.set(ref, m)
    return await this.start(m)
  }

  async start (m: Hosted): Promise<MemberNode> {
    if (m.node !== undefined) throw new Error(`member ${JSON.stringify(m.ref)} is already running`)
    const node = await createMemberNode({ dataDir: m.dir, deviceName: this.opts.name ?? 'harness device', listen: this.opts.listen === undefined ? undefined : [this.opts.listen], fsync: this.opts.fsync, dht: this.opts.dht, ackDelayMs: this.opts.ackDelayMs })
    node.addEventListener('message', event => {
      m.events++
      m.seen.add(event.detail.id)
      if (this.watched !== undefined && event.detail.subject.startsWith(this.watched.prefix)) this.watched.arrivals.push([Number(event.detail.subject.slice(this.watched.prefix.length)), now()])
    })
    m.node = node
    if (!m.started) {
      for (const message of await node.inbox()) m.seen.add(message.id)
      m.started = true
    }
    return node
  }

  /** Stops a member's node; its data folder stays (the next start opens the same LevelDB, so it must be closed, not abandoned). */
  async stop (m: Hosted): Promise<void> {
    const node = m.node
    if (node === undefined) return
    m.node = undefined
    const ms = this.opts.stopGraceMs ?? 15_000
    await withTimeout(node.stop(), ms, () => `stopping member ${m.ref}: not done after ${ms} ms`)
  }

  received (): number {
    let n = 0
    for (const m of this.hosted.values()) n += m.seen.size
    return n
  }

  /** One member's inbox against the subjects sent to it. */
  async check (ref: string, subjects: string[], missing = false): Promise<HostCheck> {
    const m = this.get(ref)
    const inbox = await this.node(ref).inbox()
    const c = checkInbox(inbox, subjects.map(subject => ({ subject })))
    const lost = c.lost.map(s => `${ref}:${s}`)
    return { members: 1, received: c.received, lost: c.lost.length, duplicated: c.extraCopies, unexpected: c.unexpected.length, extraEvents: Math.max(0, m.events - c.received), lostSamples: lost.slice(0, 5), missing: missing ? lost : undefined }
  }

  handlers (role: HostRole): Handlers {
    return {
      ...(role === 'members'
        ? {
            add: async ({ refs }) => {
              const peers = new Array<string>(refs.length)
              await concurrently(refs.length, ADD_PARALLEL, async i => { peers[i] = (await this.add(refs[i], join(this.opts.dataDir, refs[i]))).peerId })
              return peers
            }
          }
        : {}),
      join: async ({ token, ref }) => {
        const joined = await this.node(ref).join(token)
        return { site: joined.site, member: joined.member }
      },
      down: async ({ refs }) => {
        const list = this.select(refs)
        await concurrently(list.length, PARALLEL, async i => { await this.stop(list[i]) })
        return null
      },
      up: async ({ refs }) => {
        const list = refs === undefined ? this.select().filter(m => m.node === undefined) : this.select(refs)
        const startAt = now()
        await concurrently(list.length, PARALLEL, async i => { await this.start(list[i]) })
        return { startAt, startedAt: now() }
      },
      leave: async ({ site, ref }) => {
        const result = await this.node(ref).leave(site)
        await this.stop(this.get(ref))
        return result
      },
      inbox: async ({ ref }) => (await this.node(ref).inbox()).map(m => ({ id: m.id, seq: m.seq, subject: m.subject })),
      received: async () => this.received(),
      watchArrivals: async ({ prefix }) => {
        this.watched = { prefix, arrivals: [] }
        return null
      },
      arrivals: async () => this.watched?.arrivals ?? [],
      waitReceived: async ({ count, timeoutMs }) => await waitFor(() => `${count} messages (${this.received()} so far)`, () => { const n = this.received(); return n >= count && n }, timeoutMs, POLL_MS),
      check: async ({ expected, missing }) => {
        const total: HostCheck = { members: 0, received: 0, lost: 0, duplicated: 0, unexpected: 0, extraEvents: 0, lostSamples: [], missing: missing === true ? [] : undefined }
        const refs = Object.keys(expected)
        await concurrently(refs.length, PARALLEL, async i => {
          const c = await this.check(refs[i], expected[refs[i]], missing === true)
          for (const key of ['members', 'received', 'lost', 'duplicated', 'unexpected', 'extraEvents'] as const) total[key] += c[key]
          if (total.lostSamples.length < 10) total.lostSamples.push(...c.lostSamples)
          total.missing?.push(...(c.missing ?? []))
        })
        return total
      }
    }
  }

  /** Stops every node, each whatever became of the others; rejects with the first failure. */
  async stopAll (): Promise<void> {
    const failed = (await Promise.allSettled([...this.hosted.values()].map(async m => { await this.stop(m) }))).find(r => r.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  }
}

async function main (): Promise<void> {
  const [role, json] = process.argv.slice(2) as [HostRole, string]
  if (process.send === undefined || json === undefined) throw new Error('run by scripts/lib/node-process.ts, with an IPC channel: node-host.js <site|member|members> <options JSON>')
  const opts = JSON.parse(json) as HostOptions
  const listen = opts.listen === undefined ? undefined : [opts.listen]
  let handlers: Handlers
  let ready: HostReady = { pid: process.pid, peerId: '', multiaddrs: [] }
  let stopNodes: () => Promise<unknown>
  let nodes: () => number
  if (role === 'site') {
    const site = await createSiteNode({
      dataDir: opts.dataDir,
      name: opts.name ?? 'harness site',
      listen,
      fsync: opts.fsync,
      dht: opts.dht,
      window: opts.window,
      maxQueuePerDevice: opts.maxQueuePerDevice,
      directMaxDevices: opts.directMaxDevices,
      fanoutBatch: opts.fanoutBatch,
      ackDelayMs: opts.ackDelayMs,
      // every member of the harness comes from 127.0.0.1: the bounds per address would hold them back
      joinsPerMinutePerIp: LIMIT_RANGES.joinsPerMinutePerIp[1],
      maxConnectionsPerIp: LIMIT_RANGES.maxConnectionsPerIp[1]
    })
    handlers = { ...nodeHandlers(() => site), ...siteHandlers(site) }
    ready = { ...ready, peerId: site.peerId, multiaddrs: site.multiaddrs() }
    stopNodes = async () => { await site.stop() }
    nodes = () => 1
  } else if (role === 'member' || role === 'members') {
    const members = new Members(opts)
    handlers = members.handlers(role)
    if (role === 'member') {
      const member = await members.add('', opts.dataDir)
      handlers = { ...nodeHandlers(() => members.node()), ...handlers }
      ready = { ...ready, peerId: member.peerId, multiaddrs: member.multiaddrs() }
    }
    stopNodes = async () => { await members.stopAll() }
    nodes = () => members.running
  } else {
    throw new Error(`unknown role ${JSON.stringify(role)}`)
  }

  // a node's stop() can wait on its delivery sessions for seconds: after the grace the process
  // exits anyway, normally (so that a --cpu-prof profile is written); a failed stop is an error
  let stopping: Promise<unknown> | undefined
  const graceMs = opts.stopGraceMs ?? 15_000
  const stop = async (): Promise<null> => {
    stopping ??= Promise.race([stopNodes(), delay(graceMs, undefined, { ref: false })])
    await stopping
    return null
  }
  const all: Handlers = {
    ...handlers,
    stop,
    rss: async () => {
      if (typeof globalThis.gc === 'function') globalThis.gc()
      const m = process.memoryUsage()
      return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, nodes: nodes() }
    },
    cpu: async () => cpuTime()
  }
  serveIpc(all as IpcHandlers, { label: role, ready, stop, graceMs: PARENT_GONE_MS })
}

main().catch(err => {
  console.error('node host failed:', err)
  process.exit(1)
})
