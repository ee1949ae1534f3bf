import assert from 'node:assert/strict'
import fc from 'fast-check'
import { provider as browser } from '../../src/crypto/provider-browser.js'
import { readFileSync } from 'node:fs'
import { strictEd25519Verify } from '../../src/crypto/ed25519.js'
import { sodiumPrimitives } from '../../src/crypto/sodium.js'
import { NATIVE_CRYPTO, nodeCryptoChaCha20Poly1305, nodeCryptoEd25519PrivateKey, nodeCryptoEd25519Verify, nodeCryptoX25519, nodeCryptoX25519PublicKey, provider as node } from '../../src/crypto/provider-node.js'
import { hex } from '../support/assertions.js'
import { SMALL_ORDER_X25519 } from '../support/keys.js'

/**
 * The two crypto providers. The Node one is what src/crypto runs on here, held to the RFC
 * vectors by the other crypto tests and to spec/vectors; the browser one runs spec/vectors in
 * Chromium (test/browser). Here the browser one must give the Node one's bytes for any input,
 * and both must keep the contract of src/crypto/provider.ts.
 */

const bytes = (length: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: length, maxLength: length })
const message = fc.uint8Array({ maxLength: 2048 })

// the order of the Ed25519 group
const L = 2n ** 252n + 27742317777372353535851937790883648493n

/** The signature with S + L in place of S: the same point, not canonical (RFC 8032 5.1.7 refuses it). */
function withNonCanonicalS (signature: Uint8Array): Uint8Array {
  let s = 0n
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i])
  s += L
  const out = Uint8Array.from(signature)
  for (let i = 32; i < 64; i++, s >>= 8n) out[i] = Number(s & 0xffn)
  return out
}

// every Ed25519 the node can run on: node:crypto, libsodium, @noble in a browser
const ed25519s = [
  { name: 'node:crypto', privateKey: nodeCryptoEd25519PrivateKey, verify: nodeCryptoEd25519Verify },
  { name: '@noble', privateKey: browser.ed25519PrivateKey, verify: browser.ed25519Verify },
  ...(sodiumPrimitives === undefined ? [] : [{ name: 'libsodium', privateKey: sodiumPrimitives.ed25519PrivateKey, verify: sodiumPrimitives.ed25519Verify }])
]

describe('crypto/provider', () => {
  it('every Ed25519 gives node:crypto\'s keys, signatures and verdicts (property)', () => {
    fc.assert(fc.property(bytes(32), message, fc.nat(63), (seed, data, bit) => {
      const reference = nodeCryptoEd25519PrivateKey(seed)
      const signature = reference.sign(data)
      const altered = Uint8Array.from(signature)
      altered[bit >> 3] ^= 1 << (bit & 7)
      for (const e of ed25519s) {
        const key = e.privateKey(seed)
        assert.deepEqual(key.publicKey, reference.publicKey, e.name)
        assert.deepEqual(key.sign(data), signature, e.name)
        assert.equal(e.verify(reference.publicKey, data, signature), true, e.name)
        assert.equal(e.verify(reference.publicKey, Uint8Array.of(...data, 0), signature), false, e.name)
        assert.equal(e.verify(reference.publicKey, data, altered), false, e.name)
        assert.equal(e.verify(reference.publicKey, data, withNonCanonicalS(signature)), false, e.name)
      }
    }), { numRuns: 50 })
  })

  it('every Ed25519, under verifyEd25519\'s checks, gives spec/vectors/ed25519.json\'s verdicts; libsodium gives them by itself', () => {
    const file = JSON.parse(readFileSync(new URL('../../spec/vectors/ed25519.json', import.meta.url), 'utf8'))
    for (const c of file.cases) {
      const [publicKey, data, signature] = [hex(c.public_key), hex(c.message), hex(c.signature)]
      for (const e of ed25519s) assert.equal(strictEd25519Verify(e.verify, publicKey, data, signature), c.valid, `${e.name}: ${c.name as string}`)
      if (sodiumPrimitives !== undefined) assert.equal(sodiumPrimitives.ed25519Verify(publicKey, data, signature), c.valid, `libsodium alone: ${c.name as string}`)
    }
  })

  // every X25519: node:crypto, libsodium, @noble in a browser
  const x25519s = [
    { name: 'node:crypto', publicKey: nodeCryptoX25519PublicKey, agree: nodeCryptoX25519 },
    { name: '@noble', publicKey: browser.x25519PublicKey, agree: browser.x25519 },
    ...(sodiumPrimitives === undefined ? [] : [{ name: 'libsodium', publicKey: sodiumPrimitives.x25519PublicKey, agree: sodiumPrimitives.x25519 }])
  ]

  it('every X25519 gives node:crypto\'s keys and shared secrets (property)', () => {
    fc.assert(fc.property(bytes(32), bytes(32), (a, b) => {
      const publicKey = nodeCryptoX25519PublicKey(b)
      const shared = nodeCryptoX25519(a, publicKey)
      assert.deepEqual(shared, nodeCryptoX25519(b, nodeCryptoX25519PublicKey(a)))
      for (const x of x25519s) {
        assert.deepEqual(x.publicKey(a), nodeCryptoX25519PublicKey(a), x.name)
        assert.deepEqual(x.agree(a, publicKey), shared, x.name)
      }
    }), { numRuns: 50 })
  })

  it('X25519 with a point of small order gives zeros or throws, never a usable secret', () => {
    for (const x of x25519s) {
      for (const point of SMALL_ORDER_X25519) {
        let shared: Uint8Array | undefined
        try {
          shared = x.agree(new Uint8Array(32).fill(0x42), hex(point))
        } catch {}
        assert.ok(shared === undefined || shared.every(x => x === 0), point)
      }
    }
  })

  it('uses libsodium on Node when sodium-native is installed (it is, as an optional dependency), unless TMTP_SODIUM=0', () => {
    assert.equal(NATIVE_CRYPTO, process.env.TMTP_SODIUM === '0' ? 'node:crypto' : 'sodium-native')
    assert.equal(sodiumPrimitives === undefined, process.env.TMTP_SODIUM === '0')
    assert.equal(node.ed25519Verify, sodiumPrimitives?.ed25519Verify ?? nodeCryptoEd25519Verify)
    assert.equal(node.x25519, sodiumPrimitives?.x25519 ?? nodeCryptoX25519)
  })

  // every ChaCha20-Poly1305 the node can run on: node:crypto, libsodium, @noble in a browser
  const aeads = [nodeCryptoChaCha20Poly1305, browser.chacha20Poly1305, ...(sodiumPrimitives === undefined ? [] : [sodiumPrimitives.chacha20Poly1305])]

  it('every AEAD seals as node:crypto does, and each opens the others\' (property)', () => {
    fc.assert(fc.property(bytes(32), bytes(12), fc.uint8Array({ maxLength: 64 }), message, (key, nonce, aad, plaintext) => {
      const sealed = nodeCryptoChaCha20Poly1305(key).seal(nonce, aad, plaintext)
      assert.equal(sealed.byteLength, plaintext.byteLength + 16)
      for (const aead of aeads.map(make => make(key))) {
        assert.deepEqual(aead.seal(nonce, aad, plaintext), sealed)
        assert.deepEqual(aead.open(nonce, aad, sealed), plaintext)
        // sealed into a view of a larger buffer, the bytes around it untouched
        const frame = new Uint8Array(sealed.byteLength + 4).fill(0xee)
        const into = frame.subarray(2, 2 + sealed.byteLength)
        assert.equal(aead.seal(nonce, aad, plaintext, into), into)
        assert.deepEqual(into, sealed)
        assert.deepEqual([...frame.subarray(0, 2), ...frame.subarray(-2)], [0xee, 0xee, 0xee, 0xee])
        assert.throws(() => aead.seal(nonce, aad, plaintext, new Uint8Array(sealed.byteLength + 1)), RangeError)
      }
    }), { numRuns: 100 })
  })

  it('every AEAD refuses to open what does not authenticate', () => {
    const [key, nonce, aad] = [new Uint8Array(32).fill(1), new Uint8Array(12).fill(2), Uint8Array.of(3)]
    for (const make of aeads) {
      const aead = make(key)
      const sealed = aead.seal(nonce, aad, Uint8Array.of(4, 5, 6))
      for (let i = 0; i < sealed.byteLength; i++) {
        const altered = Uint8Array.from(sealed)
        altered[i] ^= 0x80
        assert.throws(() => aead.open(nonce, aad, altered))
      }
      assert.throws(() => aead.open(nonce, Uint8Array.of(9), sealed))
      assert.throws(() => aead.open(new Uint8Array(12), aad, sealed))
      assert.throws(() => make(new Uint8Array(32)).open(nonce, aad, sealed))
      assert.throws(() => aead.open(nonce, aad, sealed.subarray(0, 15)))
    }
  })

  it('hashes SHA-256 as the Node provider does (property)', () => {
    assert.deepEqual(browser.sha256(new TextEncoder().encode('abc')), hex('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'))
    fc.assert(fc.property(message, data => {
      assert.deepEqual(browser.sha256(data), node.sha256(data))
    }), { numRuns: 100 })
  })

  it('both derive RFC 7914\'s scrypt, and the same keys for any input (property), with p > 1 and at a backup\'s cost', async () => {
    const rfc = hex('fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640')
    for (const p of [node, browser]) {
      assert.deepEqual(await p.scrypt(new TextEncoder().encode('password'), new TextEncoder().encode('NaCl'), { N: 1024, r: 8, p: 16, dkLen: 64 }), rfc)
    }
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), bytes(16), fc.constantFrom(2, 16, 256), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 4 }), async (password, salt, N, r, par) => {
      assert.deepEqual(await browser.scrypt(password, salt, { N, r, p: par, dkLen: 32 }), await node.scrypt(password, salt, { N, r, p: par, dkLen: 32 }))
    }), { numRuns: 30 })
    // Node's maxmem lets through the largest memory a backup may ask for (docs/backup.md: 128·N·r at most 256 MiB), and the most p
    const [password, salt] = [Uint8Array.of(1), new Uint8Array(16)]
    for (const params of [{ N: 2 ** 18, r: 8, p: 1 }, { N: 2 ** 14, r: 8, p: 16 }]) assert.equal((await node.scrypt(password, salt, { ...params, dkLen: 32 })).byteLength, 32)
  })

  it('both give random bytes in a buffer of their own, beyond WebCrypto\'s 65,536 bytes per call', () => {
    for (const p of [node, browser]) {
      for (const length of [0, 16, 4096, 200_000]) {
        const out = p.randomBytes(length)
        assert.equal(out.byteLength, length)
        assert.equal(out.buffer.byteLength, length)
      }
      const big = p.randomBytes(200_000)
      // the last chunk is filled too: 4,096 zero bytes at its end would be chance once in 2^32768
      assert.ok(big.subarray(200_000 - 4096).some(x => x !== 0))
      assert.notDeepEqual(p.randomBytes(16), p.randomBytes(16))
    }
  })
})
