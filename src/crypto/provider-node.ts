import { createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey, createSecretKey, diffieHellman, randomFillSync, scrypt as scryptCallback, sign, verify, type KeyObject } from 'node:crypto'
import { sodiumPrimitives } from './sodium.js'
import { sealedInto, type AeadKey, type CryptoProvider, type Ed25519PrivateKey, type ScryptParams } from './provider.js'

/**
 * The crypto provider on Node: node:crypto, with KeyObjects made once per key and kept,
 * because turning raw bytes into a KeyObject costs as much as the operation itself
 * (docs/LIBP2P-NOTES.md).
 */

// DER prefixes that wrap a raw 32-byte key as PKCS#8 and SPKI (RFC 8410).
const ED25519_PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])
const ED25519_SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])
const X25519_PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20])
const X25519_SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00])

const TAG_BYTES = 16

function privateKeyObject (prefix: Uint8Array, key: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([prefix, key]), format: 'der', type: 'pkcs8' })
}

function publicKeyObject (prefix: Uint8Array, key: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([prefix, key]), format: 'der', type: 'spki' })
}

/** The raw public key of a private KeyObject (the SPKI's last 32 bytes). */
function rawPublicKey (privateKey: KeyObject): Uint8Array {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  return new Uint8Array(spki.subarray(spki.byteLength - 32))
}

/** The bytes of a Buffer as a plain Uint8Array, without a copy (the AEAD's per-message path). */
function view (buffer: Buffer<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}

/** Ed25519 on node:crypto: the fallback where sodium-native is not loaded. */
export function nodeCryptoEd25519PrivateKey (seed: Uint8Array): Ed25519PrivateKey {
  const key = privateKeyObject(ED25519_PKCS8_PREFIX, seed)
  return { publicKey: rawPublicKey(key), sign: data => new Uint8Array(sign(null, data, key)) }
}

const verifyKeys = new Map<string, KeyObject>()
const VERIFY_KEY_CACHE_SIZE = 4096

export function nodeCryptoEd25519Verify (publicKey: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  const cacheKey = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('latin1')
  let key = verifyKeys.get(cacheKey)
  if (key === undefined) {
    key = publicKeyObject(ED25519_SPKI_PREFIX, publicKey)
    if (verifyKeys.size >= VERIFY_KEY_CACHE_SIZE) verifyKeys.delete(verifyKeys.keys().next().value as string)
    verifyKeys.set(cacheKey, key)
  }
  return verify(null, data, key, signature)
}

/** X25519 on node:crypto: the fallback where sodium-native is not loaded. */
export function nodeCryptoX25519PublicKey (privateKey: Uint8Array): Uint8Array {
  return rawPublicKey(privateKeyObject(X25519_PKCS8_PREFIX, privateKey))
}

export function nodeCryptoX25519 (privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return new Uint8Array(diffieHellman({
    privateKey: privateKeyObject(X25519_PKCS8_PREFIX, privateKey),
    publicKey: publicKeyObject(X25519_SPKI_PREFIX, publicKey)
  }))
}

/** ChaCha20-Poly1305 on node:crypto: the fallback where sodium-native is not loaded. */
export function nodeCryptoChaCha20Poly1305 (keyBytes: Uint8Array): AeadKey {
  const key = createSecretKey(keyBytes)
  return {
    seal (nonce, aad, plaintext, into) {
      const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES })
      cipher.setAAD(aad, { plaintextLength: plaintext.byteLength })
      return sealedInto(view(Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])), into)
    },
    open (nonce, aad, sealed) {
      const body = sealed.subarray(0, sealed.byteLength - TAG_BYTES)
      const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES })
      decipher.setAAD(aad, { plaintextLength: body.byteLength })
      decipher.setAuthTag(sealed.subarray(sealed.byteLength - TAG_BYTES))
      return view(Buffer.concat([decipher.update(body), decipher.final()]))
    }
  }
}

async function scrypt (password: Uint8Array, salt: Uint8Array, { N, r, p, dkLen }: ScryptParams): Promise<Uint8Array> {
  // OpenSSL refuses to use more than maxmem (default 32 MiB): it allocates 128·r·(N + 2) bytes for V, X and T and 128·r·p for B
  const maxmem = 128 * r * (N + p + 2)
  return await new Promise((resolve, reject) => {
    scryptCallback(password, salt, dkLen, { N, r, p, maxmem }, (err, key) => {
      if (err === null) resolve(view(key as Buffer<ArrayBuffer>))
      else reject(err)
    })
  })
}

/** What runs ChaCha20-Poly1305, Ed25519 and X25519 (sodium-native is optional). */
export const NATIVE_CRYPTO = sodiumPrimitives === undefined ? 'node:crypto' : 'sodium-native'

export const provider: CryptoProvider = {
  ed25519PrivateKey: sodiumPrimitives?.ed25519PrivateKey ?? nodeCryptoEd25519PrivateKey,
  ed25519Verify: sodiumPrimitives?.ed25519Verify ?? nodeCryptoEd25519Verify,
  x25519PublicKey: sodiumPrimitives?.x25519PublicKey ?? nodeCryptoX25519PublicKey,
  x25519: sodiumPrimitives?.x25519 ?? nodeCryptoX25519,
  chacha20Poly1305: sodiumPrimitives?.chacha20Poly1305 ?? nodeCryptoChaCha20Poly1305,
  sha256: data => new Uint8Array(createHash('sha256').update(data).digest()),
  scrypt,
  // a plain Uint8Array, not a Buffer: its slice() copies, as callers expect
  randomBytes: length => randomFillSync(new Uint8Array(length))
}
