import assert from 'node:assert/strict'
import fc from 'fast-check'
import { generateX25519, isUsableX25519PublicKey, x25519FromPrivateKey } from '../../src/crypto/x25519.js'
import { hex } from '../support/assertions.js'
import { SMALL_ORDER_X25519 } from '../support/keys.js'

describe('crypto/x25519', () => {
  it('derives the public key of the RFC 7748 test vectors (section 6.1)', () => {
    const alice = x25519FromPrivateKey(hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'))
    assert.deepEqual(alice.publicKey, hex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'))
    const bob = x25519FromPrivateKey(hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'))
    assert.deepEqual(bob.publicKey, hex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'))
  })

  it('keeps a copy of the private key', () => {
    const raw = new Uint8Array(32).fill(3)
    const pair = x25519FromPrivateKey(raw)
    raw.fill(0)
    assert.deepEqual(pair.privateKey, new Uint8Array(32).fill(3))
  })

  it('generates distinct 32-byte key pairs', () => {
    const a = generateX25519()
    const b = generateX25519()
    assert.equal(a.privateKey.byteLength, 32)
    assert.equal(a.publicKey.byteLength, 32)
    assert.notDeepEqual(a.privateKey, b.privateKey)
    assert.deepEqual(x25519FromPrivateKey(a.privateKey).publicKey, a.publicKey)
  })

  it('refuses a private key that is not 32 bytes', () => {
    for (const n of [0, 31, 33]) assert.throws(() => x25519FromPrivateKey(new Uint8Array(n)), TypeError)
  })

  describe('isUsableX25519PublicKey', () => {
    it('refuses keys of small order and keys that are not 32 bytes', () => {
      for (const key of SMALL_ORDER_X25519) assert.equal(isUsableX25519PublicKey(hex(key)), false, key)
      for (const n of [0, 31, 33]) assert.equal(isUsableX25519PublicKey(new Uint8Array(n).fill(9)), false)
    })

    it('accepts real public keys and any other 32 bytes (property)', () => {
      assert.equal(isUsableX25519PublicKey(generateX25519().publicKey), true)
      assert.equal(isUsableX25519PublicKey(hex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a')), true)
      const small = new Set(SMALL_ORDER_X25519)
      fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), key => {
        if (!small.has(Buffer.from(key).toString('hex'))) assert.equal(isUsableX25519PublicKey(key), true)
      }), { numRuns: 200 })
    })
  })
})
