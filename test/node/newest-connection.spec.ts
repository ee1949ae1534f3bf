import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { waitFor } from '../../src/cli/time.js'
import { createMemberNode, type MemberNode } from '../../src/node/index.js'
import { NodeProcess } from '../../scripts/lib/node-process.js'
import { TestNet } from '../support/nodes.js'

/**
 * Liveness of a site's connections (src/node/defaults.ts): a site runs no connection monitor
 * and keeps a device's newest connection; a member device pings its connections and drops one
 * that stopped answering.
 */
describe('node: connection liveness', () => {
  describe('a site keeps the newest connection of a peer', () => {
    let net: TestNet

    beforeEach(async () => { net = await TestNet.create() })
    afterEach(async () => { await net.cleanup() })

    it('closes a device\'s older connection when the device connects again, and delivers over the new one', async () => {
      const site = await net.site('site', { dht: false })
      const member = await net.member('phone', { dht: false })
      await member.join((await site.createInvite({ ref: 'ann' })).token)
      const device = peerIdFromString(member.peerId)
      const [older] = await waitFor('one connection', async () => { const c = site.libp2p.getConnections(device); return c.length === 1 && c })

      // a second connection, as a device that came back while the site still held its old one
      const address = site.multiaddrs().find(a => a.includes('/tcp/') && !a.includes('/ws'))
      assert.ok(address !== undefined)
      const newer = await member.libp2p.dial(multiaddr(address), { force: true })
      assert.notEqual(newer.id, older.id)

      await waitFor('the older connection closed', async () => older.status === 'closed', 10_000)
      const kept = site.libp2p.getConnections(device)
      assert.equal(kept.length, 1)
      assert.notEqual(kept[0].id, older.id)

      const sent = await site.send({ to: ['ann'], subject: 'over the new connection', body: 'hi' })
      await waitFor('delivered', async () => (await site.message(sent.id)).devices[0].state === 'delivered', 10_000)
      assert.deepEqual((await member.inbox()).map(m => m.id), [sent.id])
    })
  })

  describe('a member device drops a connection whose pings go unanswered', function () {
    this.timeout(90_000)
    let dir: string
    let site: NodeProcess | undefined
    let member: MemberNode | undefined

    beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'tmtp-liveness-')) })
    afterEach(async () => {
      if (site !== undefined) site.kill('SIGCONT')
      await member?.stop()
      await site?.stop()
      site = member = undefined
      await rm(dir, { recursive: true, force: true })
    })

    it('a site frozen mid-connection is dropped after a failed ping and dialled again once it answers, then delivers', async () => {
      site = await NodeProcess.start('site', { dataDir: join(dir, 'site'), dht: false })
      member = await createMemberNode({ dataDir: join(dir, 'phone'), deviceName: 'phone', dht: false, pingIntervalMs: 300, retryBaseMs: 100, retryCapMs: 500 })
      const [token] = await site.call('invite', { refs: ['ann'] })
      await member.join(token)
      const sitePeer = peerIdFromString(site.peerId)
      assert.equal(member.libp2p.getConnections(sitePeer).length, 1)

      // SIGSTOP: the site's socket stays open and silent, as a host that vanished without a FIN
      site.kill('SIGSTOP')
      // libp2p's ping times out after at least 5 s (its adaptive timeout's floor)
      await waitFor('the silent connection dropped', async () => member?.libp2p.getConnections(sitePeer).length === 0, 30_000)

      site.kill('SIGCONT')
      await waitFor('connected again', async () => (member?.libp2p.getConnections(sitePeer).length ?? 0) > 0, 30_000)
      const [sent] = await site.call('sendEach', { to: 'ann', subjects: ['after the freeze'], concurrency: 1 })
      assert.ok('id' in sent, 'the site took the message')
      await waitFor('the message after the freeze', async () => (await member?.inbox())?.length === 1, 30_000)
    })
  })
})
