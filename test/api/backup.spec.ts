import assert from 'node:assert/strict'
import { randomBytes, scryptSync } from 'node:crypto'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { scrypt } from '@noble/hashes/scrypt.js'
import { BACKUP_FORMAT, BACKUP_SCRYPT, BackupError, openBackup, parseBackup, sealBackup, type DeviceIdentity, type IdentityBackup } from '../../src/api/contract.js'

/** The identity backup's format (docs/backup.md): sealed by node:crypto, opened by it and by a browser's primitives. */

const PEER = '12D3KooWD5ADi81yH4qRWnZ7zbJgmTMgqtQfmteGhYTE9fDisB2B'
const PASSPHRASE = 'correct horse battery'

function identity (): DeviceIdentity {
  return {
    ed25519: new Uint8Array(randomBytes(32)),
    x25519: new Uint8Array(randomBytes(32)),
    sites: [
      { peerId: '12D3KooWSite1', name: 'Example Club', member: 'm0123456789abcdef', addrs: ['/ip4/127.0.0.1/tcp/4001'], joined: 1700000000000 },
      { peerId: '12D3KooWSite2', name: '', member: 'm0000000000000001', addrs: [], joined: 1700000000001, left: 1700000000002 }
    ]
  }
}

async function rejectsWith (promise: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  await assert.rejects(async () => { await (typeof promise === 'function' ? promise() : promise) }, (err: unknown) => {
    assert.ok(err instanceof BackupError, String(err))
    assert.equal(err.code, code, err.message)
    return true
  })
}

describe('api: identity backups', function () {
  this.timeout(30_000)
  const secrets = identity()
  let backup: IdentityBackup

  before(async () => {
    backup = await sealBackup(secrets, PEER, PASSPHRASE, 1700000000123)
  })

  it('seals into the documented document and opens with the passphrase alone', async () => {
    assert.equal(backup.format, BACKUP_FORMAT)
    assert.equal(backup.version, 1)
    assert.equal(backup.peerId, PEER)
    assert.equal(backup.created, 1700000000123)
    assert.deepEqual({ ...backup.kdf, salt: undefined }, { name: 'scrypt', ...BACKUP_SCRYPT, salt: undefined })
    assert.equal(Buffer.from(backup.kdf.salt, 'base64url').byteLength, 16)
    assert.equal(backup.cipher.name, 'chacha20-poly1305')
    assert.equal(Buffer.from(backup.cipher.nonce, 'base64url').byteLength, 12)
    const text = JSON.stringify(backup)
    for (const key of [secrets.ed25519, secrets.x25519]) {
      for (const encoding of ['base64url', 'base64', 'hex'] as const) assert.ok(!text.includes(Buffer.from(key).toString(encoding)), 'no key in clear')
    }
    assert.ok(!text.includes(PASSPHRASE))
    const opened = await openBackup(parseBackup(text), PASSPHRASE)
    assert.deepEqual(opened, secrets)
    // every backup has its own salt and nonce
    const again = await sealBackup(secrets, PEER, PASSPHRASE)
    assert.notEqual(again.kdf.salt, backup.kdf.salt)
    assert.notEqual(again.cipher.nonce, backup.cipher.nonce)
  })

  // both primitives of a browser, in both directions: a device in a web page reads and writes the same files
  it('a backup made with a browser\'s primitives (@noble/hashes scrypt, @noble/ciphers ChaCha20-Poly1305) opens here', async () => {
    const salt = randomBytes(16)
    const nonce = randomBytes(12)
    const kdf = { name: 'scrypt', N: 2 ** 14, r: 8, p: 1, salt: salt.toString('base64url') }
    const key = scrypt(new TextEncoder().encode(PASSPHRASE), salt, { N: kdf.N, r: kdf.r, p: kdf.p, dkLen: 32 })
    const inner = { ed25519: Buffer.from(secrets.ed25519).toString('base64url'), x25519: Buffer.from(secrets.x25519).toString('base64url'), sites: secrets.sites }
    const sealed = chacha20poly1305(key, nonce, new TextEncoder().encode(`${BACKUP_FORMAT}/1\n${PEER}`)).encrypt(new TextEncoder().encode(JSON.stringify(inner)))
    const doc = { format: BACKUP_FORMAT, version: 1, peerId: PEER, created: Date.now(), kdf, cipher: { name: 'chacha20-poly1305', nonce: nonce.toString('base64url') }, ciphertext: Buffer.from(sealed).toString('base64url') }
    assert.deepEqual(await openBackup(parseBackup(JSON.stringify(doc)), PASSPHRASE), secrets)
  })

  it('a backup made here opens with a browser\'s ChaCha20-Poly1305 under the documented key and associated data', () => {
    const key = scryptSync(PASSPHRASE.normalize('NFC'), Buffer.from(backup.kdf.salt, 'base64url'), 32, { N: backup.kdf.N, r: backup.kdf.r, p: backup.kdf.p, maxmem: 256 * 1024 * 1024 })
    const aad = new TextEncoder().encode(`${BACKUP_FORMAT}/1\n${backup.peerId}`)
    const plaintext = chacha20poly1305(key, Buffer.from(backup.cipher.nonce, 'base64url'), aad).decrypt(Buffer.from(backup.ciphertext, 'base64url'))
    const inner = JSON.parse(new TextDecoder().decode(plaintext))
    assert.deepEqual(Object.keys(inner), ['ed25519', 'x25519', 'sites'])
    assert.deepEqual(new Uint8Array(Buffer.from(inner.ed25519, 'base64url')), secrets.ed25519)
    assert.deepEqual(new Uint8Array(Buffer.from(inner.x25519, 'base64url')), secrets.x25519)
    assert.deepEqual(inner.sites, secrets.sites)
  })

  it('a wrong passphrase, or a changed PeerId, ciphertext or nonce, is WRONG_PASSPHRASE', async () => {
    await rejectsWith(openBackup(backup, 'correct horse battery!'), 'WRONG_PASSPHRASE')
    await rejectsWith(openBackup({ ...backup, peerId: '12D3KooWOther' }, PASSPHRASE), 'WRONG_PASSPHRASE')
    const sealed = Buffer.from(backup.ciphertext, 'base64url')
    sealed[0] ^= 1
    await rejectsWith(openBackup({ ...backup, ciphertext: sealed.toString('base64url') }, PASSPHRASE), 'WRONG_PASSPHRASE')
    const nonce = Buffer.from(backup.cipher.nonce, 'base64url')
    nonce[0] ^= 1
    await rejectsWith(openBackup({ ...backup, cipher: { ...backup.cipher, nonce: nonce.toString('base64url') } }, PASSPHRASE), 'WRONG_PASSPHRASE')
  })

  it('the passphrase is read in its NFC form: a composed and a decomposed é open the same backup', async () => {
    const sealed = await sealBackup(secrets, PEER, 'caf\u00e9 au lait')
    assert.deepEqual(await openBackup(sealed, 'cafe\u0301 au lait'), secrets)
  })

  it('seals only under a passphrase of 8 to 1024 characters (BAD_PASSPHRASE)', async () => {
    await rejectsWith(sealBackup(secrets, PEER, 'short'), 'BAD_PASSPHRASE')
    await rejectsWith(sealBackup(secrets, PEER, 'x'.repeat(1025)), 'BAD_PASSPHRASE')
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
      text(d => { d.kdf.name = 'pbkdf2' }),
      text(d => { d.kdf.N = 3 * 2 ** 15 }),
      text(d => { d.kdf.N = 2 ** 21 }),
      text(d => { d.kdf.N = 2 ** 20; d.kdf.r = 8 }),
      text(d => { d.kdf.p = 0 }),
      text(d => { d.kdf.salt = 'AAAA' }),
      text(d => { d.cipher.name = 'aes-256-gcm' }),
      text(d => { d.cipher.nonce = '!!' }),
      text(d => { d.ciphertext = 'AAAA' }),
      'x'.repeat(1024 * 1024 + 1)
    ]
    for (const input of bad) await rejectsWith(() => parseBackup(input), 'BAD_BACKUP')
  })
})
