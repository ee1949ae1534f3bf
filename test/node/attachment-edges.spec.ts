import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { waitFor } from '../../src/cli/time.js'
import { ErrorCode } from '../../src/protocol/index.js'
import { TestNet } from '../support/nodes.js'
import type { MemberNode, SiteNode } from '../../src/node/index.js'

/**
 * Attachments at their edges (spec 15.6), found by the conformance kit: an empty file, which
 * has no chunk to fetch, and a blob the site refused for good (UNKNOWN_BLOB), which the device
 * does not ask for again. Real nodes over TCP on 127.0.0.1, LevelDB and files in a temp folder.
 */
describe('node: attachments at their edges', function () {
  this.timeout(60_000)
  let net: TestNet

  beforeEach(async () => { net = await TestNet.create() })
  afterEach(async () => { await net.cleanup() })

  async function member (site: SiteNode, ref: string, autoFetchBytes: number): Promise<MemberNode> {
    const node = await net.member(ref, { autoFetchBytes })
    await node.join((await site.createInvite({ ref })).token)
    return node
  }

  async function sendFile (site: SiteNode, bytes: Uint8Array, ttlMs?: number): Promise<string> {
    async function * body (): AsyncGenerator<Uint8Array> { yield bytes }
    const uploaded = await site.uploadAttachment({ name: 'file.bin', size: bytes.byteLength, body: body() })
    return (await site.send({ to: ['ann'], subject: 'a file', body: '', ttlMs, attachments: [uploaded.id] })).id
  }

  it('an empty attachment is fetched (no chunk) and saved as an empty file', async () => {
    const site = await net.site('site')
    const ann = await member(site, 'ann', 1024)
    const id = await sendFile(site, new Uint8Array(0))
    await waitFor('the empty attachment fetched', async () => (await ann.inbox()).find(m => m.id === id)?.attachments[0].state === 'fetched')
    const saved = await ann.attachmentFile(id, 0)
    assert.equal((await stat(saved.path as string)).size, 0)
  })

  it('an attachment the site refused UNKNOWN_BLOB is not asked for again: a later request fails at once, the site down', async () => {
    let clock = Date.now()
    let site = await net.site('site', { now: () => clock, attachmentHoldMs: 1_000 })
    const ann = await member(site, 'ann', 0)
    const id = await sendFile(site, randomBytes(2000), 60_000)
    await waitFor(`message ${id}`, async () => (await ann.inbox()).some(m => m.id === id))
    // the message expires while the site is down: at its start it deletes the blob
    const listen = site.multiaddrs().filter(a => a.includes('/tcp/') && !a.includes('/ws')).map(a => a.replace(/\/p2p\/.*$/, ''))
    await net.stop(site)
    clock += 61_000
    site = await net.site('site', { now: () => clock, attachmentHoldMs: 1_000, listen })
    await assert.rejects(ann.attachmentFile(id, 0), { code: ErrorCode.UNKNOWN_BLOB })
    await net.stop(site)
    const started = Date.now()
    await assert.rejects(ann.attachmentFile(id, 0), { code: ErrorCode.UNKNOWN_BLOB })
    assert.ok(Date.now() - started < 1_000, 'answered from what the device knows, without trying the site')
  })
})
