import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { createMemberApi, createSiteApi } from '../../src/api/index.js'
import { DOCUMENT_FILES, apiDocuments, formatDocument } from '../../src/api/documents.js'
import { TestNet } from '../support/nodes.js'
import { TOKEN, call, json } from '../support/api.js'
import type { OpenApiDocument } from '../../src/api/index.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

const SITE_ROUTES = [
  'get /healthz', 'get /metrics', 'get /v1/status', 'post /v1/messages', 'get /v1/messages/{id}', 'post /v1/invites',
  'get /v1/members', 'get /v1/members/{ref}', 'delete /v1/members/{ref}', 'get /v1/replies', 'delete /v1/replies', 'get /v1/webhook',
  'get /v1/groups', 'post /v1/groups', 'get /v1/groups/{group}', 'patch /v1/groups/{group}', 'delete /v1/groups/{group}',
  'get /v1/groups/{group}/members', 'post /v1/groups/{group}/members', 'post /v1/groups/{group}/members/remove', 'get /v1/members/{ref}/groups',
  'post /v1/attachments', 'get /v1/attachments/{id}'
]
const MEMBER_ROUTES = [
  'get /healthz', 'get /v1/status', 'post /v1/join', 'get /v1/sites', 'delete /v1/sites/{peerId}', 'get /v1/blocks',
  'post /v1/blocks', 'delete /v1/blocks/{peer}', 'get /v1/inbox', 'get /v1/inbox/{id}', 'post /v1/inbox/{id}/reply', 'get /v1/posts/{id}',
  'put /v1/inbox/{id}/read', 'get /v1/events', 'post /v1/identity/backup', 'get /v1/inbox/{id}/attachments/{index}', 'delete /v1/inbox/{id}'
]
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options']

type Operation = Record<string, any>

function operations (doc: OpenApiDocument): Array<[string, Operation]> {
  const out: Array<[string, Operation]> = []
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (METHODS.includes(method)) out.push([`${method} ${path}`, op as Operation])
    }
  }
  return out
}

/** The structural checks of an OpenAPI 3.0 document that matter to a client generator. */
function checkDocument (doc: OpenApiDocument, routes: string[]): void {
  assert.match(doc.openapi, /^3\.0\.\d+$/)
  const info = doc.info as { title?: string, version?: string }
  assert.equal(typeof info.title, 'string')
  assert.equal(typeof info.version, 'string')
  assert.deepEqual(doc.security, [{ bearerAuth: [] }])
  assert.deepEqual((doc.components as any).securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', description: (doc.components as any).securitySchemes.bearerAuth.description })
  const ops = operations(doc)
  assert.deepEqual(ops.map(([name]) => name).sort(), [...routes].sort())
  for (const [name, op] of ops) {
    assert.ok(Object.keys(op.responses ?? {}).length > 0, `${name} has responses`)
    assert.ok(Object.keys(op.responses).some(s => /^2\d\d$/.test(s)), `${name} documents its success`)
    for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
      assert.match(status, /^[1-5]\d\d$/, `${name}: status ${status}`)
      assert.equal(typeof response.description, 'string', `${name} ${status} has a description`)
      if (Number(status) >= 400) assert.ok(response.content['application/json'].schema.properties.error, `${name} ${status} is an error body`)
    }
    const pathParams = [...name.matchAll(/\{(\w+)\}/g)].map(m => m[1])
    const declared = (op.parameters ?? []).filter((p: { in: string }) => p.in === 'path').map((p: { name: string, required: boolean }) => {
      assert.equal(p.required, true)
      return p.name
    })
    assert.deepEqual(declared.sort(), pathParams.sort(), `${name} declares its path parameters`)
    if ((name.startsWith('post ') || name.startsWith('patch ')) && op.requestBody !== undefined) {
      const json = op.requestBody.content['application/json']
      // an upload's body is the file itself, of any type (POST /v1/attachments); every other body is JSON
      if (json === undefined) assert.deepEqual([name, Object.keys(op.requestBody.content)], ['post /v1/attachments', ['*/*']])
      else assert.equal(json.schema.additionalProperties, false, `${name} refuses unknown fields`)
    }
    if (name.endsWith(' /healthz')) assert.deepEqual(op.security, [], 'healthz needs no token')
    else assert.equal(op.security, undefined, `${name} uses the document's bearer security`)
  }
  assert.equal(doc.paths['/openapi.json'], undefined)
}

describe('api: openapi', () => {
  let net: TestNet
  before(async () => { net = await TestNet.create() })
  after(async () => { await net.cleanup() })

  it('GET /openapi.json serves a valid OpenAPI 3 document of every site route, without a token', async () => {
    const site = await net.site('site')
    const api = createSiteApi({ node: site, token: TOKEN })
    try {
      const res = await call(api, 'GET', '/openapi.json', { token: false })
      assert.equal(res.statusCode, 200)
      checkDocument(json(res), SITE_ROUTES)
    } finally {
      await api.close()
    }
  })

  it('GET /openapi.json of the member API', async () => {
    const member = await net.member('member')
    const api = createMemberApi({ node: member, token: TOKEN })
    try {
      const res = await call(api, 'GET', '/openapi.json', { token: false })
      assert.equal(res.statusCode, 200)
      checkDocument(json(res), MEMBER_ROUTES)
    } finally {
      await api.close()
    }
  })

  it('docs/openapi.json and docs/openapi-member.json are up to date (else: npm run openapi)', async () => {
    const documents = await apiDocuments()
    for (const role of ['site', 'member'] as const) {
      const file = await readFile(ROOT + DOCUMENT_FILES[role], 'utf8').catch(() => '')
      assert.equal(file, formatDocument(documents[role]), `${DOCUMENT_FILES[role]} is stale: run npm run openapi`)
    }
    checkDocument(documents.site, SITE_ROUTES)
    checkDocument(documents.member, MEMBER_ROUTES)
  })
})
