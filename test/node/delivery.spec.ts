import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMemberNode, type MemberNode } from '../../src/node/member-node.js'
import { createSiteNode, type SiteNode } from '../../src/node/site-node.js'

async function waitFor<T> (check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

describe('site to member delivery', () => {
  let dir: string
  let site: SiteNode | undefined
  let member: MemberNode | undefined

  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'tmtp-')) })
  afterEach(async () => {
    await member?.stop()
    await site?.stop()
    member = site = undefined
    await rm(dir, { recursive: true, force: true })
  })

  it('joins, delivers, replies', async () => {
    site = await createSiteNode({ dataDir: join(dir, 'site'), name: 'Example' })
    member = await createMemberNode({ dataDir: join(dir, 'member'), deviceName: 'laptop' })
    const invite = await site.createInvite({ ref: 'alice' })
    const joined = await member.join(invite.token)
    assert.equal(joined.siteName, 'Example')
    const sent = await site.send({ to: ['alice'], subject: 'Hello', body: '**hi**' })
    const inbox = await waitFor(async () => { const i = await member!.inbox(); return i.length > 0 && i })
    assert.equal(inbox[0].id, sent.id)
    assert.equal(inbox[0].body, '**hi**')
    const status = await waitFor(async () => { const s = await site!.message(sent.id); return s.devices[0].state === 'delivered' && s })
    assert.ok(status.devices[0].proof)
    const post = await member.reply(sent.id, { body: 'thanks' })
    const replies = await waitFor(async () => { const r = await site!.replies(); return r.length > 0 && r })
    assert.equal(replies[0].id, post.id)
    assert.equal(replies[0].body, 'thanks')
    assert.equal(replies[0].replyTo, sent.id)
  })
})
