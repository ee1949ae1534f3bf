import assert from 'node:assert/strict'
import { waitFor } from '../../src/cli/time.js'
import { Ed25519Signer, peerIdToString } from '../../src/crypto/ed25519.js'
import { TestNet } from '../support/nodes.js'
import type { LookupEvent } from '../../src/discovery/discovery.js'
import type { BootstrapNode } from '../../src/node/bootstrap-node.js'
import type { MemberNode } from '../../src/node/member-node.js'
import type { SiteNode } from '../../src/node/site-node.js'

/** The listen ports of a node, to tell a restart on a new port. */
function ports (node: { multiaddrs: () => string[] }): string[] {
  return node.multiaddrs().map(a => a.split('/tcp/')[1].split('/')[0])
}

describe('discovery: a TMTP network of 12 nodes on 127.0.0.1', function () {
  this.timeout(120_000)
  let net: TestNet
  let boot: BootstrapNode
  let sites: SiteNode[]
  let others: MemberNode[]

  beforeEach(async () => {
    net = await TestNet.create()
    boot = await net.bootstrap()
    const bootstrap = boot.multiaddrs()
    sites = []
    // site0 runs its DHT as a client: no device puts its record there, and no server's routing
    // table holds site0, so DHT queries never hand out its addresses as a closer peer. When
    // site0 finds a device, or a device finds site0, it was by an address-record lookup
    for (let i = 0; i < 4; i++) sites.push(await net.site(`site${i}`, { bootstrap, dhtServer: i !== 0 }))
    others = []
    for (let i = 0; i < 6; i++) others.push(await net.member(`other${i}`, { bootstrap }))
  })
  afterEach(async () => { await net.cleanup() })

  it('a site finds a device that restarted on a new port without contacting it, and delivers', async () => {
    const bootstrap = boot.multiaddrs()
    const [site] = sites
    let device = await net.member('device', { bootstrap })
    await device.join((await site.createInvite({ ref: 'roamer' })).token)
    const first = await site.send({ to: ['roamer'], subject: 'one', body: '' })
    await waitFor('the first message', async () => (await device.inbox()).length === 1)
    const oldPorts = ports(device)
    await net.stop(device)

    // back on a new port; it neither connects to its site nor uses it as a bootstrap peer
    device = await net.member('device', { bootstrap, connectToSites: false })
    assert.notDeepEqual(ports(device), oldPorts)
    assert.equal(device.libp2p.getConnections().filter(c => c.remotePeer.toString() === site.peerId).length, 0)
    const lookups: LookupEvent[] = []
    site.addEventListener('lookup', e => { lookups.push(e.detail) })
    // the send fails to dial the stale address and looks the device up, until its new record is there
    const second = await site.send({ to: ['roamer'], subject: 'two', body: '' })
    const inbox = await waitFor('the second message, found through the DHT', async () => { const i = await device.inbox(); return i.length === 2 && i }, 60_000)
    assert.deepEqual(inbox.map(m => m.id), [first.id, second.id])
    assert.equal((await site.message(second.id)).devices[0].state, 'delivered')
    const found = lookups.find(l => l.found)
    assert.ok(found !== undefined && found.peer === device.peerId, 'the site found the device by a DHT lookup')
    assert.deepEqual(found.addrs.map(a => a.split('/tcp/')[1].split('/')[0]).sort(), ports(device).sort())
  })

  it('a device finds its site that restarted on a new port, and its reply arrives', async () => {
    const bootstrap = boot.multiaddrs()
    let site = sites[0]
    const device = await net.member('device', { bootstrap })
    const joined = await device.join((await site.createInvite({ ref: 'stayer' })).token)
    const sent = await site.send({ to: ['stayer'], subject: 'question', body: '?' })
    await waitFor('the message', async () => (await device.inbox()).length === 1)
    const oldPorts = ports(site)
    await net.stop(site)
    site = await net.site('site0', { bootstrap, dhtServer: false })
    assert.equal(site.peerId, joined.site)
    assert.notDeepEqual(ports(site), oldPorts)

    const post = await device.reply(sent.id, { body: 'answer' })
    const lookups: LookupEvent[] = []
    device.addEventListener('lookup', e => { lookups.push(e.detail) })
    const replies = await waitFor('the reply, through the DHT', async () => { const r = await site.replies(); return r.length === 1 && r }, 60_000)
    assert.ok(lookups.some(l => l.found && l.peer === site.peerId), 'the device found the site by a DHT lookup')
    assert.equal(replies[0].id, post.id)
    assert.equal(replies[0].body, 'answer')
  })
  it('a device keeps within its connection bound while it looks up peers across the network', async () => {
    const bootstrap = boot.multiaddrs()
    const bound = 3
    const device = await net.member('device', { bootstrap, maxConnections: bound, connectionTrimIntervalMs: 200 })
    const seen = new Set<string>()
    device.libp2p.addEventListener('peer:connect', e => { seen.add(e.detail.toString()) })
    // the other devices' records: each lookup queries the DHT servers
    for (const other of others) {
      await waitFor('a record to be published', async () => await device.locate(other.peerId), 30_000)
    }
    // the records may all be found through `bound` peers or fewer: a lookup of a record nobody
    // holds walks on to every closest server, so that the bound is tested, not hoped for
    for (let i = 0; i < 3 && seen.size <= bound; i++) assert.equal(await device.locate(peerIdToString(Ed25519Signer.generate().peerId)), false)
    assert.ok(seen.size > bound, `the lookups met ${seen.size} peers, more than the bound`)
    await waitFor(`at most ${bound} connections`, async () => device.libp2p.getConnections().length <= bound, 10_000)
  })
})
