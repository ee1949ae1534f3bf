import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { TypedEventEmitter } from 'main-event'
import { SiteMetrics, toHttpError, WEBHOOK_DEFAULTS } from '../../src/api/index.js'
import { apiDocuments } from '../../src/api/documents.js'
import {
  COPY_STATES, DEFAULTS, DEFAULT_CONTENT_TYPE, DEFAULT_PAGE_SIZE, DELIVERY_STATES, REPORT_MODES, GROUP_ID_PATTERN, MAX_BODY_BYTES, MAX_CONTENT_TYPE_BYTES, MAX_CURSOR_LENGTH,
  MAX_GROUP_MEMBERS_PER_REQUEST, MAX_GROUP_NAME_BYTES, MAX_IDEMPOTENCY_KEY_LENGTH, MAX_PAGE_SIZE, MAX_REF_BYTES, MAX_SEND_GROUPS,
  MAX_SEND_RECIPIENTS, MAX_SUBJECT_BYTES, MAX_TOPIC_LENGTH, MEMBER_ID_PATTERN, NODE_ERROR_CODES, NodeError, SETTLED_STATES, URGENCIES, type SiteNode
} from '../../src/node/index.js'
import type { OpenApiDocument } from '../../src/api/index.js'

/**
 * The contract facts of the HTTP APIs (urgencies, delivery states, size limits, the default
 * content type) as the OpenAPI documents show them are the node's constants: the schemas
 * take them from there, and this holds them to it.
 */

// OpenAPI documents are JSON of a known shape; any keeps the paths below readable
type Schema = Record<string, any>

function operation (doc: OpenApiDocument, method: string, path: string): Schema {
  const op = doc.paths[path]?.[method] as Schema | undefined
  assert.ok(op !== undefined, `${method} ${path} is documented`)
  return op
}

const requestBody = (op: Schema): Schema => op.requestBody.content['application/json'].schema
const response = (op: Schema, status: number): Schema => op.responses[status].content['application/json'].schema

describe('api: contract facts come from the node\'s constants', () => {
  let site: OpenApiDocument
  let member: OpenApiDocument
  before(async () => { ({ site, member } = await apiDocuments()) })

  it('POST /v1/messages: recipients, content limits, urgencies, topic, idempotency key, default content type', () => {
    const op = operation(site, 'post', '/v1/messages')
    const send = requestBody(op).properties
    assert.equal(send.to.maxItems, MAX_SEND_RECIPIENTS)
    assert.equal(send.to.items.maxLength, MAX_REF_BYTES)
    assert.equal(send.subject.maxLength, MAX_SUBJECT_BYTES)
    assert.equal(send.body.maxLength, MAX_BODY_BYTES)
    assert.equal(send.contentType.maxLength, MAX_CONTENT_TYPE_BYTES)
    assert.equal(send.contentType.description, `MIME type of body; empty means ${DEFAULT_CONTENT_TYPE}`)
    assert.deepEqual(send.urgency.enum, URGENCIES)
    assert.equal(send.topic.maxLength, MAX_TOPIC_LENGTH)
    const key = (op.parameters as Schema[]).find(p => p.in === 'header' && p.name === 'idempotency-key')
    assert.equal(key?.schema.maxLength, MAX_IDEMPOTENCY_KEY_LENGTH)
  })

  it('delivery states: a message\'s devices and its counts (pending besides them: a broadcast\'s copies not sealed yet), the status counts', () => {
    const status = response(operation(site, 'get', '/v1/messages/{id}'), 200)
    assert.deepEqual(COPY_STATES, ['pending', ...DELIVERY_STATES])
    assert.deepEqual(status.properties.devices.items.properties.state.enum, COPY_STATES)
    assert.deepEqual(status.properties.counts.required, COPY_STATES)
    assert.deepEqual(Object.keys(status.properties.counts.properties), COPY_STATES)
    const counts = response(operation(site, 'get', '/v1/status'), 200).properties.states
    assert.deepEqual(counts.required, DELIVERY_STATES)
    assert.deepEqual(Object.keys(counts.properties), DELIVERY_STATES)
  })

  it('broadcasts: the report modes, the page of a message\'s devices, and docs/api.md\'s sizes are the node\'s', async () => {
    const send = requestBody(operation(site, 'post', '/v1/messages'))
    assert.deepEqual(send.properties.report.enum, REPORT_MODES)
    const op = operation(site, 'post', '/v1/messages')
    assert.ok(String(op.description).includes(`A send to at most ${DEFAULTS.directMaxDevices} devices is sealed`), op.description)
    const query = operation(site, 'get', '/v1/messages/{id}').parameters as Schema[]
    assert.ok(String(query.find(p => p.name === 'limit')?.description).includes(`1..${MAX_PAGE_SIZE}; default ${MAX_PAGE_SIZE}`))
    assert.equal(query.find(p => p.name === 'after')?.schema.maxLength, MAX_CURSOR_LENGTH)
    const doc = (await readFile(fileURLToPath(new URL('../../docs/api.md', import.meta.url)), 'utf8')).replace(/\s+/g, ' ')
    for (const fact of [`more than ${DEFAULTS.directMaxDevices} devices (\`DEFAULTS.directMaxDevices\`)`, `${DEFAULTS.fanoutBatch} devices a batch (\`DEFAULTS.fanoutBatch\`)`, `Sends to ${DEFAULTS.directMaxDevices} devices or fewer`]) {
      assert.ok(doc.includes(fact), fact)
    }
  })

  it('member references: invites, members, sends; member ids are told apart by MEMBER_ID_PATTERN', () => {
    const invite = requestBody(operation(site, 'post', '/v1/invites')).properties.ref
    assert.equal(invite.maxLength, MAX_REF_BYTES)
    const to = requestBody(operation(site, 'post', '/v1/messages')).properties.to
    const refs = ['get', 'delete'].map(method => (operation(site, method, '/v1/members/{ref}').parameters as Schema[]).find(p => p.name === 'ref'))
    for (const ref of refs) assert.equal(ref?.schema.maxLength, MAX_REF_BYTES)
    for (const description of [invite.description, to.description, ...refs.map(ref => ref?.description)]) {
      assert.ok(String(description).includes(`\`${MEMBER_ID_PATTERN.source}\``), description)
    }
    assert.match(invite.description, /refused \(400 INVALID_ARGUMENT\)/)
  })

  it('groups: the name and member limits, the codes past them, group ids, pages; a send\'s groups', () => {
    const name = requestBody(operation(site, 'post', '/v1/groups')).properties.name
    assert.ok(name.description.includes(`1 to ${MAX_GROUP_NAME_BYTES} bytes`), name.description)
    assert.ok(name.description.includes('GROUP_NAME_TAKEN'), name.description)
    for (const path of ['/v1/groups/{group}/members', '/v1/groups/{group}/members/remove']) {
      const members = requestBody(operation(site, 'post', path)).properties.members
      assert.ok(members.description.includes(`at most ${MAX_GROUP_MEMBERS_PER_REQUEST} member ids or user references (more: 400 TOO_MANY_MEMBERS)`), members.description)
      assert.equal(members.items.maxLength, MAX_REF_BYTES)
    }
    const group = (operation(site, 'get', '/v1/groups/{group}').parameters as Schema[]).find(p => p.name === 'group')
    assert.ok(String(group?.description).includes(`\`${GROUP_ID_PATTERN.source}\``))
    assert.equal(group?.schema.maxLength, MAX_GROUP_NAME_BYTES)
    for (const path of ['/v1/groups', '/v1/groups/{group}/members']) {
      const query = operation(site, 'get', path).parameters as Schema[]
      assert.ok(String(query.find(p => p.name === 'limit')?.description).includes(`1..${MAX_PAGE_SIZE}; default ${DEFAULT_PAGE_SIZE}`))
      assert.equal(query.find(p => p.name === 'after')?.schema.maxLength, MAX_CURSOR_LENGTH)
    }
    const send = requestBody(operation(site, 'post', '/v1/messages'))
    assert.equal(send.properties.groups.maxItems, MAX_SEND_GROUPS)
    assert.equal(send.properties.groups.items.maxLength, MAX_GROUP_NAME_BYTES)
    assert.deepEqual(send.required, ['subject', 'body'])
    assert.match(send.description, /resolved once, when the message is accepted/)
  })

  it('every code of the library is documented with its status: in the OpenAPI documents and docs/api.md', async () => {
    const doc = await readFile(fileURLToPath(new URL('../../docs/api.md', import.meta.url)), 'utf8')
    const errors = /## Errors([^]*?)\n## /.exec(doc)?.[1] ?? ''
    const rows = errors.split('\n').filter(line => /^\| \d{3} \|/.test(line))
    const descriptions = JSON.stringify(site.paths)
    for (const code of NODE_ERROR_CODES) {
      const http = toHttpError(new NodeError(code, 'x'))
      if (http.code !== code) continue
      assert.ok(rows.some(row => row.startsWith(`| ${http.status} |`) && row.includes(`\`${code}\``)), `docs/api.md lists ${code} under ${http.status}`)
      // the client errors: a 5xx says the node, not the request, failed (and /healthz's 503 is its own)
      if (http.status >= 500) continue
      assert.ok(new RegExp(`"${http.status}":\\{"description":"[^"]*\\b${code}\\b`).test(descriptions), `the OpenAPI document lists ${code} under ${http.status}`)
    }
  })

  it('docs/api.md states the groups\' limits', async () => {
    const doc = (await readFile(fileURLToPath(new URL('../../docs/api.md', import.meta.url)), 'utf8')).replace(/\s+/g, ' ')
    for (const fact of [
      `1 to ${MAX_GROUP_NAME_BYTES} bytes of UTF-8 (\`MAX_GROUP_NAME_BYTES\``,
      `at most ${MAX_GROUP_MEMBERS_PER_REQUEST} in one request (\`MAX_GROUP_MEMBERS_PER_REQUEST\`; more is 400 \`TOO_MANY_MEMBERS\``,
      `${DEFAULT_PAGE_SIZE} a page unless \`limit\` (1 to ${MAX_PAGE_SIZE}, \`MAX_PAGE_SIZE\`)`,
      `at most ${MAX_SEND_RECIPIENTS}, \`MAX_SEND_RECIPIENTS\``,
      `at most ${MAX_SEND_GROUPS}, \`MAX_SEND_GROUPS\``,
      '`g` and 16 hex digits, `GROUP_ID_PATTERN`'
    ]) assert.ok(doc.includes(fact), fact)
    assert.equal(GROUP_ID_PATTERN.source, '^g[0-9a-f]{16}$')
  })

  it('DELETE /v1/members/{ref} says what a removal does', () => {
    const { description } = operation(site, 'delete', '/v1/members/{ref}')
    for (const fact of ['connections of its devices end', 'queued for them are dropped', 'invite not yet redeemed', 'INVITE_UNKNOWN', 'Invites issued afterwards']) {
      assert.ok(description.includes(fact), fact)
    }
  })

  it('a member\'s reply: content limits', () => {
    const reply = requestBody(operation(member, 'post', '/v1/inbox/{id}/reply')).properties
    assert.equal(reply.body.maxLength, MAX_BODY_BYTES)
    assert.equal(reply.subject.maxLength, MAX_SUBJECT_BYTES)
  })

  it('no other default content type is named anywhere in the documents', () => {
    for (const doc of [site, member]) {
      const text = JSON.stringify(doc)
      for (const type of text.match(/(?:empty|default)[^"]{0,40}text\/[a-z]+/g) ?? []) assert.ok(type.endsWith(DEFAULT_CONTENT_TYPE), type)
    }
  })

  it('metrics: tmtp_deliveries_total starts with one zero series per settled state', async () => {
    const node = Object.assign(new TypedEventEmitter(), { peerId: '' }) as unknown as SiteNode
    const metrics = new SiteMetrics(node)
    try {
      const series = (await metrics.registry.getSingleMetric('tmtp_deliveries_total')?.get())?.values ?? []
      assert.deepEqual(series.map(s => s.labels.state), SETTLED_STATES)
      assert.ok(series.every(s => s.value === 0))
    } finally {
      metrics.stop()
    }
  })

  it('docs/api.md states the webhook defaults of WEBHOOK_DEFAULTS', async () => {
    const doc = await readFile(fileURLToPath(new URL('../../docs/api.md', import.meta.url)), 'utf8')
    const retries = /\*\*Retries\.\*\*([^]*?)\n\n/.exec(doc)?.[1].replace(/\s+/g, ' ') ?? ''
    assert.ok(retries.includes(`timeout ${WEBHOOK_DEFAULTS.timeoutMs / 1000} s`), retries)
    assert.ok(retries.includes(`${WEBHOOK_DEFAULTS.retryBaseMs / 1000} s doubling up to ${WEBHOOK_DEFAULTS.retryCapMs / 60_000} minutes`), retries)
    assert.ok(retries.includes(`after ${WEBHOOK_DEFAULTS.maxAttempts} refusals of it`), retries)
    assert.ok(retries.includes(`or after ${WEBHOOK_DEFAULTS.maxAgeMs / 3600_000} hours`), retries)
    assert.ok(doc.replace(/\s+/g, ' ').includes(`refuses timestamps more than ${WEBHOOK_DEFAULTS.toleranceSeconds / 60} minutes from its clock`))
  })
})
