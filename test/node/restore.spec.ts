import assert from 'node:assert/strict'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { waitFor } from '../../src/cli/time.js'
import { loadEncryptionKey, loadIdentity, openBackup, restoreMemberDevice, sealBackup } from '../../src/node/index.js'
import { TestNet } from '../support/nodes.js'

/**
 * A member device restored from its identity backup (MemberNode.exportIdentity, sealed and
 * opened, then restoreMemberDevice into a new data folder) is the same device to its sites:
 * same PeerId, same device key, its sites known, so it receives and replies without joining
 * again; a site it had left stays refused. Real site and member nodes over TCP.
 */

const PASSPHRASE = 'a passphrase for the test'
const LOW_COST = { N: 2 ** 14, r: 8, p: 1 }

describe('node: restoring a member device from its identity backup', function () {
  this.timeout(60_000)
  let net: TestNet

  beforeEach(async () => { net = await TestNet.create() })
  afterEach(async () => { await net.cleanup() })

  it('exports the identity; the restored device has the same PeerId and its sites, receives and replies without rejoining', async () => {
    const site = await net.site('Club')
    const old = await net.site('Old Club')
    const member = await net.member('phone')
    const joined = await member.join((await site.createInvite({ ref: 'ann' })).token)
    await member.join((await old.createInvite({ ref: 'ann' })).token)
    await member.leave(old.peerId)
    const first = await site.send({ to: ['ann'], subject: 'Before', body: '' })
    await waitFor('delivered before the backup', async () => (await site.message(first.id)).devices[0].state === 'delivered')

    const identity = await member.exportIdentity()
    assert.deepEqual(identity.ed25519, (await loadIdentity(net.path('phone'))).seed)
    assert.deepEqual(identity.x25519, (await loadEncryptionKey(net.path('phone'))).privateKey)
    const sites = await member.sites()
    assert.deepEqual(identity.sites, sites)
    assert.deepEqual(sites.map(s => [s.peerId, s.left !== undefined]), [[site.peerId, false], [old.peerId, true]].sort())
    // the keys are copies: the caller zeroes them, the node keeps its own
    identity.ed25519.fill(0)
    assert.deepEqual((await member.exportIdentity()).ed25519, (await loadIdentity(net.path('phone'))).seed)
    const backup = await sealBackup(await member.exportIdentity(), PASSPHRASE, { cost: LOW_COST })
    assert.equal(backup.peerId, member.peerId)
    await net.stop(member)

    const dir = net.path('restored')
    await restoreMemberDevice(dir, await openBackup(backup, PASSPHRASE))
    for (const file of ['identity.key', 'encryption.key']) {
      assert.deepEqual(await readFile(join(dir, file)), await readFile(join(net.path('phone'), file)), file)
      assert.equal((await stat(join(dir, file))).mode & 0o777, 0o600, file)
    }
    const restored = await net.member('restored')
    assert.equal(restored.peerId, member.peerId)
    assert.deepEqual(await restored.sites(), sites)
    assert.deepEqual((await restored.blocked()).map(b => [b.peer, b.reason]), [[old.peerId, 'left the site']])
    assert.deepEqual(await restored.inbox(), [], 'the backup holds no messages')

    // the site knows the device by its PeerId: the restored device connects, and the site delivers
    const second = await site.send({ to: ['ann'], subject: 'After the restore', body: 'still you' })
    const inbox = await waitFor('the restored device receives', async () => { const i = await restored.inbox(); return i.length > 0 && i })
    assert.deepEqual(inbox.map(m => [m.id, m.subject, m.siteName]), [[second.id, 'After the restore', 'Club']])
    assert.deepEqual((await site.message(second.id)).devices.map(d => [d.device, d.state]), [[member.peerId, 'delivered']])
    assert.deepEqual((await site.members()).map(m => [m.ref, m.devices.map(d => d.peerId)]), [['ann', [member.peerId]]], 'no new member or device')

    const post = await restored.reply(second.id, { body: 'got it' })
    const reply = await waitFor('the reply at the site', async () => (await site.replies()).find(r => r.id === post.id))
    assert.deepEqual([reply.device, reply.member, reply.body], [member.peerId, joined.member, 'got it'])
  })

  it('never writes over a key file, and leaves no key behind when the sites cannot be written', async () => {
    const member = await net.member('phone')
    await member.join((await (await net.site('Club')).createInvite({ ref: 'ann' })).token)
    const identity = await member.exportIdentity()

    // a folder with keys: INVALID_ARGUMENT, its keys as they were
    const other = await net.member('other')
    await net.stop(other)
    const key = await readFile(join(net.path('other'), 'identity.key'))
    await assert.rejects(restoreMemberDevice(net.path('other'), identity), (err: Error & { code?: string }) => err.code === 'INVALID_ARGUMENT' && /identity\.key exists/.test(err.message))
    assert.deepEqual(await readFile(join(net.path('other'), 'identity.key')), key)

    // a database that cannot be opened (a file where its folder goes): the keys written are undone
    const broken = net.path('broken')
    await mkdir(broken, { mode: 0o700 })
    await writeFile(join(broken, 'db'), 'not a database')
    await assert.rejects(restoreMemberDevice(broken, identity))
    assert.deepEqual(await readdir(broken), ['db'])
  })
})
