import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { readFile } from 'node:fs/promises'
import { createMemberApi, createSiteApi, openApiDocument } from '../../src/api/index.js'
import { DEFAULTS, MAX_ATTACHMENT_NAME_BYTES, MAX_ATTACHMENTS } from '../../src/node/index.js'
import { waitFor } from '../../src/cli/time.js'
import { TestNet } from '../support/nodes.js'
import { request } from 'node:http'
import { assertError, call, json, TOKEN } from '../support/api.js'
import type { MemberNode, SiteNode } from '../../src/node/index.js'

/**
 * Attachments through the HTTP APIs: POST /v1/attachments takes the file itself, streamed,
 * with its size first; a send lists it; the member API answers it as a download. Real nodes
 * over TCP on 127.0.0.1.
 */
describe('api: attachments', function () {
  this.timeout(60_000)
  let net: TestNet
  let site: SiteNode
  let member: MemberNode
  let siteApi: FastifyInstance
  let memberApi: FastifyInstance

  beforeEach(async () => {
    net = await TestNet.create()
    site = await net.site('site', { maxAttachmentBytes: 100_000 })
    // fetched when asked: the download route does it
    member = await net.member('member', { autoFetchBytes: 0 })
    await member.join((await site.createInvite({ ref: 'alice' })).token)
    siteApi = createSiteApi({ node: site, token: TOKEN })
    memberApi = createMemberApi({ node: member, token: TOKEN })
  })
  afterEach(async () => {
    await siteApi.close()
    await memberApi.close()
    await net.cleanup()
  })

  it('uploads a file, sends it, and the member downloads it with its name and type', async () => {
    const file = randomBytes(70_000)
    const uploaded = await call(siteApi, 'POST', '/v1/attachments?name=Rapport%20%C3%A9t%C3%A9.pdf', { payload: file, headers: { 'content-type': 'application/pdf' } })
    assert.equal(uploaded.statusCode, 201, uploaded.body)
    const view = json(uploaded)
    assert.deepEqual({ name: view.name, mediaType: view.mediaType, size: view.size, sha256: view.sha256 }, { name: 'Rapport été.pdf', mediaType: 'application/pdf', size: file.byteLength, sha256: createHash('sha256').update(file).digest('hex') })
    assert.equal(view.key, undefined)
    assert.deepEqual(json(await call(siteApi, 'GET', `/v1/attachments/${view.id as string}`)), view)

    const sent = await call(siteApi, 'POST', '/v1/messages', { body: { to: ['alice'], subject: 'Report', body: 'attached', attachments: [view.id] } })
    assert.equal(sent.statusCode, 202, sent.body)
    const id = json(sent).id as string
    await waitFor('the message', async () => (await member.inbox()).some(m => m.id === id))
    const listed = json(await call(memberApi, 'GET', `/v1/inbox/${id}`))
    assert.deepEqual(listed.attachments.map((a: { index: number, name: string, state: string }) => [a.index, a.name, a.state]), [[0, 'Rapport été.pdf', 'available']])

    const download = await call(memberApi, 'GET', `/v1/inbox/${id}/attachments/0`)
    assert.equal(download.statusCode, 200)
    assert.equal(download.headers['content-type'], 'application/pdf')
    assert.equal(download.headers['x-content-type-options'], 'nosniff')
    assert.match(String(download.headers['content-disposition']), /^attachment; filename="Rapport _t_\.pdf"; filename\*=UTF-8''Rapport%20%C3%A9t%C3%A9\.pdf$/)
    assert.ok(download.rawPayload.equals(file))
    assertError(await call(memberApi, 'GET', `/v1/inbox/${id}/attachments/1`), 404, 'UNKNOWN_ATTACHMENT')

    assert.equal((await call(memberApi, 'DELETE', `/v1/inbox/${id}`)).statusCode, 204)
    assertError(await call(memberApi, 'GET', `/v1/inbox/${id}/attachments/0`), 404, 'UNKNOWN_MESSAGE')
    assertError(await call(memberApi, 'DELETE', `/v1/inbox/${id}`), 404, 'UNKNOWN_MESSAGE')
  })

  it('states the limits from the node\'s constants: in the OpenAPI document and docs/api.md', async () => {
    const doc = await openApiDocument(siteApi) as any
    const send = doc.paths['/v1/messages'].post.requestBody.content['application/json'].schema.properties
    assert.equal(send.attachments.maxItems, MAX_ATTACHMENTS)
    const upload = doc.paths['/v1/attachments'].post
    assert.equal(upload.parameters.find((p: { name: string }) => p.name === 'name').schema.maxLength, MAX_ATTACHMENT_NAME_BYTES)
    assert.match(upload.description, new RegExp(`default ${DEFAULTS.maxAttachmentBytes}`))
    assert.match(JSON.stringify(upload.responses['413']), /ATTACHMENT_TOO_LARGE/)
    const api = await readFile(new URL('../../docs/api.md', import.meta.url), 'utf8')
    for (const limit of [DEFAULTS.maxAttachmentBytes, DEFAULTS.maxMessageAttachmentBytes]) assert.ok(api.includes(limit.toLocaleString('en-US')), `docs/api.md states ${limit}`)
    assert.ok(api.includes(`at most ${MAX_ATTACHMENTS}, \`MAX_ATTACHMENTS\``))
  })

  it('refuses an upload past the site\'s room for attachments with 507 ATTACHMENT_STORE_FULL, documented', async () => {
    // a file of 1000 bytes takes 1016 sealed: room for two
    const full = await net.site('full', { maxStoredAttachmentBytes: 2 * 1016 })
    const api = createSiteApi({ node: full, token: TOKEN })
    try {
      for (const name of ['a.bin', 'b.bin']) assert.equal((await call(api, 'POST', `/v1/attachments?name=${name}`, { payload: randomBytes(1000) })).statusCode, 201)
      assertError(await call(api, 'POST', '/v1/attachments?name=c.bin', { payload: randomBytes(1000), serverError: true }), 507, 'ATTACHMENT_STORE_FULL')
      const upload = (await openApiDocument(api) as any).paths['/v1/attachments'].post
      assert.match(JSON.stringify(upload.responses['507']), /ATTACHMENT_STORE_FULL/)
      assert.match(upload.description, new RegExp(`maxStoredAttachmentBytes, default ${DEFAULTS.maxStoredAttachmentBytes}`))
      const doc = await readFile(new URL('../../docs/api.md', import.meta.url), 'utf8')
      assert.ok(doc.includes('| 507 | `ATTACHMENT_STORE_FULL` |'), 'docs/api.md lists the code')
      assert.ok(doc.includes(DEFAULTS.maxStoredAttachmentBytes.toLocaleString('en-US')), 'docs/api.md states the default')
    } finally {
      await api.close()
    }
  })

  it('refuses an upload without its size (411), over the limit (413), or with a bad name (400)', async () => {
    // a streamed body of unknown size (chunked), over a real socket: inject would state its length
    await siteApi.listen({ host: '127.0.0.1', port: 0 })
    const { port } = siteApi.server.address() as { port: number }
    const chunked = await new Promise<{ statusCode: number, body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/attachments?name=a.bin', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/octet-stream' } }, res => {
        let body = ''
        res.setEncoding('utf8').on('data', (s: string) => { body += s }).on('end', () => { resolve({ statusCode: res.statusCode ?? 0, body }) })
      })
      req.on('error', reject)
      req.write(randomBytes(10))
      req.end()
    })
    assertError(chunked, 411, 'LENGTH_REQUIRED')
    assertError(await call(siteApi, 'POST', '/v1/attachments?name=big.bin', { payload: randomBytes(100_001) }), 413, 'ATTACHMENT_TOO_LARGE')
    assertError(await call(siteApi, 'POST', '/v1/attachments?name=..%2Fx', { payload: randomBytes(10) }), 400, 'INVALID_ARGUMENT')
    assertError(await call(siteApi, 'POST', '/v1/attachments', { payload: randomBytes(10) }), 400, 'INVALID_REQUEST')
    assertError(await call(siteApi, 'POST', '/v1/messages', { body: { to: ['alice'], subject: 's', body: '', attachments: ['00'.repeat(16)] } }), 404, 'UNKNOWN_ATTACHMENT')
    assertError(await call(siteApi, 'POST', '/v1/messages', { body: { to: ['alice'], subject: 's', body: '', attachments: ['nope'] } }), 400, 'INVALID_REQUEST')
  })
})
