/**
 * The primitives src/crypto takes from its platform, beside HPKE (@hpke/core, which runs on
 * WebCrypto everywhere).
 *
 * The implementation is chosen when modules are resolved, not at run time: src/crypto imports
 * '#crypto-provider', which package.json's `imports` map to provider-browser.js for bundlers
 * that build for a browser ("browser"), to provider-node.js on Node ("node"), and to the
 * portable provider-browser.js anywhere else ("default"); tsconfig.json's `paths` map it to
 * provider-node.ts for tsc and tsx. A run-time check would leave node:crypto in a browser
 * bundle, and a setCryptoProvider() would have to be called by every entry point (the nodes,
 * each test, each script) before any key is made.
 */
import { allocUnsafe } from 'uint8arrays/alloc'

/** An Ed25519 private key prepared once for signing. */
export interface Ed25519PrivateKey {
  /** The raw 32-byte public key. */
  readonly publicKey: Uint8Array
  /** The 64-byte pure Ed25519 signature of RFC 8032. */
  sign: (data: Uint8Array) => Uint8Array
}

/** ChaCha20-Poly1305 (RFC 8439) under one key, prepared once and used for every message. */
export interface AeadKey {
  /**
   * The ciphertext followed by its 16-byte tag; written into `into` (exactly that long) when
   * given, so that a frame holds it without another copy.
   */
  seal: (nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, into?: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer>
  /** The plaintext of ciphertext || tag; throws if it does not authenticate. */
  open: (nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array) => Uint8Array
}

/** scrypt's parameters (RFC 7914): cost N (a power of two), block size r, parallelism p, and the key's length. */
export interface ScryptParams {
  N: number
  r: number
  p: number
  dkLen: number
}

export interface CryptoProvider {
  /** The key of a 32-byte Ed25519 seed. */
  ed25519PrivateKey: (seed: Uint8Array) => Ed25519PrivateKey
  /**
   * Whether signature is publicKey's signature of data by RFC 8032 with S < L and the
   * cofactorless equation [S]B = R + [k]A, R compared as bytes (verifyEd25519 has refused
   * non-canonical and small-order A and R); may throw on a key that does not decode.
   */
  ed25519Verify: (publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array) => boolean
  /** X25519(privateKey, 9) of RFC 7748: the public key of a raw 32-byte private key. */
  x25519PublicKey: (privateKey: Uint8Array) => Uint8Array
  /** X25519(privateKey, publicKey); may throw, or return zeros, for a public key of small order. */
  x25519: (privateKey: Uint8Array, publicKey: Uint8Array) => Uint8Array
  chacha20Poly1305: (key: Uint8Array) => AeadKey
  sha256: (data: Uint8Array) => Uint8Array
  /** scrypt (RFC 7914); asynchronous, as it takes 128·N·r bytes and long enough to be felt. */
  scrypt: (password: Uint8Array, salt: Uint8Array, params: ScryptParams) => Promise<Uint8Array>
  /** Bytes from the platform's CSPRNG, in a buffer of their own. */
  randomBytes: (length: number) => Uint8Array<ArrayBuffer>
}

/** Where an AeadKey seals `length` bytes: `into` if given (exactly that long), else a new buffer (see AeadKey.seal). */
export function sealTarget (length: number, into?: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  // from the pool: the AEAD writes every byte
  if (into === undefined) return allocUnsafe(length) as Uint8Array<ArrayBuffer>
  if (into.byteLength !== length) throw new RangeError(`sealing into ${into.byteLength} bytes, not ${length}`)
  return into
}

/** What an AeadKey that seals into a buffer of its own returns: `sealed`, or `into` holding it (see AeadKey.seal). */
export function sealedInto (sealed: Uint8Array<ArrayBuffer>, into?: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  if (into === undefined) return sealed
  sealTarget(sealed.byteLength, into).set(sealed)
  return into
}
