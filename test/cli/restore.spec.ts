import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createMemberNode, loadEncryptionKey, loadIdentity, sealBackup } from '../../src/node/index.js'
import { spawn } from 'node:child_process'
import { BIN, tmtp, tmtpJson } from '../support/cli.js'

/**
 * `tmtp init --role member --restore FILE`: a device made from an identity backup has the
 * backed-up device's keys (so its PeerId), owner-only, and its sites (a left one blocked);
 * nothing secret is printed. The page's side of the round trip (export in Chromium, restore
 * here) is test/web/inbox.spec.ts; a restored device receiving from its site,
 * test/node/restore.spec.ts.
 */

const PASSPHRASE = 'restore me, please'
const SITES = [
  { peerId: '12D3KooWD5ADi81yH4qRWnZ7zbJgmTMgqtQfmteGhYTE9fDisB2B', name: 'Example Club', member: 'm0123456789abcdef', addrs: ['/ip4/127.0.0.1/tcp/4001'], joined: 1700000000000 },
  { peerId: '12D3KooWMz1UD3pbSdSbg7nT1J4QLa7GhockcavJ1rnSUsjTwaJo', name: 'Old Club', member: 'm0000000000000001', addrs: [], joined: 1700000000001, left: 1700000000002 }
]

describe('cli: tmtp init --restore', function () {
  this.timeout(60_000)
  let root: string
  let original: string
  let backupFile: string
  let peerId: string
  let secrets: string[]

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'tmtp-restore-'))
    original = join(root, 'original')
    peerId = (await tmtpJson(['init', '--role', 'member', '--data', original])).peerId
    const signer = await loadIdentity(original)
    const encryption = await loadEncryptionKey(original)
    secrets = [signer.seed, encryption.privateKey].flatMap(key => (['base64url', 'base64', 'hex'] as const).map(encoding => Buffer.from(key).toString(encoding)))
    backupFile = join(root, 'backup.json')
    await writeFile(backupFile, JSON.stringify(await sealBackup({ ed25519: signer.seed, x25519: encryption.privateKey, sites: SITES }, PASSPHRASE, { cost: { N: 2 ** 14, r: 8, p: 1 } })))
  })

  after(async () => {
    await rm(root, { recursive: true, force: true })
  })

  function assertNothingSecret (output: string): void {
    assert.ok(!output.includes(PASSPHRASE), 'the passphrase is never printed')
    for (const secret of secrets) assert.ok(!output.includes(secret), 'a key is never printed')
  }

  it('makes a device of the same identity, keys owner-only, with the backed-up sites', async () => {
    const dir = join(root, 'restored')
    const result = await tmtp(['init', '--role', 'member', '--name', 'laptop', '--data', dir, '--restore', backupFile, '--json'], { env: { TMTP_BACKUP_PASSPHRASE: PASSPHRASE } })
    assert.equal(result.code, 0, result.stderr)
    const out = JSON.parse(result.stdout)
    assert.equal(out.peerId, peerId)
    assert.equal(out.role, 'member')
    assert.deepEqual(out.restoredSites, SITES)
    assertNothingSecret(result.stdout + result.stderr)
    for (const file of ['identity.key', 'encryption.key']) {
      assert.deepEqual(await readFile(join(dir, file)), await readFile(join(original, file)), file)
      assert.equal((await stat(join(dir, file))).mode & 0o777, 0o600, file)
    }
    assert.equal((await stat(dir)).mode & 0o777, 0o700)
    // the device starts with its sites, and the one it left stays refused
    const device = await createMemberNode({ dataDir: dir, listen: [], dht: false, connectToSites: false })
    try {
      assert.equal(device.peerId, peerId)
      assert.deepEqual(await device.sites(), SITES)
      assert.deepEqual((await device.blocked()).map(b => [b.peer, b.at, b.reason]), [[SITES[1].peerId, SITES[1].left, 'left the site']])
    } finally {
      await device.stop()
    }
    const human = await tmtp(['init', '--role', 'member', '--data', join(root, 'human'), '--restore', backupFile], { env: { TMTP_BACKUP_PASSPHRASE: PASSPHRASE } })
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stderr, new RegExp(`restored identity ${peerId} and 2 site\\(s\\): "Example Club" ${SITES[0].peerId}, "Old Club" ${SITES[1].peerId} \\(left\\)`))
    assert.match(human.stdout, new RegExp(`peer id: +${peerId}`))
    assertNothingSecret(human.stdout + human.stderr)
  })

  it('asks for the passphrase on a terminal without echoing it', async function () {
    // util-linux's script(1) gives the command a terminal
    if (await stat('/usr/bin/script').catch(() => undefined) === undefined) this.skip()
    const dir = join(root, 'terminal')
    const env: NodeJS.ProcessEnv = { ...process.env, TMTP_BACKUP_PASSPHRASE: '' }
    delete env.NODE_OPTIONS
    const quote = (arg: string): string => `'${arg.replace(/'/g, "'\\''")}'`
    const child = spawn('/usr/bin/script', ['-qec', [process.execPath, BIN, 'init', '--role', 'member', '--data', dir, '--restore', backupFile].map(quote).join(' '), '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let output = ''
    const exited = new Promise<number | null>(resolve => { child.once('close', resolve) })
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk
        if (output.includes('passphrase of the backup: ')) resolve()
      })
      child.once('close', () => { reject(new Error(`no prompt: ${output}`)) })
    })
    // typed with a slip, corrected with backspace
    child.stdin.write(`${PASSPHRASE.slice(0, -1)}x\u007f${PASSPHRASE.slice(-1)}\r`)
    assert.equal(await exited, 0, output)
    assert.match(output, new RegExp(`peer id: +${peerId}`))
    assertNothingSecret(output)
    assert.deepEqual(await readFile(join(dir, 'identity.key')), await readFile(join(original, 'identity.key')))
  })

  it('a wrong passphrase, a file that is not a backup or no passphrase restores nothing, with a stable code (exit 1)', async () => {
    const notBackup = join(root, 'not-a-backup.json')
    await writeFile(notBackup, '{"format":"something else"}')
    const cases: Array<[string[], NodeJS.ProcessEnv, string]> = [
      [['--restore', backupFile], { TMTP_BACKUP_PASSPHRASE: 'not the passphrase' }, 'WRONG_PASSPHRASE'],
      [['--restore', notBackup], { TMTP_BACKUP_PASSPHRASE: PASSPHRASE }, 'BAD_BACKUP'],
      [['--restore', join(root, 'missing.json')], { TMTP_BACKUP_PASSPHRASE: PASSPHRASE }, 'INVALID_ARGUMENT'],
      // stdin is a pipe, not a terminal, and no passphrase is given
      [['--restore', backupFile], {}, 'NO_PASSPHRASE']
    ]
    for (const [args, env, code] of cases) {
      const dir = join(root, `failed-${code}`)
      const result = await tmtp(['init', '--role', 'member', '--data', dir, ...args, '--json'], { env: { TMTP_BACKUP_PASSPHRASE: '', ...env } })
      assert.equal(result.code, 1, `${code}: ${result.stderr}`)
      assert.equal(JSON.parse(result.stderr).error.code, code, result.stderr)
      assertNothingSecret(result.stdout + result.stderr)
      const left = await readdir(dir).catch((): string[] => [])
      assert.ok(!left.includes('identity.key') && !left.includes('config.json'), `${code}: nothing restored (${left.join(', ')})`)
    }
  })

  it('refuses a site role, an initialised folder and one with a key, which it leaves as they were', async () => {
    const site = await tmtp(['init', '--role', 'site', '--data', join(root, 'site'), '--restore', backupFile], { env: { TMTP_BACKUP_PASSPHRASE: PASSPHRASE } })
    assert.equal(site.code, 1)
    assert.match(site.stderr, /--restore makes a member device/)
    const key = await readFile(join(original, 'identity.key'))
    const again = await tmtp(['init', '--role', 'member', '--data', original, '--restore', backupFile], { env: { TMTP_BACKUP_PASSPHRASE: PASSPHRASE } })
    assert.equal(again.code, 1)
    assert.match(again.stderr, /already initialised/)
    assert.deepEqual(await readFile(join(original, 'identity.key')), key)
    // nor a key file of a folder that an init left half made
    const half = join(root, 'half')
    await mkdir(half, { mode: 0o700 })
    await writeFile(join(half, 'identity.key'), new Uint8Array(32).fill(1), { mode: 0o600 })
    const over = await tmtp(['init', '--role', 'member', '--data', half, '--restore', backupFile, '--json'], { env: { TMTP_BACKUP_PASSPHRASE: PASSPHRASE } })
    assert.equal(over.code, 1, over.stderr)
    assert.equal(JSON.parse(over.stderr).error.code, 'INVALID_ARGUMENT')
    assert.match(over.stderr, /identity\.key exists/)
    assert.deepEqual(await readdir(half), ['identity.key'])
    assert.deepEqual(await readFile(join(half, 'identity.key')), Buffer.alloc(32, 1))
  })
})
