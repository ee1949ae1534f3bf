import { createPrivateKey, createPublicKey, diffieHellman, randomBytes, type KeyObject } from 'node:crypto'

// DER prefix that wraps a raw 32-byte X25519 private key as PKCS#8 (RFC 8410).
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20])
const SPKI_PREFIX_BYTES = 12

/** A member device's X25519 encryption key pair (RFC 7748), both halves raw 32 bytes. */
export interface X25519KeyPair {
  privateKey: Uint8Array
  publicKey: Uint8Array
}

export function x25519FromPrivateKey (privateKey: Uint8Array): X25519KeyPair {
  if (privateKey.byteLength !== 32) throw new TypeError('an X25519 private key is 32 bytes')
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, privateKey]), format: 'der', type: 'pkcs8' })
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' })
  return { privateKey: Uint8Array.from(privateKey), publicKey: new Uint8Array(spki.subarray(SPKI_PREFIX_BYTES)) }
}

export function generateX25519 (): X25519KeyPair {
  // any 32 bytes are a valid X25519 private key: the scalar is clamped when used
  return x25519FromPrivateKey(new Uint8Array(randomBytes(32)))
}

const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x03, 0x21, 0x00])
let probeKey: KeyObject | undefined

/**
 * Whether a public key can be encapsulated to: a point of small order gives an all-zero
 * shared secret, which RFC 9180 makes encapsulation fail on, so a device key with such a
 * point would leave the site unable to start an epoch (spec: "Device keys").
 */
export function isUsableX25519PublicKey (publicKey: Uint8Array): boolean {
  if (publicKey.byteLength !== 32) return false
  probeKey ??= createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, new Uint8Array(32).fill(0x42)]), format: 'der', type: 'pkcs8' })
  try {
    const shared = diffieHellman({ privateKey: probeKey, publicKey: createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' }) })
    return shared.some(b => b !== 0)
  } catch {
    return false
  }
}
