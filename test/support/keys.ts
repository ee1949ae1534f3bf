import { Ed25519Signer } from '../../src/crypto/ed25519.js'
import { x25519FromPrivateKey, type X25519KeyPair } from '../../src/crypto/x25519.js'

/** Fixed keys, so that a failing test fails the same way every time. */
export function signerFromByte (byte: number): Ed25519Signer {
  return new Ed25519Signer(new Uint8Array(32).fill(byte))
}

export function x25519FromByte (byte: number): X25519KeyPair {
  return x25519FromPrivateKey(new Uint8Array(32).fill(byte))
}

export const site = signerFromByte(0x51)
export const otherSite = signerFromByte(0x52)
export const device = signerFromByte(0xd1)
export const otherDevice = signerFromByte(0xd2)
export const deviceX25519 = x25519FromByte(0xe1)
export const otherX25519 = x25519FromByte(0xe2)

/** A message id: 16 bytes, all `byte`. */
export function messageId (byte: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(16).fill(byte)
}

/**
 * X25519 public keys of small order (and non-canonical encodings of them): any private key
 * multiplied by one gives the all-zero shared secret.
 */
export const SMALL_ORDER_X25519: readonly string[] = [
  '0000000000000000000000000000000000000000000000000000000000000000', // 0
  '0100000000000000000000000000000000000000000000000000000000000000', // 1
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', // order 8
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157', // order 8
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p - 1
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p (= 0)
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // p + 1 (= 1)
  '0000000000000000000000000000000000000000000000000000000000000080' // 0 with the ignored top bit set
]
