import assert from 'node:assert/strict'
import { openTempSiteStore } from '../support/site-store.js'
import type { GroupRecord } from '../../src/store/group-store.js'

describe('store/group-store', () => {
  let handle: Awaited<ReturnType<typeof openTempSiteStore>>
  beforeEach(async () => { handle = await openTempSiteStore() })
  afterEach(async () => { await handle.close() })

  const group = (n: number, name: string): GroupRecord => ({ id: `g${n.toString(16).padStart(16, '0')}`, name, created: n })
  const member = (n: number): string => `m${n.toString(16).padStart(16, '0')}`

  it('lists groups a page at a time in the byte order of their names, non-ASCII ones included; a cursor it did not make is refused', async () => {
    const { store } = handle
    // a raw key for '日本' or 'Ωmega' would sort past the prefix's '\xff' bound
    const names = ['Ωmega', 'Class 3B', '日本語クラス', 'class 3a', 'Zoo', 'émigrés']
    for (const [i, name] of names.entries()) await store.write(store.groups.createGroup(group(i + 1, name)))
    const seen: string[] = []
    let after: string | undefined
    let pages = 0
    do {
      const page = await store.groups.groups({ after, limit: 4 })
      seen.push(...page.items.map(g => g.name))
      after = page.next ?? undefined
      pages++
    } while (after !== undefined)
    assert.equal(pages, 2)
    assert.deepEqual(seen, [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))))
    for (const bad of ['bm90IGEga2V5', 'gn:zz', '!!!']) {
      await assert.rejects(store.groups.groups({ after: bad, limit: 4 }), { code: 'INVALID_ARGUMENT' })
    }
    assert.equal((await store.groups.groupByName('日本語クラス'))?.id, group(3, '').id)
    assert.equal((await store.groups.groupByName(group(3, '').id))?.name, '日本語クラス', 'a name of a group id\'s shape is the id')
  })

  it('keeps both indexes and the size; members page in id order; a cursor of another group is refused', async () => {
    const { store } = handle
    const a = group(1, 'A')
    const b = group(2, 'B')
    await store.write([...store.groups.createGroup(a), ...store.groups.createGroup(b)])
    await store.write(store.groups.addMembers(a.id, [member(3), member(1), member(2)]))
    await store.write(store.groups.addMembers(b.id, [member(2)]))
    assert.equal((await store.groups.view(a)).size, 3)
    const first = await store.groups.memberPage(a.id, { limit: 2 })
    assert.deepEqual(first.items, [member(1), member(2)])
    const rest = await store.groups.memberPage(a.id, { after: first.next ?? undefined, limit: 2 })
    assert.deepEqual(rest, { items: [member(3)], next: null })
    await assert.rejects(store.groups.memberPage(b.id, { after: first.next ?? undefined, limit: 2 }), { code: 'INVALID_ARGUMENT' })
    assert.deepEqual(await store.groups.groupIdsOf(member(2)), [a.id, b.id])
    assert.deepEqual(await store.groups.contains(a.id, [member(1), member(4)]), [true, false])

    // the member leaves the site: out of every group, sizes follow
    await store.write(await store.groups.leaveGroups(member(2)))
    assert.deepEqual(await store.groups.groupIdsOf(member(2)), [])
    assert.deepEqual((await store.groups.memberPage(a.id, { limit: 10 })).items, [member(1), member(3)])
    assert.equal((await store.groups.view(b)).size, 0)

    // renamed: the old name is free, the new one finds it
    await store.write(store.groups.renameGroup(a, 'A2'))
    assert.equal(await store.groups.groupByName('A'), undefined)
    assert.equal((await store.groups.groupByName('A2'))?.id, a.id)

    // deleted: nothing of it is left, and it survives a reopen that way
    await store.write(await store.groups.deleteGroup({ ...a, name: 'A2' }))
    const reopened = await handle.reopen()
    assert.equal(await reopened.groups.groupByName('A2'), undefined)
    assert.equal(await reopened.groups.group(a.id), undefined)
    assert.deepEqual(await reopened.groups.groupIdsOf(member(1)), [])
    assert.deepEqual((await reopened.groups.memberPage(a.id, { limit: 10 })).items, [])
    assert.deepEqual((await reopened.groups.groups({ limit: 10 })).items.map(g => g.name), ['B'])
  })
})
