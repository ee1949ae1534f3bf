import assert from 'node:assert/strict'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import fc from 'fast-check'
import { Uint8ArrayList } from 'uint8arraylist'
import { noiseCrypto } from '../../src/node/noise-crypto.js'

describe('node/noise-crypto', () => {
  it('is used on Node.js where sodium-native is installed (it is, as an optional dependency), unless TMTP_SODIUM=0', () => {
    assert.equal(noiseCrypto === undefined, process.env.TMTP_SODIUM === '0')
  })

  it('gives Noise\'s default X25519 keys and shared secrets, from bytes or lists of chunks (property)', function () {
    if (noiseCrypto === undefined) this.skip()
    const crypto = noiseCrypto
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(32), (a, b, cut) => {
      const [ours, theirs] = [crypto.generateX25519KeyPairFromSeed(a), defaultCrypto.generateX25519KeyPairFromSeed(a)]
      assert.deepEqual(ours.publicKey, new Uint8Array(theirs.publicKey))
      const peer = defaultCrypto.generateX25519KeyPairFromSeed(b)
      const expected = new Uint8Array(defaultCrypto.generateX25519SharedKey(a, peer.publicKey))
      assert.deepEqual(crypto.generateX25519SharedKey(a, peer.publicKey), expected)
      const list = new Uint8ArrayList(peer.publicKey.subarray(0, cut), peer.publicKey.subarray(cut))
      // (Noise's types name its own copy of uint8arraylist; the values are lists all the same)
      assert.deepEqual(crypto.generateX25519SharedKey(new Uint8ArrayList(a) as unknown as Uint8Array, list as unknown as Uint8Array), expected)
    }), { numRuns: 50 })
    const fresh = crypto.generateX25519KeyPair()
    assert.deepEqual(fresh.publicKey, new Uint8Array(defaultCrypto.generateX25519KeyPairFromSeed(fresh.privateKey).publicKey))
    assert.notDeepEqual(fresh.privateKey, crypto.generateX25519KeyPair().privateKey)
  })
})
