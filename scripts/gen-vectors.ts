/**
 * Generates the TMTP v1 test vectors in spec/vectors/*.json (spec/vectors/README.md says
 * what each file holds). Everything comes from the fixed keys, times, ids and randomness
 * below, so running it twice writes identical files: `npm run vectors`.
 *
 * test/spec/vectors.spec.ts calls buildVectors() and checks that the files on disk are
 * exactly what this script builds now; the files are written only when run as main.
 */
import '../src/polyfill.js'
import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, realpathSync, unlinkSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { multiaddr } from '@multiformats/multiaddr'
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js'
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js'
import { sha512 } from '@noble/hashes/sha2.js'
import {
  blobKey, blobProof, chunkAad, chunkCount, chunkLength, chunkNonce, createInviteToken, createKeyEpoch, Ed25519Signer, encodeContent, epochInfo,
  inviteSecretHash, messageNonce, openKeyEpoch, peerIdToString, sealChunk, sealEnvelope, signAck, signDeviceKey, signingInput, signLeave,
  signMessage, x25519FromPrivateKey
} from '../src/crypto/index.js'
import type { DirectionKey, EpochKeys, X25519KeyPair } from '../src/crypto/index.js'
import {
  BLOB_CHUNK_BYTES, BLOB_CHUNK_CONTEXT, BLOB_PROOF_CONTEXT, codeToWire, DEFAULT_CONTENT_TYPE, DEFAULT_MEDIA_TYPE, encodeFrame, encodeFrames, ErrorCode, EXPORT_LABEL,
  HPKE_INFO_PREFIX, INVITE_TOKEN_PREFIX, MAX_ATTACHMENTS, MAX_CLOCK_SKEW_MS, MAX_CONTROL_FRAME_SIZE, MAX_FRAME_SIZE, PROTOCOL_BLOB, SIGNING_CONTEXT,
  WIRE_VERSION
} from '../src/protocol/index.js'
import type { SigningContext } from '../src/protocol/index.js'
import { addressRecordKey, signAddressRecord } from '../src/discovery/address-record.js'
import { BlobReply, BlobRequest, Content, Envelope, EnvelopeHeader, Invite, Push, Receipt, SignedPayload, type Attachment } from '../src/protocol/pb/tmtp.js'
import { AEAD_ID, hpkeExport, hpkeTrace, KDF_ID, KEM_ID, MODE_BASE } from './lib/hpke-trace.js'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type JsonObject = { [key: string]: Json }

export const VECTOR_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../spec/vectors')

/** The exact text of a vector file. */
export function serializeVector (value: Json): string {
  return JSON.stringify(value, null, 2) + '\n'
}

// ---------------------------------------------------------------------------------------
// Fixed inputs. The hex strings were once taken from SHA-256 of a label; they are only
// arbitrary fixed bytes now.

const SITE_SEED = '1d25380a7cf33490b5890ee0ab1401c29e046bdb99904b96770bc841a2211a37'
const DEVICE_SEED = '481731191204f63154a3effea090751806ba1d9859e0419e63135babcc75ec3c'
const DEVICE_X25519_PRIVATE = 'd7fca6afaefd363381e732161216e507607a3036b0bacd5fb995d4533e85f112'
const OTHER_SITE_SEED = '7be8109b9b066117ee414b12bee7999127241af62c45a6dbf2e313a080b34734'
const OTHER_DEVICE_SEED = 'e1a473cd13dff1f7dfa247f1396817cf6fb8b2d7ca5e5df446c235ee690b685b'
const OTHER_DEVICE_X25519_PRIVATE = '68de8c0478acccb169c7adad083aea6444029edc70021995decbb2d09a32d287'

const INVITE_SECRET = 'fc98c2c98eaf65609ae14f9f989974f47c50a4b439d1d914c1a0af427ee997d3'
const INVITE_SECRET_2 = 'b33fca65eba6166820b9e011b06861db7df86fc88ed5d065267d8635ac6f899d'

const EPOCH_1_IKM = '10cd441d0ebf588356350ad588bf9543650649c98df72ca017ee6576f16a69bd'
const EPOCH_2_IKM = '4a179d9f338830b62ae87176f7a55de0834e97103e5fd919e6f82dda8ea6baca'
const OTHER_IKM = 'fa2ee6a1ebadcc2e8eaae4099e44293cd3b40ceaff220afd36d3c449ea63d371'

const MESSAGE_IDS = [
  'cde5f911e68b7f1653f7067d1b0e6df5',
  '3c45ddaabf0377a246b5848392cf1186',
  'abad3aae987a06e4d3ba70d12eabb2ea',
  '4769dfab0091b210e0a4041af2f961da',
  'cbefe87a1e7465b8076826a0c0e8bcce',
  'a949f698975e48b01fc5087610fb488d',
  'b10f651ac7aee3d646c663905f5264b1',
  '9fc127107b79b0ddb2add2efb63bbbc1',
  '5a1c3f0e9d2b47a68c01f2e3d4c5b6a7',
  '0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a'
]

/** 2025-11-26T00:00:00Z */
const T0 = 1764115200000
const MINUTE = 60_000
const DAY = 86_400_000

/** Content keys and blob ids of blob.json (spec 15.6). */
const CONTENT_KEYS = [
  '3f6a1c9e5b2d8f4a7c0e9b1d3f5a7c9e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a',
  'a0b1c2d3e4f5061728394a5b6c7d8e9f0f1e2d3c4b5a69788796a5b4c3d2e1f0',
  '5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817060'
]
const BLOB_IDS = ['6b1f0c2d3e4a5b6c7d8e9f0a1b2c3d4e', 'f0e1d2c3b4a5968778695a4b3c2d1e0f', '11223344556677889900aabbccddeeff']

const SITE_ADDRS = ['/ip4/192.0.2.10/tcp/4001', '/ip6/2001:db8::10/tcp/4001', '/dns4/site.example/tcp/4001']

// ---------------------------------------------------------------------------------------
// Helpers

export function hex (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}

export function fromHex (text: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(text)) throw new TypeError(`not lowercase hex: ${text.slice(0, 40)}`)
  return Uint8Array.from(Buffer.from(text, 'hex'))
}

const utf8 = new TextEncoder()

/** A copy of bytes with bit `mask` of byte `offset` flipped. */
function flipBit (bytes: Uint8Array, offset: number, mask = 0x01): Uint8Array {
  const out = Uint8Array.from(bytes)
  out[offset] ^= mask
  return out
}

function indexOf (haystack: Uint8Array, needle: Uint8Array): number {
  const at = Buffer.from(haystack).indexOf(Buffer.from(needle))
  if (at < 0) throw new Error('sub-sequence not found')
  return at
}

/** A protons message object as JSON: proto field names, bytes as hex, numbers as numbers. */
export function messageJson (value: unknown): Json {
  if (value instanceof Uint8Array) return hex(value)
  if (Array.isArray(value)) return value.map(messageJson)
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value
  if (value != null && typeof value === 'object') {
    const out: JsonObject = {}
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue
      out[k.replace(/[A-Z]/g, c => '_' + c.toLowerCase())] = messageJson(v)
    }
    return out
  }
  throw new TypeError(`cannot represent ${String(value)} as JSON`)
}

function signerJson (signer: Ed25519Signer): JsonObject {
  return {
    ed25519_seed: hex(signer.seed),
    ed25519_public_key: hex(signer.publicKey),
    peer_id: hex(signer.peerId),
    peer_id_base58: peerIdToString(signer.peerId)
  }
}

function deviceJson (signer: Ed25519Signer, x: X25519KeyPair): JsonObject {
  return { ...signerJson(signer), x25519_private_key: hex(x.privateKey), x25519_public_key: hex(x.publicKey) }
}

/** The parts of SignedPayload bytes, as every signed-message vector records them. */
function signedJson (context: SigningContext, signed: Uint8Array): JsonObject {
  const { payload, signature } = SignedPayload.decode(signed)
  return {
    payload: hex(payload),
    signing_input: hex(signingInput(context, payload)),
    signature: hex(signature),
    signed_payload: hex(signed)
  }
}

function directionJson (key: DirectionKey): JsonObject {
  return { key: hex(key.keyBytes), base_nonce: hex(key.baseNonce) }
}

function exportsJson (keys: EpochKeys): JsonObject {
  return { site_to_device: directionJson(keys.siteToDevice), device_to_site: directionJson(keys.deviceToSite) }
}

function assertSame (what: string, a: Uint8Array, b: Uint8Array): void {
  if (hex(a) !== hex(b)) throw new Error(`vector generation: ${what} differs (${hex(a)} != ${hex(b)})`)
}

// ---------------------------------------------------------------------------------------
// The vectors

interface Fixture {
  site: Ed25519Signer
  device: Ed25519Signer
  deviceX: X25519KeyPair
  otherSite: Ed25519Signer
  otherDevice: Ed25519Signer
  otherDeviceX: X25519KeyPair
  ids: Uint8Array[]
}

function fixture (): Fixture {
  return {
    site: new Ed25519Signer(fromHex(SITE_SEED)),
    device: new Ed25519Signer(fromHex(DEVICE_SEED)),
    deviceX: x25519FromPrivateKey(fromHex(DEVICE_X25519_PRIVATE)),
    otherSite: new Ed25519Signer(fromHex(OTHER_SITE_SEED)),
    otherDevice: new Ed25519Signer(fromHex(OTHER_DEVICE_SEED)),
    otherDeviceX: x25519FromPrivateKey(fromHex(OTHER_DEVICE_X25519_PRIVATE)),
    ids: MESSAGE_IDS.map(fromHex)
  }
}

function inviteVectors (f: Fixture): JsonObject {
  const cases = [
    {
      name: 'invite with addresses, user reference and site name',
      addrs: SITE_ADDRS,
      secret: fromHex(INVITE_SECRET),
      expires: T0 + 7 * DAY,
      ref: 'user-4711',
      siteName: 'Café Example'
    },
    {
      name: 'minimal invite: no addresses, empty ref and site_name (omitted on the wire)',
      addrs: [],
      secret: fromHex(INVITE_SECRET_2),
      expires: T0 + DAY,
      ref: '',
      siteName: ''
    }
  ]
  return {
    description: 'Invites (spec: "Invites"). A site signs an Invite; the token text is "tmtp1:" + unpadded base64url of the SignedPayload bytes. A member parses the token at time `now` and verifies it; the site stores only SHA-256(secret).',
    version: 1,
    signing_context: SIGNING_CONTEXT.invite,
    token_prefix: INVITE_TOKEN_PREFIX,
    site: signerJson(f.site),
    vectors: cases.map(c => {
      const addrs = c.addrs.map(a => multiaddr(a).bytes)
      const token = createInviteToken(f.site, { addrs, secret: c.secret, expires: c.expires, ref: c.ref, siteName: c.siteName })
      const signed = Uint8Array.from(Buffer.from(token.slice(INVITE_TOKEN_PREFIX.length), 'base64url'))
      const invite: Invite = { version: WIRE_VERSION, site: f.site.peerId as Uint8Array<ArrayBuffer>, addrs: addrs as Array<Uint8Array<ArrayBuffer>>, secret: c.secret as Uint8Array<ArrayBuffer>, expires: c.expires, ref: c.ref, siteName: c.siteName }
      assertSame('invite payload', SignedPayload.decode(signed).payload, Invite.encode(invite))
      assertSame('SHA-256 of the secret', inviteSecretHash(c.secret), new Uint8Array(createHash('sha256').update(c.secret).digest()))
      return {
        name: c.name,
        invite: messageJson(invite),
        addrs_text: c.addrs,
        ...signedJson(SIGNING_CONTEXT.invite, signed),
        token,
        secret_sha256: hex(inviteSecretHash(c.secret)),
        now: T0
      }
    })
  }
}

function deviceKeyVectors (f: Fixture): JsonObject {
  const signed = signDeviceKey(f.device, f.deviceX.publicKey, T0)
  return {
    description: 'Device keys (spec: "Device keys"): a member device binds its X25519 public key to its Ed25519 identity by signing a DeviceKey. The site checks it with the PeerId of the device that sent the join request.',
    version: 1,
    signing_context: SIGNING_CONTEXT.deviceKey,
    device: deviceJson(f.device, f.deviceX),
    vectors: [{
      name: 'device key',
      device_key: messageJson({ device: f.device.peerId, x25519: f.deviceX.publicKey, created: T0 }),
      ...signedJson(SIGNING_CONTEXT.deviceKey, signed)
    }]
  }
}

interface EpochCase { name: string, epoch: number, created: number, expires: number, ikm: string }

const EPOCH_CASES: EpochCase[] = [
  { name: 'epoch 1', epoch: 1, created: T0, expires: T0 + 7 * DAY, ikm: EPOCH_1_IKM },
  { name: 'epoch 4294967297 (uint64 beyond 32 bits in info and on the wire)', epoch: 2 ** 32 + 1, created: T0 + 7 * DAY, expires: T0 + 14 * DAY, ikm: EPOCH_2_IKM }
]

async function makeEpoch (f: Fixture, c: EpochCase): Promise<{ json: JsonObject, signed: Uint8Array, keys: EpochKeys }> {
  const ikm = fromHex(c.ikm)
  const made = await createKeyEpoch({ site: f.site, device: f.device.peerId, deviceX25519: f.deviceX.publicKey, epoch: c.epoch, created: c.created, expires: c.expires, ephemeralIkm: ikm })
  const opened = await openKeyEpoch(made.signed, { site: f.site.peerId, device: f.device.peerId, devicePrivateKey: f.deviceX.privateKey })
  const info = epochInfo(f.site.peerId, f.device.peerId, c.epoch)
  const trace = hpkeTrace(ikm, f.deviceX.publicKey, info)
  assertSame('enc', trace.enc, made.epoch.enc)
  for (const [dir, keyLabel, nonceLabel] of [
    ['siteToDevice', EXPORT_LABEL.siteToDeviceKey, EXPORT_LABEL.siteToDeviceNonce],
    ['deviceToSite', EXPORT_LABEL.deviceToSiteKey, EXPORT_LABEL.deviceToSiteNonce]
  ] as const) {
    assertSame(`${dir} key`, hpkeExport(trace.exporterSecret, utf8.encode(keyLabel), 32), made.keys[dir].keyBytes)
    assertSame(`${dir} base nonce`, hpkeExport(trace.exporterSecret, utf8.encode(nonceLabel), 12), made.keys[dir].baseNonce)
    assertSame(`${dir} key (device)`, opened.keys[dir].keyBytes, made.keys[dir].keyBytes)
    assertSame(`${dir} base nonce (device)`, opened.keys[dir].baseNonce, made.keys[dir].baseNonce)
  }
  const json: JsonObject = {
    name: c.name,
    epoch: c.epoch,
    created: c.created,
    expires: c.expires,
    ephemeral_ikm: c.ikm,
    info: hex(info),
    hpke: {
      ephemeral_private_key: hex(trace.ephemeralPrivateKey),
      enc: hex(trace.enc),
      dh: hex(trace.dh),
      kem_context: hex(trace.kemContext),
      shared_secret: hex(trace.sharedSecret),
      key_schedule_context: hex(trace.keyScheduleContext),
      secret: hex(trace.secret),
      exporter_secret: hex(trace.exporterSecret)
    },
    key_epoch: messageJson(made.epoch),
    ...signedJson(SIGNING_CONTEXT.keyEpoch, made.signed),
    exports: exportsJson(made.keys)
  }
  return { json, signed: made.signed, keys: made.keys }
}

async function keyEpochVectors (f: Fixture): Promise<JsonObject> {
  const vectors: Json[] = []
  for (const c of EPOCH_CASES) vectors.push((await makeEpoch(f, c)).json)
  return {
    description: 'Key epochs (spec: "Key epochs"): the site encapsulates to the device\'s X25519 key with HPKE base mode (RFC 9180: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305), the ephemeral key pair being DeriveKeyPair(ephemeral_ikm) so that the vector is fixed, signs the KeyEpoch, and both sides export a 32-byte key and a 12-byte base nonce per direction.',
    version: 1,
    signing_context: SIGNING_CONTEXT.keyEpoch,
    hpke_suite: { mode: MODE_BASE, kem_id: KEM_ID, kdf_id: KDF_ID, aead_id: AEAD_ID },
    info_prefix: HPKE_INFO_PREFIX,
    export_contexts: {
      site_to_device: { key: EXPORT_LABEL.siteToDeviceKey, key_length: 32, base_nonce: EXPORT_LABEL.siteToDeviceNonce, base_nonce_length: 12 },
      device_to_site: { key: EXPORT_LABEL.deviceToSiteKey, key_length: 32, base_nonce: EXPORT_LABEL.deviceToSiteNonce, base_nonce_length: 12 }
    },
    site: signerJson(f.site),
    device: deviceJson(f.device, f.deviceX),
    vectors
  }
}

interface EnvelopeCase {
  name: string
  direction: 'site_to_device' | 'device_to_site'
  header: EnvelopeHeader
  content: Content
}

function sealCase (keys: EpochKeys, c: EnvelopeCase, now: number): { json: JsonObject, envelope: Uint8Array } {
  const key = c.direction === 'site_to_device' ? keys.siteToDevice : keys.deviceToSite
  const contentBytes = encodeContent(c.content)
  const envelope = sealEnvelope(key, c.header, contentBytes)
  const decoded = Envelope.decode(envelope)
  const opened: Content = {
    ...c.content,
    contentType: c.content.contentType === '' ? DEFAULT_CONTENT_TYPE : c.content.contentType,
    attachments: c.content.attachments.map(a => ({ ...a, mediaType: a.mediaType === '' ? DEFAULT_MEDIA_TYPE : a.mediaType }))
  }
  return {
    envelope,
    json: {
      name: c.name,
      direction: c.direction,
      key: hex(key.keyBytes),
      base_nonce: hex(key.baseNonce),
      header: messageJson(c.header),
      header_bytes: hex(decoded.header),
      nonce: hex(messageNonce(key.baseNonce, c.header.seq)),
      content: messageJson(c.content),
      content_bytes: hex(contentBytes),
      ciphertext: hex(decoded.ciphertext),
      envelope: hex(envelope),
      now,
      opened_content: messageJson(opened)
    }
  }
}

function header (from: Ed25519Signer, to: Ed25519Signer, id: Uint8Array, epoch: number, seq: number, created: number, expires: number): EnvelopeHeader {
  return { version: WIRE_VERSION, id: id as Uint8Array<ArrayBuffer>, sender: from.peerId as Uint8Array<ArrayBuffer>, recipient: to.peerId as Uint8Array<ArrayBuffer>, epoch, seq, created, expires }
}

function content (subject: string, body: string, contentType = '', thread?: Uint8Array, replyTo?: Uint8Array, group = '', attachments: Attachment[] = []): Content {
  return { subject, body, contentType, thread: (thread ?? new Uint8Array(0)) as Uint8Array<ArrayBuffer>, replyTo: (replyTo ?? new Uint8Array(0)) as Uint8Array<ArrayBuffer>, group, attachments }
}

function envelopeCases (f: Fixture): EnvelopeCase[] {
  const [id1, id2, id3, id4, id5] = f.ids
  const sent = T0 + MINUTE
  return [
    {
      name: 'site to device, first message of the epoch, default content type, expires in 7 days',
      direction: 'site_to_device',
      header: header(f.site, f.device, id1, 1, 1, sent, sent + 7 * DAY),
      content: content('Welcome', 'Hello and welcome to **Café Example**.')
    },
    {
      name: 'site to device, in a thread and replying, never expires (expires = 0)',
      direction: 'site_to_device',
      header: header(f.site, f.device, id2, 1, 2, sent + MINUTE, 0),
      content: content('Re: Welcome', 'Your question is answered below.', '', id1, id1)
    },
    {
      name: 'device to site, a reply with content type text/plain',
      direction: 'device_to_site',
      header: header(f.device, f.site, id3, 1, 1, sent + 2 * MINUTE, sent + 2 * MINUTE + DAY),
      content: content('Re: Welcome', 'Thanks!', 'text/plain', id1, id2)
    },
    {
      name: 'site to device, empty subject and body (empty plaintext: the ciphertext is the tag alone)',
      direction: 'site_to_device',
      header: header(f.site, f.device, id4, 1, 3, sent + 3 * MINUTE, 0),
      content: content('', '')
    },
    {
      name: 'site to device, non-ASCII Markdown body, seq 0x0102030405 (the nonce XOR touches five bytes)',
      direction: 'site_to_device',
      header: header(f.site, f.device, id5, 1, 0x0102030405, sent + 4 * MINUTE, sent + 30 * DAY),
      content: content('Grüße — 日本語', '# Grüße 👋\n\n*Ünïcödé* and **日本語**, a [link](https://site.example/ä?q=1).\n\n- one\n- two\n', 'text/markdown')
    },
    {
      name: 'site to device, a subject that begins with U+FEFF (a byte-order mark is text: the receiver keeps it)',
      direction: 'site_to_device',
      header: header(f.site, f.device, f.ids[8], 1, 6, sent + 5 * MINUTE, 0),
      content: content('\ufeffNotice', 'The subject starts with the three bytes ef bb bf.')
    },
    {
      name: 'site to device, sent to a group of the site: Content.group (field 6, since r3) carries the group\'s display name',
      direction: 'site_to_device',
      header: header(f.site, f.device, f.ids[9], 1, 7, sent + 6 * MINUTE, sent + 7 * DAY),
      content: content('Outing on Friday', 'Bring a packed lunch.', '', undefined, undefined, 'Class 3B — Frühling')
    }
  ]
}

async function envelopeVectors (f: Fixture): Promise<JsonObject> {
  const epoch = await makeEpoch(f, EPOCH_CASES[0])
  return {
    description: 'Envelopes (spec: "Envelopes"): the encoded EnvelopeHeader is the AAD, exactly as carried in Envelope.header; the encoded Content is sealed with ChaCha20-Poly1305 (RFC 8439) under the key of the envelope\'s direction, nonce = base_nonce XOR the 12-byte big-endian seq; the 16-byte tag is appended to the ciphertext. The keys are those of key-epoch.json, "epoch 1".',
    version: 1,
    site: signerJson(f.site),
    device: deviceJson(f.device, f.deviceX),
    key_epoch: { epoch: 1, signed_payload: hex(epoch.signed), exports: exportsJson(epoch.keys) },
    vectors: envelopeCases(f).map(c => sealCase(epoch.keys, c, c.header.created + 1000).json)
  }
}

function ackVectors (f: Fixture): JsonObject {
  const cases = [
    { name: 'device acknowledges one envelope of the site', signer: f.device, sender: f.site, ids: [f.ids[0]], time: T0 + 2 * MINUTE },
    { name: 'device acknowledges a batch of three envelopes of the site', signer: f.device, sender: f.site, ids: [f.ids[1], f.ids[3], f.ids[4]], time: T0 + 5 * MINUTE },
    { name: 'site acknowledges one envelope posted by the device', signer: f.site, sender: f.device, ids: [f.ids[2]], time: T0 + 3 * MINUTE }
  ]
  return {
    description: 'Acknowledgements (spec: "Acknowledgements"): the receiver of envelopes signs an AckBody listing the ids it has durably stored. The sender opens it with its own PeerId as sender and the PeerId of the peer that sent the receipt as receiver.',
    version: 1,
    signing_context: SIGNING_CONTEXT.ack,
    site: signerJson(f.site),
    device: signerJson(f.device),
    vectors: cases.map(c => ({
      name: c.name,
      ack: messageJson({ sender: c.sender.peerId, receiver: c.signer.peerId, ids: c.ids, time: c.time }),
      ...signedJson(SIGNING_CONTEXT.ack, signAck(c.signer, c.sender.peerId, c.ids, c.time))
    }))
  }
}

function leaveVectors (f: Fixture): JsonObject {
  const time = T0 + 3 * DAY
  return {
    description: 'Leave (spec: "/tmtp/leave/1.0.0"): a member device signs a Leave naming the site; the site opens it with its own PeerId and the PeerId of the device that sent it.',
    version: 1,
    signing_context: SIGNING_CONTEXT.leave,
    site: signerJson(f.site),
    device: signerJson(f.device),
    vectors: [{
      name: 'device leaves the site',
      leave: messageJson({ site: f.site.peerId, device: f.device.peerId, time }),
      ...signedJson(SIGNING_CONTEXT.leave, signLeave(f.device, f.site.peerId, time))
    }]
  }
}

function addressRecordVectors (f: Fixture): JsonObject {
  const seq = T0 + 3 * DAY
  const cases = [
    { name: 'a device with a private IPv4 and a loopback IPv6 address', signer: f.device, addrs: ['/ip4/192.168.1.20/tcp/4001', '/ip6/::1/tcp/4001'] },
    { name: 'a site with one DNS address', signer: f.site, addrs: ['/dns4/site.example/tcp/4001'] }
  ]
  return {
    description: 'Address records (spec: "The DHT", "Address records"): a node signs its current addresses; the record is stored in the TMTP DHT under "/tmtp-addr/" || PeerId, and opened against that key.',
    version: 1,
    signing_context: SIGNING_CONTEXT.addressRecord,
    vectors: cases.map(c => {
      const addrs = c.addrs.map(a => multiaddr(a).bytes)
      const record = { peer: c.signer.peerId, addrs, seq, expires: seq + 2 * 3600_000 }
      return {
        name: c.name,
        signer: signerJson(c.signer),
        key: hex(addressRecordKey(c.signer.peerId)),
        addrs_text: c.addrs,
        record: messageJson(record),
        ...signedJson(SIGNING_CONTEXT.addressRecord, signAddressRecord(c.signer, c.addrs, record.seq, record.expires))
      }
    })
  }
}

const ED_P = 2n ** 255n - 19n
const ED_L = ed25519.Point.Fn.ORDER

/** k = SHA-512(R || A || M) mod L of RFC 8032, over the bytes as given. */
function challenge (r: Uint8Array, a: Uint8Array, message: Uint8Array): bigint {
  return bytesToNumberLE(sha512(Uint8Array.from([...r, ...a, ...message]))) % ED_L
}

function signatureBytes (r: Uint8Array, s: bigint): Uint8Array {
  return Uint8Array.from([...r, ...numberToBytesLE(s, 32)])
}

/**
 * Signatures at the edges of spec 7's rule: each would pass a looser verifier (one that
 * accepts y >= p, small-order points, or checks the cofactored equation [8][S]B = [8]R +
 * [8][k]A), and the rule refuses it; two show what it keeps accepting.
 */
function ed25519Vectors (f: Fixture): JsonObject {
  const { Point } = ed25519
  const { scalar } = ed25519.utils.getExtendedPublicKey(f.site.seed)
  const a = scalar % ED_L
  const A = f.site.publicKey
  const message = (i: number): Uint8Array => utf8.encode(`tmtp ed25519 vector ${i}`)
  const r = 0x1234567n
  const rBytes = Point.BASE.multiply(r).toBytes()
  const torsion8 = Uint8Array.from(Buffer.from(ED25519_TORSION_SUBGROUP[1], 'hex'))
  const identity = numberToBytesLE(1n, 32)
  const identityNonCanonical = numberToBytesLE(ED_P + 1n, 32)
  const negativeZero = Uint8Array.from(identity)
  negativeZero[31] |= 0x80
  const cases: JsonObject[] = []
  const add = (name: string, publicKey: Uint8Array, m: Uint8Array, signature: Uint8Array, valid: boolean, notes: string): void => {
    cases.push({ name, public_key: hex(publicKey), message: hex(m), signature: hex(signature), valid, notes })
  }
  /** The first message from `from` on whose challenge under (R, A) `want` holds. */
  const find = (from: number, rB: Uint8Array, aB: Uint8Array, want: (k: bigint) => boolean): [Uint8Array, bigint] => {
    for (let i = from; ; i++) {
      const k = challenge(rB, aB, message(i))
      if (want(k)) return [message(i), k]
    }
  }

  const m0 = message(0)
  const good = f.site.sign(m0)
  add('valid signature (the site key of the other files)', A, m0, good, true, 'RFC 8032 signing')
  const s0 = bytesToNumberLE(good.subarray(32))
  add('S not below L: the valid signature with S + L', A, m0, signatureBytes(good.subarray(0, 32), s0 + ED_L), false,
    'S + L < 2^256 still fits 32 bytes; [S + L]B = [S]B, so the equation alone would accept it')
  const [m1, k1] = find(1, identity, A, () => true)
  add('R of small order: the identity, canonically encoded', A, m1, signatureBytes(identity, (k1 * a) % ED_L), false,
    'R = 01 00..00, S = k a mod L: [S]B = R + [k]A holds')
  const [m2, k2] = find(2, identityNonCanonical, A, () => true)
  add('R not canonical: y = p + 1 (the identity)', A, m2, signatureBytes(identityNonCanonical, (k2 * a) % ED_L), false,
    'R is y = p + 1 without reduction; S = k a mod L: a verifier that reduces y and compares points accepts it')
  add('A of small order: the identity', identity, message(3), signatureBytes(rBytes, r), false,
    'A = 01 00..00, R = [r]B, S = r: [k]A is the identity for every message, so this "signature" verifies for any message under a looser rule')
  add('A not canonical: y = p + 1 (the identity)', identityNonCanonical, message(4), signatureBytes(rBytes, r), false,
    'as the previous case, A encoded with y = p + 1 without reduction (node:crypto accepted it before revision 2)')
  add('A with x = 0 and the sign bit set (the identity)', negativeZero, message(5), signatureBytes(rBytes, r), false,
    'RFC 8032 decoding fails for x = 0 with the sign bit set')
  const [m6] = find(6, rBytes, torsion8, k => k % 8n === 0n)
  add('A of small order 8, with k = 0 mod 8', torsion8, m6, signatureBytes(rBytes, r), false,
    `A = ${ED25519_TORSION_SUBGROUP[1]}, R = [r]B, S = r: [k]A is the identity because k = 0 mod 8, so even the cofactorless equation holds`)
  const mixed = Point.BASE.multiply(a).add(Point.fromBytes(torsion8)).toBytes()
  const [m7, k7] = find(7, rBytes, mixed, k => k % 8n !== 0n)
  add('A with a small-order component, cofactored equation only', mixed, m7, signatureBytes(rBytes, (r + k7 * a) % ED_L), false,
    'A = [a]B + T (T of order 8), R = [r]B, S = r + k a mod L with k != 0 mod 8: [S]B = R + [k]A - [k]T, so only [8][S]B = [8]R + [8][k]A holds')
  const [m8, k8] = find(8, rBytes, mixed, k => k % 8n === 0n)
  add('A with a small-order component, both equations hold', mixed, m8, signatureBytes(rBytes, (r + k8 * a) % ED_L), true,
    'as the previous case with k = 0 mod 8: [k]T is the identity. A is canonical and not of small order, so the rule accepts it')
  return {
    description: 'Ed25519 verification (spec: "Signatures"): A and R must be canonical encodings (y < p) of points not of small order, S < L, and the cofactorless equation [S]B = R + [k]A must hold, with k = SHA-512(R || A || M) mod L over the bytes as given. The messages are signed directly, with no context string.',
    version: 1,
    cases
  }
}

/** An unsigned LEB128 varint, minimally encoded. */
function varintBytes (value: number): Uint8Array {
  const out: number[] = []
  while (value >= 0x80) {
    out.push((value & 0x7f) | 0x80)
    value = Math.floor(value / 128)
  }
  out.push(value)
  return Uint8Array.from(out)
}

/** Frame body of the given length: byte i is i mod 256. */
function pattern (length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => i & 0xff)
}

/** The offsets in `stream` after which a decoder fed one byte at a time returns each frame. */
function frameEnds (frames: Uint8Array[]): number[] {
  const ends: number[] = []
  let offset = 0
  for (const frame of frames) {
    offset += encodeFrame(frame).byteLength
    ends.push(offset)
  }
  return ends
}

async function framingVectors (f: Fixture): Promise<JsonObject> {
  const single = [0, 1, 127, 128, 300, 16384].map(length => {
    const frame = pattern(length)
    const encoded = encodeFrame(frame)
    return {
      name: `frame of ${length} bytes`,
      length,
      frame: hex(frame),
      length_prefix: hex(encoded.subarray(0, encoded.byteLength - length)),
      encoded: hex(encoded)
    }
  })
  const parts = [pattern(3), pattern(0), pattern(128), pattern(1), pattern(300)]
  const concatenated = {
    name: 'five frames (3, 0, 128, 1 and 300 bytes) in one write',
    frames: parts.map(hex),
    encoded: hex(encodeFrames(parts)),
    frame_ends: frameEnds(parts)
  }

  const epoch = await makeEpoch(f, EPOCH_CASES[0])
  const cases = envelopeCases(f)
  const envelopes = cases.slice(0, 2).map(c => sealCase(epoch.keys, c, 0).envelope)
  const pushes = [
    Push.encode({ epoch: SignedPayload.decode(epoch.signed) }),
    ...envelopes.map(e => Push.encode({ envelope: Envelope.decode(e) }))
  ]
  const receipts = [Receipt.encode({ ack: SignedPayload.decode(signAck(f.device, f.site.peerId, [f.ids[0], f.ids[1]], T0 + 3 * MINUTE)) })]
  // a set oneof member is written even when every field of it is at its default (spec 5)
  const empty = { payload: new Uint8Array(0), signature: new Uint8Array(0), header: new Uint8Array(0), ciphertext: new Uint8Array(0), id: new Uint8Array(0), code: 0, detail: '' }
  const oneof = ([['Push', 'epoch'], ['Push', 'envelope'], ['Receipt', 'ack'], ['Receipt', 'reject'], ['Receipt', 'error']] as const).map(([message, member]) => ({
    name: `${message}{${member}} with every field of ${member} at its default`,
    message,
    member,
    frame: hex(message === 'Push' ? Push.encode({ [member]: empty } as Partial<Push>) : Receipt.encode({ [member]: empty } as Partial<Receipt>))
  }))
  return {
    description: 'Framing (spec: "Framing"): every frame is an unsigned LEB128 varint length prefix, minimally encoded, followed by that many bytes. A decoder may receive any split of the stream; fed one byte at a time it returns each frame as soon as its last byte (or, for an empty frame, its prefix) arrives.',
    version: 1,
    max_frame_size: MAX_FRAME_SIZE,
    max_control_frame_size: MAX_CONTROL_FRAME_SIZE,
    frames: single,
    concatenated,
    streams: [
      {
        name: 'deliver stream, site to device: Push{epoch} then Push{envelope} for the first two envelope.json vectors',
        message: 'Push',
        frames: pushes.map(hex),
        encoded: hex(encodeFrames(pushes)),
        frame_ends: frameEnds(pushes)
      },
      {
        name: 'deliver stream, device to site: Receipt{ack} acknowledging those two envelopes',
        message: 'Receipt',
        frames: receipts.map(hex),
        encoded: hex(encodeFrames(receipts)),
        frame_ends: frameEnds(receipts)
      }
    ],
    oneof
  }
}

async function negativeVectors (f: Fixture): Promise<JsonObject> {
  const cases: JsonObject[] = []
  const add = (name: string, operation: string, input: JsonObject, error: string, original?: JsonObject, notes?: string): void => {
    const c: JsonObject = { name, operation, input, error }
    if (original !== undefined) c.original = original
    if (notes !== undefined) c.notes = notes
    cases.push(c)
  }

  const epoch1 = await makeEpoch(f, EPOCH_CASES[0])
  const keys = epoch1.keys.siteToDevice
  const sent = T0 + 10 * MINUTE
  const expires = sent + DAY
  const [, , , , , id6, id7, id8] = f.ids
  const seal = (h: EnvelopeHeader, body = 'Hello'): Uint8Array => sealEnvelope(keys, h, encodeContent({ subject: 'Test', body }))
  const receive = (envelope: Uint8Array, now: number, recipient = f.device): JsonObject => ({
    envelope: hex(envelope),
    sender: hex(f.site.peerId),
    recipient: hex(recipient.peerId),
    now,
    key: hex(keys.keyBytes),
    base_nonce: hex(keys.baseNonce),
    epoch: 1,
    epoch_expires: EPOCH_CASES[0].expires
  })
  const good = seal(header(f.site, f.device, id6, 1, 7, sent, expires))
  const goodHeader = Envelope.decode(good).header
  const now = sent + MINUTE

  // tampered header: flip the lowest bit of the first byte of the message id
  const idOffset = indexOf(good, goodHeader) + indexOf(goodHeader, id6)
  add('tampered header: one bit of the message id flipped', 'receive_envelope', receive(flipBit(good, idOffset), now), 'DECRYPT_FAILED',
    { envelope: hex(good) }, `bit 0x01 of byte ${idOffset} of the envelope (the first byte of the id inside the header) flipped; the header still decodes and passes every check`)
  const ctOffset = good.byteLength - 20
  add('tampered ciphertext: one bit flipped', 'receive_envelope', receive(flipBit(good, ctOffset), now), 'DECRYPT_FAILED',
    { envelope: hex(good) }, `bit 0x01 of byte ${ctOffset} of the envelope (inside the ciphertext, before the tag) flipped`)
  const tagOffset = good.byteLength - 1
  add('tampered tag: one bit flipped', 'receive_envelope', receive(flipBit(good, tagOffset), now), 'DECRYPT_FAILED',
    { envelope: hex(good) }, 'bit 0x01 of the last byte of the envelope (the last byte of the tag) flipped')

  // wrong recipient key: the epoch opened with another X25519 private key derives other keys
  const wrong = await openKeyEpoch(epoch1.signed, { site: f.site.peerId, device: f.device.peerId, devicePrivateKey: f.otherDeviceX.privateKey })
  add('wrong recipient key: epoch opened with another X25519 private key, then the envelope', 'open_key_epoch_then_receive_envelope', {
    signed_epoch: hex(epoch1.signed),
    site: hex(f.site.peerId),
    device: hex(f.device.peerId),
    device_x25519_private_key: hex(f.otherDeviceX.privateKey),
    direction: 'site_to_device',
    envelope: hex(good),
    sender: hex(f.site.peerId),
    recipient: hex(f.device.peerId),
    now
  }, 'DECRYPT_FAILED', { device_x25519_private_key: hex(f.deviceX.privateKey) },
  `HPKE base mode does not authenticate the recipient: opening the epoch succeeds but derives other keys (site_to_device key ${hex(wrong.keys.siteToDevice.keyBytes)}, base nonce ${hex(wrong.keys.siteToDevice.baseNonce)}), under which the envelope does not authenticate`)

  add('expired envelope: now equals expires', 'receive_envelope', receive(good, expires), 'EXPIRED', { now: expires - 1 })
  const future = seal(header(f.site, f.device, id7, 1, 8, sent, 0))
  add('envelope created in the future beyond the allowed clock skew', 'receive_envelope', receive(future, sent - MAX_CLOCK_SKEW_MS - 1), 'BAD_TIMESTAMP',
    { now: sent - MAX_CLOCK_SKEW_MS }, `created - now = ${MAX_CLOCK_SKEW_MS + 1} ms, one more than the allowed skew of ${MAX_CLOCK_SKEW_MS} ms`)
  const forOther = seal(header(f.site, f.otherDevice, id8, 1, 9, sent, expires))
  add('envelope for another recipient', 'receive_envelope', receive(forOther, now), 'WRONG_RECIPIENT', { recipient: hex(f.otherDevice.peerId) })
  const otherSender = seal(header(f.otherSite, f.device, id8, 1, 10, sent, expires))
  add('envelope naming another sender than the peer that sent it', 'receive_envelope', receive(otherSender, now), 'WRONG_SIGNER', { sender: hex(f.otherSite.peerId) })
  const v2 = seal({ ...header(f.site, f.device, id8, 1, 11, sent, expires), version: 2 })
  add('envelope header version 2', 'receive_envelope', receive(v2, now), 'UNSUPPORTED_VERSION', undefined, 'sealed correctly under the epoch key; only the version is unknown')

  // invites
  const inviteExpires = T0 + DAY
  const inviteFields = { addrs: [multiaddr(SITE_ADDRS[0]).bytes], secret: fromHex(INVITE_SECRET), expires: inviteExpires, ref: 'user-4711', siteName: 'Café Example' }
  const token = createInviteToken(f.site, inviteFields)
  const tokenBody = token.slice(INVITE_TOKEN_PREFIX.length)
  const invite = Uint8Array.from(Buffer.from(tokenBody, 'base64url'))
  add('expired invite (site verifies it): now equals expires', 'open_invite', { signed_payload: hex(invite), site: hex(f.site.peerId), now: inviteExpires }, 'EXPIRED', { now: inviteExpires - 1 })
  add('expired invite token (member parses it): now equals expires', 'parse_invite_token', { token, now: inviteExpires }, 'EXPIRED', { now: inviteExpires - 1 })
  const inviteSigOffset = invite.byteLength - 64
  add('invite with one signature bit flipped', 'open_invite', { signed_payload: hex(flipBit(invite, inviteSigOffset)), site: null, now: T0 }, 'BAD_SIGNATURE',
    { signed_payload: hex(invite) }, `bit 0x01 of byte ${inviteSigOffset} (the first byte of the signature) flipped`)
  const otherInvite = Uint8Array.from(Buffer.from(createInviteToken(f.otherSite, inviteFields).slice(INVITE_TOKEN_PREFIX.length), 'base64url'))
  add('invite of another site presented to this site', 'open_invite', { signed_payload: hex(otherInvite), site: hex(f.site.peerId), now: T0 }, 'WRONG_SIGNER',
    { site: hex(f.otherSite.peerId) }, 'validly signed by the other site')
  const inviteV2 = signMessage(f.site, SIGNING_CONTEXT.invite, Invite, { version: 2, site: f.site.peerId as Uint8Array<ArrayBuffer>, addrs: [], secret: fromHex(INVITE_SECRET) as Uint8Array<ArrayBuffer>, expires: inviteExpires, ref: '', siteName: '' })
  add('invite version 2', 'open_invite', { signed_payload: hex(inviteV2), site: null, now: T0 }, 'UNSUPPORTED_VERSION', undefined, 'validly signed by the site; only the version is unknown')
  add('token prefix tmtp2:', 'parse_invite_token', { token: 'tmtp2:' + tokenBody, now: T0 }, 'UNSUPPORTED_VERSION', { token })
  add('token without the tmtp prefix', 'parse_invite_token', { token: 'https://site.example/join', now: T0 }, 'BAD_TOKEN')
  add('token with a character outside base64url', 'parse_invite_token', { token: INVITE_TOKEN_PREFIX + tokenBody.slice(0, 10) + '+' + tokenBody.slice(11), now: T0 }, 'BAD_TOKEN',
    undefined, 'the 11th character replaced by "+" (base64, not base64url)')
  const badLength = tokenBody.slice(0, tokenBody.length - ((tokenBody.length - 1) % 4))
  add('token whose base64url text has an impossible length (1 mod 4)', 'parse_invite_token', { token: INVITE_TOKEN_PREFIX + badLength, now: T0 }, 'BAD_TOKEN')
  add('token that is empty after the prefix', 'parse_invite_token', { token: INVITE_TOKEN_PREFIX, now: T0 }, 'BAD_TOKEN')
  add('token that is base64url but not protobuf', 'parse_invite_token', { token: INVITE_TOKEN_PREFIX + 'Cg', now: T0 }, 'BAD_TOKEN',
    undefined, 'the single byte 0x0a: field 1, length-delimited, with its length missing')
  const noSecret = signMessage(f.site, SIGNING_CONTEXT.invite, Invite, { version: 1, site: f.site.peerId as Uint8Array<ArrayBuffer>, addrs: [], secret: new Uint8Array(16), expires: inviteExpires, ref: '', siteName: '' })
  add('token of a signed invite whose secret is 16 bytes, not 32', 'parse_invite_token', { token: INVITE_TOKEN_PREFIX + Buffer.from(noSecret).toString('base64url'), now: T0 }, 'BAD_TOKEN',
    undefined, 'validly signed by the site; the fields are malformed')

  // key epochs
  const epochSigOffset = epoch1.signed.byteLength - 64
  const openEpoch = (signed: Uint8Array): JsonObject => ({
    signed_payload: hex(signed), site: hex(f.site.peerId), device: hex(f.device.peerId), device_x25519_private_key: hex(f.deviceX.privateKey)
  })
  add('key epoch with one signature bit flipped', 'open_key_epoch', openEpoch(flipBit(epoch1.signed, epochSigOffset)), 'BAD_SIGNATURE',
    { signed_payload: hex(epoch1.signed) }, `bit 0x01 of byte ${epochSigOffset} (the first byte of the signature) flipped`)
  const payload = SignedPayload.decode(epoch1.signed).payload
  const forged = SignedPayload.encode({ payload, signature: f.otherSite.sign(signingInput(SIGNING_CONTEXT.keyEpoch, payload)) as Uint8Array<ArrayBuffer> })
  add('key epoch naming the site but signed by another key', 'open_key_epoch', openEpoch(forged), 'BAD_SIGNATURE', { signed_payload: hex(epoch1.signed) },
    'the KeyEpoch payload of key-epoch.json "epoch 1", signed by the other site\'s key')
  const otherEpoch = await createKeyEpoch({ site: f.otherSite, device: f.device.peerId, deviceX25519: f.deviceX.publicKey, epoch: 1, created: T0, expires: T0 + 7 * DAY, ephemeralIkm: fromHex(OTHER_IKM) })
  add('key epoch naming another site', 'open_key_epoch', openEpoch(otherEpoch.signed), 'WRONG_SIGNER', { site: hex(f.otherSite.peerId) },
    `made and validly signed by the other site (ephemeral_ikm ${OTHER_IKM})`)

  // acknowledgements, device keys, leave
  const ack = signAck(f.device, f.site.peerId, [f.ids[0]], T0 + 2 * MINUTE)
  const ackSigOffset = ack.byteLength - 64
  add('acknowledgement with one signature bit flipped', 'open_ack', { signed_payload: hex(flipBit(ack, ackSigOffset)), sender: hex(f.site.peerId), receiver: hex(f.device.peerId) }, 'BAD_SIGNATURE',
    { signed_payload: hex(ack) }, `bit 0x01 of byte ${ackSigOffset} (the first byte of the signature) flipped`)
  add('acknowledgement of another sender\'s envelopes', 'open_ack', { signed_payload: hex(ack), sender: hex(f.otherSite.peerId), receiver: hex(f.device.peerId) }, 'WRONG_RECIPIENT', { sender: hex(f.site.peerId) })
  add('acknowledgement naming another receiver than the peer that sent it', 'open_ack', { signed_payload: hex(ack), sender: hex(f.site.peerId), receiver: hex(f.otherDevice.peerId) }, 'WRONG_SIGNER', { receiver: hex(f.device.peerId) })
  const deviceKey = signDeviceKey(f.device, f.deviceX.publicKey, T0)
  const dkSigOffset = deviceKey.byteLength - 64
  add('device key with one signature bit flipped', 'open_device_key', { signed_payload: hex(flipBit(deviceKey, dkSigOffset)), device: hex(f.device.peerId) }, 'BAD_SIGNATURE',
    { signed_payload: hex(deviceKey) }, `bit 0x01 of byte ${dkSigOffset} (the first byte of the signature) flipped`)
  add('device key presented by another device', 'open_device_key', { signed_payload: hex(deviceKey), device: hex(f.otherDevice.peerId) }, 'WRONG_SIGNER', { device: hex(f.device.peerId) })
  const leave = signLeave(f.device, f.site.peerId, T0 + 3 * DAY)
  const leaveSigOffset = leave.byteLength - 64
  add('leave with one signature bit flipped', 'open_leave', { signed_payload: hex(flipBit(leave, leaveSigOffset)), site: hex(f.site.peerId), device: hex(f.device.peerId) }, 'BAD_SIGNATURE',
    { signed_payload: hex(leave) }, `bit 0x01 of byte ${leaveSigOffset} (the first byte of the signature) flipped`)
  add('leave for another site', 'open_leave', { signed_payload: hex(leave), site: hex(f.otherSite.peerId), device: hex(f.device.peerId) }, 'WRONG_RECIPIENT', { site: hex(f.site.peerId) })

  // spec 11.6, steps 9 and 10: the epoch the receiver holds
  const unknownEpoch = seal(header(f.site, f.device, id7, 2, 12, sent, expires))
  add('envelope naming an epoch the receiver does not hold', 'receive_envelope', receive(unknownEpoch, now), 'UNKNOWN_EPOCH', { epoch: 2 },
    'sealed with the keys given, under a header naming epoch 2; the receiver holds epoch 1 only')
  const lateCreated = EPOCH_CASES[0].expires + MAX_CLOCK_SKEW_MS + 1
  const late = seal(header(f.site, f.device, id8, 1, 13, lateCreated, 0))
  add('envelope created after its epoch expired, beyond the clock skew', 'receive_envelope', receive(late, lateCreated + 1000), 'EXPIRED',
    { epoch_expires: lateCreated - MAX_CLOCK_SKEW_MS }, `created = epoch_expires + ${MAX_CLOCK_SKEW_MS + 1} ms; the envelope itself never expires`)

  // spec 11.2: every Content limit, sealed correctly (the sender's own checks bypassed)
  const sealContent = (seq: number, c: Partial<Content>): Uint8Array => sealEnvelope(keys, header(f.site, f.device, id8, 1, seq, sent, expires),
    Content.encode({ subject: '', body: '', contentType: '', thread: new Uint8Array(0), replyTo: new Uint8Array(0), group: '', attachments: [], ...c } as Content))
  const attachment = blobFiles()[1].attachment
  const attachments = (n: number): Attachment[] => Array.from({ length: n }, () => attachment)
  const limitCases: Array<[string, Partial<Content>, Partial<Content> | undefined]> = [
    ['subject of 1025 bytes', { subject: 'é'.repeat(512) + 'a' }, { subject: 'é'.repeat(512) }],
    ['body of 65537 bytes', { body: 'a'.repeat(65537) }, undefined],
    ['content_type of 129 bytes', { contentType: 'text/' + 'x'.repeat(124) }, { contentType: 'text/' + 'x'.repeat(123) }],
    ['thread of 15 bytes', { thread: id6.slice(0, 15) }, { thread: id6.slice() }],
    ['reply_to of 17 bytes', { replyTo: Uint8Array.from([...id6, 0]) }, { replyTo: id6.slice() }],
    ['group of 129 bytes', { group: 'Class ' + 'é'.repeat(61) + 'a' }, { group: 'Class ' + 'é'.repeat(61) }],
    [`${MAX_ATTACHMENTS + 1} attachments`, { attachments: attachments(MAX_ATTACHMENTS + 1) }, { attachments: attachments(MAX_ATTACHMENTS) }],
    ['attachment name of 256 bytes', { attachments: [{ ...attachment, name: 'ü'.repeat(127) + '.x' }] }, { attachments: [{ ...attachment, name: 'ü'.repeat(127) + '.' }] }],
    ['attachment name of 0 bytes', { attachments: [{ ...attachment, name: '' }] }, { attachments: [attachment] }],
    ['attachment key of 31 bytes', { attachments: [{ ...attachment, key: attachment.key.slice(1) }] }, { attachments: [attachment] }],
    ['attachment media_type of 129 bytes', { attachments: [{ ...attachment, mediaType: 'application/' + 'x'.repeat(117) }] }, { attachments: [{ ...attachment, mediaType: 'application/' + 'x'.repeat(116) }] }]
  ]
  limitCases.forEach(([what, bad, ok], i) => {
    add(`content with a ${what}`, 'receive_envelope', receive(sealContent(20 + i, bad), now), 'BAD_FRAME',
      ok === undefined ? undefined : { envelope: hex(sealContent(20 + i, ok)) }, ok === undefined ? 'a body of 65536 bytes is accepted' : 'original: the same field at its limit')
  })

  // spec 5: the canonical wrappers. Each input decodes with a lenient protobuf decoder to a valid value
  const concatBytes = (...parts: Array<Uint8Array | string>): Uint8Array => Uint8Array.from(Buffer.concat(parts.map(p => typeof p === 'string' ? Buffer.from(p, 'hex') : Buffer.from(p))))
  const len = (bytes: Uint8Array): Uint8Array => varintBytes(bytes.byteLength)
  const dk = signDeviceKey(f.device, f.deviceX.publicKey, T0)
  const dkParts = SignedPayload.decode(dk)
  const openDk = (bytes: Uint8Array): JsonObject => ({ signed_payload: hex(bytes), device: hex(f.device.peerId) })
  const sigField = concatBytes('1240', dkParts.signature)
  const payloadField = concatBytes('0a', len(dkParts.payload), dkParts.payload)
  add('SignedPayload with its fields out of order', 'open_device_key', openDk(concatBytes(sigField, payloadField)), 'BAD_FRAME', { signed_payload: hex(dk) })
  add('SignedPayload with a field repeated', 'open_device_key', openDk(concatBytes(payloadField, payloadField, sigField)), 'BAD_FRAME', { signed_payload: hex(dk) },
    'payload written twice, identical both times')
  add('SignedPayload with an unknown field', 'open_device_key', openDk(concatBytes(dk, '1801')), 'BAD_FRAME', { signed_payload: hex(dk) }, 'field 3, varint 1, appended')
  add('SignedPayload with a non-minimal length', 'open_device_key', openDk(concatBytes('0a', Uint8Array.of(dkParts.payload.byteLength | 0x80, 0), dkParts.payload, sigField)), 'BAD_FRAME',
    { signed_payload: hex(dk) }, 'the length of payload in two bytes, the last 0x00')
  add('SignedPayload with a field of another wire type', 'open_device_key', openDk(concatBytes('0800', dk)), 'BAD_FRAME', { signed_payload: hex(dk) },
    'field 1 as a varint 0 before the real fields')
  const goodParts = Envelope.decode(good)
  const headerField = concatBytes('0a', len(goodParts.header), goodParts.header)
  const ctField = concatBytes('12', len(goodParts.ciphertext), goodParts.ciphertext)
  add('Envelope with its fields out of order', 'receive_envelope', receive(concatBytes(ctField, headerField), now), 'BAD_FRAME', { envelope: hex(good) })
  add('Envelope with an unknown field', 'receive_envelope', receive(concatBytes(good, '1801'), now), 'BAD_FRAME', { envelope: hex(good) }, 'field 3, varint 1, appended')
  const goodPush = Push.encode({ envelope: goodParts })
  add('Push with no member of its oneof set', 'decode_push', { frame: '' }, 'BAD_FRAME', { frame: hex(goodPush) })
  add('Push with two members of its oneof set', 'decode_push', { frame: hex(concatBytes('0a00', goodPush)) }, 'BAD_FRAME', { frame: hex(goodPush) },
    'an empty epoch, then the envelope')
  add('Push with an unknown field', 'decode_push', { frame: hex(concatBytes(goodPush, '1801')) }, 'BAD_FRAME', { frame: hex(goodPush) })
  add('Push with a field of another wire type', 'decode_push', { frame: hex(concatBytes('0800', goodPush)) }, 'BAD_FRAME', { frame: hex(goodPush) })
  const unorderedEnvelope = concatBytes(ctField, headerField)
  add('Push whose envelope is not canonically encoded', 'decode_push', { frame: hex(concatBytes('12', len(unorderedEnvelope), unorderedEnvelope)) }, 'BAD_FRAME',
    { frame: hex(goodPush) }, 'the envelope\'s fields out of order')
  add('Receipt with no member of its oneof set', 'decode_receipt', { frame: '' }, 'BAD_FRAME', { frame: '1a02080e' })
  add('Receipt with two members of its oneof set', 'decode_receipt', { frame: '12001a00' }, 'BAD_FRAME', { frame: '1a00' }, 'an empty reject and an empty error')
  add('Receipt with an unknown field', 'decode_receipt', { frame: '1a02080e2001' }, 'BAD_FRAME', { frame: '1a02080e' })
  add('Receipt with a non-minimal varint', 'decode_receipt', { frame: '1a03088e00' }, 'BAD_FRAME', { frame: '1a02080e' }, 'StreamError.code 14 in two bytes, the last 0x00')

  // spec 5: uint32 values above 2^32 - 1, which a decoder that keeps the low 32 bits reads as another value
  add('StreamError.code of 2^32 + 14', 'decode_receipt', { frame: '1a06088e80808010' }, 'BAD_FRAME', { frame: '1a02080e' },
    'its low 32 bits are 14, RATE_LIMITED')
  const inviteV1 = Invite.encode({ version: 1, site: f.site.peerId as Uint8Array<ArrayBuffer>, addrs: [], secret: fromHex(INVITE_SECRET) as Uint8Array<ArrayBuffer>, expires: inviteExpires, ref: '', siteName: '' })
  const signRaw = (context: SigningContext, payload: Uint8Array): Uint8Array => SignedPayload.encode({ payload: payload as Uint8Array<ArrayBuffer>, signature: f.site.sign(signingInput(context, payload)) as Uint8Array<ArrayBuffer> })
  const inviteWide = concatBytes('088180808010', inviteV1.subarray(2))
  add('invite version of 2^32 + 1', 'open_invite', { signed_payload: hex(signRaw(SIGNING_CONTEXT.invite, inviteWide)), site: null, now: T0 }, 'BAD_FRAME',
    { signed_payload: hex(signRaw(SIGNING_CONTEXT.invite, inviteV1)) }, 'validly signed; the low 32 bits of the version are 1')

  // spec 9.4, step 7: invite field limits (validly signed)
  const signInvite = (fields: Partial<Invite>): string => hex(signMessage(f.site, SIGNING_CONTEXT.invite, Invite, { ...Invite.decode(inviteV1), ...fields }))
  add('invite with a ref of 257 bytes', 'open_invite', { signed_payload: signInvite({ ref: 'r'.repeat(257) }), site: null, now: T0 }, 'BAD_FRAME', { signed_payload: signInvite({ ref: 'r'.repeat(256) }) })
  add('invite with a site_name of 129 bytes', 'open_invite', { signed_payload: signInvite({ siteName: 'ü'.repeat(64) + 'n' }), site: null, now: T0 }, 'BAD_FRAME', { signed_payload: signInvite({ siteName: 'ü'.repeat(64) }) })
  add('invite with a secret of 31 bytes', 'open_invite', { signed_payload: signInvite({ secret: fromHex(INVITE_SECRET).subarray(1) as Uint8Array<ArrayBuffer> }), site: null, now: T0 }, 'BAD_FRAME', { signed_payload: hex(signRaw(SIGNING_CONTEXT.invite, inviteV1)) })
  const addrs = (n: number): Array<Uint8Array<ArrayBuffer>> => Array.from({ length: n }, (_, i) => multiaddr(`/ip4/192.0.2.${i + 1}/tcp/4001`).bytes as Uint8Array<ArrayBuffer>)
  add('invite with 9 addresses', 'open_invite', { signed_payload: signInvite({ addrs: addrs(9) }), site: null, now: T0 }, 'BAD_FRAME', { signed_payload: signInvite({ addrs: addrs(8) }) })
  add('an empty invite: what a JoinRequest of 0 bytes carries', 'open_invite', { signed_payload: '', site: hex(f.site.peerId), now: T0 }, 'BAD_SIGNATURE', { signed_payload: hex(invite) },
    'an absent field is its default value (spec 5): the SignedPayload decodes, and its signature is 0 bytes, not 64')

  // spec 8, step 6: small-order X25519 keys, validly signed
  add('device key whose X25519 key is 0 (small order)', 'open_device_key', openDk(signDeviceKey(f.device, new Uint8Array(32), T0)), 'BAD_FRAME', { signed_payload: hex(dk) })
  add('device key whose X25519 key is a point of order 8', 'open_device_key', openDk(signDeviceKey(f.device, fromHex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'), T0)), 'BAD_FRAME', { signed_payload: hex(dk) })

  // spec 9.3: white space is ASCII only, and the prefix is lower case
  const spaced = ' \t' + token + '\r\n'
  add('token with the prefix in upper case', 'parse_invite_token', { token: 'TMTP1:' + tokenBody, now: T0 }, 'BAD_TOKEN', { token })
  add('token after a no-break space (U+00A0)', 'parse_invite_token', { token: '\u00a0' + token, now: T0 }, 'BAD_TOKEN', { token: spaced }, 'original: ASCII white space around the token is removed')
  add('token after a byte-order mark (U+FEFF)', 'parse_invite_token', { token: '\ufeff' + token, now: T0 }, 'BAD_TOKEN', { token: spaced })
  add('token followed by an ideographic space (U+3000)', 'parse_invite_token', { token: token + '\u3000', now: T0 }, 'BAD_TOKEN', { token: spaced })

  // framing
  const frame300 = encodeFrame(pattern(300))
  add('truncated frame: stream ends one byte before the end of a 300-byte frame', 'decode_frames', { stream: hex(frame300.subarray(0, frame300.byteLength - 1)), max_frame_size: MAX_FRAME_SIZE }, 'BAD_FRAME',
    { stream: hex(frame300) }, 'the error is raised at end of stream')
  add('truncated length prefix: stream ends inside the varint', 'decode_frames', { stream: hex(frame300.subarray(0, 1)), max_frame_size: MAX_FRAME_SIZE }, 'BAD_FRAME',
    { stream: hex(frame300) }, 'the error is raised at end of stream')
  add('oversize frame: length prefix of max_frame_size + 1, no body needed', 'decode_frames', { stream: hex(varintBytes(MAX_FRAME_SIZE + 1)), max_frame_size: MAX_FRAME_SIZE }, 'FRAME_TOO_LARGE',
    undefined, 'the error is raised as soon as the length prefix is read, before any body byte')
  add('oversize control frame: length prefix of 16385 on a stream limited to 16384', 'decode_frames', { stream: hex(varintBytes(MAX_CONTROL_FRAME_SIZE + 1)), max_frame_size: MAX_CONTROL_FRAME_SIZE }, 'FRAME_TOO_LARGE',
    undefined, 'the error is raised as soon as the length prefix is read, before any body byte')
  add('non-minimal length prefix: 1 encoded as 0x81 0x00', 'decode_frames', { stream: '810001', max_frame_size: MAX_FRAME_SIZE }, 'BAD_FRAME', { stream: '0101' })
  add('non-minimal length prefix: 0 encoded as 0x80 0x00', 'decode_frames', { stream: '8000', max_frame_size: MAX_FRAME_SIZE }, 'BAD_FRAME', { stream: '00' })
  add('length prefix longer than 5 bytes', 'decode_frames', { stream: '80808080800100', max_frame_size: MAX_FRAME_SIZE }, 'BAD_FRAME')

  return {
    description: 'Negative vectors: each case names an operation (spec/vectors/README.md defines them), its inputs, and the error code the operation must fail with. Where present, `original` lists the inputs that, substituted into `input`, make the same operation succeed.',
    version: 1,
    max_clock_skew_ms: MAX_CLOCK_SKEW_MS,
    keys: {
      site: signerJson(f.site),
      device: deviceJson(f.device, f.deviceX),
      other_site: signerJson(f.otherSite),
      other_device: deviceJson(f.otherDevice, f.otherDeviceX)
    },
    cases
  }
}

/**
 * spec 11.6, step 6, and 11.7: a receiver that already stored (or holds earlier in its
 * uncommitted batch) an id from the sender acknowledges the envelope again and stops, before
 * the expiry, timestamp, epoch and decryption checks of steps 7 to 11; steps 1 to 5 still come
 * first, and ids are per sender.
 */
async function duplicateVectors (f: Fixture): Promise<JsonObject> {
  const { keys: epochKeys } = await makeEpoch(f, EPOCH_CASES[0])
  const keys = epochKeys.siteToDevice
  const sent = T0 + 10 * MINUTE
  const expires = sent + DAY
  const [, , , , , , , id8, id9] = f.ids
  const seal = (h: EnvelopeHeader): Uint8Array => sealEnvelope(keys, h, encodeContent({ subject: 'Again', body: 'Sent twice' }))
  const stored = (sender: Ed25519Signer, id: Uint8Array): JsonObject => ({ sender: hex(sender.peerId), id: hex(id) })
  const cases: JsonObject[] = []
  const add = (name: string, envelope: Uint8Array, now: number, known: JsonObject[], outcome: string, notes: string): void => {
    cases.push({
      name,
      input: {
        envelope: hex(envelope),
        sender: hex(f.site.peerId),
        recipient: hex(f.device.peerId),
        now,
        key: hex(keys.keyBytes),
        base_nonce: hex(keys.baseNonce),
        epoch: 1,
        epoch_expires: EPOCH_CASES[0].expires,
        stored: known
      },
      outcome,
      notes
    })
  }
  const good = seal(header(f.site, f.device, id9, 1, 30, sent, expires))
  const now = sent + MINUTE
  const fromSite = [stored(f.site, id9)]
  add('a new envelope', good, now, [], 'store', 'nothing stored: it passes every check and is stored')
  add('a duplicate', good, now, fromSite, 'acknowledge', 'its id from this sender is stored: acknowledged again, not stored again')
  add('a duplicate past its expiry', good, expires, fromSite, 'acknowledge', 'the first copy was stored before it expired; step 6 comes before the expiry check of step 7, so the resend is acknowledged, not EXPIRED, and the sender can settle it')
  add('a duplicate created beyond the clock skew of now', good, sent - MAX_CLOCK_SKEW_MS - 1, fromSite, 'acknowledge', 'step 6 comes before step 8 (BAD_TIMESTAMP)')
  const otherEpoch = seal(header(f.site, f.device, id9, 2, 30, sent, expires))
  add('a duplicate naming an epoch the receiver does not hold', otherEpoch, now, fromSite, 'acknowledge', 'step 6 comes before step 9 (UNKNOWN_EPOCH)')
  const tampered = Uint8Array.from(good)
  tampered[tampered.byteLength - 1] ^= 0x01
  add('a duplicate whose tag does not authenticate', tampered, now, fromSite, 'acknowledge', 'step 6 comes before decryption (step 11): a stored id is not decrypted again')
  add('the id stored from another sender', good, now, [stored(f.otherSite, id9)], 'store', 'ids are per sender (section 11.7): another site\'s id is no duplicate')
  add('the id stored from another sender, past its expiry', good, expires, [stored(f.otherSite, id9)], 'EXPIRED', 'no duplicate, so step 7 applies')
  add('a duplicate for another recipient', seal(header(f.site, f.otherDevice, id9, 1, 30, sent, expires)), now, fromSite, 'WRONG_RECIPIENT', 'step 4 comes before step 6')
  add('a duplicate naming another sender', seal(header(f.otherSite, f.device, id9, 1, 30, sent, expires)), now, [...fromSite, stored(f.otherSite, id9)], 'WRONG_SIGNER', 'step 5 comes before step 6, even with the id stored from both')
  add('a duplicate with header version 2', seal({ ...header(f.site, f.device, id9, 1, 30, sent, expires), version: 2 }), now, fromSite, 'UNSUPPORTED_VERSION', 'step 2 comes before step 6')
  // sealed by hand: sealEnvelope refuses a header with seq 0
  const seq0 = EnvelopeHeader.encode({ ...header(f.site, f.device, id8, 1, 1, sent, expires), seq: 0 })
  const zero = Envelope.encode({ header: seq0, ciphertext: keys.aead.seal(messageNonce(keys.baseNonce, 0), seq0, new Uint8Array(0)) })
  add('a duplicate with seq 0', zero, now, [stored(f.site, id8)], 'BAD_FRAME',
    'step 3 comes before step 6; the id is readable, so this is a reject of the envelope, not a stream error')
  return {
    description: 'Duplicates (spec 11.6 step 6, 11.7): each case is an envelope received with some (sender, id) pairs already stored, and its outcome: acknowledge (a duplicate: acknowledged again, not stored), store (accepted as new), or the error code it is refused with.',
    version: 1,
    max_clock_skew_ms: MAX_CLOCK_SKEW_MS,
    keys: { site: signerJson(f.site), device: deviceJson(f.device, f.deviceX), other_site: signerJson(f.otherSite), other_device: deviceJson(f.otherDevice, f.otherDeviceX) },
    cases
  }
}

/** File byte i is (i * 7 + 3) mod 251: a pattern that does not repeat with the chunk size. */
function filePattern (size: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 7 + 3) % 251)
}

interface BlobFile { name: string, file: Uint8Array, attachment: Attachment }

/** The three files of blob.json: empty, one short chunk, two full chunks and a short one. */
function blobFiles (): BlobFile[] {
  const cases: Array<[string, string, string, number]> = [
    ['an empty file: no chunks', 'empty.txt', 'text/plain', 0],
    ['one short chunk', 'Invoice 2025-11.pdf', 'application/pdf', 100],
    ['two full chunks and a short one', 'course — Woche 1.bin', '', 2 * BLOB_CHUNK_BYTES + 100]
  ]
  return cases.map(([name, fileName, mediaType, size], i) => {
    const file = filePattern(size)
    return {
      name,
      file,
      attachment: {
        blob: fromHex(BLOB_IDS[i]) as Uint8Array<ArrayBuffer>,
        name: fileName,
        mediaType,
        size,
        sha256: Uint8Array.from(createHash('sha256').update(file).digest()),
        key: fromHex(CONTENT_KEYS[i]) as Uint8Array<ArrayBuffer>
      }
    }
  })
}

/** A sealed chunk as blob.json records it: whole when short, else its SHA-256 and tag (a full chunk is 128 KiB of hex). */
function sealedJson (sealed: Uint8Array): JsonObject {
  if (sealed.byteLength <= 1024) return { sealed: hex(sealed) }
  return { sealed_length: sealed.byteLength, sealed_sha256: hex(createHash('sha256').update(sealed).digest()), tag: hex(sealed.subarray(sealed.byteLength - 16)) }
}

/** spec 15.6: blobs sealed in chunks, the frames of /tmtp/blob/1.0.0, an envelope listing attachments, and chunks that must fail. */
async function blobVectors (f: Fixture): Promise<JsonObject> {
  const files = blobFiles()
  const blobs = files.map(({ name, file, attachment }) => {
    const key = blobKey(attachment.key, attachment.size)
    const chunks = Array.from({ length: chunkCount(attachment.size) }, (_, index) => {
      const start = index * BLOB_CHUNK_BYTES
      const sealed = sealChunk(key, index, file.subarray(start, start + chunkLength(attachment.size, index)))
      return { index, nonce: hex(chunkNonce(index)), ...sealedJson(sealed) }
    })
    return { name, file: attachment.size <= 1024 ? hex(file) : 'file_pattern', attachment: messageJson(attachment), aad: hex(chunkAad(attachment.size)), chunks }
  })

  const [, short, long] = files
  const shortKey = blobKey(short.attachment.key, short.attachment.size)
  const longKey = blobKey(long.attachment.key, long.attachment.size)
  const shortSealed = sealChunk(shortKey, 0, short.file)
  const longChunk = (index: number): Uint8Array => sealChunk(longKey, index, long.file.subarray(index * BLOB_CHUNK_BYTES, index * BLOB_CHUNK_BYTES + chunkLength(long.attachment.size, index)))
  const proof = (file: BlobFile): Uint8Array => blobProof(file.attachment.key, f.device.peerId)
  const frames = [
    { name: 'request from chunk 0', message: 'BlobRequest', value: { blob: short.attachment.blob, first: 0, fetched: false, proof: proof(short) } },
    { name: 'request resuming from chunk 2', message: 'BlobRequest', value: { blob: long.attachment.blob, first: 2, fetched: false, proof: proof(long) } },
    { name: 'the device holds the whole file: fetched', message: 'BlobRequest', value: { blob: long.attachment.blob, first: 3, fetched: true, proof: proof(long) } },
    { name: 'chunk 0 of the short file', message: 'BlobReply', value: { chunk: { index: 0, sealed: shortSealed } } },
    { name: 'refused: UNKNOWN_BLOB', message: 'BlobReply', value: { error: { code: codeToWire(ErrorCode.UNKNOWN_BLOB), detail: '' } } }
  ].map(({ name, message, value }) => {
    const body = message === 'BlobRequest' ? BlobRequest.encode(value as BlobRequest) : BlobReply.encode(value as BlobReply)
    return { name, message, value: messageJson(value), body: hex(body), frame: hex(encodeFrame(body)) }
  })

  /** A failing chunk: short ones as bytes, a full one as the blob and chunk of `blobs` whose sealed bytes it is. */
  const open = (what: string, file: BlobFile, index: number, sealed: Uint8Array | { blob: number, chunk: number }, error: string, notes: string, size = file.attachment.size): JsonObject => ({
    name: what,
    input: { key: hex(file.attachment.key), size, index, ...(sealed instanceof Uint8Array ? { sealed: hex(sealed) } : { sealed_of: sealed }) },
    error,
    notes
  })
  const altered = Uint8Array.from(shortSealed)
  altered[10] ^= 0x01
  const failures = [
    open('chunk 1 presented as chunk 0', long, 0, { blob: 2, chunk: 1 }, 'DECRYPT_FAILED', 'the index is in the nonce: a chunk authenticates only in its place'),
    open('a full chunk opened for a file one byte longer', long, 0, { blob: 2, chunk: 0 }, 'DECRYPT_FAILED', 'the size is in the AAD: chunk 0 has the same length, but authenticates only for its own size', long.attachment.size + 1),
    open('one bit of the ciphertext flipped', short, 0, altered, 'DECRYPT_FAILED', 'bit 0x01 of byte 10 flipped'),
    open('a chunk cut by one byte', short, 0, shortSealed.subarray(0, shortSealed.byteLength - 1), 'BAD_FRAME', 'its length is not the chunk\'s length plus 16'),
    open('the last chunk with a byte appended', long, 2, Uint8Array.from([...longChunk(2), 0]), 'BAD_FRAME', 'its length is not the chunk\'s length plus 16'),
    open('an index past the last chunk', short, 1, shortSealed, 'BAD_FRAME', 'a file of 100 bytes has one chunk')
  ]

  const epoch = await makeEpoch(f, EPOCH_CASES[0])
  const sent = T0 + 20 * MINUTE
  const withAttachments = sealCase(epoch.keys, {
    name: 'site to device, a message with two attachments (Content.attachments, field 7, since r4); the second names no media type',
    direction: 'site_to_device',
    header: header(f.site, f.device, f.ids[7], 1, 40, sent, sent + 7 * DAY),
    content: content('Course material', 'The invoice and the first week\'s files are attached.', '', undefined, undefined, '', [short.attachment, long.attachment])
  }, sent + 1000).json

  return {
    description: 'Attachments (spec 11.2, 15.6): a file is cut into chunks of chunk_bytes (the last one shorter, none for an empty file); chunk i is sealed with ChaCha20-Poly1305 under the attachment\'s key, nonce = I2OSP(i, 12), aad = aad_context || 0x00 || uint64be(size). Files longer than 1024 bytes are file_pattern: byte i is (i * 7 + 3) mod 251; sealed chunks longer than 1024 bytes are recorded by their length, SHA-256 and tag. frames are /tmtp/blob/1.0.0 frames, the requests by device, whose proof is HMAC-SHA256(key, proof_context || 0x00 || device PeerId); envelope is an envelope whose Content lists two of the attachments, sealed under the keys of key-epoch.json "epoch 1"; failures are chunks that must not open, with their code.',
    version: 1,
    protocol: PROTOCOL_BLOB,
    chunk_bytes: BLOB_CHUNK_BYTES,
    aad_context: BLOB_CHUNK_CONTEXT,
    proof_context: BLOB_PROOF_CONTEXT,
    device: signerJson(f.device),
    blobs,
    frames,
    envelope: { site: signerJson(f.site), device: deviceJson(f.device, f.deviceX), key_epoch: { epoch: 1, signed_payload: hex(epoch.signed), exports: exportsJson(epoch.keys) }, vector: withAttachments },
    failures
  }
}

/** Builds every vector file, keyed by file name, without writing anything. */
export async function buildVectors (): Promise<Record<string, Json>> {
  const f = fixture()
  return {
    'invite.json': inviteVectors(f),
    'device-key.json': deviceKeyVectors(f),
    'key-epoch.json': await keyEpochVectors(f),
    'envelope.json': await envelopeVectors(f),
    'ack.json': ackVectors(f),
    'leave.json': leaveVectors(f),
    'address-record.json': addressRecordVectors(f),
    'ed25519.json': ed25519Vectors(f),
    'framing.json': await framingVectors(f),
    'negative.json': await negativeVectors(f),
    'duplicate.json': await duplicateVectors(f),
    'blob.json': await blobVectors(f)
  }
}

export async function writeVectors (dir = VECTOR_DIR): Promise<string[]> {
  const vectors = await buildVectors()
  mkdirSync(dir, { recursive: true })
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.json') && !(name in vectors)) unlinkSync(join(dir, name))
  }
  for (const [name, value] of Object.entries(vectors)) writeFileSync(join(dir, name), serializeVector(value))
  return Object.keys(vectors)
}

function isMain (): boolean {
  const script = process.argv[1]
  if (script == null) return false
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url
  } catch {
    return false
  }
}

if (isMain()) {
  const names = await writeVectors()
  console.log(`wrote ${names.map(n => join('spec/vectors', n)).join(', ')}`)
}
