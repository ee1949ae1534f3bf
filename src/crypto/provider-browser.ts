import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { scryptAsync } from '@noble/hashes/scrypt.js'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import { bytesToNumberLE, concatBytes, equalBytes } from '@noble/curves/utils.js'
import { sealedInto, type CryptoProvider } from './provider.js'

/**
 * The crypto provider for browsers, and for any platform without Node's crypto module: the audited
 * pure-JS @noble libraries, whose calls are synchronous as src/crypto's are (WebCrypto's are
 * all asynchronous), and WebCrypto's CSPRNG.
 */

// WebCrypto fills at most this many bytes per getRandomValues call.
const RANDOM_CHUNK_BYTES = 65536

const { Point } = ed25519
const L = Point.Fn.ORDER

/**
 * RFC 8032 verification with the cofactorless equation that node:crypto (OpenSSL) checks,
 * so that both providers accept the same signatures (spec 7): @noble's own verify checks
 * the cofactored one, which also accepts signatures whose R or A has a small-order part.
 */
function ed25519Verify (publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  const r = signature.subarray(0, 32)
  const s = bytesToNumberLE(signature.subarray(32))
  if (s >= L) return false
  const a = Point.fromBytes(publicKey)
  const k = bytesToNumberLE(sha512(concatBytes(r, publicKey, data))) % L
  const check = Point.BASE.multiplyUnsafe(s).subtract(a.multiplyUnsafe(k)).toBytes()
  return equalBytes(check, r)
}

export const provider: CryptoProvider = {
  ed25519PrivateKey: seed => {
    const secretKey = Uint8Array.from(seed)
    return { publicKey: ed25519.getPublicKey(secretKey), sign: data => ed25519.sign(data, secretKey) }
  },
  ed25519Verify,
  x25519PublicKey: privateKey => x25519.getPublicKey(privateKey),
  x25519: (privateKey, publicKey) => x25519.getSharedSecret(privateKey, publicKey),
  chacha20Poly1305: keyBytes => {
    const key = Uint8Array.from(keyBytes)
    return {
      seal: (nonce, aad, plaintext, into) => sealedInto(chacha20poly1305(key, nonce, aad).encrypt(plaintext) as Uint8Array<ArrayBuffer>, into),
      open: (nonce, aad, sealed) => chacha20poly1305(key, nonce, aad).decrypt(sealed)
    }
  },
  sha256: data => sha256(data),
  // the async form yields to the event loop every few milliseconds: a page stays responsive for the second it takes
  scrypt: async (password, salt, { N, r, p, dkLen }) => await scryptAsync(password, salt, { N, r, p, dkLen }),
  randomBytes: length => {
    const out = new Uint8Array(length)
    for (let i = 0; i < length; i += RANDOM_CHUNK_BYTES) globalThis.crypto.getRandomValues(out.subarray(i, i + RANDOM_CHUNK_BYTES))
    return out
  }
}
