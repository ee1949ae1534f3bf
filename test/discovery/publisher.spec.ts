import assert from 'node:assert/strict'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { peerIdToString } from '../../src/crypto/ed25519.js'
import { addressRecordKey, openAddressRecord } from '../../src/discovery/address-record.js'
import { AddressPublisher, publishableAddrs, type PublishResult } from '../../src/discovery/publisher.js'
import { device } from '../support/keys.js'
import type { KadDHT, QueryEvent } from '@libp2p/kad-dht'
import type { Libp2pEvents } from '@libp2p/interface'

/** A libp2p stand-in: addresses to return and the 'self:peer:update' event. */
class FakeLibp2p extends TypedEventEmitter<Libp2pEvents> {
  addrs: Multiaddr[] = []
  getMultiaddrs (): Multiaddr[] {
    return this.addrs
  }

  update (addrs: string[]): void {
    this.addrs = addrs.map(a => multiaddr(a))
    this.safeDispatchEvent('self:peer:update', { detail: {} as any })
  }
}

/** A DHT stand-in whose put records what it was given and answers like one server. */
function fakeDht (puts: Array<{ key: Uint8Array, value: Uint8Array }>, fail = (): boolean => false): KadDHT {
  return {
    async * put (key: Uint8Array, value: Uint8Array): AsyncGenerator<QueryEvent> {
      await new Promise(resolve => setTimeout(resolve, 5))
      puts.push({ key, value })
      if (fail()) throw new Error('no peers')
      yield { name: 'PEER_RESPONSE', messageName: 'PUT_VALUE', record: { key, value } } as unknown as QueryEvent
    }
  } as unknown as KadDHT
}

const self = `/p2p/${peerIdToString(device.peerId)}`
const key = addressRecordKey(device.peerId)

async function nextPublication (publisher: AddressPublisher): Promise<PublishResult> {
  return await new Promise(resolve => {
    publisher.addEventListener('published', event => { resolve(event.detail) }, { once: true })
  })
}

describe('discovery/publisher', () => {
  let publisher: AddressPublisher | undefined

  afterEach(async () => {
    await publisher?.stop()
    publisher = undefined
  })

  it('publishes its own addresses without /p2p/<self> and without relay addresses', () => {
    const addrs = publishableAddrs([
      multiaddr(`/ip4/127.0.0.1/tcp/1${self}`),
      multiaddr('/ip4/10.0.0.1/tcp/2'),
      multiaddr(`/ip4/1.2.3.4/tcp/3/p2p/12D3KooWQK1wnefoLrcVHbbnf5tLzbopUd3K3bFAoJpA7YJgL5pV/p2p-circuit${self}`),
      multiaddr(`/ip4/127.0.0.1/tcp/1${self}`)
    ])
    assert.deepEqual(addrs.map(String), ['/ip4/127.0.0.1/tcp/1', '/ip4/10.0.0.1/tcp/2'])
    const many = Array.from({ length: 20 }, (_, i) => multiaddr(`/ip4/10.0.0.${i + 1}/tcp/1`))
    assert.equal(publishableAddrs(many).length, 16)
  })

  it('publishes on start, on an address change and periodically, each with a higher seq; stops cleanly', async () => {
    const libp2p = new FakeLibp2p()
    libp2p.addrs = [multiaddr(`/ip4/127.0.0.1/tcp/1${self}`)]
    const puts: Array<{ key: Uint8Array, value: Uint8Array }> = []
    publisher = new AddressPublisher(libp2p, fakeDht(puts), { signer: device, republishIntervalMs: 150, recordLifetimeMs: 10_000 })
    const first = nextPublication(publisher)
    publisher.start()
    const r1 = await first
    assert.equal(r1.error, undefined)
    assert.equal(r1.stored, 1)
    assert.deepEqual(puts[0].key, key)
    const record1 = openAddressRecord(key, puts[0].value, Date.now())
    assert.deepEqual(record1.addrs.map(String), ['/ip4/127.0.0.1/tcp/1'])
    assert.ok(record1.expires > Date.now() + 9_000)

    // the same addresses again: nothing to publish
    libp2p.update([`/ip4/127.0.0.1/tcp/1${self}`])
    await new Promise(resolve => setTimeout(resolve, 30))
    assert.equal(puts.length, 1)

    // new addresses: published at once
    const second = nextPublication(publisher)
    libp2p.update([`/ip4/127.0.0.1/tcp/2${self}`])
    const r2 = await second
    assert.deepEqual(r2.addrs.map(String), ['/ip4/127.0.0.1/tcp/2'])
    assert.ok(r2.seq > r1.seq)

    // and periodically
    const r3 = await nextPublication(publisher)
    assert.ok(r3.seq > r2.seq)
    assert.deepEqual(openAddressRecord(key, puts[2].value, Date.now()).addrs.map(String), ['/ip4/127.0.0.1/tcp/2'])

    await publisher.stop()
    const count = puts.length
    libp2p.update([`/ip4/127.0.0.1/tcp/3${self}`])
    await new Promise(resolve => setTimeout(resolve, 300))
    assert.equal(puts.length, count)
  })

  it('retries after a failed publication, and reports a node without addresses', async () => {
    const libp2p = new FakeLibp2p()
    const puts: Array<{ key: Uint8Array, value: Uint8Array }> = []
    let failures = 1
    publisher = new AddressPublisher(libp2p, fakeDht(puts, () => failures-- > 0), { signer: device, retryIntervalMs: 50 })
    const none = nextPublication(publisher)
    publisher.start()
    assert.equal((await none).error, 'NO_ADDRESSES')
    const failed = nextPublication(publisher)
    libp2p.update(['/ip4/127.0.0.1/tcp/1'])
    const r1 = await failed
    assert.equal(r1.error, 'FAILED')
    const r2 = await nextPublication(publisher)
    assert.equal(r2.error, undefined)
    assert.ok(r2.seq > r1.seq)
  })

  it('refuses settings that would let the record expire before it is republished', () => {
    const libp2p = new FakeLibp2p()
    assert.throws(() => new AddressPublisher(libp2p, fakeDht([]), { signer: device, republishIntervalMs: 2000, recordLifetimeMs: 1000 }), { code: 'INVALID_ARGUMENT' })
    assert.throws(() => new AddressPublisher(libp2p, fakeDht([]), { signer: device, recordLifetimeMs: 49 * 3600_000 }), { code: 'INVALID_ARGUMENT' })
  })
})
