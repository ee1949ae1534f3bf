import assert from 'node:assert/strict'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { Ed25519Signer, equalBytes, peerIdToString } from '../../src/crypto/ed25519.js'
import { signPayload } from '../../src/crypto/signing.js'
import { addressRecordKey } from '../../src/discovery/address-record.js'
import { BootstrapDialer } from '../../src/discovery/bootstrap.js'
import { DHT_PROTOCOL } from '../../src/discovery/constants.js'
import { findAddresses } from '../../src/discovery/lookup.js'
import { AddressPublisher, type PublishResult } from '../../src/discovery/publisher.js'
import { DEFAULTS } from '../../src/node/defaults.js'
import { createTmtpLibp2p, type TmtpLibp2p } from '../../src/node/libp2p.js'
import { SIGNING_CONTEXT } from '../../src/protocol/constants.js'
import { AddressRecord, SignedPayload } from '../../src/protocol/pb/tmtp.js'
import type { DhtRole } from '../../src/discovery/dht.js'
import type { KadDHT, SingleKadDHT } from '@libp2p/kad-dht'

/**
 * The TMTP DHT on loopback: one bootstrap server, three more servers (sites) and two clients
 * (member devices), all real libp2p nodes over TCP on 127.0.0.1.
 */

// Loopback bursts: every node dials from 127.0.0.1 (docs/LIBP2P-NOTES.md, trap 3).
const CONNECTIONS = { maxConnections: 1_000, inboundConnectionThreshold: 1_000, maxIncomingPendingConnections: 256 }
const LIMITS = { maxRecords: DEFAULTS.dhtMaxRecords, maxBytes: DEFAULTS.dhtMaxBytes, putsPerMinute: DEFAULTS.dhtPutsPerMinute, putsPerMinutePerIp: DEFAULTS.dhtPutsPerMinutePerIp }

async function waitUntil (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

function dhtOf (node: TmtpLibp2p): KadDHT {
  const dht = node.services.dht
  assert.ok(dht !== undefined, 'node has no DHT')
  return dht
}

function routingTableSize (node: TmtpLibp2p): number {
  return (dhtOf(node) as SingleKadDHT).routingTable.size
}

function port (addr: { toString: () => string }): string {
  return addr.toString().split('/tcp/')[1].split('/')[0]
}

describe('discovery/dht: address records on a loopback DHT', function () {
  this.timeout(60_000)

  const nodes: TmtpLibp2p[] = []
  const services: Array<{ stop: () => Promise<void> | void }> = []
  let bootstrapAddr: string | undefined

  async function startNode (signer: Ed25519Signer, role: DhtRole): Promise<TmtpLibp2p> {
    const node = await createTmtpLibp2p({
      signer,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      connections: CONNECTIONS,
      dht: { role, limits: LIMITS, initialQuerySelfIntervalMs: 50 }
    })
    nodes.push(node)
    await node.start()
    if (bootstrapAddr !== undefined) {
      const dialer = new BootstrapDialer(node, { peers: [bootstrapAddr] })
      services.push(dialer)
      await dialer.start()
      assert.equal(await dialer.dialAll(), 1)
    }
    return node
  }

  async function publish (node: TmtpLibp2p, signer: Ed25519Signer): Promise<{ publisher: AddressPublisher, result: PublishResult }> {
    const publisher = new AddressPublisher(node, dhtOf(node), { signer, republishIntervalMs: 60_000, recordLifetimeMs: 3600_000, publishTimeoutMs: 10_000 })
    services.push(publisher)
    const first = new Promise<PublishResult>(resolve => {
      publisher.addEventListener('published', event => { resolve(event.detail) }, { once: true })
    })
    publisher.start()
    return { publisher, result: await first }
  }

  afterEach(async () => {
    for (const service of services.splice(0)) await service.stop()
    await Promise.all(nodes.splice(0).map(async node => { await node.stop() }))
    bootstrapAddr = undefined
  })

  it('servers find a client\'s new address after it restarts on a new port; stale, replayed and forged records lose', async () => {
    const bootstrap = await startNode(Ed25519Signer.generate(), 'bootstrap')
    bootstrapAddr = bootstrap.getMultiaddrs()[0].toString()
    const servers = await Promise.all([1, 2, 3].map(async () => await startNode(Ed25519Signer.generate(), 'site')))
    const deviceKey = Ed25519Signer.generate()
    let device = await startNode(deviceKey, 'member')
    const attackerKey = Ed25519Signer.generate()
    const attacker = await startNode(attackerKey, 'member')

    // the wire protocol is exactly /tmtp/kad/1.0.0; servers serve it, clients do not
    assert.equal(DHT_PROTOCOL, '/tmtp/kad/1.0.0')
    assert.ok(bootstrap.getProtocols().includes('/tmtp/kad/1.0.0'))
    assert.ok(!bootstrap.getProtocols().some(p => p.startsWith('/ipfs/kad')))
    assert.ok(!device.getProtocols().includes('/tmtp/kad/1.0.0'))
    assert.equal(dhtOf(device).getMode(), 'client')
    assert.equal(dhtOf(servers[0]).getMode(), 'server')

    // the servers find each other through the bootstrap node (private addresses kept)
    await waitUntil('servers to know each other', () => [bootstrap, ...servers].every(s => routingTableSize(s) >= 3))
    // the attacker connects to every server, so that its puts reach them all
    for (const server of servers) await attacker.dial(server.peerId)
    await waitUntil('the attacker to know every server', () => routingTableSize(attacker) >= 4)
    // clients never enter routing tables
    assert.ok([bootstrap, ...servers].every(s => routingTableSize(s) === 3))

    // 1. the device publishes its record
    const first = await publish(device, deviceKey)
    assert.equal(first.result.error, undefined, String(first.result.cause))
    // a client that knows only the bootstrap node reaches the servers closer to the key than it
    // (kad-dht queries only closer peers): on a network this small, maybe only one of them
    assert.ok(first.result.stored >= 1, `stored on ${first.result.stored} servers`)
    const oldPort = port(first.result.addrs[0])
    assert.equal(first.result.addrs[0].toString(), `/ip4/127.0.0.1/tcp/${oldPort}`)
    const found = await findAddresses(dhtOf(servers[2]), device.peerId, { peerStore: servers[2].peerStore, timeoutMs: 5_000 })
    assert.ok(found.ok, `lookup failed: ${JSON.stringify(found)}`)
    assert.deepEqual(found.addrs.map(String), [`/ip4/127.0.0.1/tcp/${oldPort}`])
    assert.equal(found.record.seq, first.result.seq)

    // 2. the device restarts on a new port with the same identity and publishes again
    await first.publisher.stop()
    await device.stop()
    device = await startNode(deviceKey, 'member')
    const second = await publish(device, deviceKey)
    assert.equal(second.result.error, undefined, String(second.result.cause))
    const newPort = port(second.result.addrs[0])
    assert.notEqual(newPort, oldPort)
    assert.ok(second.result.seq > first.result.seq)

    // servers the second put did not reach still hold the first record: a lookup from a server
    // asks every server, the older record loses by seq, and kad-dht corrects the stale servers
    for (const server of [servers[1], servers[2]]) {
      const again = await findAddresses(dhtOf(server), device.peerId, { peerStore: server.peerStore, timeoutMs: 5_000 })
      assert.ok(again.ok, `lookup failed: ${JSON.stringify(again)}`)
      assert.deepEqual(again.addrs.map(String), [`/ip4/127.0.0.1/tcp/${newPort}`])
      assert.equal(again.record.seq, second.result.seq)
    }
    // the found address is merged into the peer store: a server that knew the old one dials the
    // new one (after closing the connection the device opened to publish)
    await servers[2].hangUp(device.peerId)
    const connection = await servers[2].dial(device.peerId, { signal: AbortSignal.timeout(5_000) })
    assert.equal(connection.direction, 'outbound')
    assert.equal(port(connection.remoteAddr), newPort)

    // 3. a replay of the older, validly signed record: every server has seen the newer one now
    // (by the put or by a correction) and refuses it
    const key = addressRecordKey(deviceKey.peerId)
    const replay = async (): Promise<{ stored: number, refused: number }> => {
      const counts = { stored: 0, refused: 0 }
      for await (const event of dhtOf(attacker).put(key, first.result.record as Uint8Array, { signal: AbortSignal.timeout(10_000) })) {
        if (event.name === 'PEER_RESPONSE' && event.messageName === 'PUT_VALUE') counts.stored++
        if (event.name === 'QUERY_ERROR') counts.refused++
      }
      return counts
    }
    const replayed = await replay()
    assert.equal(replayed.stored, 0)
    assert.ok(replayed.refused >= 4, `refused by ${replayed.refused}`)

    // a server that joins now has seen neither record and accepts the replayed one; a lookup on
    // it still ends with the newer record: the stale one loses by seq (and is corrected)
    const late = await startNode(Ed25519Signer.generate(), 'site')
    await waitUntil('the late server to be known', () => [bootstrap, ...servers, late].every(s => routingTableSize(s) >= 4))
    await attacker.dial(late.peerId)
    await waitUntil('the attacker to know the late server', () => routingTableSize(attacker) >= 5)
    assert.equal((await replay()).stored, 1)
    const fromLate = await findAddresses(dhtOf(late), device.peerId, { timeoutMs: 5_000 })
    assert.ok(fromLate.ok, `lookup failed: ${JSON.stringify(fromLate)}`)
    assert.equal(fromLate.record.seq, second.result.seq)
    assert.deepEqual(fromLate.addrs.map(String), [`/ip4/127.0.0.1/tcp/${newPort}`])

    // 4. a record naming the device but signed by the attacker's key: every server refuses it
    const forgedPayload = AddressRecord.encode({
      peer: deviceKey.peerId as Uint8Array<ArrayBuffer>,
      addrs: [multiaddr(attacker.getMultiaddrs()[0].decapsulateCode(421).toString()).bytes],
      seq: Date.now() + 60_000,
      expires: Date.now() + 3600_000
    })
    const forged = SignedPayload.encode(signPayload(attackerKey, SIGNING_CONTEXT.addressRecord, forgedPayload))
    let forgedStored = 0
    let forgedRefused = 0
    for await (const event of dhtOf(attacker).put(key, forged, { signal: AbortSignal.timeout(10_000) })) {
      if (event.name === 'PEER_RESPONSE' && event.messageName === 'PUT_VALUE') forgedStored++
      if (event.name === 'QUERY_ERROR') forgedRefused++
    }
    assert.equal(forgedStored, 0)
    assert.ok(forgedRefused >= 5, `refused by ${forgedRefused}`)

    // get never returns the forged or the stale record, on servers and on the attacker itself
    // (kad-dht keeps what a node puts in its own store unvalidated, and validates it on get)
    for (const node of [servers[0], bootstrap, late, attacker]) {
      const values: Uint8Array[] = []
      for await (const event of dhtOf(node).get(key, { signal: AbortSignal.timeout(5_000) })) {
        if (event.name === 'VALUE') values.push(event.value)
        if (event.name === 'PEER_RESPONSE' && event.record !== undefined) values.push(event.record.value)
      }
      assert.ok(values.length > 0)
      for (const value of values) assert.ok(equalBytes(value, second.result.record as Uint8Array), 'get returned another record')
      const result = await findAddresses(dhtOf(node), device.peerId, { timeoutMs: 5_000 })
      assert.ok(result.ok)
      assert.deepEqual(result.addrs.map(String), [`/ip4/127.0.0.1/tcp/${newPort}`])
    }

    // a forged record of a peer that never published is refused as well: nothing is found
    const absent = Ed25519Signer.generate()
    const absentPayload = AddressRecord.encode({ ...AddressRecord.decode(forgedPayload), peer: absent.peerId as Uint8Array<ArrayBuffer> })
    const absentForged = SignedPayload.encode(signPayload(attackerKey, SIGNING_CONTEXT.addressRecord, absentPayload))
    for await (const event of dhtOf(attacker).put(addressRecordKey(absent.peerId), absentForged, { signal: AbortSignal.timeout(10_000) })) {
      assert.ok(!(event.name === 'PEER_RESPONSE' && event.messageName === 'PUT_VALUE'), 'a server stored a forged record')
    }
    const notFound = await findAddresses(dhtOf(servers[1]), peerIdFromString(peerIdToString(absent.peerId)), { timeoutMs: 5_000 })
    assert.deepEqual(notFound, { ok: false, error: 'NOT_FOUND' })
  })

  it('a lookup without DHT peers ends with TIMEOUT, and a caller\'s abort with ABORTED', async () => {
    const lonely = await startNode(Ed25519Signer.generate(), 'site')
    const other = await createTmtpLibp2p({ signer: Ed25519Signer.generate(), listen: [], connections: CONNECTIONS })
    assert.equal(other.services.dht, undefined)
    const timedOut = await findAddresses(dhtOf(lonely), other.peerId, { timeoutMs: 200 })
    assert.equal(timedOut.ok, false)
    assert.equal(!timedOut.ok && timedOut.error, 'TIMEOUT')
    const aborted = await findAddresses(dhtOf(lonely), other.peerId, { signal: AbortSignal.timeout(100), timeoutMs: 5_000 })
    assert.equal(!aborted.ok && aborted.error, 'ABORTED')
  })
})
