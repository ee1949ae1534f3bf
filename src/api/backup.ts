import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCallback, type ScryptOptions } from 'node:crypto'
import type { FromSchema } from 'json-schema-to-ts'
import type { JoinedSite } from '../node/contract.js'

/**
 * The encrypted backup of a member device's identity (docs/backup.md): its Ed25519 seed (the
 * PeerId), its X25519 device key and the sites it joined, sealed with ChaCha20-Poly1305 under
 * a key derived from a passphrase with scrypt. Everything in it is implementable in a browser
 * (scrypt of @noble/hashes and ChaCha20-Poly1305 of @noble/ciphers give the same bytes), so a
 * device in a web page reads and writes the same files. Light on purpose (node:crypto alone):
 * `tmtp init --restore` opens backups without loading the API.
 */

export const BACKUP_FORMAT = 'tmtp-identity-backup'
export const BACKUP_VERSION = 1

/** What `sealBackup` uses: 2^17 × 8 × 128 bytes = 128 MiB and about half a second on a laptop, about 1–2 s in a browser. */
export const BACKUP_SCRYPT = { N: 2 ** 17, r: 8, p: 1 } as const

/** The shortest passphrase accepted: the file may be copied anywhere, and only scrypt's cost stands between it and a guess. */
export const MIN_PASSPHRASE_LENGTH = 8
export const MAX_PASSPHRASE_LENGTH = 1024

/** A backup file larger than this is refused before it is parsed (a thousand sites fit many times over). */
export const MAX_BACKUP_BYTES = 1024 * 1024

const SALT_BYTES = 16
const NONCE_BYTES = 12
const TAG_BYTES = 16
const KEY_BYTES = 32
/** scrypt's memory is 128·N·r bytes: parameters beyond this are refused, so a crafted file cannot exhaust memory. */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024
const MIN_LOG_N = 14
const MAX_LOG_N = 20
const MAX_R = 32
const MAX_P = 16

/** The JSON document of a backup file, as POST /v1/identity/backup answers it. */
export const BACKUP_SCHEMA = {
  type: 'object',
  required: ['format', 'version', 'peerId', 'created', 'kdf', 'cipher', 'ciphertext'],
  properties: {
    format: { type: 'string', enum: [BACKUP_FORMAT] },
    version: { type: 'integer', enum: [BACKUP_VERSION] },
    peerId: { type: 'string', description: 'the PeerId of the identity inside (bound to the ciphertext)' },
    created: { type: 'integer', description: 'milliseconds since the Unix epoch' },
    kdf: {
      type: 'object',
      required: ['name', 'N', 'r', 'p', 'salt'],
      properties: {
        name: { type: 'string', enum: ['scrypt'] },
        N: { type: 'integer' },
        r: { type: 'integer' },
        p: { type: 'integer' },
        salt: { type: 'string', description: `${SALT_BYTES} bytes, base64url` }
      }
    },
    cipher: {
      type: 'object',
      required: ['name', 'nonce'],
      properties: {
        name: { type: 'string', enum: ['chacha20-poly1305'] },
        nonce: { type: 'string', description: `${NONCE_BYTES} bytes, base64url` }
      }
    },
    ciphertext: { type: 'string', description: 'the sealed identity and its 16-byte tag, base64url' }
  }
} as const

export type IdentityBackup = FromSchema<typeof BACKUP_SCHEMA>

/** A joined site as the backup keeps it: what the member node's sites() lists. */
export type BackupSite = JoinedSite

/** What a backup holds: the device's two secret keys and its sites. */
export interface DeviceIdentity {
  /** The 32-byte Ed25519 seed (identity.key). */
  ed25519: Uint8Array
  /** The 32-byte X25519 private key (encryption.key). */
  x25519: Uint8Array
  sites: BackupSite[]
}

export type BackupErrorCode = 'BAD_BACKUP' | 'WRONG_PASSPHRASE' | 'BAD_PASSPHRASE'

/**
 * A backup that cannot be made or opened: a passphrase too short or too long to seal with
 * (BAD_PASSPHRASE), a file that is not a backup of this format (BAD_BACKUP), or a passphrase
 * that does not open it (WRONG_PASSPHRASE). Never carries a secret.
 */
export class BackupError extends Error {
  override readonly name = 'BackupError'
  readonly code: BackupErrorCode

  constructor (code: BackupErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

/** The AEAD's associated data: the format, its version and the PeerId shown in clear, so that none of them can be changed. */
function associatedData (peerId: string): Buffer {
  return Buffer.from(`${BACKUP_FORMAT}/${BACKUP_VERSION}\n${peerId}`, 'utf8')
}

/** scrypt of the passphrase as UTF-8 of its NFC form (the same bytes whatever keyboard typed it). */
async function deriveKey (passphrase: string, salt: Uint8Array, params: { N: number, r: number, p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 128 * params.N * params.r + 1024 * 1024 }
  return await new Promise((resolve, reject) => {
    scryptCallback(Buffer.from(passphrase.normalize('NFC'), 'utf8'), salt, KEY_BYTES, options, (err, key) => {
      if (err === null) resolve(key)
      else reject(err)
    })
  })
}

/** Seals a device's identity under a passphrase of MIN_PASSPHRASE_LENGTH to MAX_PASSPHRASE_LENGTH characters: the backup document (docs/backup.md). */
export async function sealBackup (identity: DeviceIdentity, peerId: string, passphrase: string, now = Date.now()): Promise<IdentityBackup> {
  if (typeof passphrase !== 'string' || passphrase.length < MIN_PASSPHRASE_LENGTH || passphrase.length > MAX_PASSPHRASE_LENGTH) {
    throw new BackupError('BAD_PASSPHRASE', `a backup passphrase is ${MIN_PASSPHRASE_LENGTH} to ${MAX_PASSPHRASE_LENGTH} characters`)
  }
  if (identity.ed25519.byteLength !== 32 || identity.x25519.byteLength !== 32) throw new TypeError('identity keys are 32 bytes each')
  const salt = randomBytes(SALT_BYTES)
  const nonce = randomBytes(NONCE_BYTES)
  const key = await deriveKey(passphrase, salt, BACKUP_SCRYPT)
  const plaintext = Buffer.from(JSON.stringify({
    ed25519: Buffer.from(identity.ed25519).toString('base64url'),
    x25519: Buffer.from(identity.x25519).toString('base64url'),
    sites: identity.sites.map(site => ({ peerId: site.peerId, name: site.name, member: site.member, addrs: site.addrs, joined: site.joined, ...(site.left !== undefined ? { left: site.left } : {}) }))
  }), 'utf8')
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES })
  cipher.setAAD(associatedData(peerId), { plaintextLength: plaintext.byteLength })
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
  plaintext.fill(0)
  key.fill(0)
  return {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    peerId,
    created: now,
    kdf: { name: 'scrypt', ...BACKUP_SCRYPT, salt: salt.toString('base64url') },
    cipher: { name: 'chacha20-poly1305', nonce: nonce.toString('base64url') },
    ciphertext: sealed.toString('base64url')
  }
}

function bad (message: string): BackupError {
  return new BackupError('BAD_BACKUP', message)
}

function bytes (value: unknown, length: number | undefined, what: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]*$/.test(value)) throw bad(`${what} is not base64url`)
  const out = Buffer.from(value, 'base64url')
  if (length !== undefined && out.byteLength !== length) throw bad(`${what} is not ${length} bytes`)
  return out
}

function integer (value: unknown, min: number, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) throw bad(`${what} must be an integer from ${min} to ${max}`)
  return value
}

/** Checks a backup document's shape and bounds before any scrypt is run on it. */
export function parseBackup (text: string): IdentityBackup {
  if (Buffer.byteLength(text, 'utf8') > MAX_BACKUP_BYTES) throw bad(`a backup file is at most ${MAX_BACKUP_BYTES} bytes`)
  let doc: any
  try {
    doc = JSON.parse(text)
  } catch {
    throw bad('not a TMTP identity backup (not JSON)')
  }
  if (doc?.format !== BACKUP_FORMAT) throw bad(`not a TMTP identity backup (format is not "${BACKUP_FORMAT}")`)
  if (doc.version !== BACKUP_VERSION) throw bad(`backup version ${String(doc.version)} is not supported (this tmtp reads version ${BACKUP_VERSION})`)
  if (typeof doc.peerId !== 'string' || !/^[A-Za-z0-9]{1,128}$/.test(doc.peerId)) throw bad('peerId is not a PeerId')
  integer(doc.created, 0, Number.MAX_SAFE_INTEGER, 'created')
  if (doc.kdf?.name !== 'scrypt') throw bad('kdf.name must be "scrypt"')
  const N = integer(doc.kdf.N, 2 ** MIN_LOG_N, 2 ** MAX_LOG_N, 'kdf.N')
  if ((N & (N - 1)) !== 0) throw bad('kdf.N must be a power of two')
  const r = integer(doc.kdf.r, 1, MAX_R, 'kdf.r')
  integer(doc.kdf.p, 1, MAX_P, 'kdf.p')
  if (128 * N * r > MAX_SCRYPT_MEMORY) throw bad(`kdf parameters need more than ${MAX_SCRYPT_MEMORY / 1024 / 1024} MiB`)
  bytes(doc.kdf.salt, SALT_BYTES, 'kdf.salt')
  if (doc.cipher?.name !== 'chacha20-poly1305') throw bad('cipher.name must be "chacha20-poly1305"')
  bytes(doc.cipher.nonce, NONCE_BYTES, 'cipher.nonce')
  if (bytes(doc.ciphertext, undefined, 'ciphertext').byteLength <= TAG_BYTES) throw bad('ciphertext is too short')
  return doc as IdentityBackup
}

function parseSites (value: unknown): BackupSite[] {
  if (!Array.isArray(value)) throw bad('the sealed sites are not a list')
  return value.map((site: any, i) => {
    const ok = typeof site?.peerId === 'string' && typeof site.name === 'string' && typeof site.member === 'string' &&
      Array.isArray(site.addrs) && site.addrs.every((a: unknown) => typeof a === 'string') &&
      Number.isSafeInteger(site.joined) && (site.left === undefined || Number.isSafeInteger(site.left))
    if (!ok) throw bad(`sealed site ${i} is malformed`)
    return { peerId: site.peerId, name: site.name, member: site.member, addrs: site.addrs, joined: site.joined, ...(site.left !== undefined ? { left: site.left } : {}) }
  })
}

/** Opens a backup document (from parseBackup) with its passphrase. */
export async function openBackup (doc: IdentityBackup, passphrase: string): Promise<DeviceIdentity> {
  if (typeof passphrase !== 'string' || passphrase.length > MAX_PASSPHRASE_LENGTH) throw new BackupError('WRONG_PASSPHRASE', 'the passphrase does not open this backup')
  const key = await deriveKey(passphrase, bytes(doc.kdf.salt, SALT_BYTES, 'kdf.salt'), doc.kdf)
  const sealed = bytes(doc.ciphertext, undefined, 'ciphertext')
  const decipher = createDecipheriv('chacha20-poly1305', key, bytes(doc.cipher.nonce, NONCE_BYTES, 'cipher.nonce'), { authTagLength: TAG_BYTES })
  decipher.setAAD(associatedData(doc.peerId), { plaintextLength: sealed.byteLength - TAG_BYTES })
  decipher.setAuthTag(sealed.subarray(sealed.byteLength - TAG_BYTES))
  let plaintext: Buffer
  try {
    plaintext = Buffer.concat([decipher.update(sealed.subarray(0, sealed.byteLength - TAG_BYTES)), decipher.final()])
  } catch {
    throw new BackupError('WRONG_PASSPHRASE', 'the passphrase does not open this backup (or the file was changed)')
  } finally {
    key.fill(0)
  }
  let inner: any
  try {
    inner = JSON.parse(plaintext.toString('utf8'))
  } catch {
    throw bad('the sealed identity is not JSON')
  } finally {
    plaintext.fill(0)
  }
  return { ed25519: new Uint8Array(bytes(inner?.ed25519, 32, 'the sealed Ed25519 key')), x25519: new Uint8Array(bytes(inner?.x25519, 32, 'the sealed X25519 key')), sites: parseSites(inner?.sites) }
}
