import assert from 'node:assert/strict'
import { createSiteApi } from '../../src/api/index.js'
import { waitFor } from '../../src/cli/time.js'
import { MAX_GROUP_MEMBERS_PER_REQUEST, MAX_PAGE_SIZE } from '../../src/node/index.js'
import { TestNet } from '../support/nodes.js'
import { TOKEN, assertError, call, joinedPair, json } from '../support/api.js'
import type { FastifyInstance } from 'fastify'
import type { MemberNode, SiteNode } from '../../src/node/index.js'

describe('api: groups', () => {
  let net: TestNet
  let site: SiteNode
  let alice: MemberNode
  let api: FastifyInstance

  before(async () => {
    net = await TestNet.create()
    ;({ site, member: alice } = await joinedPair(net))
    for (const ref of ['bob', 'carol']) await (await net.member(ref)).join((await site.createInvite({ ref })).token)
    api = createSiteApi({ node: site, token: TOKEN })
  })
  after(async () => {
    await api.close()
    await net.cleanup()
  })

  const ok = async (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, status = 200): Promise<any> => {
    const res = await call(api, method, url, { body })
    assert.equal(res.statusCode, status, res.body)
    return json(res)
  }

  it('creates, lists a page at a time, shows, renames and deletes groups', async () => {
    const made = []
    for (const name of ['Choir', 'Ωmega club', 'Chess']) made.push(await ok('POST', '/v1/groups', { name }, 201))
    assert.match(made[0].id, /^g[0-9a-f]{16}$/)
    assert.deepEqual({ ...made[0], id: '', created: 0 }, { id: '', name: 'Choir', created: 0, size: 0 })
    const first = await ok('GET', '/v1/groups?limit=2')
    assert.deepEqual(first.groups.map((g: { name: string }) => g.name), ['Chess', 'Choir'])
    assert.equal(typeof first.next, 'string')
    const second = await ok('GET', `/v1/groups?after=${first.next as string}&limit=2`)
    assert.deepEqual(second, { groups: [made[1]], next: null })
    assert.deepEqual(await ok('GET', `/v1/groups/${encodeURIComponent('Ωmega club')}`), made[1])
    assert.deepEqual(await ok('GET', `/v1/groups/${made[1].id as string}`), made[1])
    const renamed = await ok('PATCH', `/v1/groups/${made[2].id as string}`, { name: 'Chess club' })
    assert.equal(renamed.name, 'Chess club')
    assertError(await call(api, 'GET', '/v1/groups/Chess'), 404, 'UNKNOWN_GROUP')
    for (const group of made) await ok('DELETE', `/v1/groups/${group.id as string}`)
    assert.deepEqual(await ok('GET', '/v1/groups'), { groups: [], next: null })
  })

  it('adds and removes members by id or reference, pages through them, and lists a member\'s groups', async () => {
    const group = await ok('POST', '/v1/groups', { name: 'Class 3B', members: ['alice'] }, 201)
    assert.equal(group.size, 1)
    const aliceId = (await site.member('alice')).id
    const added = await ok('POST', '/v1/groups/Class%203B/members', { members: ['bob', 'carol', aliceId] })
    assert.equal(added.changed, 2)
    assert.equal(added.group.size, 3)
    const refs: string[] = []
    let after = ''
    for (let pages = 1; ; pages++) {
      const page = await ok('GET', `/v1/groups/${group.id as string}/members?limit=2${after === '' ? '' : `&after=${after}`}`)
      refs.push(...page.members.map((m: { ref: string }) => m.ref))
      if (page.next === null) {
        assert.equal(pages, 2)
        break
      }
      after = page.next
    }
    assert.deepEqual(refs.sort(), ['alice', 'bob', 'carol'])
    await ok('POST', '/v1/groups', { name: 'Choir', members: ['bob'] }, 201)
    assert.deepEqual((await ok('GET', '/v1/members/bob/groups')).groups.map((g: { name: string }) => g.name), ['Choir', 'Class 3B'])
    const removed = await ok('POST', '/v1/groups/Class%203B/members/remove', { members: ['bob', 'bob'] })
    assert.deepEqual([removed.changed, removed.group.size], [1, 2])
    assert.equal((await ok('POST', '/v1/groups/Class%203B/members/remove', { members: ['bob'] })).changed, 0)

    // a send to the group and a member: alice gets it once, with the group's name
    const sent = await ok('POST', '/v1/messages', { groups: ['Class 3B'], to: ['alice', 'bob'], subject: 'Outing', body: 'Friday' }, 202)
    assert.equal(sent.recipients.length, 3)
    const copies = await waitFor('the message at alice', async () => { const m = (await alice.inbox()).filter(m => m.id === sent.id); return m.length > 0 && m })
    assert.deepEqual(copies.map(m => m.group), ['Class 3B'])
    for (const g of (await ok('GET', '/v1/groups')).groups) await ok('DELETE', `/v1/groups/${g.id as string}`)
  })

  it('refuses bad input with its stable code', async () => {
    await ok('POST', '/v1/groups', { name: 'Choir' }, 201)
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', '/v1/groups', { name: 'Choir' }, 409, 'GROUP_NAME_TAKEN'],
      ['POST', '/v1/groups', { name: '' }, 400, 'INVALID_GROUP_NAME'],
      ['POST', '/v1/groups', { name: 'x'.repeat(300) }, 400, 'INVALID_GROUP_NAME'],
      ['POST', '/v1/groups', { name: 'two\nlines' }, 400, 'INVALID_GROUP_NAME'],
      ['POST', '/v1/groups', { name: 'g0123456789abcdef' }, 400, 'INVALID_GROUP_NAME'],
      ['POST', '/v1/groups', { name: 'Band', members: ['nobody'] }, 404, 'UNKNOWN_MEMBER'],
      ['POST', '/v1/groups', { name: 'Band', colour: 'red' }, 400, 'INVALID_REQUEST'],
      ['PATCH', '/v1/groups/Choir', { name: ' Choir' }, 400, 'INVALID_GROUP_NAME'],
      ['PATCH', '/v1/groups/Nope', { name: 'Other' }, 404, 'UNKNOWN_GROUP'],
      ['POST', '/v1/groups/Choir/members', { members: Array.from({ length: MAX_GROUP_MEMBERS_PER_REQUEST + 1 }, () => 'alice') }, 400, 'TOO_MANY_MEMBERS'],
      ['POST', '/v1/groups/Choir/members/remove', { members: Array.from({ length: MAX_GROUP_MEMBERS_PER_REQUEST + 1 }, () => 'alice') }, 400, 'TOO_MANY_MEMBERS'],
      ['POST', '/v1/groups/Choir/members', { members: ['alice', 'nobody'] }, 404, 'UNKNOWN_MEMBER'],
      ['POST', '/v1/groups/Nope/members', { members: ['alice'] }, 404, 'UNKNOWN_GROUP'],
      ['GET', '/v1/groups/Nope/members', undefined, 404, 'UNKNOWN_GROUP'],
      ['GET', '/v1/groups?after=bm90IGEga2V5', undefined, 400, 'INVALID_ARGUMENT'],
      ['GET', `/v1/groups?limit=${MAX_PAGE_SIZE + 1}`, undefined, 400, 'INVALID_ARGUMENT'],
      ['GET', '/v1/groups?limit=0', undefined, 400, 'INVALID_REQUEST'],
      ['GET', '/v1/groups/Choir/members?after=bm90IGEga2V5', undefined, 400, 'INVALID_ARGUMENT'],
      ['GET', '/v1/members/nobody/groups', undefined, 404, 'UNKNOWN_MEMBER'],
      ['POST', '/v1/messages', { groups: ['Nope'], subject: 's', body: 'b' }, 404, 'UNKNOWN_GROUP'],
      ['POST', '/v1/messages', { subject: 's', body: 'b' }, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/messages', { all: false, subject: 's', body: 'b' }, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/messages', { groups: [], all: true, subject: 's', body: 'b' }, 400, 'INVALID_REQUEST'],
      ['POST', '/v1/messages', { groups: ['g0123456789abcdef'], subject: 's', body: 'b' }, 404, 'UNKNOWN_GROUP'],
      ['POST', '/v1/messages', { groups: ['Choir'], subject: 's', body: 'b' }, 422, 'NO_DEVICES']
    ]
    for (const [method, url, body, status, code] of cases) {
      assertError(await call(api, method as 'GET', url, { body }), status, code)
    }
    assert.deepEqual((await ok('GET', '/v1/groups/Choir')).size, 0, 'nothing changed')
    await ok('DELETE', '/v1/groups/Choir')
  })
})
