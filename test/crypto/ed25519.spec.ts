import assert from 'node:assert/strict'
import { generateKeyPair, generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString as libp2pPeerIdFromString } from '@libp2p/peer-id'
import fc from 'fast-check'
import { Ed25519Signer, PEER_ID_BYTES, SIGNATURE_BYTES, equalBytes, strictPointEncoding, peerIdFromPublicKey, peerIdFromString, peerIdToString, publicKeyFromPeerId, verifyEd25519 } from '../../src/crypto/ed25519.js'
import { ErrorCode } from '../../src/protocol/errors.js'
import { bytesOf, flipBit, hex, onlyTmtpErrors, throwsTmtp } from '../support/assertions.js'
import { device, site } from '../support/keys.js'

// RFC 8032, section 7.1, tests 1 to 3
const RFC8032 = [
  {
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'
  },
  {
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'
  },
  {
    seed: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    publicKey: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a'
  }
]

describe('crypto/ed25519', () => {
  describe('Ed25519Signer', () => {
    it('matches the RFC 8032 test vectors', () => {
      for (const v of RFC8032) {
        const signer = new Ed25519Signer(hex(v.seed))
        assert.deepEqual(signer.publicKey, hex(v.publicKey))
        const signature = signer.sign(hex(v.message))
        assert.deepEqual(signature, hex(v.signature))
        assert.equal(verifyEd25519(hex(v.publicKey), hex(v.message), signature), true)
      }
    })

    it('keeps a copy of its seed and derives the same keys from it', () => {
      const seed = new Uint8Array(32).fill(9)
      const signer = new Ed25519Signer(seed)
      seed.fill(0)
      assert.deepEqual(signer.seed, new Uint8Array(32).fill(9))
      assert.deepEqual(new Ed25519Signer(signer.seed).peerId, signer.peerId)
      const generated = Ed25519Signer.generate()
      assert.equal(generated.seed.byteLength, 32)
      assert.deepEqual(new Ed25519Signer(generated.seed).publicKey, generated.publicKey)
      assert.equal(equalBytes(generated.publicKey, Ed25519Signer.generate().publicKey), false)
    })

    it('refuses a seed that is not 32 bytes', () => {
      for (const n of [0, 31, 33, 64]) assert.throws(() => new Ed25519Signer(new Uint8Array(n)), TypeError)
    })
  })

  describe('verifyEd25519', () => {
    const message = bytesOf(1, 2, 3)
    const signature = site.sign(message)

    it('verifies a signature and refuses any change to message, signature or key', () => {
      assert.equal(signature.byteLength, SIGNATURE_BYTES)
      assert.equal(verifyEd25519(site.publicKey, message, signature), true)
      assert.equal(verifyEd25519(device.publicKey, message, signature), false)
      assert.equal(verifyEd25519(site.publicKey, bytesOf(1, 2, 4), signature), false)
      assert.equal(verifyEd25519(site.publicKey, bytesOf(1, 2, 3, 0), signature), false)
      for (let bit = 0; bit < SIGNATURE_BYTES * 8; bit++) {
        assert.equal(verifyEd25519(site.publicKey, message, flipBit(signature, bit)), false, `signature bit ${bit}`)
      }
      for (let bit = 0; bit < 256; bit++) {
        assert.equal(verifyEd25519(flipBit(site.publicKey, bit), message, signature), false, `key bit ${bit}`)
      }
    })

    it('returns false, never throws, for keys and signatures of the wrong form', () => {
      assert.equal(verifyEd25519(site.publicKey.subarray(1), message, signature), false)
      assert.equal(verifyEd25519(new Uint8Array(33), message, signature), false)
      assert.equal(verifyEd25519(site.publicKey, message, signature.subarray(1)), false)
      assert.equal(verifyEd25519(site.publicKey, message, new Uint8Array(65)), false)
      assert.equal(verifyEd25519(new Uint8Array(32).fill(0xff), message, signature), false)
      assert.equal(verifyEd25519(new Uint8Array(32), message, new Uint8Array(64)), false)
      fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 64, maxLength: 64 }), (key, sig) => {
        assert.equal(verifyEd25519(key, message, sig), false)
      }), { numRuns: 200 })
    })
  })

  describe('strictPointEncoding', () => {
    // spec 7, rules 2 and 3, read as numbers: y < p, and y none of the small-order points'
    const P = 2n ** 255n - 19n
    const SMALL_ORDER_Y = [0n, 1n, P - 1n, 0x7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7n, 0x05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826n]
    const yOf = (bytes: Uint8Array): bigint => bytes.reduceRight((y, b, i) => (y << 8n) | BigInt(i === 31 ? b & 0x7f : b), 0n)
    const encode = (y: bigint, sign: boolean): Uint8Array => {
      const bytes = new Uint8Array(32)
      for (let i = 0; i < 32; i++) bytes[i] = Number((y >> BigInt(8 * i)) & 0xffn)
      if (sign) bytes[31] |= 0x80
      return bytes
    }
    const reference = (bytes: Uint8Array): boolean => yOf(bytes) < P && !SMALL_ORDER_Y.includes(yOf(bytes))

    it('refuses y of p and above, and each small-order y, whatever the sign bit; takes p - 20 and p - 2', () => {
      for (const sign of [false, true]) {
        for (const y of [P, P + 1n, P + 18n, 2n ** 255n - 1n, ...SMALL_ORDER_Y]) assert.equal(strictPointEncoding(encode(y, sign)), false, `y ${y} sign ${sign}`)
        for (const y of [P - 20n, P - 2n, 2n, 2n ** 254n]) assert.equal(strictPointEncoding(encode(y, sign)), true, `y ${y} sign ${sign}`)
      }
    })

    it('agrees with y read as a number, for random encodings and ones next to p and the small-order points', () => {
      const near = fc.tuple(fc.constantFrom(P, ...SMALL_ORDER_Y), fc.integer({ min: -300, max: 300 }), fc.boolean())
        .filter(([y, d]) => y + BigInt(d) >= 0n && y + BigInt(d) < 2n ** 255n)
        .map(([y, d, sign]) => encode(y + BigInt(d), sign))
      fc.assert(fc.property(fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), near), bytes => {
        assert.equal(strictPointEncoding(bytes), reference(bytes))
      }), { numRuns: 5000 })
    })
  })

  describe('PeerIds', () => {
    it('builds the libp2p PeerId of an Ed25519 key (identity multihash of the key protobuf)', async () => {
      assert.equal(site.peerId.byteLength, PEER_ID_BYTES)
      assert.deepEqual(site.peerId.subarray(0, 6), bytesOf(0x00, 0x24, 0x08, 0x01, 0x12, 0x20))
      assert.deepEqual(site.peerId.subarray(6), site.publicKey)
      assert.deepEqual(peerIdFromPublicKey(site.publicKey), site.peerId)
      // the same bytes and text as js-libp2p gives for the same key
      const key = await generateKeyPairFromSeed('Ed25519', site.seed)
      const libp2pId = peerIdFromPrivateKey(key)
      assert.deepEqual(libp2pId.toMultihash().bytes, site.peerId)
      assert.equal(peerIdToString(site.peerId), libp2pId.toString())
      assert.match(peerIdToString(site.peerId), /^12D3KooW/)
    })

    it('reads the public key back out of a PeerId', () => {
      assert.deepEqual(publicKeyFromPeerId(site.peerId), site.publicKey)
      assert.deepEqual(publicKeyFromPeerId(device.peerId), device.publicKey)
    })

    it('refuses PeerIds of other key types and of the wrong form (BAD_FRAME)', async () => {
      const secp = peerIdFromPrivateKey(await generateKeyPair('secp256k1')).toMultihash().bytes
      const rsaLike = bytesOf(0x12, 0x20, ...new Uint8Array(32).fill(7)) // sha2-256 multihash, as for RSA keys
      const secpTyped = Uint8Array.from(site.peerId)
      secpTyped[3] = 0x02 // KeyType secp256k1 with 32 bytes of data
      const cases: Array<[string, Uint8Array]> = [
        ['secp256k1', secp],
        ['sha2-256 multihash', rsaLike],
        ['wrong key type', secpTyped],
        ['empty', new Uint8Array(0)],
        ['raw public key', site.publicKey],
        ['one byte short', site.peerId.subarray(0, PEER_ID_BYTES - 1)],
        ['one byte long', Uint8Array.from([...site.peerId, 0])]
      ]
      for (const [what, bytes] of cases) assert.ok(throwsTmtp(() => publicKeyFromPeerId(bytes), ErrorCode.BAD_FRAME), what)
      for (let bit = 0; bit < 6 * 8; bit++) {
        throwsTmtp(() => publicKeyFromPeerId(flipBit(site.peerId, bit)), ErrorCode.BAD_FRAME)
      }
    })

    it('accepts any bytes of the Ed25519 form and refuses all others (property)', () => {
      const prefix = site.peerId.subarray(0, 6)
      const candidates = fc.oneof(
        fc.uint8Array({ maxLength: 48 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }).map(k => Uint8Array.from([...prefix, ...k])),
        fc.tuple(fc.uint8Array({ minLength: 38, maxLength: 38 }), fc.nat({ max: 5 })).map(([b, i]) => {
          b.set(prefix)
          b[i] ^= 1
          return b
        })
      )
      fc.assert(fc.property(candidates, bytes => {
        const err = onlyTmtpErrors(() => publicKeyFromPeerId(bytes))
        const valid = bytes.byteLength === PEER_ID_BYTES && equalBytes(bytes.subarray(0, 6), prefix)
        assert.equal(err === undefined, valid)
        if (valid) assert.deepEqual(publicKeyFromPeerId(bytes), bytes.subarray(6))
      }), { numRuns: 300 })
    })

    it('converts to and from the base58btc text form', async () => {
      const text = peerIdToString(device.peerId)
      assert.deepEqual(peerIdFromString(text), device.peerId)
      assert.deepEqual(libp2pPeerIdFromString(text).toMultihash().bytes, device.peerId)
      const secp = peerIdFromPrivateKey(await generateKeyPair('secp256k1')).toString()
      throwsTmtp(() => peerIdFromString(secp), ErrorCode.BAD_FRAME)
      const cid = libp2pPeerIdFromString(text).toCID().toString()
      throwsTmtp(() => peerIdFromString(cid), ErrorCode.BAD_FRAME)
      for (const bad of ['', ' ', '0', 'O', 'I', 'l', `${text}0`, `z${text}`, `${text.slice(0, -1)}`, ` ${text}`, 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N']) {
        throwsTmtp(() => peerIdFromString(bad), ErrorCode.BAD_FRAME)
      }
    })

    it('parses any string to a valid PeerId or a TmtpError (property)', () => {
      const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
      const strings = fc.oneof(
        fc.string({ maxLength: 60 }),
        fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 60 }),
        fc.tuple(fc.nat(), fc.constantFrom(...alphabet, '0', '+', ' ')).map(([i, c]) => {
          const text = peerIdToString(site.peerId)
          const at = i % text.length
          return text.slice(0, at) + c + text.slice(at + 1)
        })
      )
      fc.assert(fc.property(strings, text => {
        const err = onlyTmtpErrors(() => peerIdFromString(text))
        if (err === undefined) assert.equal(peerIdFromString(text).byteLength, PEER_ID_BYTES)
      }), { numRuns: 300 })
    })
  })

  describe('equalBytes', () => {
    it('compares length and content', () => {
      assert.equal(equalBytes(bytesOf(), bytesOf()), true)
      assert.equal(equalBytes(bytesOf(1, 2), bytesOf(1, 2)), true)
      assert.equal(equalBytes(bytesOf(1, 2), bytesOf(1, 3)), false)
      assert.equal(equalBytes(bytesOf(1, 2), bytesOf(1)), false)
      assert.equal(equalBytes(bytesOf(1), bytesOf(1, 2)), false)
      const big = bytesOf(0, 1, 2, 3)
      assert.equal(equalBytes(big.subarray(1, 3), bytesOf(1, 2)), true)
    })
  })
})
