/**
 * The bench's own child processes (driven by scripts/bench/ipc.ts over IPC), compiled into
 * build/ by `npm run build:harness` and run on plain node:
 *
 *   node build/scripts/bench/worker.js floor <data dir>
 *   node build/scripts/bench/worker.js work <data dir>
 *   node build/scripts/bench/worker.js mqtt
 *
 * `floor` is one end of the floors: a libp2p stream between nodes built as TMTP's are, or a
 * plain TCP socket, both with TMTP's framing and nothing else, or libp2p connections alone
 * (many nodes dialling one); `work` is the required-work
 * floor (scripts/bench/work-floor.ts: both ends' work, no transport); `mqtt` holds the
 * Mosquitto peer's clients. TMTP's sites and members run in scripts/lib/node-host.ts. Every loop here
 * is bounded by a count and by a deadline.
 */
import '../../src/polyfill.js'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { once } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { createTmtpLibp2p, type TmtpLibp2p } from '../../src/node/libp2p.js'
import { DEFAULTS, loadIdentity } from '../../src/node/index.js'
import { Ed25519Signer } from '../../src/crypto/ed25519.js'
import { FramedStream } from '../../src/delivery/framed-stream.js'
import { encodeFrames, FrameDecoder } from '../../src/protocol/framing.js'
import { MAX_FRAME_SIZE } from '../../src/protocol/constants.js'
import { now, withTimeout } from '../../src/cli/time.js'
import { serveIpc } from '../lib/ipc-child.js'
import type { WorkArgs } from './work-floor.js'

type Handler = (args: any) => Promise<unknown>

const [role, dir] = process.argv.slice(2)

const STOP_GRACE_MS = 3_000

const FLOOR_PROTOCOL = '/tmtp-bench/floor/1.0.0'

function cpuUs (): number {
  const c = process.cpuUsage()
  return c.user + c.system
}

async function floorRole (): Promise<Record<string, Handler>> {
  let libp2p: TmtpLibp2p | undefined
  let server: Server | undefined
  const sockets = new Set<Socket>()
  /** The connection floor's dialling nodes (`clients`), each a libp2p node as a member device's. */
  let clients: TmtpLibp2p[] = []
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
      const end = Date.now() + args.timeoutMs
      const expired = (): boolean => Date.now() >= end
      return await withTimeout((async () => {
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
            await once(socket, 'drain')
          }
          sent += k
        }
        await answer
        const elapsedMs = now() - t0
        socket.destroy()
        return { elapsedMs }
      })(), args.timeoutMs, () => `blast: not done after ${args.timeoutMs} ms`)
    },
    /**
     * The connection floor's receiving end (after `listen` libp2p): this process's CPU and RSS
     * growth from now until `count` peers connected and were identified, and `settleMs` more.
     */
    connections: async (args: { count: number, settleMs: number, timeoutMs: number }) => {
      const n = await node()
      let identified = 0
      const onIdentify = (): void => { identified++ }
      n.addEventListener('peer:identify', onIdentify)
      const cpu0 = cpuUs()
      const rss0 = process.memoryUsage().rss
      try {
        const end = Date.now() + args.timeoutMs
        while (identified < args.count && Date.now() < end) await delay(5)
        await delay(args.settleMs)
        return { identified, cpuUs: cpuUs() - cpu0, rssBytes: process.memoryUsage().rss - rss0 }
      } finally {
        n.removeEventListener('peer:identify', onIdentify)
      }
    },
    /** Starts `count` libp2p nodes as member devices' (nothing listening), not yet dialling. */
    clients: async (args: { count: number }) => {
      for (let i = clients.length; i < args.count; i++) {
        const client = await createTmtpLibp2p({ signer: Ed25519Signer.generate(), listen: [], connections: DEFAULTS.member })
        await client.start()
        clients.push(client)
      }
      return clients.length
    },
    /** Every client dials `addr` at once. */
    dialAll: async (args: { addr: string, timeoutMs: number }) => {
      const ma = multiaddr(args.addr)
      await withTimeout(Promise.all(clients.map(async c => await c.dial(ma))), args.timeoutMs, () => `dialAll: not done after ${args.timeoutMs} ms`)
      return clients.length
    },
    stop: async () => {
      for (const s of sockets) s.destroy()
      server?.close()
      await Promise.allSettled(clients.map(async c => { await c.stop() }))
      clients = []
      await libp2p?.stop()
      return null
    }
  }
}

async function main (): Promise<void> {
  if (process.send === undefined) throw new Error('run me with an IPC channel (see scripts/bench/ipc.ts)')
  const roles: Record<string, () => Promise<Record<string, Handler>>> = {
    floor: floorRole,
    // the required-work floor: both ends' work in this process, no transport
    work: async () => {
      const { requiredWork } = await import('./work-floor.js')
      return { run: async (args: WorkArgs) => await requiredWork(dir, args), stop: async () => null }
    },
    // mqtt.js is loaded only by the Mosquitto peer's children
    mqtt: async () => await (await import('./mqtt-client.js')).mqttRole()
  }
  const make = roles[role]
  if (make === undefined) throw new Error(`unknown role ${JSON.stringify(role)}`)
  const own = await make()
  let stopping: Promise<unknown> | undefined
  const handlers: Record<string, Handler> = {
    ...own,
    // the bench only needs the process gone: a stop that hangs is cut short
    stop: async () => {
      stopping ??= Promise.race([own.stop({}), delay(STOP_GRACE_MS, undefined, { ref: false })])
      await stopping
      return null
    }
  }
  serveIpc(handlers, { label: role, ready: { pid: process.pid }, stop: async () => await handlers.stop({}), graceMs: 2_000 })
}

main().catch(err => {
  console.error(`${role} process failed:`, err)
  process.exit(1)
})
