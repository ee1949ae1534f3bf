import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { TypedEventEmitter } from 'main-event'
import { checkAllowedHosts, createMemberApi, createSiteApi, hostAllowed } from '../../src/api/index.js'
import { TOKEN, assertError, call, json } from '../support/api.js'
import type { FastifyInstance } from 'fastify'
import type { MemberNode, SiteNode } from '../../src/node/index.js'

const PEER_ID = '12D3KooWHostCheckStubPeerIdThatMustNeverLeak'

/** Enough of a node for the routes that answer without calling it (health, OpenAPI) and the 401s. */
function stubNode<T> (): T {
  return Object.assign(new TypedEventEmitter(), { peerId: PEER_ID, storageFailure: () => undefined }) as unknown as T
}

const APIS = {
  site: (allowedHosts?: string[]) => createSiteApi({ node: stubNode<SiteNode>(), token: TOKEN, allowedHosts }),
  member: (allowedHosts?: string[]) => createMemberApi({ node: stubNode<MemberNode>(), token: TOKEN, allowedHosts })
}

/**
 * A request written byte for byte to the API's socket on 127.0.0.1, as a DNS-rebound page's
 * request arrives there (fetch would set the Host itself); read until the server closes.
 */
async function raw (port: number, text: string): Promise<{ statusCode: number, body: string }> {
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    const chunks: Buffer[] = []
    socket.on('data', chunk => { chunks.push(chunk) })
    socket.on('error', reject)
    socket.on('close', () => { resolve(Buffer.concat(chunks).toString('latin1')) })
    socket.end(text)
  })
  return { statusCode: Number(/^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1] ?? 0), body: answer.slice(answer.indexOf('\r\n\r\n') + 4) }
}

const get = (path: string, host: string): string => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`

describe('api: the local APIs answer only to local names (Host)', () => {
  it('the rule: loopback names with or without a port, and the names given', () => {
    const none = new Set<string>()
    for (const host of ['localhost', 'localhost:8470', 'LocalHost', '127.0.0.1', '127.0.0.1:80', '127.255.0.9:65535', '[::1]', '[::1]:8470']) {
      assert.equal(hostAllowed(host, none), true, host)
    }
    for (const host of [
      undefined, '', 'evil.example', 'evil.example:8470', 'localhost.evil.example', 'evil.localhost', 'localhost.', '128.0.0.1', '127.0.0.256',
      '127.0.1', '127.00.0.1', '0.0.0.0', '[::]', '[::ffff:127.0.0.1]', '::1', 'localhost:', 'localhost:99999', 'localhost:80:80', 'local host', '[::1'
    ]) {
      assert.equal(hostAllowed(host, none), false, String(host))
    }
    const allowed = new Set(checkAllowedHosts(['TMTP.internal', '192.168.1.5', '[FD00::5]']))
    for (const host of ['tmtp.internal', 'tmtp.internal:8470', 'Tmtp.Internal', '192.168.1.5:80', '[fd00::5]:1']) assert.equal(hostAllowed(host, allowed), true, host)
    for (const host of ['other.internal', 'sub.tmtp.internal', '192.168.1.6']) assert.equal(hostAllowed(host, allowed), false, host)
  })

  it('allowed hosts are checked: a name, an IPv4 address or a bracketed IPv6 address without a port, else NodeError INVALID_ARGUMENT', () => {
    assert.deepEqual(checkAllowedHosts(['Tmtp.Internal', '10.0.0.1', '[fd00::5]', 'a-b.c']), ['tmtp.internal', '10.0.0.1', '[fd00::5]', 'a-b.c'])
    const invalid = { name: 'NodeError', code: 'INVALID_ARGUMENT' }
    for (const bad of ['', 'tmtp.internal:8470', 'http://tmtp.internal', '*.internal', 'fd00::5', '[not-ipv6]', '-a.b', 'a..b', 'a b', 'x'.repeat(64), 7, null]) {
      assert.throws(() => checkAllowedHosts([bad]), invalid, String(bad))
    }
    assert.throws(() => checkAllowedHosts('tmtp.internal'), invalid)
    for (const make of Object.values(APIS)) assert.throws(() => make(['evil.example:80']), invalid)
  })

  for (const [role, make] of Object.entries(APIS)) {
    describe(`the ${role} API`, () => {
      let api: FastifyInstance
      afterEach(async () => { await api.close() })

      it('a forged Host is 421 HOST_NOT_ALLOWED on every route, public or not, with or without the token, before authentication', async () => {
        api = make()
        for (const host of ['evil.example', 'evil.example:80', '0.0.0.0:8470', 'localhost.evil.example']) {
          for (const url of ['/healthz', '/openapi.json', '/v1/status', '/v1/no-such-route']) {
            for (const token of [undefined, false, 'wrong-token-0123456789'] as const) {
              const res = await call(api, 'GET', url, { headers: { host }, token })
              assertError(res, 421, 'HOST_NOT_ALLOWED')
              assert.ok(!res.body.includes(PEER_ID), res.body)
              assert.ok(!res.body.includes(host), 'the Host is not echoed')
            }
          }
        }
        // a real client's loopback names pass
        for (const host of ['localhost:8470', '127.0.0.1', '[::1]:1']) assert.equal((await call(api, 'GET', '/healthz', { headers: { host } })).statusCode, 200, host)
      })

      it('the names the operator gives are answered too, and only those', async () => {
        api = make(['tmtp.internal'])
        assert.equal((await call(api, 'GET', '/healthz', { headers: { host: 'tmtp.internal:8470' } })).statusCode, 200)
        assert.equal((await call(api, 'GET', '/healthz', { headers: { host: 'localhost' } })).statusCode, 200)
        assertError(await call(api, 'GET', '/healthz', { headers: { host: 'other.internal' } }), 421, 'HOST_NOT_ALLOWED')
      })

      it('over a real socket to 127.0.0.1: a rebound name is refused, a loopback one answered', async () => {
        api = make()
        const port = Number(new URL(await api.listen({ host: '127.0.0.1', port: 0 })).port)
        for (const path of ['/healthz', '/openapi.json', '/v1/status']) {
          assertError(await raw(port, get(path, `rebind.evil.example:${port}`)), 421, 'HOST_NOT_ALLOWED')
        }
        // HTTP/1.0 may leave the Host out: no name is no local name
        assertError(await raw(port, 'GET /healthz HTTP/1.0\r\n\r\n'), 421, 'HOST_NOT_ALLOWED')
        const health = await raw(port, get('/healthz', `127.0.0.1:${port}`))
        assert.equal(health.statusCode, 200)
        assert.deepEqual(json(health), { status: 'ok', role })
      })

      it('answers without the token name nothing that identifies the node', async () => {
        api = make()
        const health = await call(api, 'GET', '/healthz', { token: false })
        assert.deepEqual(json(health), { status: 'ok', role })
        for (const url of ['/openapi.json', '/v1/status', '/v1/no-such-route']) {
          const res = await call(api, 'GET', url, { token: false })
          assert.ok(!res.body.includes(PEER_ID), `${url} names the node`)
        }
      })
    })
  }
})
