import { createRequire } from 'node:module'
import { sealTarget, type CryptoProvider } from './provider.js'
import { allocUnsafe } from 'uint8arrays/alloc'

/**
 * ChaCha20-Poly1305 (IETF, RFC 8439), Ed25519 and X25519 through libsodium, when the optional
 * `sodium-native` package (a prebuilt N-API binary) is installed. The same bytes as
 * node:crypto's, at a fraction of its CPU: a 1 KiB seal costs about 2 µs against 11 µs
 * (node:crypto builds a cipher object per call), a signature 19 µs against 41 µs, a
 * verification 52 µs against 120 µs, an X25519 agreement 45 µs against 610 µs (node:crypto
 * must import each raw key through OpenSSL's PKCS#8 decoder, ~450 µs) (docs/BENCHMARKS.md). libsodium's verification is the
 * rule of spec section 7 by itself (S < L; A canonical; A and R not of small order; R
 * compared as bytes): test/crypto/provider.spec.ts holds it to spec/vectors/ed25519.json.
 * Absent, or disabled with TMTP_SODIUM=0, the provider uses node:crypto.
 */

interface Sodium {
  crypto_aead_chacha20poly1305_ietf_encrypt: (out: Uint8Array, message: Uint8Array, aad: Uint8Array, nsec: null, nonce: Uint8Array, key: Uint8Array) => number
  crypto_aead_chacha20poly1305_ietf_decrypt: (out: Uint8Array, nsec: null, sealed: Uint8Array, aad: Uint8Array, nonce: Uint8Array, key: Uint8Array) => number
  crypto_sign_seed_keypair: (publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array) => void
  crypto_sign_detached: (signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array) => void
  crypto_sign_verify_detached: (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean
  crypto_scalarmult_base: (publicKey: Uint8Array, privateKey: Uint8Array) => void
  /** Throws where the result is all zeros (a public key of small order). */
  crypto_scalarmult: (shared: Uint8Array, privateKey: Uint8Array, publicKey: Uint8Array) => void
}

/** The primitives libsodium gives the crypto provider, and Noise (src/node/noise-crypto.ts). */
export type SodiumPrimitives = Pick<CryptoProvider, 'chacha20Poly1305' | 'ed25519PrivateKey' | 'ed25519Verify' | 'x25519PublicKey' | 'x25519'>

const TAG_BYTES = 16

function load (): Sodium | undefined {
  if (process.env.TMTP_SODIUM === '0') return undefined
  try {
    return createRequire(import.meta.url)('sodium-native') as Sodium
  } catch {
    return undefined
  }
}

const sodium = load()

/** libsodium's primitives, or undefined where sodium-native is not loaded. */
export const sodiumPrimitives = sodium === undefined ? undefined : primitives(sodium)

function primitives (sodium: Sodium): SodiumPrimitives {
  return {
    chacha20Poly1305 (keyBytes) {
      const key = Uint8Array.from(keyBytes)
      return {
        seal (nonce, aad, plaintext, into) {
          const sealed = sealTarget(plaintext.byteLength + TAG_BYTES, into)
          sodium.crypto_aead_chacha20poly1305_ietf_encrypt(sealed, plaintext, aad, null, nonce, key)
          return sealed
        },
        open (nonce, aad, sealed) {
          if (sealed.byteLength < TAG_BYTES) throw new Error('ciphertext shorter than its tag')
          // from the pool: decrypt writes every byte, or throws and the buffer is dropped
          const plaintext = allocUnsafe(sealed.byteLength - TAG_BYTES)
          sodium.crypto_aead_chacha20poly1305_ietf_decrypt(plaintext, null, sealed, aad, nonce, key)
          return plaintext
        }
      }
    },
    ed25519PrivateKey (seed) {
      const publicKey = new Uint8Array(32)
      const secretKey = new Uint8Array(64)
      sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed)
      return {
        publicKey,
        sign (data) {
          const signature = new Uint8Array(64)
          sodium.crypto_sign_detached(signature, data, secretKey)
          return signature
        }
      }
    },
    ed25519Verify: (publicKey, data, signature) => sodium.crypto_sign_verify_detached(signature, data, publicKey),
    x25519PublicKey (privateKey) {
      const publicKey = new Uint8Array(32)
      sodium.crypto_scalarmult_base(publicKey, privateKey)
      return publicKey
    },
    x25519 (privateKey, publicKey) {
      const shared = new Uint8Array(32)
      sodium.crypto_scalarmult(shared, privateKey, publicKey)
      return shared
    }
  }
}
