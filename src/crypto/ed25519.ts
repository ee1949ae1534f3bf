import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'
import { toString as uint8ArrayToString, fromString as uint8ArrayFromString } from 'uint8arrays'
import { ErrorCode, TmtpError } from '../protocol/index.js'

/**
 * Ed25519 on node:crypto with KeyObjects kept, because turning a raw key into a KeyObject
 * costs as much as the verification itself (docs/LIBP2P-NOTES.md).
 */

// DER prefixes that wrap a raw 32-byte Ed25519 key as PKCS#8 and SPKI (RFC 8410).
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])

// A libp2p PeerId of an Ed25519 key is the identity multihash (0x00, length 0x24) of the
// key's libp2p protobuf form (KeyType Ed25519 = 1, Data = 32 bytes).
const PEER_ID_PREFIX = Uint8Array.from([0x00, 0x24, 0x08, 0x01, 0x12, 0x20])
export const PEER_ID_BYTES = PEER_ID_PREFIX.byteLength + 32

export const SIGNATURE_BYTES = 64

function concat (a: Uint8Array, b: Uint8Array): Buffer {
  return Buffer.concat([a, b])
}

export class Ed25519Signer {
  readonly seed: Uint8Array
  readonly publicKey: Uint8Array
  readonly peerId: Uint8Array
  private readonly key: KeyObject

  constructor (seed: Uint8Array) {
    if (seed.byteLength !== 32) throw new TypeError('an Ed25519 seed is 32 bytes')
    this.seed = Uint8Array.from(seed)
    this.key = createPrivateKey({ key: concat(PKCS8_PREFIX, seed), format: 'der', type: 'pkcs8' })
    const spki = createPublicKey(this.key).export({ format: 'der', type: 'spki' })
    this.publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX.byteLength))
    this.peerId = peerIdFromPublicKey(this.publicKey)
  }

  static generate (): Ed25519Signer {
    const { privateKey } = generateKeyPairSync('ed25519')
    const der = privateKey.export({ format: 'der', type: 'pkcs8' })
    return new Ed25519Signer(new Uint8Array(der.subarray(PKCS8_PREFIX.byteLength)))
  }

  sign (data: Uint8Array): Uint8Array {
    return new Uint8Array(sign(null, data, this.key))
  }
}

const publicKeyCache = new Map<string, KeyObject>()
const PUBLIC_KEY_CACHE_SIZE = 4096

function publicKeyObject (publicKey: Uint8Array): KeyObject {
  const cacheKey = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('latin1')
  let key = publicKeyCache.get(cacheKey)
  if (key === undefined) {
    key = createPublicKey({ key: concat(SPKI_PREFIX, publicKey), format: 'der', type: 'spki' })
    if (publicKeyCache.size >= PUBLIC_KEY_CACHE_SIZE) {
      publicKeyCache.delete(publicKeyCache.keys().next().value as string)
    }
    publicKeyCache.set(cacheKey, key)
  }
  return key
}

export function verifyEd25519 (publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.byteLength !== 32 || signature.byteLength !== SIGNATURE_BYTES) return false
  try {
    return verify(null, data, publicKeyObject(publicKey), signature)
  } catch {
    // node:crypto throws on points that do not decode; for the protocol that is a bad signature
    return false
  }
}

export function peerIdFromPublicKey (publicKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(PEER_ID_BYTES)
  out.set(PEER_ID_PREFIX)
  out.set(publicKey, PEER_ID_PREFIX.byteLength)
  return out
}

/** The Ed25519 public key inside a PeerId; BAD_FRAME for any other kind of PeerId. */
export function publicKeyFromPeerId (peerId: Uint8Array): Uint8Array {
  if (peerId.byteLength !== PEER_ID_BYTES || !PEER_ID_PREFIX.every((b, i) => peerId[i] === b)) {
    throw new TmtpError(ErrorCode.BAD_FRAME, 'not an Ed25519 PeerId')
  }
  return peerId.subarray(PEER_ID_PREFIX.byteLength)
}

/** The usual text form of a PeerId: base58btc of its bytes, without a multibase prefix. */
export function peerIdToString (peerId: Uint8Array): string {
  return uint8ArrayToString(peerId, 'base58btc')
}

export function peerIdFromString (text: string): Uint8Array {
  let bytes: Uint8Array
  try {
    bytes = uint8ArrayFromString(text, 'base58btc')
  } catch (err) {
    throw new TmtpError(ErrorCode.BAD_FRAME, 'PeerId is not base58btc', { cause: err })
  }
  publicKeyFromPeerId(bytes)
  return bytes
}

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}
