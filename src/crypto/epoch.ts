import { CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core'
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305'
import { provider } from '#crypto-provider'
import { Ed25519Signer, equalBytes } from './ed25519.js'
import { decodeSignedPayload, signMessage, verifySignedPayload } from './signing.js'
import type { AeadKey } from './provider.js'
import { decodeMessage, ErrorCode, EXPORT_LABEL, HPKE_INFO_PREFIX, KeyEpoch, requireLength, SIGNING_CONTEXT, TmtpError } from '../protocol/index.js'

/**
 * Key epochs (spec: "Key epochs"): one HPKE base-mode encapsulation from a site to a
 * device's X25519 key, signed by the site, from which both sides export a key and a base
 * nonce per direction. Every envelope of the epoch is then sealed symmetrically, so no
 * public-key operation sits on the per-message path.
 */

// RFC 9180: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305 (KEM 0x0020, KDF 0x0001, AEAD 0x0003)
const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() })

const encoder = new TextEncoder()

/** The key and base nonce of one direction of an epoch. */
export interface DirectionKey {
  readonly keyBytes: Uint8Array
  readonly baseNonce: Uint8Array
  /** ChaCha20-Poly1305 under keyBytes, prepared once for every envelope of the direction. */
  readonly aead: AeadKey
}

/** A direction's key from its exported (or stored) key and base nonce. */
export function directionKey (keyBytes: Uint8Array, baseNonce: Uint8Array): DirectionKey {
  return { keyBytes, baseNonce, aead: provider.chacha20Poly1305(keyBytes) }
}

export interface EpochKeys {
  readonly siteToDevice: DirectionKey
  readonly deviceToSite: DirectionKey
}

export interface OpenedEpoch {
  epoch: KeyEpoch
  keys: EpochKeys
}

export interface CreateEpochOptions {
  site: Ed25519Signer
  device: Uint8Array
  deviceX25519: Uint8Array
  epoch: number
  created: number
  expires: number
  /** Fixed input keying material for the ephemeral key (test vectors only; RFC 9180 DeriveKeyPair). */
  ephemeralIkm?: Uint8Array
}

/** info = "tmtp/1/epoch" || 0x00 || site PeerId || device PeerId || uint64be(epoch). */
export function epochInfo (site: Uint8Array, device: Uint8Array, epoch: number): Uint8Array {
  const prefix = encoder.encode(HPKE_INFO_PREFIX)
  const out = new Uint8Array(prefix.byteLength + 1 + site.byteLength + device.byteLength + 8)
  out.set(prefix)
  out.set(site, prefix.byteLength + 1)
  out.set(device, prefix.byteLength + 1 + site.byteLength)
  new DataView(out.buffer).setBigUint64(out.byteLength - 8, BigInt(epoch))
  return out
}

interface Exporter { export: (context: ArrayBuffer, length: number) => Promise<ArrayBuffer> }

async function exportKeys (ctx: Exporter): Promise<EpochKeys> {
  const direction = async (keyLabel: string, nonceLabel: string): Promise<DirectionKey> => {
    const keyBytes = new Uint8Array(await ctx.export(encoder.encode(keyLabel).buffer as ArrayBuffer, 32))
    const baseNonce = new Uint8Array(await ctx.export(encoder.encode(nonceLabel).buffer as ArrayBuffer, 12))
    return directionKey(keyBytes, baseNonce)
  }
  return {
    siteToDevice: await direction(EXPORT_LABEL.siteToDeviceKey, EXPORT_LABEL.siteToDeviceNonce),
    deviceToSite: await direction(EXPORT_LABEL.deviceToSiteKey, EXPORT_LABEL.deviceToSiteNonce)
  }
}

function checkEpochNumber (epoch: number): void {
  if (!Number.isSafeInteger(epoch) || epoch < 1) throw new TmtpError(ErrorCode.BAD_FRAME, 'epoch numbers start at 1')
}

/** Site side: encapsulates to the device and signs the epoch. */
export async function createKeyEpoch (opts: CreateEpochOptions): Promise<OpenedEpoch & { signed: Uint8Array }> {
  checkEpochNumber(opts.epoch)
  let sender
  try {
    const recipientPublicKey = await suite.kem.deserializePublicKey(opts.deviceX25519.slice().buffer)
    sender = await suite.createSenderContext({
      recipientPublicKey,
      info: epochInfo(opts.site.peerId, opts.device, opts.epoch).buffer as ArrayBuffer,
      ekm: opts.ephemeralIkm?.slice().buffer
    })
  } catch (err) {
    // only a device key that is not a usable X25519 point gets here
    throw new TmtpError(ErrorCode.BAD_FRAME, 'cannot encapsulate to the device key', { cause: err })
  }
  const epoch: KeyEpoch = {
    site: opts.site.peerId as Uint8Array<ArrayBuffer>,
    device: opts.device as Uint8Array<ArrayBuffer>,
    epoch: opts.epoch,
    enc: new Uint8Array(sender.enc),
    created: opts.created,
    expires: opts.expires
  }
  const signed = signMessage(opts.site, SIGNING_CONTEXT.keyEpoch, KeyEpoch, epoch)
  return { epoch, keys: await exportKeys(sender), signed }
}

export interface OpenEpochOptions {
  /** The site the epoch must come from (the authenticated remote peer). */
  site: Uint8Array
  /** This device's PeerId and X25519 private key. */
  device: Uint8Array
  devicePrivateKey: Uint8Array
}

/**
 * Device side: WRONG_SIGNER if the epoch names another site, BAD_SIGNATURE if the site did
 * not sign it, WRONG_RECIPIENT if it is for another device, BAD_FRAME if malformed.
 */
export async function openKeyEpoch (signedBytes: Uint8Array, opts: OpenEpochOptions): Promise<OpenedEpoch> {
  const signed = decodeSignedPayload(signedBytes, 'key epoch')
  const epoch = decodeMessage(KeyEpoch, signed.payload, 'key epoch')
  if (!equalBytes(epoch.site, opts.site)) throw new TmtpError(ErrorCode.WRONG_SIGNER, 'key epoch names another site')
  verifySignedPayload(signed, SIGNING_CONTEXT.keyEpoch, opts.site, 'key epoch')
  if (!equalBytes(epoch.device, opts.device)) throw new TmtpError(ErrorCode.WRONG_RECIPIENT, 'key epoch is for another device')
  checkEpochNumber(epoch.epoch)
  requireLength(epoch.enc, 32, 'HPKE enc')
  let recipient
  try {
    const recipientKey = await suite.kem.deserializePrivateKey(opts.devicePrivateKey.slice().buffer)
    recipient = await suite.createRecipientContext({
      recipientKey,
      enc: epoch.enc.slice().buffer,
      info: epochInfo(epoch.site, epoch.device, epoch.epoch).buffer as ArrayBuffer
    })
  } catch (err) {
    // a small-order enc makes the X25519 output all zero, which RFC 9180 requires to fail
    throw new TmtpError(ErrorCode.DECRYPT_FAILED, 'HPKE decapsulation failed', { cause: err })
  }
  return { epoch, keys: await exportKeys(recipient) }
}
