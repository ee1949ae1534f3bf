import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { Ed25519Signer } from '../../src/crypto/ed25519.js'
import { ipv6Prefix64 } from '../../src/discovery/address-scope.js'
import { findAddresses } from '../../src/discovery/lookup.js'
import { AddressPublisher } from '../../src/discovery/publisher.js'
import { DEFAULTS } from '../../src/node/defaults.js'
import { createTmtpLibp2p, type TmtpLibp2p } from '../../src/node/libp2p.js'
import { DhtRogue, publicKeyRecord, putValue } from '../support/dht-rogue.js'

const LIMITS = { maxRecords: DEFAULTS.dhtMaxRecords, maxBytes: DEFAULTS.dhtMaxBytes, putsPerMinute: DEFAULTS.dhtPutsPerMinute, putsPerMinutePerIp: DEFAULTS.dhtPutsPerMinutePerIp }

describe('discovery/dht-requests: who is asking, and which requests were refused', function () {
  this.timeout(30_000)
  const stops: Array<() => Promise<void>> = []
  afterEach(async () => { for (const stop of stops.splice(0).reverse()) await stop() })

  it('counts an IPv6 address by its /64', () => {
    assert.equal(ipv6Prefix64('2001:db8:0:1::5'), '2001:db8:0:1::/64')
    assert.equal(ipv6Prefix64('2001:0DB8:0000:0001:aaaa:bbbb:cccc:dddd'), '2001:db8:0:1::/64')
    assert.equal(ipv6Prefix64('::1'), '0:0:0:0::/64')
    assert.equal(ipv6Prefix64('fe80::1:2:3:4'), 'fe80:0:0:0::/64')
  })

  it('a server is told of refused requests only: not of the streams kad-dht clients end after their requests', async () => {
    const refusals: Array<{ peer: string, code: string }> = []
    const server = await createTmtpLibp2p({ signer: Ed25519Signer.generate(), listen: ['/ip4/127.0.0.1/tcp/0'], connections: DEFAULTS.site, dht: { role: 'bootstrap', limits: LIMITS, onRefused: (peer, code) => { refusals.push({ peer, code }) } } })
    await server.start()
    stops.push(async () => { await server.stop() })
    const key = Ed25519Signer.generate()
    const client: TmtpLibp2p = await createTmtpLibp2p({ signer: key, listen: ['/ip4/127.0.0.1/tcp/0'], connections: DEFAULTS.member, dht: { role: 'member', limits: LIMITS, initialQuerySelfIntervalMs: 50 } })
    await client.start()
    stops.push(async () => { await client.stop() })
    await client.dial(multiaddr(server.getMultiaddrs()[0].toString()), { signal: AbortSignal.timeout(5_000) })
    const publisher = new AddressPublisher(client, client.services.dht!, { signer: key, republishIntervalMs: 60_000, recordLifetimeMs: 3600_000, publishTimeoutMs: 10_000 })
    stops.push(async () => { await publisher.stop() })
    const published = new Promise<{ stored: number }>(resolve => { publisher.addEventListener('published', event => { resolve(event.detail) }, { once: true }) })
    publisher.start()
    assert.equal((await published).stored, 1)
    for (let i = 0; i < 3; i++) assert.ok((await findAddresses(client.services.dht!, client.peerId, { timeoutMs: 5_000 })).ok)
    assert.deepEqual(refusals, [])

    const rogue = await DhtRogue.start()
    stops.push(async () => { await rogue.stop() })
    const pk = publicKeyRecord()
    await rogue.flood(server.peerId.toString(), server.getMultiaddrs(), [putValue(pk.key, pk.value), putValue(new TextEncoder().encode('/other/x'), new Uint8Array(4))], { perStream: 1, parallel: 1 })
    assert.deepEqual(refusals, [{ peer: rogue.libp2p.peerId.toString(), code: 'BAD_FRAME' }, { peer: rogue.libp2p.peerId.toString(), code: 'BAD_FRAME' }])
  })
})
