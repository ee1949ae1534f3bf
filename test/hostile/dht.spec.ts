import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { multiaddr } from '@multiformats/multiaddr'
import { Ed25519Signer } from '../../src/crypto/ed25519.js'
import { findAddresses } from '../../src/discovery/lookup.js'
import { AddressPublisher } from '../../src/discovery/publisher.js'
import { createBootstrapNode } from '../../src/node/bootstrap-node.js'
import { DEFAULTS } from '../../src/node/defaults.js'
import { createTmtpLibp2p, type TmtpLibp2p } from '../../src/node/libp2p.js'
import { addProvider, DhtRogue, forgedRecord, paddedRecord, publicKeyRecord, putValue, validRecord } from '../support/dht-rogue.js'
import type { KadDHT, SingleKadDHT } from '@libp2p/kad-dht'

/**
 * A rogue peer floods a DHT server with everything kad-dht would keep on a peer's say-so
 * (docs/SECURITY.md, "DHT storage"; issue #12): the server must stay within its bounds, keep
 * answering, and keep serving the records of the nodes it served before the flood.
 */

const TARGET = fileURLToPath(new URL('../support/dht-target.ts', import.meta.url))
const REPO = fileURLToPath(new URL('../..', import.meta.url))
const MB = 1024 * 1024
const DHT_LIMITS = { maxRecords: DEFAULTS.dhtMaxRecords, maxBytes: DEFAULTS.dhtMaxBytes, putsPerMinute: DEFAULTS.dhtPutsPerMinute, putsPerMinutePerIp: DEFAULTS.dhtPutsPerMinutePerIp }

interface Target {
  child: ChildProcess
  peerId: string
  multiaddrs: string[]
  memory: () => Promise<NodeJS.MemoryUsage>
}

/** The bootstrap node in its own process (test/support/dht-target.ts). */
async function startTarget (dataDir: string, limits: Record<string, number>): Promise<Target> {
  // without the runner's NODE_OPTIONS; MALLOC_ARENA_MAX as in docs/tmtp.service (docs/LIBP2P-NOTES.md, trap 11).
  // V8 sizes its young generation by the allocation rate, up to 32 MB more RSS under a flood
  // and given back some time after it: pinned to its smallest, it is not what is measured
  const env: NodeJS.ProcessEnv = { ...process.env, MALLOC_ARENA_MAX: '2' }
  delete env.NODE_OPTIONS
  const child = spawn(process.execPath, ['--expose-gc', '--min-semi-space-size=1', '--max-semi-space-size=1', '--import', 'tsx', TARGET, JSON.stringify({ dataDir, limits })], { cwd: REPO, env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const next = async <T>(what: string): Promise<T> => await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`the target did not answer ${what} in 30 s`)) }, 30_000)
    child.once('message', message => { clearTimeout(timer); resolve(message as T) })
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`the target exited (${code}) before ${what}`)) })
  })
  const ready = await next<{ peerId: string, multiaddrs: string[] }>('ready')
  return {
    child,
    ...ready,
    memory: async () => {
      const answer = next<NodeJS.MemoryUsage>('rss')
      child.send('rss')
      return await answer
    }
  }
}

/**
 * The target's memory once a flood is over and what it held for the flood is let go: kad-dht
 * lets go of a stream it aborted (and of what the peer wrote on it) only when its 10 s message
 * timeout fires (src/discovery/dht.ts, onRefused), and V8 gives back the heap it grew for the
 * flood once the process has been idle a while (its memory reducer; a GC of ours would delay it).
 */
async function settled (target: Target, idleMs: number): Promise<NodeJS.MemoryUsage> {
  await new Promise(resolve => setTimeout(resolve, idleMs))
  return await target.memory()
}

function dhtOf (node: TmtpLibp2p): KadDHT {
  const dht = node.services.dht
  assert.ok(dht !== undefined, 'node has no DHT')
  return dht
}

/** A DHT client (a member device) connected to the target and with it in its routing table. */
async function startClient (target: Target, signer: Ed25519Signer): Promise<TmtpLibp2p> {
  const node = await createTmtpLibp2p({ signer, listen: ['/ip4/127.0.0.1/tcp/0'], connections: DEFAULTS.member, dht: { role: 'member', limits: DHT_LIMITS, initialQuerySelfIntervalMs: 50 } })
  await node.start()
  await node.dial(multiaddr(target.multiaddrs[0]), { signal: AbortSignal.timeout(5_000) })
  const deadline = Date.now() + 10_000
  while ((dhtOf(node) as SingleKadDHT).routingTable.size < 1) {
    if (Date.now() > deadline) throw new Error('the client never had the target in its routing table')
    await new Promise(resolve => setTimeout(resolve, 25))
  }
  return node
}

/** What a rogue pushes: 100,000 requests (divided by `scale`) of every kind kad-dht would act on, about as many accepted by today's kad-dht as refused. */
function requestsOfEveryKind (rogue: DhtRogue, scale = 1): Array<{ kind: string, messages: Uint8Array[] }> {
  const many = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: Math.round(n / scale) }, (_, i) => make(i))
  const put = ({ key, value }: { key: Uint8Array, value: Uint8Array }): Uint8Array => putValue(key, value)
  const selfAddrs = many(16, i => multiaddr(`/ip4/10.${i}.${(i * 7) % 256}.1/tcp/${4000 + i}`).bytes)
  return [
    // valid address records of fresh identities: what a server must accept, up to its bounds
    { kind: 'valid address records', messages: many(10_500, () => put(validRecord())) },
    { kind: 'valid address records of the largest size', messages: many(600, () => put(validRecord(16, 512))) },
    // validly signed, but padded with an unknown field of 32 KiB
    { kind: 'oversized address records', messages: many(1_000, () => put(paddedRecord(32 * 1024))) },
    { kind: '/pk/ records', messages: many(30_000, () => put(publicKeyRecord())) },
    { kind: 'provider records (ADD_PROVIDER)', messages: many(30_000, () => addProvider(rogue.signer.peerId, selfAddrs)) },
    { kind: '/ipns/ records', messages: many(9_000, () => putValue(Buffer.concat([Buffer.from('/ipns/'), randomBytes(34)]), randomBytes(200))) },
    { kind: 'keys without a namespace', messages: many(9_000, i => putValue(Buffer.from(i % 2 === 0 ? `tmtp-addr${i}` : `/x${i}`), randomBytes(200))) },
    { kind: 'keys of another namespace', messages: many(9_900, i => putValue(Buffer.from(`/other/${i}`), randomBytes(200))) }
  ]
}

describe('hostile: a DHT server under a flood of records', function () {
  this.timeout(120_000)

  let dir: string | undefined
  let target: Target | undefined
  const nodes: Array<{ stop: () => Promise<void> | void }> = []

  afterEach(async () => {
    for (const node of nodes.splice(0)) await node.stop()
    if (target !== undefined) {
      const exited = new Promise(resolve => target?.child.once('exit', resolve))
      target.child.send('stop')
      await Promise.race([exited, new Promise(resolve => setTimeout(resolve, 10_000))])
      target.child.kill('SIGKILL')
      target = undefined
    }
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
    dir = undefined
  })

  it('100,000 records of every kind: the heap and Buffers grow by less than 20 MB, the server answers, a member\'s record still resolves', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tmtp-dht-flood-'))
    // the PUT_VALUE rate limits and the ban as high as they go: a rogue with many addresses and
    // identities gets past them, and what holds then is the record store's bounds (at their defaults)
    target = await startTarget(join(dir, 'bootstrap'), { dhtPutsPerMinute: 1_000_000, dhtPutsPerMinutePerIp: 1_000_000, refusalsPerMinute: 1_000_000 })

    // a member device publishes its address record at the server
    const memberKey = Ed25519Signer.generate()
    const member = await startClient(target, memberKey)
    nodes.push(member)
    const publisher = new AddressPublisher(member, dhtOf(member), { signer: memberKey, republishIntervalMs: 1800_000, recordLifetimeMs: 3600_000, publishTimeoutMs: 10_000 })
    nodes.push({ stop: async () => { await publisher.stop() } })
    const published = new Promise<{ stored: number, error?: string }>(resolve => { publisher.addEventListener('published', event => { resolve(event.detail) }, { once: true }) })
    publisher.start()
    assert.equal((await published).stored, 1)

    const rogue = await DhtRogue.start()
    nodes.push(rogue)
    const addrs = target.multiaddrs.map(a => multiaddr(a))
    // a first flood, a twentieth of the one measured and of every kind, so that the baseline has
    // what such traffic makes the server allocate for good (code compiled for its paths, buffers,
    // the 4096 public keys src/crypto/ed25519.ts caches and OpenSSL's memory for keys passing
    // through that cache, as on any server that has verified records a while)
    const warmUp = [
      ...requestsOfEveryKind(rogue, 20).flatMap(k => k.messages),
      ...Array.from({ length: 12_000 }, () => { const r = forgedRecord(); return putValue(r.key, r.value) })
    ]
    await rogue.flood(target.peerId, addrs, warmUp, { perStream: 100, parallel: 4 })
    const before = await settled(target, 12_000)

    const kinds = requestsOfEveryKind(rogue)
    const total = kinds.reduce((n, k) => n + k.messages.length, 0)
    assert.equal(total, 100_000)
    const started = Date.now()
    for (const { kind, messages } of kinds) {
      const result = await rogue.flood(target.peerId, addrs, messages, { perStream: 100, parallel: 4 })
      console.log(`      ${kind}: ${messages.length} written on ${result.streams} streams, ${result.answers} answered (stored)`)
    }
    const after = await settled(target, 12_000)
    const mb = (bytes: number): string => (bytes / MB).toFixed(1)
    console.log(`      in ${Date.now() - started} ms; server RSS ${mb(before.rss)} MB before, ${mb(after.rss)} MB after (heap used ${mb(before.heapUsed)} -> ${mb(after.heapUsed)} MB, heap ${mb(before.heapTotal)} -> ${mb(after.heapTotal)} MB, external ${mb(before.external)} -> ${mb(after.external)} MB)`)
    // what the node holds (V8's heap and Buffers): the records it keeps, within its bounds (~4 MB
    // at the defaults; kad-dht with its default datastore held 121 MB more after this flood)
    const held = (m: NodeJS.MemoryUsage): number => m.heapUsed + m.external
    assert.ok(held(after) - held(before) < 20 * MB, `the heap and Buffers grew by ${mb(held(after) - held(before))} MB`)
    // RSS 12 s after the flood also holds native memory its traffic used, 15 to 35 MB in runs on
    // the project's machines (the most under the full suite's load), whatever the record store's
    // bounds (halving them changed nothing); it is given back over time: with a pause after each
    // kind, RSS ended 2 MB above the baseline. Kad-dht with its default datastore: 129 MB more
    assert.ok(after.rss - before.rss < 48 * MB, `RSS grew by ${mb(after.rss - before.rss)} MB`)

    // it answers, and a device that looks the member up finds the record it published before
    const seeker = await startClient(target, Ed25519Signer.generate())
    nodes.push(seeker)
    const found = await findAddresses(dhtOf(seeker), member.peerId, { timeoutMs: 10_000 })
    assert.ok(found.ok, `lookup failed: ${JSON.stringify(found)}`)
    assert.deepEqual(found.addrs.map(String), member.getMultiaddrs().map(a => a.decapsulateCode(421).toString()))
  })

  it('at the default limits, a peer gets 60 records a minute stored and is banned once more than 20 of its requests a minute are refused', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tmtp-dht-limits-'))
    const node = await createBootstrapNode({ dataDir: join(dir, 'bootstrap') })
    nodes.push(node)
    const addrs = node.libp2p.getMultiaddrs()

    // 100 valid records on one stream: the first 60 are stored, the 61st is refused (RATE_LIMITED)
    const rogue = await DhtRogue.start()
    nodes.push(rogue)
    const valid = await rogue.flood(node.peerId, addrs, Array.from({ length: 100 }, () => { const r = validRecord(); return putValue(r.key, r.value) }), { perStream: 100, parallel: 1 })
    assert.equal(valid.answers, DEFAULTS.dhtPutsPerMinute)

    // records the node does not serve: each refusal costs the peer its stream, and past 20 refusals
    // a minute (the 61st record was the first) it is banned: disconnected, its connections refused
    await assert.rejects(rogue.flood(node.peerId, addrs, Array.from({ length: 1_000 }, () => { const r = publicKeyRecord(); return putValue(r.key, r.value) }), { perStream: 1, parallel: 1 }), /cannot open a DHT stream/)
    assert.equal(node.libp2p.getConnections(rogue.libp2p.peerId).length, 0)
  })
})
