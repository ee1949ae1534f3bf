import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { TypedEventEmitter } from 'main-event'
import { ApiError, createMemberApi, createSiteApi, toHttpError } from '../../src/api/index.js'
import { NodeError } from '../../src/util/node-error.js'
import { ErrorCode, TmtpError } from '../../src/protocol/errors.js'
import { DELIVERY_STATES } from '../../src/node/index.js'
import { TOKEN, assertError, call, json } from '../support/api.js'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { MemberNode } from '../../src/node/member-node.js'
import type { SiteNode } from '../../src/node/site-node.js'

/** A logger that keeps every line, with errors spelled out (message, stack, own fields). */
function captureLogger (): { logger: FastifyBaseLogger, lines: string[] } {
  const lines: string[] = []
  const replacer = (_key: string, value: unknown): unknown =>
    value instanceof Error ? { ...value, name: value.name, message: value.message, stack: value.stack } : value
  const log = (level: string) => (...args: unknown[]): void => { lines.push(`${level} ${JSON.stringify(args, replacer)}`) }
  const logger: FastifyBaseLogger = {
    level: 'trace',
    fatal: log('fatal'),
    error: log('error'),
    warn: log('warn'),
    info: log('info'),
    debug: log('debug'),
    trace: log('trace'),
    silent: () => {},
    child: () => logger
  }
  return { logger, lines }
}

/** A node whose calls throw what the test says; enough of a node for the routes used here. */
function stubSite (fail: () => never): SiteNode {
  return Object.assign(new TypedEventEmitter(), {
    peerId: '12D3KooWStub',
    storageFailure: () => undefined,
    members: async () => fail(),
    member: async () => fail(),
    message: async () => fail(),
    send: async () => fail()
  }) as unknown as SiteNode
}

describe('api: errors', () => {
  describe('toHttpError', () => {
    it('maps every kind of error to a status and a stable code', () => {
      const cases: Array<[unknown, number, string]> = [
        [new ApiError('INVALID_REQUEST', 'x'), 400, 'INVALID_REQUEST'],
        [new ApiError('RATE_LIMITED', 'x'), 429, 'RATE_LIMITED'],
        [new ApiError('HOST_NOT_ALLOWED', 'x'), 421, 'HOST_NOT_ALLOWED'],
        [new NodeError('INVALID_ARGUMENT', 'x'), 400, 'INVALID_ARGUMENT'],
        [new NodeError('UNKNOWN_MEMBER', 'x'), 404, 'UNKNOWN_MEMBER'],
        [new NodeError('UNKNOWN_MESSAGE', 'x'), 404, 'UNKNOWN_MESSAGE'],
        [new NodeError('UNKNOWN_SITE', 'x'), 404, 'UNKNOWN_SITE'],
        [new NodeError('UNKNOWN_GROUP', 'x'), 404, 'UNKNOWN_GROUP'],
        [new NodeError('GROUP_NAME_TAKEN', 'x'), 409, 'GROUP_NAME_TAKEN'],
        [new NodeError('INVALID_GROUP_NAME', 'x'), 400, 'INVALID_GROUP_NAME'],
        [new NodeError('TOO_MANY_MEMBERS', 'x'), 400, 'TOO_MANY_MEMBERS'],
        [new NodeError('NO_DEVICES', 'x'), 422, 'NO_DEVICES'],
        [new NodeError('NO_KEY_EPOCH', 'x'), 409, 'NO_KEY_EPOCH'],
        [new NodeError('UNREACHABLE', 'x'), 502, 'UNREACHABLE'],
        [new NodeError('NOT_RUNNING', 'x'), 503, 'NOT_RUNNING'],
        [new NodeError('IDENTITY_UNSAFE', 'x'), 500, 'INTERNAL'],
        [new TmtpError(ErrorCode.INVITE_USED, 'x'), 422, 'INVITE_USED'],
        [new TmtpError(ErrorCode.EXPIRED, 'x'), 422, 'EXPIRED'],
        [new TmtpError(ErrorCode.BAD_TOKEN, 'x'), 422, 'BAD_TOKEN'],
        [new TmtpError(ErrorCode.BAD_SIGNATURE, 'x'), 422, 'BAD_SIGNATURE'],
        [new TmtpError(ErrorCode.BLOCKED, 'x'), 422, 'BLOCKED'],
        [new TmtpError(ErrorCode.RATE_LIMITED, 'x'), 429, 'RATE_LIMITED'],
        [new TmtpError(ErrorCode.TIMEOUT, 'x'), 504, 'TIMEOUT'],
        [new TmtpError(ErrorCode.STORAGE_FAILURE, 'x'), 503, 'STORAGE_FAILURE'],
        [new TmtpError(ErrorCode.INTERNAL, 'x'), 500, 'INTERNAL'],
        [Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }), 413, 'BODY_TOO_LARGE'],
        [Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
        [Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400 }), 400, 'INVALID_REQUEST'],
        [Object.assign(new Error('x'), { code: 'FST_ERR_VALIDATION', statusCode: 400 }), 400, 'INVALID_REQUEST'],
        [Object.assign(new Error('x'), { statusCode: 408 }), 408, 'INVALID_REQUEST'],
        [new Error('boom'), 500, 'INTERNAL'],
        [new TypeError('cannot read x of undefined'), 500, 'INTERNAL'],
        ['a string', 500, 'INTERNAL'],
        [undefined, 500, 'INTERNAL'],
        [null, 500, 'INTERNAL']
      ]
      for (const [err, status, code] of cases) {
        const http = toHttpError(err)
        assert.deepEqual([http.status, http.code], [status, code], `${String(err)}`)
      }
      assert.equal(toHttpError(new Error('secret detail')).message.includes('secret detail'), false, 'a 500 says nothing of the cause')
    })
  })

  describe('unexpected errors and logs', () => {
    let api: FastifyInstance | undefined
    afterEach(async () => { await api?.close() })

    it('answers 500 INTERNAL, logs the error, and never logs the token', async () => {
      const { logger, lines } = captureLogger()
      api = createSiteApi({ node: stubSite(() => { throw new Error('the disk is on fire') }), token: TOKEN, logger })
      // (not through call(), which refuses any 5xx: this one is on purpose)
      const raw = await api.inject({ method: 'GET', url: '/v1/members', headers: { authorization: `Bearer ${TOKEN}`, cookie: `token=${TOKEN}` } })
      assertError(raw, 500, 'INTERNAL')
      assert.ok(!raw.body.includes('fire'))
      assert.ok(lines.some(l => l.includes('the disk is on fire')), 'the cause is logged')
      // requests with wrong tokens, bad bodies, unknown routes: nothing logs a token
      const wrong = 'wrong-token-that-should-not-be-logged'
      await api.inject({ method: 'GET', url: '/v1/members', headers: { authorization: `Bearer ${wrong}` } })
      await api.inject({ method: 'POST', url: '/v1/messages', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, payload: '{bad' })
      await api.inject({ method: 'GET', url: '/nowhere', headers: { authorization: `Bearer ${TOKEN}` } })
      for (const line of lines) {
        assert.ok(!line.includes(TOKEN), `a log line holds the token: ${line}`)
        assert.ok(!line.includes(wrong), `a log line holds a presented token: ${line}`)
      }
    })

    it('library errors keep their codes through the routes', async () => {
      let next: Error = new NodeError('UNKNOWN_MEMBER', 'no such member')
      api = createSiteApi({ node: stubSite(() => { throw next }), token: TOKEN })
      assertError(await call(api, 'GET', '/v1/members/x'), 404, 'UNKNOWN_MEMBER')
      next = new NodeError('UNREACHABLE', 'no route to peer')
      assertError(await call(api, 'GET', '/v1/members/x', { serverError: true }), 502, 'UNREACHABLE')
      next = new TmtpError(ErrorCode.BAD_SIGNATURE, 'bad signature')
      assertError(await call(api, 'GET', '/v1/members/x'), 422, 'BAD_SIGNATURE')
      next = new NodeError('NO_KEY_EPOCH', 'no epoch')
      assertError(await call(api, 'GET', '/v1/members/x'), 409, 'NO_KEY_EPOCH')
    })
  })

  describe('malformed HTTP', () => {
    let api: FastifyInstance | undefined
    afterEach(async () => { await api?.close() })

    /** Writes raw bytes to the listening API and reads until it closes the connection. */
    async function raw (address: string, data: string): Promise<string> {
      const url = new URL(address)
      return await new Promise((resolve, reject) => {
        const socket = connect(Number(url.port), url.hostname, () => { socket.write(data) })
        let answer = ''
        socket.setEncoding('utf8')
        socket.on('data', chunk => { answer += chunk })
        socket.on('end', () => { resolve(answer) })
        socket.on('error', reject)
      })
    }

    it('answers requests that do not parse in the same shape, and logs no token', async () => {
      const { logger, lines } = captureLogger()
      api = createSiteApi({ node: stubSite(() => { throw new Error('unused') }), token: TOKEN, logger })
      const address = await api.listen({ host: '127.0.0.1', port: 0 })
      for (const request of [
        `GET /v1/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nBad Header Line\r\n\r\n`,
        `GET /v1/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n`,
        'NOT HTTP AT ALL\r\n\r\n'
      ]) {
        const answer = await raw(address, request)
        assert.match(answer, /^HTTP\/1\.1 400 /)
        const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))
        assert.equal(body.error.code, 'INVALID_REQUEST')
      }
      for (const line of lines) assert.ok(!line.includes(TOKEN), `a log line holds the token: ${line}`)
    })
  })

  describe('limits and options', () => {
    let api: FastifyInstance | undefined
    afterEach(async () => { await api?.close() })

    it('rate limits per client: 429 RATE_LIMITED with Retry-After, before authentication', async () => {
      api = createSiteApi({ node: stubSite(() => { throw new NodeError('UNKNOWN_MEMBER', 'x') }), token: TOKEN, limits: { rateLimit: { max: 3, windowMs: 60_000 } } })
      for (let i = 0; i < 3; i++) assert.equal((await call(api, 'GET', '/healthz')).statusCode, 200)
      const limited = await call(api, 'GET', '/healthz')
      assertError(limited, 429, 'RATE_LIMITED')
      assert.equal(limited.headers['retry-after'], '60')
      assertError(await call(api, 'GET', '/v1/members', { token: 'wrong' }), 429, 'RATE_LIMITED')
    })

    it('refuses a short token, a bad body limit, a bad rate limit, a bad webhook: NodeError INVALID_ARGUMENT', () => {
      const node = stubSite(() => { throw new Error('unused') })
      const invalid = { name: 'NodeError', code: 'INVALID_ARGUMENT' }
      assert.throws(() => createSiteApi({ node, token: 'short' }), invalid)
      assert.throws(() => createSiteApi({ node, token: '' }), invalid)
      assert.throws(() => createSiteApi({ node, token: TOKEN, limits: { bodyLimit: 0 } }), invalid)
      assert.throws(() => createSiteApi({ node, token: TOKEN, limits: { rateLimit: { max: 0 } } }), invalid)
      assert.throws(() => createSiteApi({ node, token: TOKEN, limits: { rateLimit: { max: 10, windowMs: 1.5 } } }), invalid)
      assert.throws(() => createSiteApi({ node, token: TOKEN, webhook: { url: 'not a url', secret: 's'.repeat(32) } }), invalid)
      assert.throws(() => createSiteApi({ node, token: TOKEN, webhook: { url: 'ftp://example.com/', secret: 's'.repeat(32) } }), invalid)
      assert.throws(() => createSiteApi({ node, token: TOKEN, webhook: { url: 'http://user:pw@127.0.0.1/', secret: 's'.repeat(32) } }), invalid)
      assert.throws(() => createSiteApi({ node, token: TOKEN, webhook: { url: 'http://127.0.0.1/', secret: 'short' } }), invalid)
      assert.throws(() => createSiteApi({ node, token: TOKEN, webhook: { url: 'http://127.0.0.1/', secret: 's'.repeat(32), maxAttempts: 0 } }), invalid)
      assert.throws(() => createMemberApi({ node: Object.assign(new TypedEventEmitter(), { peerId: 'x' }) as unknown as MemberNode, token: 'short' }), invalid)
    })

    it('the member API answers /healthz with its role (and not its PeerId)', async () => {
      api = createMemberApi({ node: Object.assign(new TypedEventEmitter(), { peerId: '12D3KooWStub', storageFailure: () => undefined }) as unknown as MemberNode, token: TOKEN })
      assert.deepEqual(json(await call(api, 'GET', '/healthz', { token: false })), { status: 'ok', role: 'member' })
      assertError(await call(api, 'GET', '/v1/status', { token: false }), 401, 'UNAUTHORIZED')
    })

    it('/healthz answers 503 STORAGE_FAILURE with its time once the node\'s storage failed; the reason, which names the data folder, only behind the token (GET /v1/status)', async () => {
      const storage = { code: 'STORAGE_FAILURE' as const, message: 'database write failed: IO error: /home/ann/.local/share/tmtp/db/000005.log: No space left on device', at: 1_700_000_000_000 }
      // what GET /v1/status reads besides the failure
      const running = { storageFailure: () => storage, multiaddrs: () => [], libp2p: { getPeers: () => [] } }
      for (const make of [
        () => createSiteApi({
          node: Object.assign(stubSite(() => { throw new Error('unused') }), running, { stats: async () => ({ queued: 0, activeDeliveries: 0, states: Object.fromEntries(DELIVERY_STATES.map(state => [state, 0])) }) }),
          token: TOKEN
        }),
        () => createMemberApi({ node: Object.assign(new TypedEventEmitter(), { peerId: '12D3KooWStub', sites: async () => [], inbox: async () => [] }, running) as unknown as MemberNode, token: TOKEN })
      ]) {
        api = make()
        const answer = await call(api, 'GET', '/healthz', { token: false, serverError: true })
        assertError(answer, 503, 'STORAGE_FAILURE')
        assert.match(json(answer).error.message, /a write failed at 2023-11-14T22:13:20.000Z: restart the node/)
        for (const secret of ['/home/ann', '000005.log', 'No space left']) assert.ok(!answer.body.includes(secret), answer.body)
        assert.deepEqual(json(await call(api, 'GET', '/v1/status')).storageFailure, storage)
        await api.close()
        api = undefined
      }
    })
  })
})
