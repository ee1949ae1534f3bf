import { toString as uint8ArrayToString, fromString as uint8ArrayFromString } from 'uint8arrays'
import { provider } from '#crypto-provider'
import { ErrorCode, TmtpError } from '../protocol/index.js'
import type { CryptoProvider, Ed25519PrivateKey } from './provider.js'

/** Ed25519 identities (spec: "Identities") on the platform's crypto provider. */

// A libp2p PeerId of an Ed25519 key is the identity multihash (0x00, length 0x24) of the
// key's libp2p protobuf form (KeyType Ed25519 = 1, Data = 32 bytes).
const PEER_ID_PREFIX = Uint8Array.from([0x00, 0x24, 0x08, 0x01, 0x12, 0x20])
export const PEER_ID_BYTES = PEER_ID_PREFIX.byteLength + 32

export const SIGNATURE_BYTES = 64

export class Ed25519Signer {
  readonly seed: Uint8Array
  readonly publicKey: Uint8Array
  readonly peerId: Uint8Array
  // prepared once: making a key from the seed costs as much as a signature
  private readonly key: Ed25519PrivateKey

  constructor (seed: Uint8Array) {
    if (seed.byteLength !== 32) throw new TypeError('an Ed25519 seed is 32 bytes')
    this.seed = Uint8Array.from(seed)
    this.key = provider.ed25519PrivateKey(this.seed)
    this.publicKey = this.key.publicKey
    this.peerId = peerIdFromPublicKey(this.publicKey)
  }

  /** A new identity: RFC 8032's private key is any 32 random bytes. */
  static generate (): Ed25519Signer {
    return new Ed25519Signer(provider.randomBytes(32))
  }

  sign (data: Uint8Array): Uint8Array {
    return this.key.sign(data)
  }
}

/** The field prime of Curve25519. */
const P = 2n ** 255n - 19n

/**
 * The y of every point of small order (the torsion subgroup): 1 (the identity), p - 1
 * (order 2), 0 (order 4) and the two of order 8. With either sign bit these are all the
 * encodings of small-order points that have y < p.
 */
const SMALL_ORDER_Y = [0n, 1n, P - 1n, 0x7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7n, 0x05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826n]

/** Each of SMALL_ORDER_Y as 32 little-endian bytes, the sign bit clear. */
const SMALL_ORDER_BYTES = SMALL_ORDER_Y.map(y => {
  const bytes = new Uint8Array(32)
  for (let i = 0; i < 32; i++) bytes[i] = Number((y >> BigInt(8 * i)) & 0xffn)
  return bytes
})

/**
 * Whether 32 bytes may stand for A or R (spec 7): y < p, and not a point of small order.
 * Compared as bytes: this runs twice for every acknowledgement a site verifies, and reading
 * y as a BigInt cost ~3.5 µs of it (issue #14).
 */
export function strictPointEncoding (bytes: Uint8Array): boolean {
  return !(isAtLeastP(bytes) || SMALL_ORDER_BYTES.some(y => equalsY(bytes, y)))
}

/** y >= p = 2^255 - 19 (little-endian, sign bit ignored): bytes 1-30 all 0xff, the top 0x7f, the lowest at least 0xed. */
function isAtLeastP (bytes: Uint8Array): boolean {
  if ((bytes[31] & 0x7f) !== 0x7f || bytes[0] < 0xed) return false
  for (let i = 1; i < 31; i++) if (bytes[i] !== 0xff) return false
  return true
}

/** The encoding's y is `y`, whatever its sign bit. */
function equalsY (bytes: Uint8Array, y: Uint8Array): boolean {
  for (let i = 0; i < 31; i++) if (bytes[i] !== y[i]) return false
  return (bytes[31] & 0x7f) === y[31]
}

/**
 * Ed25519 verification as spec 7 fixes it, on every platform: A and R are canonical and not
 * of small order (checked here: node:crypto accepts both in A), S < L and the cofactorless
 * equation [S]B = R + [k]A, with R compared as bytes (the providers').
 */
export function verifyEd25519 (publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  return strictEd25519Verify(provider.ed25519Verify, publicKey, data, signature)
}

/** verifyEd25519 on a given provider's verification (each provider is held to spec/vectors with it). */
export function strictEd25519Verify (verify: CryptoProvider['ed25519Verify'], publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.byteLength !== 32 || signature.byteLength !== SIGNATURE_BYTES) return false
  if (!strictPointEncoding(publicKey) || !strictPointEncoding(signature.subarray(0, 32))) return false
  try {
    return verify(publicKey, data, signature)
  } catch {
    // a provider may throw on a point that does not decode; for the protocol that is a bad signature
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
