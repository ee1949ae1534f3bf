import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import { randomBytes } from '../crypto/random.js'
import { sodiumPrimitives } from '../crypto/sodium.js'
import type { ICryptoInterface } from '@chainsafe/libp2p-noise'

/**
 * Noise's crypto on Node.js with libsodium's X25519 where sodium-native is loaded. Noise's
 * default imports every raw X25519 key through node:crypto's PKCS#8 decoder (~450 µs each on
 * these machines), so a handshake's key pair and three agreements cost ~2 ms of each side's
 * CPU; libsodium does the same in ~0.15 ms, which is most of what a site pays per reconnecting
 * device (docs/BENCHMARKS.md, W3). Hashing, HKDF and the transport's ChaCha20-Poly1305 stay
 * Noise's own. Without sodium-native: undefined, and Noise uses its default.
 */
export const noiseCrypto: ICryptoInterface | undefined = sodiumPrimitives === undefined
  ? undefined
  : withX25519(sodiumPrimitives)

function withX25519 (x: NonNullable<typeof sodiumPrimitives>): ICryptoInterface {
  const keyPairFromSeed = (seed: Uint8Array): { publicKey: Uint8Array, privateKey: Uint8Array } => ({ publicKey: x.x25519PublicKey(seed), privateKey: seed })
  return {
    ...defaultCrypto,
    generateX25519KeyPair: () => keyPairFromSeed(randomBytes(32)),
    generateX25519KeyPairFromSeed: keyPairFromSeed,
    generateX25519SharedKey: (privateKey, publicKey) => x.x25519(privateKey.subarray(), publicKey.subarray())
  }
}
