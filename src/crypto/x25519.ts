import { provider } from '#crypto-provider'

/** A member device's X25519 encryption key pair (RFC 7748), both halves raw 32 bytes. */
export interface X25519KeyPair {
  privateKey: Uint8Array
  publicKey: Uint8Array
}

export function x25519FromPrivateKey (privateKey: Uint8Array): X25519KeyPair {
  if (privateKey.byteLength !== 32) throw new TypeError('an X25519 private key is 32 bytes')
  return { privateKey: Uint8Array.from(privateKey), publicKey: provider.x25519PublicKey(privateKey) }
}

export function generateX25519 (): X25519KeyPair {
  // any 32 bytes are a valid X25519 private key: the scalar is clamped when used
  return x25519FromPrivateKey(provider.randomBytes(32))
}

const PROBE_PRIVATE_KEY = new Uint8Array(32).fill(0x42)

/**
 * Whether a public key can be encapsulated to: a point of small order gives an all-zero
 * shared secret, which RFC 9180 makes encapsulation fail on, so a device key with such a
 * point would leave the site unable to start an epoch (spec: "Device keys").
 */
export function isUsableX25519PublicKey (publicKey: Uint8Array): boolean {
  if (publicKey.byteLength !== 32) return false
  try {
    return provider.x25519(PROBE_PRIVATE_KEY, publicKey).some(b => b !== 0)
  } catch {
    // a provider may refuse the all-zero output itself
    return false
  }
}
