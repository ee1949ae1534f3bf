/**
 * A bench child process (driven by scripts/bench/ipc.ts over IPC):
 *
 *   node --import tsx scripts/bench/worker.ts site <data dir> <fsync 0|1> [listen multiaddr] [window]
 *   node --import tsx scripts/bench/worker.ts members <base dir> <fsync 0|1>
 *   node --import tsx scripts/bench/worker.ts floor <data dir>
 *   node --import tsx scripts/bench/worker.ts mqtt
 *
 * A site is one TMTP site node; `members` hosts many TMTP member nodes (each its own libp2p
 * node, LevelDB and keys); `floor` is one end of the floors: a libp2p stream between nodes
 * built as TMTP's are, or a plain TCP socket, both with TMTP's framing and nothing else.
 * Every loop here is bounded by a count and by a deadline.
 */
import '../../src/polyfill.js'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createMemberNode, type MemberNode } from '../../src/node/member-node.js'
import { createSiteNode, type SiteNode } from '../../src/node/site-node.js'
import { createTmtpLibp2p, type TmtpLibp2p } from '../../src/node/libp2p.js'
import { loadIdentity } from '../../src/node/identity.js'
import { DEFAULTS } from '../../src/node/defaults.js'
import { FramedStream } from '../../src/delivery/framed-stream.js'
import { encodeFrames, FrameDecoder } from '../../src/protocol/framing.js'
import { MAX_FRAME_SIZE } from '../../src/protocol/constants.js'
import { serveIpc } from '../lib/ipc-child.js'

type Handler = (args: any) => Promise<unknown>

const [role, dir, fsyncArg, listenArg, windowArg] = process.argv.slice(2)
const fsync = fsyncArg === '1'

/** Absolute time in ms with sub-ms resolution, comparable between processes on one machine. */
const now = (): number => performance.timeOrigin + performance.now()

async function withDeadline<T> (timeoutMs: number, what: string, run: (expired: () => boolean) => Promise<T>): Promise<T> {
  const end = Date.now() + timeoutMs
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      run(() => Date.now() >= end),
      new Promise<never>((resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${what}: not done after ${timeoutMs} ms`)) }, timeoutMs) })
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** Resolves when check() holds, re-checked on every signal, or rejects at the deadline. */
function waitFor (waiters: Set<() => void>, check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const test = (): void => {
      if (!check()) return
      done()
      resolve()
    }
    const timer = setTimeout(() => { done(); reject(new Error(`${what()} after ${timeoutMs} ms`)) }, timeoutMs)
    const done = (): void => {
      clearTimeout(timer)
      waiters.delete(test)
    }
    waiters.add(test)
    test()
  })
}

function body (bytes: number, i: number): string {
  const head = `message ${i} `
  return head + 'x'.repeat(Math.max(0, bytes - head.length))
}

function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]
}

async function siteRole (): Promise<Record<string, Handler>> {
  // W6 queues 200,000 messages for one device: above the default queue bound per device
  const site: SiteNode = await createSiteNode({ dataDir: dir, name: 'Bench site', fsync, dht: false, listen: [listenArg ?? '/ip4/127.0.0.1/tcp/0'], window: windowArg === undefined ? undefined : Number(windowArg), maxQueuePerDevice: 1_000_000 })
  let delivered = 0
  let firstAt = 0
  let lastAt = 0
  const waiters = new Set<() => void>()
  /** W5: send times by message id, and the latencies measured. */
  const started = new Map<string, number>()
  const early = new Map<string, number>()
  let latencies: number[] | undefined
  site.addEventListener('delivery', event => {
    if (event.detail.type !== 'delivered') return
    const t = now()
    delivered++
    if (firstAt === 0) firstAt = t
    lastAt = t
    if (latencies !== undefined) {
      const s = started.get(event.detail.id)
      if (s !== undefined) {
        latencies.push(t - s)
        started.delete(event.detail.id)
      } else {
        early.set(event.detail.id, t)
      }
    }
    for (const w of waiters) w()
  })

  const send = async (args: { to: string[], perRecipient: number, bodyBytes: number, concurrency: number, prefix: string, timeoutMs: number }): Promise<{ sent: number, startAt: number, queuedAt: number }> => {
    const total = args.to.length * args.perRecipient
    let next = 0
    const startAt = now()
    await withDeadline(args.timeoutMs, 'send', async expired => {
      const worker = async (): Promise<void> => {
        while (next < total && !expired()) {
          const i = next++
          // round robin: message i goes to recipient i % n, as its (i / n)-th
          const to = args.to[i % args.to.length]
          const k = Math.floor(i / args.to.length)
          await site.send({ to: [to], subject: `${args.prefix}${k}`, body: body(args.bodyBytes, k) })
        }
      }
      await Promise.all(Array.from({ length: Math.min(args.concurrency, total) }, worker))
    })
    return { sent: total, startAt, queuedAt: now() }
  }

  return {
    multiaddrs: async () => site.multiaddrs().map(a => a.includes('/p2p/') ? a : `${a}/p2p/${site.peerId}`),
    invite: async ({ refs }: { refs: string[] }) => {
      const tokens: string[] = []
      for (const ref of refs) tokens.push((await site.createInvite({ ref })).token)
      return tokens
    },
    reset: async () => {
      delivered = 0
      firstAt = 0
      lastAt = 0
      return null
    },
    send,
    waitDelivered: async ({ count, timeoutMs }: { count: number, timeoutMs: number }) => {
      await waitFor(waiters, () => delivered >= count, timeoutMs, () => `${delivered} of ${count} acknowledged`)
      return { delivered, firstAt, lastAt }
    },
    delivered: async () => ({ delivered, firstAt, lastAt }),
    /** Sends and waits for every acknowledgement: W1, W2. */
    throughput: async (args: Parameters<typeof send>[0]) => {
      delivered = 0
      firstAt = 0
      lastAt = 0
      const total = args.to.length * args.perRecipient
      const sent = await send(args)
      await waitFor(waiters, () => delivered >= total, args.timeoutMs, () => `${delivered} of ${total} acknowledged`)
      return { ...sent, delivered, lastAt, elapsedMs: lastAt - sent.startAt }
    },
    /** W5: `count` messages at a steady `rate` per second, round robin to `to`; send-to-ack latency. */
    latency: async (args: { to: string[], rate: number, count: number, bodyBytes: number, timeoutMs: number }) => {
      latencies = []
      started.clear()
      early.clear()
      let failed = 0
      const t0 = now()
      const interval = 1000 / args.rate
      let next = 0
      let late = 0
      await withDeadline(args.timeoutMs, 'latency', async expired => {
        while (next < args.count && !expired()) {
          const t = now()
          while (next < args.count && t0 + next * interval <= t) {
            const i = next++
            if (t - (t0 + i * interval) > 5) late++
            const s = now()
            site.send({ to: [args.to[i % args.to.length]], subject: `w5-${i}`, body: body(args.bodyBytes, i) }).then(result => {
              const at = early.get(result.id)
              if (at !== undefined) {
                latencies?.push(at - s)
                early.delete(result.id)
              } else {
                started.set(result.id, s)
              }
            }, () => { failed++ })
          }
          const wait = t0 + next * interval - now()
          await new Promise(resolve => setTimeout(resolve, Math.max(0, wait)))
        }
        const sentAt = now()
        await waitFor(waiters, () => (latencies?.length ?? 0) + failed >= next, Math.max(1000, args.timeoutMs - (sentAt - t0)), () => `${latencies?.length} of ${next} acknowledged`)
      })
      const sorted = latencies.sort((a, b) => a - b)
      latencies = undefined
      const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length
      return {
        sent: next,
        acknowledged: sorted.length,
        failed,
        lateTicks: late,
        durationMs: now() - t0,
        p50: percentile(sorted, 0.5),
        p99: percentile(sorted, 0.99),
        p999: percentile(sorted, 0.999),
        max: sorted[sorted.length - 1],
        mean
      }
    },
    stats: async () => await site.stats(),
    connections: async () => site.libp2p.getConnections().length,
    stop: async () => { await site.stop(); return null }
  }
}

interface HostedMember {
  dir: string
  node?: MemberNode
  seen: Set<string>
  events: number
  duplicateEvents: number
}

async function membersRole (): Promise<Record<string, Handler>> {
  const members: HostedMember[] = []
  const waiters = new Set<() => void>()
  let unique = 0
  const startOne = async (m: HostedMember): Promise<void> => {
    const node = await createMemberNode({ dataDir: m.dir, deviceName: 'bench device', fsync, dht: false })
    node.addEventListener('message', event => {
      m.events++
      if (m.seen.has(event.detail.id)) m.duplicateEvents++
      else {
        m.seen.add(event.detail.id)
        unique++
      }
      for (const w of waiters) w()
    })
    m.node = node
  }
  /** Runs fn over the members, `limit` at a time. */
  const each = async (limit: number, fn: (m: HostedMember, i: number) => Promise<void>): Promise<void> => {
    let next = 0
    await Promise.all(Array.from({ length: Math.min(limit, members.length) }, async () => {
      while (next < members.length) {
        const i = next++
        await fn(members[i], i)
      }
    }))
  }
  return {
    create: async ({ count, prefix }: { count: number, prefix: string }) => {
      for (let i = 0; i < count; i++) members.push({ dir: join(dir, `${prefix}${i}`), seen: new Set(), events: 0, duplicateEvents: 0 })
      await each(8, startOne)
      return members.map(m => m.node?.peerId)
    },
    join: async ({ tokens }: { tokens: string[] }) => {
      await each(8, async (m, i) => { await m.node?.join(tokens[i]) })
      return null
    },
    stopAll: async () => {
      await each(16, async m => {
        await m.node?.stop()
        m.node = undefined
      })
      return null
    },
    startAll: async () => {
      const t = now()
      await each(16, startOne)
      return { startAt: t, startedAt: now() }
    },
    waitMessages: async ({ count, timeoutMs }: { count: number, timeoutMs: number }) => {
      await waitFor(waiters, () => unique >= count, timeoutMs, () => `${unique} of ${count} messages received`)
      return unique
    },
    counts: async () => ({
      unique,
      events: members.reduce((a, m) => a + m.events, 0),
      duplicateEvents: members.reduce((a, m) => a + m.duplicateEvents, 0)
    }),
    /** Reads every inbox: messages missing (by subject prefix + index) and extra copies. */
    verify: async ({ expected, prefix }: { expected: number, prefix: string }) => {
      let lost = 0
      let duplicated = 0
      let total = 0
      await each(16, async m => {
        const inbox = await m.node?.inbox() ?? []
        const subjects = new Map<string, number>()
        for (const message of inbox) {
          if (!message.subject.startsWith(prefix)) continue
          total++
          subjects.set(message.subject, (subjects.get(message.subject) ?? 0) + 1)
        }
        for (let k = 0; k < expected; k++) if (!subjects.has(`${prefix}${k}`)) lost++
        for (const n of subjects.values()) duplicated += n - 1
      })
      return { lost, duplicated, total }
    },
    stop: async () => {
      await each(16, async m => { await m.node?.stop() })
      return null
    }
  }
}

const STOP_GRACE_MS = 3_000

const FLOOR_PROTOCOL = '/tmtp-bench/floor/1.0.0'

async function floorRole (): Promise<Record<string, Handler>> {
  let libp2p: TmtpLibp2p | undefined
  let server: Server | undefined
  const sockets = new Set<Socket>()
  const node = async (): Promise<TmtpLibp2p> => {
    // the same libp2p as a TMTP node: TCP, Noise, Yamux, identify, ping, the site's limits
    libp2p ??= await createTmtpLibp2p({ signer: await loadIdentity(dir), listen: ['/ip4/127.0.0.1/tcp/0'], connections: DEFAULTS.site })
    if (libp2p.status !== 'started') await libp2p.start()
    return libp2p
  }

  /** The receiving end: the first frame says how many follow; one frame back once all arrived. */
  const receiver = (): ((frames: Uint8Array[]) => Uint8Array | undefined) => {
    let expected = -1
    let got = 0
    return frames => {
      for (const f of frames) {
        if (expected < 0) expected = new DataView(f.buffer, f.byteOffset, f.byteLength).getUint32(0)
        else got++
      }
      if (expected >= 0 && got >= expected) {
        expected = -1
        got = 0
        return Uint8Array.of(1)
      }
      return undefined
    }
  }

  return {
    listen: async ({ kind }: { kind: 'libp2p' | 'tcp' }) => {
      if (kind === 'libp2p') {
        const n = await node()
        await n.handle(FLOOR_PROTOCOL, async stream => {
          const framed = new FramedStream(stream, MAX_FRAME_SIZE)
          const take = receiver()
          for await (const frames of framed.batches()) {
            const done = take(frames)
            if (done !== undefined) await framed.write([done])
          }
          await framed.close()
        }, { maxInboundStreams: 8 })
        return n.getMultiaddrs().map(a => a.toString())[0]
      }
      server = createServer(socket => {
        sockets.add(socket)
        socket.setNoDelay(true)
        const decoder = new FrameDecoder(MAX_FRAME_SIZE)
        const take = receiver()
        socket.on('data', chunk => {
          const done = take(decoder.push(chunk))
          if (done !== undefined) socket.write(encodeFrames([done]))
        })
        socket.on('close', () => sockets.delete(socket))
        socket.on('error', () => {})
      })
      await new Promise<void>(resolve => server?.listen(0, '127.0.0.1', resolve))
      const address = server.address()
      return typeof address === 'object' && address !== null ? `${address.address}:${address.port}` : ''
    },
    /** Writes `count` frames of `frameBytes`, `batch` per write, and waits for the receiver's one answer. */
    blast: async (args: { kind: 'libp2p' | 'tcp', addr: string, count: number, frameBytes: number, batch: number, timeoutMs: number }) => {
      const frame = new Uint8Array(args.frameBytes).fill(120)
      const header = new Uint8Array(4)
      new DataView(header.buffer).setUint32(0, args.count)
      return await withDeadline(args.timeoutMs, 'blast', async expired => {
        if (args.kind === 'libp2p') {
          const n = await node()
          const ma = multiaddr(args.addr)
          const peer = ma.getComponents().find(c => c.name === 'p2p')?.value
          if (peer === undefined) throw new Error('the floor address needs /p2p/')
          await n.peerStore.merge(peerIdFromString(peer), { multiaddrs: [ma] })
          const stream = await n.dialProtocol(ma, FLOOR_PROTOCOL)
          const framed = new FramedStream(stream, MAX_FRAME_SIZE)
          const answer = framed.readOne()
          const t0 = now()
          await framed.write([header])
          for (let sent = 0; sent < args.count && !expired();) {
            const k = Math.min(args.batch, args.count - sent)
            await framed.write(Array.from({ length: k }, () => frame))
            sent += k
          }
          await answer
          const elapsedMs = now() - t0
          await framed.close()
          return { elapsedMs }
        }
        const [host, port] = args.addr.split(':')
        const socket = createConnection({ host, port: Number(port) })
        socket.setNoDelay(true)
        await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
        const answer = new Promise<void>(resolve => {
          const decoder = new FrameDecoder(MAX_FRAME_SIZE)
          socket.on('data', chunk => { if (decoder.push(chunk).length > 0) resolve() })
        })
        const t0 = now()
        socket.write(encodeFrames([header]))
        for (let sent = 0; sent < args.count && !expired();) {
          const k = Math.min(args.batch, args.count - sent)
          if (!socket.write(encodeFrames(Array.from({ length: k }, () => frame)))) {
            await new Promise(resolve => socket.once('drain', resolve))
          }
          sent += k
        }
        await answer
        const elapsedMs = now() - t0
        socket.destroy()
        return { elapsedMs }
      })
    },
    stop: async () => {
      for (const s of sockets) s.destroy()
      server?.close()
      await libp2p?.stop()
      return null
    }
  }
}

async function main (): Promise<void> {
  if (process.send === undefined) throw new Error('run me with an IPC channel (see scripts/bench/ipc.ts)')
  const roles: Record<string, () => Promise<Record<string, Handler>>> = {
    site: siteRole,
    members: membersRole,
    floor: floorRole,
    // mqtt.js is loaded only by the Mosquitto peer's children
    mqtt: async () => await (await import('./mqtt-client.js')).mqttRole()
  }
  const make = roles[role]
  if (make === undefined) throw new Error(`unknown role ${JSON.stringify(role)}`)
  const own = await make()
  let stopping: Promise<unknown> | undefined
  const handlers: Record<string, Handler> = {
    ...own,
    // a node's stop() can wait on its sessions for seconds; the bench only needs the process gone
    // (and, under --cpu-prof, to exit normally so that the profile is written)
    stop: async () => {
      stopping ??= Promise.race([own.stop({}), new Promise(resolve => setTimeout(resolve, STOP_GRACE_MS).unref())])
      await stopping
      return null
    },
    /** CPU time the process used so far, all its threads (LevelDB, libuv, GC) included, in µs. */
    cpu: async () => {
      const c = process.cpuUsage()
      return c.user + c.system
    },
    rss: async () => {
      if (typeof globalThis.gc === 'function') globalThis.gc()
      const m = process.memoryUsage()
      return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external }
    }
  }
  serveIpc(handlers, { label: role, ready: { pid: process.pid }, stop: async () => await handlers.stop({}), graceMs: 2_000 })
}

main().catch(err => {
  console.error(`${role} process failed:`, err)
  process.exit(1)
})
