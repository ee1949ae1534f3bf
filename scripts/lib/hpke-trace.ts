import { x25519 } from '@noble/curves/ed25519.js'
import { expand, extract } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concat } from 'uint8arrays/concat'

/**
 * RFC 9180 written out on @noble, only to record and check the intermediate values of each
 * key epoch in spec/vectors/key-epoch.json. The epochs themselves are made by src/crypto
 * (@hpke/core); scripts/gen-vectors.ts throws if the two disagree on the exported values.
 * No node:* here: the vector checks run in a browser too (test/browser/vectors.spec.ts).
 */

export const KEM_ID = 0x0020 // DHKEM(X25519, HKDF-SHA256)
export const KDF_ID = 0x0001 // HKDF-SHA256
export const AEAD_ID = 0x0003 // ChaCha20-Poly1305
export const MODE_BASE = 0x00

const utf8 = new TextEncoder()

function u16 (n: number): Uint8Array {
  return Uint8Array.of(n >> 8, n & 0xff)
}

const KEM_SUITE_ID = concat([utf8.encode('KEM'), u16(KEM_ID)])
const HPKE_SUITE_ID = concat([utf8.encode('HPKE'), u16(KEM_ID), u16(KDF_ID), u16(AEAD_ID)])
const HPKE_V1 = utf8.encode('HPKE-v1')

function labeledExtract (suiteId: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array): Uint8Array {
  return extract(sha256, concat([HPKE_V1, suiteId, utf8.encode(label), ikm]), salt)
}

function labeledExpand (suiteId: Uint8Array, prk: Uint8Array, label: string, info: Uint8Array, length: number): Uint8Array {
  return expand(sha256, prk, concat([u16(length), HPKE_V1, suiteId, utf8.encode(label), info]), length)
}

export interface HpkeTrace {
  ephemeralPrivateKey: Uint8Array
  enc: Uint8Array
  dh: Uint8Array
  kemContext: Uint8Array
  sharedSecret: Uint8Array
  keyScheduleContext: Uint8Array
  secret: Uint8Array
  exporterSecret: Uint8Array
}

/** RFC 9180 base mode, sender side, with the ephemeral key from DeriveKeyPair(ikm). */
export function hpkeTrace (ikm: Uint8Array, recipientPublicKey: Uint8Array, info: Uint8Array): HpkeTrace {
  const empty = new Uint8Array(0)
  const dkpPrk = labeledExtract(KEM_SUITE_ID, empty, 'dkp_prk', ikm)
  const ephemeralPrivateKey = labeledExpand(KEM_SUITE_ID, dkpPrk, 'sk', empty, 32)
  const enc = x25519.getPublicKey(ephemeralPrivateKey)
  const dh = x25519.getSharedSecret(ephemeralPrivateKey, recipientPublicKey)
  const kemContext = concat([enc, recipientPublicKey])
  const eaePrk = labeledExtract(KEM_SUITE_ID, empty, 'eae_prk', dh)
  const sharedSecret = labeledExpand(KEM_SUITE_ID, eaePrk, 'shared_secret', kemContext, 32)
  const pskIdHash = labeledExtract(HPKE_SUITE_ID, empty, 'psk_id_hash', empty)
  const infoHash = labeledExtract(HPKE_SUITE_ID, empty, 'info_hash', info)
  const keyScheduleContext = concat([Uint8Array.of(MODE_BASE), pskIdHash, infoHash])
  const secret = labeledExtract(HPKE_SUITE_ID, sharedSecret, 'secret', empty)
  const exporterSecret = labeledExpand(HPKE_SUITE_ID, secret, 'exp', keyScheduleContext, 32)
  return { ephemeralPrivateKey, enc, dh, kemContext, sharedSecret, keyScheduleContext, secret, exporterSecret }
}

/** RFC 9180 Export(exporter_context, L). */
export function hpkeExport (exporterSecret: Uint8Array, exporterContext: Uint8Array, length: number): Uint8Array {
  return labeledExpand(HPKE_SUITE_ID, exporterSecret, 'sec', exporterContext, length)
}
