import assert from 'node:assert/strict'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { decryptEnvelope, encodeContent, parseEnvelope, sealEnvelope } from '../../src/crypto/envelope.js'
import { createKeyEpoch, epochInfo, openKeyEpoch, type EpochKeys, type OpenEpochOptions } from '../../src/crypto/epoch.js'
import { signMessage } from '../../src/crypto/signing.js'
import { SIGNING_CONTEXT } from '../../src/protocol/constants.js'
import { ErrorCode } from '../../src/protocol/errors.js'
import { KeyEpoch, type EnvelopeHeader } from '../../src/protocol/pb/tmtp.js'
import { flipBit, hex, rejectsTmtp, throwsTmtp } from '../support/assertions.js'
import { SMALL_ORDER_X25519, device, deviceX25519, messageId, otherDevice, otherSite, otherX25519, site } from '../support/keys.js'
import type { Ed25519Signer } from '../../src/crypto/ed25519.js'

type B = Uint8Array<ArrayBuffer>

const NOW = 1_750_000_000_000
const IKM = new Uint8Array(32).fill(0x42)

const AT_DEVICE: OpenEpochOptions = { site: site.peerId, device: device.peerId, devicePrivateKey: deviceX25519.privateKey }

function allKeys (keys: EpochKeys): Uint8Array[] {
  return [keys.siteToDevice.keyBytes, keys.siteToDevice.baseNonce, keys.deviceToSite.keyBytes, keys.deviceToSite.baseNonce]
}

/** A key epoch from the site to the device; `null` for a random ephemeral key. */
async function make (epoch = 1, ikm: Uint8Array | null = IKM): Promise<Awaited<ReturnType<typeof createKeyEpoch>>> {
  return await createKeyEpoch({ site, device: device.peerId, deviceX25519: deviceX25519.publicKey, epoch, created: NOW, expires: NOW + 1000, ephemeralIkm: ikm ?? undefined })
}

/** A KeyEpoch signed as given, bypassing createKeyEpoch. */
function signRaw (signer: Ed25519Signer, epoch: Partial<KeyEpoch>): Uint8Array {
  return signMessage(signer, SIGNING_CONTEXT.keyEpoch, KeyEpoch, {
    site: site.peerId as B, device: device.peerId as B, epoch: 1, enc: new Uint8Array(32).fill(9), created: NOW, expires: NOW + 1000, ...epoch
  })
}

function header (epoch: number): EnvelopeHeader {
  return { version: 1, id: messageId(3), sender: site.peerId as B, recipient: device.peerId as B, epoch, seq: 1, created: NOW, expires: 0 }
}

describe('crypto/epoch', () => {
  describe('createKeyEpoch and openKeyEpoch', () => {
    it('give site and device the same four keys', async () => {
      const made = await make()
      const opened = await openKeyEpoch(made.signed, AT_DEVICE)
      assert.deepStrictEqual(opened.epoch, made.epoch)
      assert.deepStrictEqual(allKeys(opened.keys), allKeys(made.keys))
      // each direction's prepared cipher is keyed by its key bytes
      const [nonce, aad, plaintext] = [new Uint8Array(12), Uint8Array.of(1), Uint8Array.of(2, 3)]
      for (const keys of [made.keys, opened.keys]) {
        for (const key of [keys.siteToDevice, keys.deviceToSite]) {
          assert.deepEqual(key.aead.seal(nonce, aad, plaintext), chacha20poly1305(key.keyBytes, nonce, aad).encrypt(plaintext))
        }
      }
      assert.deepEqual(allKeys(made.keys).map(k => k.byteLength), [32, 12, 32, 12])
      // the two directions never share a key or a base nonce
      assert.notDeepEqual(made.keys.siteToDevice.keyBytes, made.keys.deviceToSite.keyBytes)
      assert.notDeepEqual(made.keys.siteToDevice.baseNonce, made.keys.deviceToSite.baseNonce)
    })

    it('records the epoch fields and a 32-byte enc', async () => {
      const made = await make(7)
      assert.deepStrictEqual({ ...made.epoch, enc: undefined }, { site: site.peerId, device: device.peerId, epoch: 7, enc: undefined, created: NOW, expires: NOW + 1000 })
      assert.equal(made.epoch.enc.byteLength, 32)
    })

    it('is deterministic for a fixed ephemeral IKM, and fresh otherwise', async () => {
      const a = await make(1)
      const b = await make(1)
      assert.deepEqual(a.signed, b.signed)
      assert.deepStrictEqual(allKeys(a.keys), allKeys(b.keys))
      const c = await make(1, new Uint8Array(32).fill(0x43))
      assert.notDeepEqual(c.epoch.enc, a.epoch.enc)
      const r1 = await make(1, null)
      const r2 = await make(1, null)
      assert.notDeepEqual(r1.epoch.enc, r2.epoch.enc)
      assert.notDeepEqual(r1.keys.siteToDevice.keyBytes, r2.keys.siteToDevice.keyBytes)
    })

    it('binds the keys to the epoch number, site and device (HPKE info)', async () => {
      const made = await make(1)
      const info = epochInfo(site.peerId, device.peerId, 0x0102030405)
      assert.deepEqual(info, Uint8Array.from([...Buffer.from('tmtp/1/epoch'), 0, ...site.peerId, ...device.peerId, 0, 0, 0, 1, 2, 3, 4, 5]))
      // the same enc signed under another epoch number yields other keys
      const relabelled = await openKeyEpoch(signRaw(site, { epoch: 2, enc: made.epoch.enc }), AT_DEVICE)
      assert.notDeepEqual(relabelled.keys.siteToDevice.keyBytes, made.keys.siteToDevice.keyBytes)
      const sealed = sealEnvelope(made.keys.siteToDevice, header(1), encodeContent({ body: 'x' }))
      throwsTmtp(() => decryptEnvelope(relabelled.keys.siteToDevice, parseEnvelope(sealed)), ErrorCode.DECRYPT_FAILED)
    })

    it('refuses to encapsulate to a device key of small order or of the wrong length (BAD_FRAME)', async () => {
      for (const key of [...SMALL_ORDER_X25519.map(hex), new Uint8Array(31), new Uint8Array(33)]) {
        await rejectsTmtp(async () => await createKeyEpoch({ site, device: device.peerId, deviceX25519: key, epoch: 1, created: NOW, expires: NOW + 1000 }), ErrorCode.BAD_FRAME)
      }
    })

    it('refuses an epoch number below 1 or beyond 2^53 - 1 (BAD_FRAME)', async () => {
      for (const epoch of [0, -1, 1.5, 2 ** 53]) await rejectsTmtp(async () => await make(epoch), ErrorCode.BAD_FRAME)
      await rejectsTmtp(async () => await openKeyEpoch(signRaw(site, { epoch: 0 }), AT_DEVICE), ErrorCode.BAD_FRAME)
      assert.equal((await make(Number.MAX_SAFE_INTEGER)).epoch.epoch, Number.MAX_SAFE_INTEGER)
    })
  })

  describe('openKeyEpoch refuses', () => {
    it('an epoch naming another site (WRONG_SIGNER)', async () => {
      const made = await make()
      await rejectsTmtp(async () => await openKeyEpoch(made.signed, { ...AT_DEVICE, site: otherSite.peerId }), ErrorCode.WRONG_SIGNER)
    })

    it('an epoch the named site did not sign (BAD_SIGNATURE)', async () => {
      await rejectsTmtp(async () => await openKeyEpoch(signRaw(otherSite, {}), AT_DEVICE), ErrorCode.BAD_SIGNATURE)
      const otherContext = signMessage(site, SIGNING_CONTEXT.invite, KeyEpoch, { site: site.peerId as B, device: device.peerId as B, epoch: 1, enc: new Uint8Array(32).fill(9), created: 0, expires: 0 })
      await rejectsTmtp(async () => await openKeyEpoch(otherContext, AT_DEVICE), ErrorCode.BAD_SIGNATURE)
    })

    it('an epoch for another device (WRONG_RECIPIENT)', async () => {
      const made = await make()
      await rejectsTmtp(async () => await openKeyEpoch(made.signed, { ...AT_DEVICE, device: otherDevice.peerId }), ErrorCode.WRONG_RECIPIENT)
    })

    it('an enc that is not 32 bytes (BAD_FRAME)', async () => {
      for (const n of [0, 31, 33]) await rejectsTmtp(async () => await openKeyEpoch(signRaw(site, { enc: new Uint8Array(n) }), AT_DEVICE), ErrorCode.BAD_FRAME)
    })

    it('a small-order enc, whose shared secret would be zero (DECRYPT_FAILED)', async () => {
      for (const enc of SMALL_ORDER_X25519) {
        await rejectsTmtp(async () => await openKeyEpoch(signRaw(site, { enc: hex(enc) }), AT_DEVICE), ErrorCode.DECRYPT_FAILED)
      }
    })

    it('nothing for the wrong private key, which then fails every envelope (DECRYPT_FAILED)', async () => {
      const made = await make()
      const wrong = await openKeyEpoch(made.signed, { ...AT_DEVICE, devicePrivateKey: otherX25519.privateKey })
      for (const [a, b] of allKeys(wrong.keys).map((k, i) => [k, allKeys(made.keys)[i]])) assert.notDeepEqual(a, b)
      const sealed = sealEnvelope(made.keys.siteToDevice, header(1), encodeContent({ body: 'secret' }))
      throwsTmtp(() => decryptEnvelope(wrong.keys.siteToDevice, parseEnvelope(sealed)), ErrorCode.DECRYPT_FAILED)
      const right = await openKeyEpoch(made.signed, AT_DEVICE)
      assert.equal(decryptEnvelope(right.keys.siteToDevice, parseEnvelope(sealed)).body, 'secret')
    })

    it('a malformed private key (DECRYPT_FAILED)', async () => {
      const made = await make()
      await rejectsTmtp(async () => await openKeyEpoch(made.signed, { ...AT_DEVICE, devicePrivateKey: new Uint8Array(31) }), ErrorCode.DECRYPT_FAILED)
    })
  })

  describe('tampering', () => {
    it('detects every single-bit change of a signed key epoch, at every bit', async () => {
      const made = await make()
      for (let bit = 0; bit < made.signed.byteLength * 8; bit++) {
        await rejectsTmtp(async () => await openKeyEpoch(flipBit(made.signed, bit), AT_DEVICE))
      }
    })
  })
})
