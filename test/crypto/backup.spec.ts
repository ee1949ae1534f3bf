import assert from 'node:assert/strict'
import { randomBytes, scryptSync } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { scrypt } from '@noble/hashes/scrypt.js'
import { build } from 'esbuild'
import * as nodeBackup from '../../src/crypto/backup.js'
import { Ed25519Signer, peerIdToString } from '../../src/crypto/ed25519.js'
import { browserImports } from '../../scripts/lib/browser-imports.js'
import type { DeviceIdentity, IdentityBackup, ScryptCost } from '../../src/crypto/backup.js'

/**
 * The identity backup's format (docs/backup.md, version 1) on both crypto providers: the module
 * as Node runs it (node:crypto), and the same module bundled as a browser gets it (@noble's
 * scrypt and ChaCha20-Poly1305, WebCrypto's randomness), each opening the other's backups; a
 * file made before the module moved into src/crypto; and the documented bytes, rebuilt here
 * from @noble's and node:crypto's primitives directly.
 */

type BackupModule = typeof nodeBackup

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const FIXTURE = join(ROOT, 'test/crypto/fixtures/identity-backup-v1.json')
const PASSPHRASE = 'correct horse battery'
/** The cheapest cost a reader accepts: the tests' backups, but where the default is the point. */
const LOW: ScryptCost = { N: 2 ** 14, r: 8, p: 1 }

const peerIdOf = (seed: Uint8Array): string => peerIdToString(new Ed25519Signer(seed).peerId)
const sitePeer = (): string => peerIdOf(randomBytes(32))

function identity (): DeviceIdentity {
  return {
    ed25519: new Uint8Array(randomBytes(32)),
    x25519: new Uint8Array(randomBytes(32)),
    sites: [
      { peerId: sitePeer(), name: 'Example Club', member: 'm0123456789abcdef', addrs: ['/ip4/127.0.0.1/tcp/4001'], joined: 1700000000000 },
      { peerId: sitePeer(), name: '', member: 'm0000000000000001', addrs: [], joined: 1700000000001, left: 1700000000002 }
    ]
  }
}

/** src/crypto/backup.ts bundled for a browser ('#crypto-provider' as package.json gives browsers), loaded here. */
async function browserModule (): Promise<BackupModule> {
  const result = await build({
    entryPoints: [join(ROOT, 'src/crypto/backup.ts')],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    metafile: true,
    logLevel: 'silent',
    plugins: [browserImports(ROOT)]
  })
  const inputs = Object.keys(result.metafile.inputs)
  assert.ok(inputs.includes('src/crypto/provider-browser.ts'), 'the browser provider is bundled')
  assert.ok(!inputs.includes('src/crypto/provider-node.ts') && !result.outputFiles[0].text.includes('node:crypto'), 'node:crypto is not')
  const dir = await mkdtemp(join(tmpdir(), 'tmtp-backup-'))
  try {
    const file = join(dir, 'backup.mjs')
    await writeFile(file, result.outputFiles[0].text)
    return await import(pathToFileURL(file).href)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** A backup's error, by name and code: each bundle has its own BackupError class. */
async function rejectsWith (action: () => unknown, code: string): Promise<void> {
  await assert.rejects(async () => { await action() }, (err: unknown) => {
    assert.equal((err as Error).name, 'BackupError', String(err))
    assert.equal((err as { code?: string }).code, code, (err as Error).message)
    return true
  })
}

/** A backup sealed from its parts with @noble's primitives as docs/backup.md says, whatever the sealed JSON holds. */
function sealByHand (inner: unknown, peerId: string, passphrase = PASSPHRASE): IdentityBackup {
  const salt = randomBytes(16)
  const nonce = randomBytes(12)
  const key = scrypt(new TextEncoder().encode(passphrase.normalize('NFC')), salt, { ...LOW, dkLen: 32 })
  const sealed = chacha20poly1305(key, nonce, new TextEncoder().encode(`tmtp-identity-backup/1\n${peerId}`)).encrypt(new TextEncoder().encode(JSON.stringify(inner)))
  return {
    format: 'tmtp-identity-backup',
    version: 1,
    peerId,
    created: Date.now(),
    kdf: { name: 'scrypt', ...LOW, salt: salt.toString('base64url') },
    cipher: { name: 'chacha20-poly1305', nonce: nonce.toString('base64url') },
    ciphertext: Buffer.from(sealed).toString('base64url')
  }
}

function innerOf (secrets: DeviceIdentity): { ed25519: string, x25519: string, sites: unknown[] } {
  return { ed25519: Buffer.from(secrets.ed25519).toString('base64url'), x25519: Buffer.from(secrets.x25519).toString('base64url'), sites: secrets.sites }
}

describe('crypto: identity backups', function () {
  // scrypt at 128 MiB, in pure JS too
  this.timeout(60_000)
  const secrets = identity()
  let browser: BackupModule
  let backup: IdentityBackup

  before(async () => {
    browser = await browserModule()
    backup = await nodeBackup.sealBackup(secrets, PASSPHRASE, { now: 1700000000123 })
  })

  it('seals at the default cost into the documented document, naming the seed\'s PeerId, and opens with the passphrase alone', async () => {
    assert.equal(backup.format, 'tmtp-identity-backup')
    assert.equal(backup.version, 1)
    assert.equal(backup.peerId, peerIdOf(secrets.ed25519))
    assert.equal(backup.created, 1700000000123)
    assert.deepEqual({ ...backup.kdf, salt: undefined }, { name: 'scrypt', N: 2 ** 17, r: 8, p: 1, salt: undefined })
    assert.equal(Buffer.from(backup.kdf.salt, 'base64url').byteLength, 16)
    assert.equal(backup.cipher.name, 'chacha20-poly1305')
    assert.equal(Buffer.from(backup.cipher.nonce, 'base64url').byteLength, 12)
    const text = JSON.stringify(backup)
    for (const key of [secrets.ed25519, secrets.x25519]) {
      for (const encoding of ['base64url', 'base64', 'hex'] as const) assert.ok(!text.includes(Buffer.from(key).toString(encoding)), 'no key in clear')
    }
    assert.ok(!text.includes(PASSPHRASE))
    assert.deepEqual(await nodeBackup.openBackup(nodeBackup.parseBackup(text), PASSPHRASE), secrets)
    // every backup has its own salt and nonce
    const again = await nodeBackup.sealBackup(secrets, PASSPHRASE, { cost: LOW })
    assert.notEqual(again.kdf.salt, backup.kdf.salt)
    assert.notEqual(again.cipher.nonce, backup.cipher.nonce)
  })

  it('a backup sealed on the browser provider opens on the Node one, and the other way round', async () => {
    const fromBrowser = await browser.sealBackup(secrets, PASSPHRASE, { cost: LOW })
    assert.equal(fromBrowser.peerId, backup.peerId)
    assert.deepEqual(await nodeBackup.openBackup(nodeBackup.parseBackup(JSON.stringify(fromBrowser)), PASSPHRASE), secrets)
    assert.deepEqual(await browser.openBackup(browser.parseBackup(JSON.stringify(backup)), PASSPHRASE), secrets)
    await rejectsWith(async () => await browser.openBackup(backup, `${PASSPHRASE}!`), 'WRONG_PASSPHRASE')
    await rejectsWith(async () => await nodeBackup.openBackup(fromBrowser, `${PASSPHRASE}!`), 'WRONG_PASSPHRASE')
  })

  it('a backup file made before the format moved into src/crypto opens on both providers', async () => {
    const text = await readFile(FIXTURE, 'utf8')
    // made by the node:crypto code of commit 0edf7b6 (src/api/backup.ts) at its default cost
    const expected: DeviceIdentity = {
      ed25519: Buffer.from('480addde69a81eba70f1488b1d0eb70a27aa494f3186fde67fa281b731e36fe5', 'hex'),
      x25519: Buffer.from('3a4e60ba5d068099bd85bb60fb59be4a197ab470911d44ef4321c317db2d20f9', 'hex'),
      sites: [
        { peerId: '12D3KooWMz1UD3pbSdSbg7nT1J4QLa7GhockcavJ1rnSUsjTwaJo', name: 'Café Club', member: 'm0123456789abcdef', addrs: ['/ip4/127.0.0.1/tcp/4001', '/ip4/127.0.0.1/tcp/4002/ws'], joined: 1700000000000 },
        { peerId: '12D3KooWBiNQUgKFfWeKkLJC5Zd3j3s4ZusmpaXiAPGrm3z1qcZd', name: '', member: 'm0000000000000001', addrs: [], joined: 1700000000001, left: 1700000000002 }
      ]
    }
    // the passphrase was typed with a composed é; a decomposed one is the same NFC
    for (const module of [nodeBackup, browser]) {
      const opened = await module.openBackup(module.parseBackup(text), 'tmtp fixture passphrase, cafe\u0301')
      assert.deepEqual({ ...opened, ed25519: Buffer.from(opened.ed25519), x25519: Buffer.from(opened.x25519) }, expected)
    }
    assert.equal(JSON.parse(text).peerId, peerIdOf(expected.ed25519))
  })

  // independent of the module: the documented bytes from the primitives themselves
  it('a backup sealed by hand with @noble\'s scrypt and ChaCha20-Poly1305 as documented opens', async () => {
    assert.deepEqual(await nodeBackup.openBackup(nodeBackup.parseBackup(JSON.stringify(sealByHand(innerOf(secrets), backup.peerId))), PASSPHRASE), secrets)
  })

  it('a backup made here opens with node:crypto\'s scrypt and @noble\'s ChaCha20-Poly1305 under the documented key and associated data', () => {
    const key = scryptSync(PASSPHRASE.normalize('NFC'), Buffer.from(backup.kdf.salt, 'base64url'), 32, { N: backup.kdf.N, r: backup.kdf.r, p: backup.kdf.p, maxmem: 256 * 1024 * 1024 })
    const aad = new TextEncoder().encode(`tmtp-identity-backup/1\n${backup.peerId}`)
    const plaintext = chacha20poly1305(key, Buffer.from(backup.cipher.nonce, 'base64url'), aad).decrypt(Buffer.from(backup.ciphertext, 'base64url'))
    const inner = JSON.parse(new TextDecoder().decode(plaintext))
    assert.deepEqual(Object.keys(inner), ['ed25519', 'x25519', 'sites'])
    assert.deepEqual(inner, innerOf(secrets))
  })

  it('a wrong passphrase, or a changed PeerId, ciphertext or nonce, is WRONG_PASSPHRASE', async () => {
    const low = await nodeBackup.sealBackup(secrets, PASSPHRASE, { cost: LOW })
    await rejectsWith(async () => await nodeBackup.openBackup(low, 'correct horse battery!'), 'WRONG_PASSPHRASE')
    await rejectsWith(async () => await nodeBackup.openBackup({ ...low, peerId: sitePeer() }, PASSPHRASE), 'WRONG_PASSPHRASE')
    const sealed = Buffer.from(low.ciphertext, 'base64url')
    sealed[0] ^= 1
    await rejectsWith(async () => await nodeBackup.openBackup({ ...low, ciphertext: sealed.toString('base64url') }, PASSPHRASE), 'WRONG_PASSPHRASE')
    const nonce = Buffer.from(low.cipher.nonce, 'base64url')
    nonce[0] ^= 1
    await rejectsWith(async () => await nodeBackup.openBackup({ ...low, cipher: { ...low.cipher, nonce: nonce.toString('base64url') } }, PASSPHRASE), 'WRONG_PASSPHRASE')
    await rejectsWith(async () => await nodeBackup.openBackup(low, 'x'.repeat(1025)), 'WRONG_PASSPHRASE')
  })

  it('the passphrase is read in its NFC form: a composed and a decomposed é open the same backup', async () => {
    const sealed = await browser.sealBackup(secrets, 'caf\u00e9 au lait', { cost: LOW })
    assert.deepEqual(await nodeBackup.openBackup(sealed, 'cafe\u0301 au lait'), secrets)
  })

  it('seals only under a passphrase of 8 to 1024 characters (BAD_PASSPHRASE), at a cost readers accept', async () => {
    await rejectsWith(async () => await nodeBackup.sealBackup(secrets, 'short'), 'BAD_PASSPHRASE')
    await rejectsWith(async () => await nodeBackup.sealBackup(secrets, 'x'.repeat(1025)), 'BAD_PASSPHRASE')
    for (const cost of [{ N: 2 ** 13, r: 8, p: 1 }, { N: 3 * 2 ** 14, r: 8, p: 1 }, { N: 2 ** 20, r: 8, p: 1 }, { N: 2 ** 14, r: 8, p: 0 }]) {
      await assert.rejects(nodeBackup.sealBackup(secrets, PASSPHRASE, { cost }), RangeError)
    }
  })

  it('refuses what is not a backup of this format before any scrypt (BAD_BACKUP)', async () => {
    const text = (change: (doc: any) => void): string => {
      const doc = structuredClone(backup) as any
      change(doc)
      return JSON.stringify(doc)
    }
    const bad = [
      'not json',
      'null',
      JSON.stringify({ format: 'something else' }),
      text(d => { d.version = 2 }),
      text(d => { d.peerId = 'not a peer id!' }),
      text(d => { d.created = -1 }),
      text(d => { d.kdf.name = 'pbkdf2' }),
      text(d => { d.kdf.N = 3 * 2 ** 15 }),
      text(d => { d.kdf.N = 2 ** 21 }),
      text(d => { d.kdf.N = 2 ** 20; d.kdf.r = 8 }),
      text(d => { d.kdf.p = 0 }),
      text(d => { d.kdf.salt = 'AAAA' }),
      // base64url that is not canonical: bits past the last byte, a lone character, padding
      text(d => { d.kdf.salt = d.kdf.salt.slice(0, -1) + 'B' }),
      text(d => { d.ciphertext += 'A' }),
      text(d => { d.cipher.nonce += '=' }),
      text(d => { d.cipher.name = 'aes-256-gcm' }),
      text(d => { d.cipher.nonce = '!!' }),
      text(d => { d.ciphertext = 'AAAA' }),
      'x'.repeat(1024 * 1024 + 1),
      // 600 KiB of characters, 1.2 MiB of UTF-8
      JSON.stringify({ format: 'é'.repeat(600 * 1024) })
    ]
    for (const input of bad) {
      for (const module of [nodeBackup, browser]) await rejectsWith(() => module.parseBackup(input), 'BAD_BACKUP')
    }
    // a document that did not come through parseBackup is held to the same bounds
    await rejectsWith(async () => await nodeBackup.openBackup(JSON.parse(text(d => { d.kdf.N = 2 ** 21 })), PASSPHRASE), 'BAD_BACKUP')
    await rejectsWith(async () => await nodeBackup.openBackup({ ...backup, ciphertext: 'A'.repeat(1024 * 1024 + 4) }, PASSPHRASE), 'BAD_BACKUP')
  })

  it('refuses a sealed identity that is not the documented JSON, or whose key is not the PeerId it names (BAD_BACKUP)', async () => {
    const peerId = backup.peerId
    const inner = innerOf(secrets)
    const sealed: unknown[] = [
      'not an object',
      { ...inner, ed25519: Buffer.from(secrets.ed25519.subarray(0, 31)).toString('base64url') },
      { ...inner, x25519: undefined },
      { ...inner, sites: {} },
      { ...inner, sites: [{ ...secrets.sites[0], peerId: 'QmNotAnEd25519PeerId' }] },
      { ...inner, sites: [{ ...secrets.sites[0], name: 'x'.repeat(129) }] },
      { ...inner, sites: [{ ...secrets.sites[0], addrs: [4001] }] },
      { ...inner, sites: [{ ...secrets.sites[0], left: 'yesterday' }] }
    ]
    for (const value of sealed) await rejectsWith(async () => await nodeBackup.openBackup(sealByHand(value, peerId), PASSPHRASE), 'BAD_BACKUP')
    // the PeerId in clear is bound to the ciphertext; a writer that named another key's is refused too
    const other = sitePeer()
    await rejectsWith(async () => await nodeBackup.openBackup(sealByHand(inner, other), PASSPHRASE), 'BAD_BACKUP')
  })
})
