import { fromString as uint8ArrayFromString, toString as uint8ArrayToString } from 'uint8arrays'
import { provider } from '#crypto-provider'
import { MAX_MEMBER_ID_BYTES, MAX_NAME_BYTES } from '../protocol/index.js'
import { Ed25519Signer, peerIdFromString, peerIdToString } from './ed25519.js'
import type { JoinedSite } from '../store/member-store.js'

/**
 * The encrypted backup of a member device's identity (docs/backup.md, version 1): its Ed25519
 * seed (the PeerId), its X25519 device key and the sites it joined, sealed with
 * ChaCha20-Poly1305 under a key derived from a passphrase with scrypt. On the platform's crypto
 * provider, so that a device on Node.js and one in a browser tab read and write the same files
 * with the same code: the member API's backups, `tmtp init --restore` and the inbox page.
 */

export const BACKUP_FORMAT = 'tmtp-identity-backup'
export const BACKUP_VERSION = 1

/** scrypt's cost as a backup records it (its `kdf`). */
export interface ScryptCost {
  N: number
  r: number
  p: number
}

/** What `sealBackup` uses: 2^17 × 8 × 128 bytes = 128 MiB and about half a second on a laptop, 1–2 s in a browser. */
export const BACKUP_SCRYPT: Readonly<ScryptCost> = { N: 2 ** 17, r: 8, p: 1 }

/** The shortest passphrase accepted: the file may be copied anywhere, and only scrypt's cost stands between it and a guess. */
export const MIN_PASSPHRASE_LENGTH = 8
export const MAX_PASSPHRASE_LENGTH = 1024

/** A backup file larger than this is refused before it is parsed (a thousand sites fit many times over). */
export const MAX_BACKUP_BYTES = 1024 * 1024

export const BACKUP_SALT_BYTES = 16
export const BACKUP_NONCE_BYTES = 12
const TAG_BYTES = 16
const KEY_BYTES = 32
/** scrypt's memory is 128·N·r bytes: parameters beyond this are refused, so a crafted file cannot exhaust memory. */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024
const MIN_LOG_N = 14
const MAX_LOG_N = 20
const MAX_R = 32
const MAX_P = 16

/** The JSON document of a backup file. */
export interface IdentityBackup {
  format: typeof BACKUP_FORMAT
  version: typeof BACKUP_VERSION
  /** The PeerId of the identity inside, in clear so that a person can tell backups apart; bound to the ciphertext. */
  peerId: string
  /** Milliseconds since the Unix epoch. */
  created: number
  kdf: { name: 'scrypt', salt: string } & ScryptCost
  cipher: { name: 'chacha20-poly1305', nonce: string }
  /** The sealed identity and its 16-byte tag, base64url. */
  ciphertext: string
}

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

export interface SealOptions {
  /** The backup's `created`. @default Date.now() */
  now?: number
  /** scrypt's cost, within what readers accept. Tests only: a backup of a device takes BACKUP_SCRYPT. */
  cost?: ScryptCost
}

const encoder = new TextEncoder()

function bad (message: string): BackupError {
  return new BackupError('BAD_BACKUP', message)
}

function base64url (bytes: Uint8Array): string {
  return uint8ArrayToString(bytes, 'base64url')
}

function bytes (value: unknown, length: number | undefined, what: string): Uint8Array {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]*$/.test(value)) throw bad(`${what} is not base64url`)
  let out: Uint8Array
  try {
    out = uint8ArrayFromString(value, 'base64url')
  } catch {
    throw bad(`${what} is not base64url`)
  }
  if (length !== undefined && out.byteLength !== length) throw bad(`${what} is not ${length} bytes`)
  return out
}

function isIntegerIn (value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max
}

function integer (value: unknown, min: number, max: number, what: string): number {
  if (!isIntegerIn(value, min, max)) throw bad(`${what} must be an integer from ${min} to ${max}`)
  return value
}

/** Why a reader refuses these scrypt parameters, if it does: a file must not cost more than a real backup could. */
function costProblem ({ N, r, p }: ScryptCost): string | undefined {
  if (!isIntegerIn(N, 2 ** MIN_LOG_N, 2 ** MAX_LOG_N) || (N & (N - 1)) !== 0) return `kdf.N must be a power of two from 2^${MIN_LOG_N} to 2^${MAX_LOG_N}`
  if (!isIntegerIn(r, 1, MAX_R)) return `kdf.r must be an integer from 1 to ${MAX_R}`
  if (!isIntegerIn(p, 1, MAX_P)) return `kdf.p must be an integer from 1 to ${MAX_P}`
  if (128 * N * r > MAX_SCRYPT_MEMORY) return `kdf parameters need more than ${MAX_SCRYPT_MEMORY / 1024 / 1024} MiB`
}

/** The AEAD's associated data: the format, its version and the PeerId shown in clear, so that none of them can be changed. */
function associatedData (peerId: string): Uint8Array {
  return encoder.encode(`${BACKUP_FORMAT}/${BACKUP_VERSION}\n${peerId}`)
}

/** scrypt of the passphrase as UTF-8 of its NFC form (the same bytes whatever keyboard typed it). */
async function deriveKey (passphrase: string, salt: Uint8Array, { N, r, p }: ScryptCost): Promise<Uint8Array> {
  const password = encoder.encode(passphrase.normalize('NFC'))
  try {
    return await provider.scrypt(password, salt, { N, r, p, dkLen: KEY_BYTES })
  } finally {
    password.fill(0)
  }
}

function peerIdOf (seed: Uint8Array): string {
  return peerIdToString(new Ed25519Signer(seed).peerId)
}

/** A site as the sealed JSON holds it: its fields in the documented order, `left` only where the device left. */
function siteRecord (site: BackupSite): BackupSite {
  return { peerId: site.peerId, name: site.name, member: site.member, addrs: site.addrs, joined: site.joined, ...(site.left !== undefined ? { left: site.left } : {}) }
}

/**
 * Seals a device's identity under a passphrase of MIN_PASSPHRASE_LENGTH to
 * MAX_PASSPHRASE_LENGTH characters: the backup document, naming the seed's PeerId.
 */
export async function sealBackup (identity: DeviceIdentity, passphrase: string, options: SealOptions = {}): Promise<IdentityBackup> {
  if (typeof passphrase !== 'string' || passphrase.length < MIN_PASSPHRASE_LENGTH || passphrase.length > MAX_PASSPHRASE_LENGTH) {
    throw new BackupError('BAD_PASSPHRASE', `a backup passphrase is ${MIN_PASSPHRASE_LENGTH} to ${MAX_PASSPHRASE_LENGTH} characters`)
  }
  if (identity.ed25519.byteLength !== KEY_BYTES || identity.x25519.byteLength !== KEY_BYTES) throw new TypeError('identity keys are 32 bytes each')
  const cost = options.cost ?? BACKUP_SCRYPT
  const problem = costProblem(cost)
  if (problem !== undefined) throw new RangeError(problem)
  const peerId = peerIdOf(identity.ed25519)
  const salt = provider.randomBytes(BACKUP_SALT_BYTES)
  const nonce = provider.randomBytes(BACKUP_NONCE_BYTES)
  const key = await deriveKey(passphrase, salt, cost)
  const plaintext = encoder.encode(JSON.stringify({ ed25519: base64url(identity.ed25519), x25519: base64url(identity.x25519), sites: identity.sites.map(siteRecord) }))
  let sealed: Uint8Array
  try {
    sealed = provider.chacha20Poly1305(key).seal(nonce, associatedData(peerId), plaintext)
  } finally {
    plaintext.fill(0)
    key.fill(0)
  }
  return {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    peerId,
    created: options.now ?? Date.now(),
    kdf: { name: 'scrypt', N: cost.N, r: cost.r, p: cost.p, salt: base64url(salt) },
    cipher: { name: 'chacha20-poly1305', nonce: base64url(nonce) },
    ciphertext: base64url(sealed)
  }
}

/**
 * A backup document's shape and bounds, checked before any scrypt is run on it; its known
 * fields alone. The ciphertext is bounded as the file is, so a document that did not come
 * from a file (the inbox page parses the file itself) costs no more.
 */
function checkBackup (doc: any): IdentityBackup {
  if (doc?.format !== BACKUP_FORMAT) throw bad(`not a TMTP identity backup (format is not "${BACKUP_FORMAT}")`)
  if (doc.version !== BACKUP_VERSION) throw bad(`backup version ${String(doc.version)} is not supported (this tmtp reads version ${BACKUP_VERSION})`)
  if (typeof doc.peerId !== 'string' || !/^[A-Za-z0-9]{1,128}$/.test(doc.peerId)) throw bad('peerId is not a PeerId')
  const created = integer(doc.created, 0, Number.MAX_SAFE_INTEGER, 'created')
  if (doc.kdf?.name !== 'scrypt') throw bad('kdf.name must be "scrypt"')
  const cost: ScryptCost = { N: doc.kdf.N, r: doc.kdf.r, p: doc.kdf.p }
  const problem = costProblem(cost)
  if (problem !== undefined) throw bad(problem)
  bytes(doc.kdf.salt, BACKUP_SALT_BYTES, 'kdf.salt')
  if (doc.cipher?.name !== 'chacha20-poly1305') throw bad('cipher.name must be "chacha20-poly1305"')
  bytes(doc.cipher.nonce, BACKUP_NONCE_BYTES, 'cipher.nonce')
  if (typeof doc.ciphertext === 'string' && doc.ciphertext.length > MAX_BACKUP_BYTES) throw bad(`a backup file is at most ${MAX_BACKUP_BYTES} bytes`)
  if (bytes(doc.ciphertext, undefined, 'ciphertext').byteLength <= TAG_BYTES) throw bad('ciphertext is too short')
  return {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    peerId: doc.peerId,
    created,
    kdf: { name: 'scrypt', ...cost, salt: doc.kdf.salt },
    cipher: { name: 'chacha20-poly1305', nonce: doc.cipher.nonce },
    ciphertext: doc.ciphertext
  }
}

/** Reads a backup file's text: its size, shape and bounds are checked before any scrypt is run on it (BAD_BACKUP). */
export function parseBackup (text: string): IdentityBackup {
  // a UTF-16 unit is at least one byte of UTF-8: the cheap test first
  if (typeof text !== 'string' || text.length > MAX_BACKUP_BYTES || encoder.encode(text).byteLength > MAX_BACKUP_BYTES) throw bad(`a backup file is at most ${MAX_BACKUP_BYTES} bytes`)
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw bad('not a TMTP identity backup (not JSON)')
  }
  return checkBackup(doc)
}

function isEd25519PeerId (text: string): boolean {
  try {
    peerIdFromString(text)
    return true
  } catch {
    return false
  }
}

function boundedString (value: unknown, maxBytes: number): value is string {
  return typeof value === 'string' && encoder.encode(value).byteLength <= maxBytes
}

function parseSites (value: unknown): BackupSite[] {
  if (!Array.isArray(value)) throw bad('the sealed sites are not a list')
  return value.map((site: any, i) => {
    const ok = typeof site?.peerId === 'string' && isEd25519PeerId(site.peerId) &&
      boundedString(site.name, MAX_NAME_BYTES) && boundedString(site.member, MAX_MEMBER_ID_BYTES) &&
      Array.isArray(site.addrs) && site.addrs.every((a: unknown) => typeof a === 'string') &&
      Number.isSafeInteger(site.joined) && (site.left === undefined || Number.isSafeInteger(site.left))
    if (!ok) throw bad(`sealed site ${i} is malformed`)
    return siteRecord(site)
  })
}

/**
 * Opens a backup document (from parseBackup, or held to the same bounds here) with its
 * passphrase: the device's keys, whose PeerId is the one the document names, and its sites.
 * The keys are the caller's to zero once written.
 */
export async function openBackup (backup: IdentityBackup, passphrase: string): Promise<DeviceIdentity> {
  const doc = checkBackup(backup)
  if (typeof passphrase !== 'string' || passphrase.length > MAX_PASSPHRASE_LENGTH) throw new BackupError('WRONG_PASSPHRASE', 'the passphrase does not open this backup')
  const sealed = bytes(doc.ciphertext, undefined, 'ciphertext')
  const nonce = bytes(doc.cipher.nonce, BACKUP_NONCE_BYTES, 'cipher.nonce')
  const key = await deriveKey(passphrase, bytes(doc.kdf.salt, BACKUP_SALT_BYTES, 'kdf.salt'), doc.kdf)
  let plaintext: Uint8Array
  try {
    plaintext = provider.chacha20Poly1305(key).open(nonce, associatedData(doc.peerId), sealed)
  } catch {
    throw new BackupError('WRONG_PASSPHRASE', 'the passphrase does not open this backup (or the file was changed)')
  } finally {
    key.fill(0)
  }
  let inner: any
  try {
    inner = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext))
  } catch {
    throw bad('the sealed identity is not JSON')
  } finally {
    plaintext.fill(0)
  }
  const identity = { ed25519: bytes(inner?.ed25519, KEY_BYTES, 'the sealed Ed25519 key'), x25519: bytes(inner?.x25519, KEY_BYTES, 'the sealed X25519 key'), sites: parseSites(inner?.sites) }
  // the AEAD binds the PeerId to the file; this binds it to the key (a writer that named another is refused)
  if (peerIdOf(identity.ed25519) !== doc.peerId) {
    identity.ed25519.fill(0)
    identity.x25519.fill(0)
    throw bad(`the backup's key is not the identity it names (${doc.peerId})`)
  }
  return identity
}
