import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { createSiteApi } from '../../src/api/index.js'
import { TestNet } from '../support/nodes.js'
import { TOKEN } from '../support/api.js'
import type { FastifyInstance } from 'fastify'
import type { SiteNode } from '../../src/node/site-node.js'

interface RawAnswer {
  status: number
  code?: string
  text: string
}

/** Writes `request` byte for byte to the API's socket and reads the answer until the server closes. */
async function raw (port: number, request: string | Buffer, timeoutMs = 5_000): Promise<RawAnswer> {
  return await new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    const chunks: Buffer[] = []
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('the API did not answer')) }, timeoutMs)
    socket.on('data', chunk => { chunks.push(chunk) })
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('latin1')
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
      const body = text.slice(text.indexOf('\r\n\r\n') + 4)
      let code: string | undefined
      try {
        code = (JSON.parse(body) as { error?: { code?: string } }).error?.code
      } catch {}
      resolve({ status, code, text })
    })
    socket.write(request)
  })
}

const get = (path: string, headers: string[] = []): string =>
  [`GET ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...headers, '', ''].join('\r\n')

describe('hostile API clients (raw HTTP on a socket)', function () {
  this.timeout(30_000)
  let net: TestNet
  let site: SiteNode
  let api: FastifyInstance
  let port: number

  before(async () => {
    net = await TestNet.create()
    site = await net.site('site')
    api = createSiteApi({ node: site, token: TOKEN, name: 'Example site', limits: { bodyLimit: 64 * 1024 } })
    port = Number(new URL(await api.listen({ host: '127.0.0.1', port: 0 })).port)
  })

  after(async () => {
    await api.close()
    await net.cleanup()
  })

  afterEach(async () => {
    // whatever came before, the API still answers
    assert.equal((await raw(port, get('/healthz'))).status, 200)
    assert.equal((await raw(port, get('/v1/status', [`Authorization: Bearer ${TOKEN}`]))).status, 200)
  })

  it('no path through a public route reaches a private one without the token', async () => {
    const paths = [
      '/healthz/../v1/status', '/healthz/..%2Fv1%2Fstatus', '/healthz%2F..%2Fv1%2Fstatus', '/openapi.json/../v1/members',
      '/./v1/status', '/v1/./status', '/v1/status/', '/V1/STATUS', '/v1/status;healthz', '/v1/status%00', '/v1/status?/healthz',
      '/v1/status#/healthz', '//healthz/../v1/members', 'http://127.0.0.1/v1/status', '*'
    ]
    for (const path of paths) {
      // unknown routes need the token too, so every trick ends at the bearer check
      const answer = await raw(port, get(path))
      assert.equal(answer.status, 401, path)
      assert.equal(answer.code, 'UNAUTHORIZED', path)
      assert.ok(!answer.text.includes(site.peerId), `${path} leaked the status`)
    }
  })

  it('headers over 16 KiB: 431 in the API\'s error shape, the token never echoed', async () => {
    const big = await raw(port, get('/v1/status', [`X-Filler: ${'a'.repeat(20_000)}`, `Authorization: Bearer ${TOKEN}`]))
    assert.equal(big.status, 431)
    assert.equal(big.code, 'INVALID_REQUEST')
    assert.ok(!big.text.includes(TOKEN))
    const hugeToken = await raw(port, get('/v1/status', [`Authorization: Bearer ${TOKEN}${'b'.repeat(20_000)}`]))
    assert.equal(hugeToken.status, 431)
    assert.ok(!hugeToken.text.includes(TOKEN))
    const many = await raw(port, get('/v1/status', Array.from({ length: 3_000 }, (_, i) => `X-H${i}: v`)))
    assert.equal(many.status, 431, 'many small headers count toward the limit too')
  })

  it('requests that do not parse: 400 INVALID_REQUEST, the token never echoed', async () => {
    const requests = [
      get('/v1/status', [`Authorization: Bearer ${TOKEN}\rX-Injected: 1`]),
      get('/v1/status', ['X-Bad: a\u0000b']),
      'GET /v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\n X-Folded: continued\r\n\r\n',
      'GET /v1/sta tus HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n',
      'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
      'HELLO\r\n\r\n',
      `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n0\r\n\r\n`
    ]
    for (const request of requests) {
      const answer = await raw(port, request)
      assert.equal(answer.status, 400, JSON.stringify(request.slice(0, 60)))
      assert.equal(answer.code, 'INVALID_REQUEST')
      assert.ok(!answer.text.includes(TOKEN))
    }
  })

  it('a declared body over the limit is refused with 413 before it is sent; a chunked one while it is sent', async () => {
    const declared = await raw(port, [
      'POST /v1/messages HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close', `Authorization: Bearer ${TOKEN}`,
      'Content-Type: application/json', 'Content-Length: 10000000000', '', ''
    ].join('\r\n'))
    assert.equal(declared.status, 413)
    assert.equal(declared.code, 'BODY_TOO_LARGE')
    const chunk = 'a'.repeat(16 * 1024)
    const chunked = await raw(port, [
      'POST /v1/messages HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close', `Authorization: Bearer ${TOKEN}`,
      'Content-Type: application/json', 'Transfer-Encoding: chunked', '', ''
    ].join('\r\n') + `${(chunk.length).toString(16)}\r\n${chunk}\r\n`.repeat(8) + '0\r\n\r\n')
    assert.equal(chunked.status, 413)
    assert.equal(chunked.code, 'BODY_TOO_LARGE')
    assert.deepEqual((await site.stats()).queued, 0)
  })

  it('of two Authorization headers the first counts: a wrong one cannot be followed by the right one', async () => {
    const answer = await raw(port, get('/v1/status', ['Authorization: Bearer wrong-token-0123456789', `Authorization: Bearer ${TOKEN}`]))
    assert.equal(answer.status, 401)
    assert.equal(answer.code, 'UNAUTHORIZED')
  })
})
