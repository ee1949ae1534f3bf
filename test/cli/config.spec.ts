import assert from 'node:assert/strict'
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ApiClient, exitCodeFor } from '../../src/cli/client.js'
import { dataDir, loadConfig, pidAlive, readRuntime, readToken, writeRuntime } from '../../src/cli/config.js'
import { formatSpan, parseDuration, toSeconds } from '../../src/cli/duration.js'
import { CliError, EXIT } from '../../src/cli/errors.js'
import { table } from '../../src/cli/output.js'
import { initDataDir } from '../../src/cli/commands/init.js'
import { API_ERROR_CODES } from '../../src/api/index.js'
import { ErrorCode, NODE_ERROR_CODES } from '../../src/node/index.js'

function exitCode (code: number) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof CliError, String(err))
    assert.equal(err.exitCode, code, err.message)
    return true
  }
}

describe('cli: configuration, durations and output', () => {
  let dir: string

  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'tmtp-cli-config-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('the data folder: --data, else $TMTP_DATA, else $XDG_DATA_HOME/tmtp, else ~/.local/share/tmtp', () => {
    assert.equal(dataDir('/srv/tmtp', { TMTP_DATA: '/a', XDG_DATA_HOME: '/b' }), '/srv/tmtp')
    assert.equal(dataDir(undefined, { TMTP_DATA: '/a', XDG_DATA_HOME: '/b' }), '/a')
    assert.equal(dataDir(undefined, { TMTP_DATA: '', XDG_DATA_HOME: '/b' }), '/b/tmtp')
    assert.equal(dataDir(undefined, {}), join(homedir(), '.local', 'share', 'tmtp'))
  })

  it('parses durations and refuses others', () => {
    assert.equal(parseDuration('30s'), 30_000)
    assert.equal(parseDuration('15m'), 900_000)
    assert.equal(parseDuration('2h'), 7_200_000)
    assert.equal(parseDuration('7d'), 604_800_000)
    assert.equal(parseDuration('500ms'), 500)
    assert.equal(parseDuration('45'), 45_000)
    for (const bad of ['', 'soon', '-5m', '1.5h', '0s', '3w', '99999999999999999d']) assert.throws(() => parseDuration(bad), exitCode(EXIT.USAGE), bad)
    assert.equal(toSeconds(500), 1)
    assert.equal(formatSpan(850), '850 ms')
    assert.equal(formatSpan(12_345), '12.3 s')
  })

  it('validates config.json field by field', async () => {
    await initDataDir(dir, { role: 'site', name: 'Test' })
    const config = await loadConfig(dir)
    assert.equal(config.role, 'site')
    assert.equal(config.apiHost, '127.0.0.1')
    const cases: Array<[unknown, RegExp]> = [
      ['not json', /not valid JSON/],
      [[], /not a JSON object/],
      [{ role: 'relay' }, /role/],
      [{ role: 'site', listen: '/ip4/127.0.0.1/tcp/0' }, /listen/],
      [{ role: 'site', apiPort: 70000 }, /apiPort/],
      [{ role: 'site', apiHosts: 'tmtp.internal' }, /apiHosts: the allowed hosts must be an array/],
      [{ role: 'site', apiHosts: ['tmtp.internal:8470'] }, /apiHosts: allowed host "tmtp.internal:8470" is not a host name/],
      [{ role: 'site', apiHosts: ['*.internal'] }, /apiHosts: allowed host/],
      [{ role: 'site', fsync: 'yes' }, /fsync/],
      [{ role: 'site', webhook: { url: 'http://x' } }, /webhook/],
      [{ role: 'site', limits: [] }, /limits must be an object/],
      [{ role: 'site', limits: { windw: 10 } }, /limits: unknown windw/],
      [{ role: 'site', limits: { window: 5000 } }, /limit window must be an integer from 1 to 1024/],
      [{ role: 'site', limits: { banMs: '1m' } }, /limit banMs/]
    ]
    for (const [content, message] of cases) {
      await writeFile(join(dir, 'config.json'), typeof content === 'string' ? content : JSON.stringify(content))
      await assert.rejects(loadConfig(dir), (err: unknown) => exitCode(EXIT.USAGE)(err) && message.test((err as Error).message))
    }
    // missing fields take their defaults
    await writeFile(join(dir, 'config.json'), JSON.stringify({ role: 'member' }))
    assert.deepEqual((await loadConfig(dir)).listen, ['/ip4/127.0.0.1/tcp/0'])
    assert.deepEqual((await loadConfig(dir)).limits, {})
    assert.deepEqual((await loadConfig(dir)).apiHosts, [], 'loopback names only')
    await writeFile(join(dir, 'config.json'), JSON.stringify({ role: 'member', apiHost: '0.0.0.0', apiHosts: ['Phone.lan', '192.168.1.5', '[fd00::5]'] }))
    assert.deepEqual((await loadConfig(dir)).apiHosts, ['phone.lan', '192.168.1.5', '[fd00::5]'])
    await writeFile(join(dir, 'config.json'), JSON.stringify({ role: 'site', limits: { window: 64, maxQueuePerDevice: 500 } }))
    assert.deepEqual((await loadConfig(dir)).limits, { window: 64, maxQueuePerDevice: 500 })
  })

  it('refuses a token file others can read, and api.json of a dead process', async () => {
    await initDataDir(dir, { role: 'member', name: 'phone' })
    assert.equal((await stat(join(dir, 'api.token'))).mode & 0o777, 0o600)
    assert.equal((await readToken(dir)).length, 43)
    await writeFile(join(dir, 'api.token'), 'abc', { mode: 0o644 })
    await chmod(join(dir, 'api.token'), 0o644)
    await assert.rejects(readToken(dir), /chmod 600/)

    await writeRuntime(dir, { url: 'http://127.0.0.1:1', pid: process.pid })
    assert.deepEqual(await readRuntime(dir), { url: 'http://127.0.0.1:1', pid: process.pid })
    await writeRuntime(dir, { url: 'http://127.0.0.1:1', pid: 2 ** 22 + 1 })
    assert.equal(await readRuntime(dir), undefined)
    assert.equal(pidAlive(process.pid), true)
    assert.equal(pidAlive(-1), false)
  })

  it('maps API errors to exit codes', () => {
    assert.equal(exitCodeFor(401, 'UNAUTHORIZED'), EXIT.AUTH)
    assert.equal(exitCodeFor(421, 'HOST_NOT_ALLOWED'), EXIT.USAGE, 'config.json apiHosts does not name the host of api.json')
    assert.equal(exitCodeFor(404, 'UNKNOWN_MEMBER'), EXIT.NOT_FOUND)
    assert.equal(exitCodeFor(404, 'NOT_FOUND'), EXIT.NOT_FOUND)
    assert.equal(exitCodeFor(400, 'INVALID_REQUEST'), EXIT.USAGE)
    assert.equal(exitCodeFor(422, 'BAD_TOKEN'), EXIT.REFUSED)
    assert.equal(exitCodeFor(422, 'NO_DEVICES'), EXIT.REFUSED)
    assert.equal(exitCodeFor(502, 'UNREACHABLE'), EXIT.REFUSED)
    assert.equal(exitCodeFor(500, 'INTERNAL'), EXIT.INTERNAL)
    assert.equal(exitCodeFor(503, 'NOT_RUNNING'), EXIT.NOT_RUNNING)
  })

  it('a Host the node does not answer to: exit 1, and the message says which name to add to apiHosts', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(421, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'HOST_NOT_ALLOWED', message: 'this API answers only to loopback host names' } }))
    })
    await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
    try {
      const client = new ApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'token-0123456789abcdef')
      await assert.rejects(client.get('/v1/status'), (err: unknown) => exitCode(EXIT.USAGE)(err) &&
        (err as CliError).code === 'HOST_NOT_ALLOWED' && /add 127\.0\.0\.1 to apiHosts in the node's config\.json/.test((err as Error).message))
    } finally {
      server.close()
    }
  })

  it('knows every code the API answers, whatever the status: protocol, library and API codes', () => {
    // a status that would map otherwise shows that the code decides
    for (const code of Object.values(ErrorCode).filter(c => typeof c === 'string' && c !== ErrorCode.INTERNAL)) {
      assert.equal(exitCodeFor(400, code), EXIT.REFUSED, code)
    }
    for (const code of NODE_ERROR_CODES.filter(c => c.startsWith('UNKNOWN_'))) assert.equal(exitCodeFor(422, code), EXIT.NOT_FOUND, code)
    for (const code of ['INVALID_ARGUMENT', 'WRONG_ROLE']) assert.equal(exitCodeFor(422, code), EXIT.USAGE, code)
    for (const code of ['UNREACHABLE', 'NO_DEVICES', 'NO_KEY_EPOCH', 'QUEUE_FULL']) assert.equal(exitCodeFor(500, code), EXIT.REFUSED, code)
    const api = { INVALID_REQUEST: EXIT.USAGE, BODY_TOO_LARGE: EXIT.USAGE, LENGTH_REQUIRED: EXIT.USAGE, UNSUPPORTED_MEDIA_TYPE: EXIT.USAGE, UNAUTHORIZED: EXIT.AUTH, HOST_NOT_ALLOWED: EXIT.USAGE, NOT_FOUND: EXIT.NOT_FOUND, RATE_LIMITED: EXIT.REFUSED, INTERNAL: EXIT.INTERNAL }
    assert.deepEqual(Object.keys(api).sort(), [...API_ERROR_CODES].sort())
    for (const [code, exit] of Object.entries(api)) assert.equal(exitCodeFor(418, code), exit, code)
    // a code this command does not know (a newer node's): by status
    assert.equal(exitCodeFor(404, 'SOMETHING_NEW'), EXIT.NOT_FOUND)
    assert.equal(exitCodeFor(413, 'HTTP_413'), EXIT.USAGE)
    assert.equal(exitCodeFor(503, 'HTTP_503'), EXIT.INTERNAL)
    assert.equal(exitCodeFor(409, 'SOMETHING_NEW'), EXIT.REFUSED)
  })

  it('prints aligned tables and cuts long cells', () => {
    const text = table(['a', 'bb'], [['1', 'x'.repeat(10)], ['22', undefined]], 5)
    assert.equal(text, 'a   bb\n--  -----\n1   xxxx…\n22')
  })
})
