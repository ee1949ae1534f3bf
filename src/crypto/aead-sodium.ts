import { createRequire } from 'node:module'
import type { AeadKey } from './provider.js'

/**
 * ChaCha20-Poly1305 (IETF, RFC 8439) through libsodium, when the optional `sodium-native`
 * package (a prebuilt N-API binary) is installed: the same bytes as node:crypto's, at about a
 * fifth of its CPU per 1 KiB message, most of which node:crypto spends building a cipher object
 * per call (docs/BENCHMARKS.md). Absent, or disabled with TMTP_NATIVE_AEAD=0, the provider
 * uses node:crypto.
 */

interface Sodium {
  crypto_aead_chacha20poly1305_ietf_encrypt: (out: Uint8Array, message: Uint8Array, aad: Uint8Array, nsec: null, nonce: Uint8Array, key: Uint8Array) => number
  crypto_aead_chacha20poly1305_ietf_decrypt: (out: Uint8Array, nsec: null, sealed: Uint8Array, aad: Uint8Array, nonce: Uint8Array, key: Uint8Array) => number
}

const TAG_BYTES = 16

function load (): Sodium | undefined {
  if (process.env.TMTP_NATIVE_AEAD === '0') return undefined
  try {
    return createRequire(import.meta.url)('sodium-native') as Sodium
  } catch {
    return undefined
  }
}

const sodium = load()

/** libsodium's ChaCha20-Poly1305 for a key, or undefined where sodium-native is not loaded. */
export const sodiumChaCha20Poly1305: ((key: Uint8Array) => AeadKey) | undefined = sodium === undefined
  ? undefined
  : (keyBytes: Uint8Array): AeadKey => {
      const key = Uint8Array.from(keyBytes)
      return {
        seal (nonce, aad, plaintext) {
          const sealed = new Uint8Array(plaintext.byteLength + TAG_BYTES)
          sodium.crypto_aead_chacha20poly1305_ietf_encrypt(sealed, plaintext, aad, null, nonce, key)
          return sealed
        },
        open (nonce, aad, sealed) {
          if (sealed.byteLength < TAG_BYTES) throw new Error('ciphertext shorter than its tag')
          const plaintext = new Uint8Array(sealed.byteLength - TAG_BYTES)
          sodium.crypto_aead_chacha20poly1305_ietf_decrypt(plaintext, null, sealed, aad, nonce, key)
          return plaintext
        }
      }
    }
