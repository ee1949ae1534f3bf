import assert from 'node:assert/strict'
import { waitFor } from '../../src/cli/time.js'
import { TestNet } from '../support/nodes.js'
import type { MemberNode, SiteNode } from '../../src/node/index.js'

/**
 * Groups at the site, end to end over TCP on 127.0.0.1: a send to groups, members and `all`
 * reaches each device of each member so named once, with the group's name; who a message is
 * for is resolved when the site accepts it.
 */
describe('node: groups', () => {
  let net: TestNet
  let site: SiteNode

  beforeEach(async () => {
    net = await TestNet.create()
    site = await net.site('site')
  })
  afterEach(async () => { await net.cleanup() })

  /** A member device joined under `ref`, named `device`. */
  async function device (ref: string, name: string): Promise<MemberNode> {
    const node = await net.member(name)
    await node.join((await site.createInvite({ ref })).token)
    return node
  }

  /** Waits until every listed device holds the message, and returns what each holds of it. */
  async function received (id: string, devices: MemberNode[]): Promise<Array<Array<{ group: string }>>> {
    return await Promise.all(devices.map(async d => await waitFor(`message ${id} on ${d.peerId}`, async () => {
      const copies = (await d.inbox()).filter(m => m.id === id)
      return copies.length > 0 && copies
    })))
  }

  it('a send to a group reaches exactly its members, each showing the group\'s name', async () => {
    const [ann, bob, cat] = [await device('ann', 'ann'), await device('bob', 'bob'), await device('cat', 'cat')]
    const group = await site.createGroup({ name: 'Class 3B', members: ['ann', 'bob'] })
    const sent = await site.send({ groups: ['Class 3B'], subject: 'Outing', body: 'Friday' })
    assert.deepEqual(sent.recipients.map(r => r.device).sort(), [ann.peerId, bob.peerId].sort())
    for (const copies of await received(sent.id, [ann, bob])) assert.deepEqual(copies.map(c => c.group), ['Class 3B'])
    // by id too; a message sent to cat afterwards arrives alone
    const byId = await site.send({ groups: [group.id], to: ['cat'], subject: 'By id', body: '' })
    assert.equal(byId.recipients.length, 3)
    const [[toCat]] = await received(byId.id, [cat])
    assert.equal(toCat.group, '', 'cat was named, not reached through the group')
    assert.deepEqual((await cat.inbox()).map(m => m.subject), ['By id'])
    await waitFor('both delivered everywhere', async () => (await site.stats()).queued === 0)
  })

  it('all, groups and names together reach every device of every member exactly once', async () => {
    const annPhone = await device('ann', 'ann-phone')
    const annLaptop = await device('ann', 'ann-laptop')
    const bob = await device('bob', 'bob')
    const cat = await device('cat', 'cat')
    await site.createGroup({ name: 'Choir', members: ['ann', 'bob'] })
    await site.createGroup({ name: 'Chess', members: ['ann'] })
    const sent = await site.send({ all: true, groups: ['Chess', 'Choir'], to: ['ann', 'cat', 'ann'], subject: 'Everyone', body: 'once each' })
    const devices = [annPhone, annLaptop, bob, cat]
    assert.deepEqual(sent.recipients.map(r => r.device).sort(), devices.map(d => d.peerId).sort(), 'each device once')
    const copies = await received(sent.id, devices)
    // ann is in both groups: the first the send lists names it
    assert.deepEqual(copies.map(c => c.map(m => m.group)), [['Chess'], ['Chess'], ['Choir'], ['']])
    const status = await waitFor('delivered to all four', async () => {
      const s = await site.message(sent.id)
      return s.devices.every(d => d.state === 'delivered') && s
    })
    assert.equal(status.devices.length, 4)
    for (const d of devices) assert.equal((await d.inbox()).filter(m => m.subject === 'Everyone').length, 1, `${d.peerId} holds it once`)
  })

  it('a member removed from the site leaves its groups; a later send to them does not name it', async () => {
    const ann = await device('ann', 'ann')
    await device('bob', 'bob')
    const choir = await site.createGroup({ name: 'Choir', members: ['ann', 'bob'] })
    await site.createGroup({ name: 'Chess', members: ['bob'] })
    assert.deepEqual((await site.memberGroups('bob')).map(g => g.name), ['Chess', 'Choir'])
    const bobId = (await site.member('bob')).id
    await site.removeMember('bob')
    await assert.rejects(site.memberGroups('bob'), { code: 'UNKNOWN_MEMBER' })
    assert.deepEqual((await site.groupMembers(choir.id)).members.map(m => m.ref), ['ann'])
    assert.equal((await site.group('Chess')).size, 0)
    const sent = await site.send({ groups: ['Choir', 'Chess'], subject: 's', body: 'b' })
    assert.deepEqual(sent.recipients, [{ member: (await site.member('ann')).id, device: ann.peerId }])
    assert.ok(!sent.recipients.some(r => r.member === bobId))
    // Chess alone has nobody now
    await assert.rejects(site.send({ groups: ['Chess'], subject: 's', body: 'b' }), { code: 'NO_DEVICES' })
  })

  it('resolved once: a member taken out of the group while the send is queued still gets it; the next send does not reach it', async () => {
    let ann = await device('ann', 'ann')
    const bob = await device('bob', 'bob')
    await site.createGroup({ name: 'Choir', members: ['ann', 'bob'] })
    await net.stop(ann)
    const queued = await site.send({ groups: ['Choir'], subject: 'Queued', body: 'for both' })
    await received(queued.id, [bob])
    assert.equal((await site.message(queued.id)).devices.find(d => d.device === ann.peerId)?.state, 'queued')
    const change = await site.removeGroupMembers('Choir', ['ann'])
    assert.equal(change.changed, 1)
    const after = await site.send({ groups: ['Choir'], subject: 'After', body: 'bob only' })
    assert.deepEqual(after.recipients.map(r => r.device), [bob.peerId])
    // ann's device comes back: the queued message was for it when it was accepted
    ann = await net.member('ann')
    const [[copy]] = await received(queued.id, [ann])
    assert.equal(copy.group, 'Choir')
    await waitFor('the queued message delivered to ann', async () => (await site.message(queued.id)).devices.every(d => d.state === 'delivered'))
    await received(after.id, [bob])
    assert.deepEqual((await ann.inbox()).map(m => m.subject), ['Queued'])
  })

  it('refuses bad group requests with their codes and changes nothing', async () => {
    await device('ann', 'ann')
    const choir = await site.createGroup({ name: 'Choir' })
    await assert.rejects(site.createGroup({ name: 'Choir' }), { code: 'GROUP_NAME_TAKEN' })
    for (const name of ['', ' Choir', 'Choir\n', 'a'.repeat(129), 'é'.repeat(65), choir.id, 'x\u0000y', 'lone \ud800']) {
      await assert.rejects(site.createGroup({ name }), { code: 'INVALID_GROUP_NAME' }, JSON.stringify(name))
    }
    await site.createGroup({ name: 'é'.repeat(64) })
    await assert.rejects(site.renameGroup('Choir', 'é'.repeat(64)), { code: 'GROUP_NAME_TAKEN' })
    await assert.rejects(site.addGroupMembers('Choir', ['ann', 'nobody']), { code: 'UNKNOWN_MEMBER' })
    assert.equal((await site.group('Choir')).size, 0, 'all or nothing')
    await assert.rejects(site.addGroupMembers('Choir', Array.from({ length: 1001 }, () => 'ann')), { code: 'TOO_MANY_MEMBERS' })
    await assert.rejects(site.addGroupMembers('Orchestra', ['ann']), { code: 'UNKNOWN_GROUP' })
    await assert.rejects(site.send({ groups: ['Orchestra'], subject: 's', body: 'b' }), { code: 'UNKNOWN_GROUP' })
    await assert.rejects(site.send({ subject: 's', body: 'b' }), { code: 'INVALID_ARGUMENT' })
    await assert.rejects(site.send({ all: false, to: [], groups: [], subject: 's', body: 'b' }), { code: 'INVALID_ARGUMENT' })
    await assert.rejects(site.groups({ limit: 0 }), { code: 'INVALID_ARGUMENT' })
    assert.equal((await site.addGroupMembers('Choir', ['ann', 'ann'])).changed, 1, 'a member named twice joins once')
    assert.equal((await site.addGroupMembers('Choir', ['ann'])).changed, 0)
    const renamed = await site.renameGroup(choir.id, 'Choir 2')
    assert.deepEqual({ ...renamed }, { ...choir, name: 'Choir 2', size: 1 })
    assert.deepEqual(await site.deleteGroup('Choir 2'), renamed)
    await assert.rejects(site.group(choir.id), { code: 'UNKNOWN_GROUP' })
    assert.deepEqual(await site.memberGroups('ann'), [])
  })
})
