// node:assert's `strict` rather than node:assert/strict: in the browser bundle node:assert is
// the `assert` package, which has the strict assertions only as this property
import { strict as assert } from 'node:assert'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { x25519 } from '@noble/curves/ed25519.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concat } from 'uint8arrays/concat'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import {
  blobKey, blobProof, checkBlobProof, chunkAad, chunkCount, chunkNonce, openChunk, sealChunk,
  checkEnvelopeHeader, createInviteToken, createKeyEpoch, decryptContent, decryptEnvelope, directionKey, Ed25519Signer, encodeContent, equalBytes,
  epochInfo, inviteSecretHash, messageNonce, openAck, openDeviceKey, openInvite, openKeyEpoch, openLeave, parseEnvelope,
  parseInviteToken, peerIdFromString, peerIdToString, sealEnvelope, signAck, signDeviceKey, signingInput, signLeave,
  verifyEd25519, x25519FromPrivateKey
} from '../../src/crypto/index.js'
import type { DirectionKey } from '../../src/crypto/index.js'
import {
  BLOB_CHUNK_BYTES, BLOB_CHUNK_CONTEXT, BLOB_PROOF_CONTEXT, decodeMessage, PROTOCOL_BLOB,
  decodeCanonical, decodeFrames, encodeFrame, encodeFrames, ErrorCode, EXPORT_LABEL, FrameDecoder, HPKE_INFO_PREFIX, INVITE_TOKEN_PREFIX,
  isTmtpError, MAX_CLOCK_SKEW_MS, MAX_CONTROL_FRAME_SIZE, MAX_FRAME_SIZE, SIGNING_CONTEXT, TmtpError
} from '../../src/protocol/index.js'
import type { SigningContext } from '../../src/protocol/index.js'
import type { MessageCodec } from '../../src/protocol/messages.js'
import { AckBody, AddressRecord, BlobReply, BlobRequest, DeviceKey, Envelope, EnvelopeHeader, Invite, KeyEpoch, Leave, Push, Receipt, SignedPayload, type Attachment } from '../../src/protocol/pb/tmtp.js'
import { hpkeExport, hpkeTrace } from '../../scripts/lib/hpke-trace.js'
import { addressRecordKey, openAddressRecord, signAddressRecord } from '../../src/discovery/address-record.js'

/**
 * The checks of spec/vectors/*.json, both ways: from the recorded inputs our code produces
 * exactly the recorded bytes, and from the recorded bytes it decodes, verifies and opens
 * back to the recorded inputs. Every file needs a checker below. They run on Node
 * (test/spec/vectors.spec.ts) and in Chromium with the browser's crypto provider
 * (test/browser/vectors.spec.ts), so nothing here needs Node: the independent references
 * are @noble's.
 */

// The vector files are JSON whose shape spec/vectors/README.md describes.
export type V = any

const b = (text: string): Uint8Array => {
  assert.match(text, /^(?:[0-9a-f]{2})*$/, 'bytes are lowercase hex')
  return Uint8Array.from(uint8ArrayFromString(text, 'base16'))
}
const h = (bytes: Uint8Array): string => uint8ArrayToString(bytes, 'base16')
const utf8 = new TextEncoder()

const BYTES_FIELDS = new Set(['site', 'device', 'peer', 'x25519', 'secret', 'enc', 'id', 'sender', 'recipient', 'receiver', 'thread', 'reply_to', 'addrs', 'ids', 'header', 'ciphertext', 'payload', 'signature', 'blob', 'sha256', 'key'])
/** Repeated embedded messages: each element is a message object of its own. */
const MESSAGE_LIST_FIELDS = new Set(['attachments'])

/** A JSON message (proto field names, bytes as hex) as the protons object. */
function toMessage<T> (json: V): T {
  const out: Record<string, unknown> = {}
  for (const [field, value] of Object.entries(json as Record<string, unknown>)) {
    const name = field.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())
    if (MESSAGE_LIST_FIELDS.has(field)) out[name] = (value as V[]).map(element => toMessage(element))
    else if (!BYTES_FIELDS.has(field)) out[name] = value
    else out[name] = Array.isArray(value) ? value.map(v => b(v as string)) : b(value as string)
  }
  return out as T
}

/** A protons object as JSON, the inverse of toMessage. */
function toJson (value: unknown): unknown {
  if (value instanceof Uint8Array) return h(value)
  if (Array.isArray(value)) return value.map(toJson)
  if (value != null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k.replace(/[A-Z]/g, c => '_' + c.toLowerCase()), toJson(v)]))
  }
  return value
}

function directionKeyOf (json: V): DirectionKey {
  return directionKey(b(json.key), b(json.base_nonce))
}

function keysJson (keys: { siteToDevice: DirectionKey, deviceToSite: DirectionKey }): V {
  const dir = (k: DirectionKey): V => ({ key: h(k.keyBytes), base_nonce: h(k.baseNonce) })
  return { site_to_device: dir(keys.siteToDevice), device_to_site: dir(keys.deviceToSite) }
}

function camel (direction: string): 'siteToDevice' | 'deviceToSite' {
  assert.ok(direction === 'site_to_device' || direction === 'device_to_site', `direction ${direction}`)
  return direction === 'site_to_device' ? 'siteToDevice' : 'deviceToSite'
}

/** Checks a key object against our derivation and against js-libp2p's. */
async function checkIdentity (json: V): Promise<Ed25519Signer> {
  const signer = new Ed25519Signer(b(json.ed25519_seed))
  assert.equal(h(signer.publicKey), json.ed25519_public_key)
  assert.equal(h(signer.peerId), json.peer_id)
  assert.equal(peerIdToString(signer.peerId), json.peer_id_base58)
  assert.equal(h(peerIdFromString(json.peer_id_base58)), json.peer_id)
  const libp2p = peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', b(json.ed25519_seed)))
  assert.equal(libp2p.toString(), json.peer_id_base58)
  assert.equal(h(libp2p.toMultihash().bytes), json.peer_id)
  if (json.x25519_private_key !== undefined) {
    assert.equal(h(x25519FromPrivateKey(b(json.x25519_private_key)).publicKey), json.x25519_public_key)
  }
  return signer
}

/**
 * The parts every signed-message vector records: the message encodes to `payload` and
 * `payload` decodes to the message; signing input, signature and SignedPayload bytes.
 */
function checkSigned<T> (vector: V, message: V, codec: MessageCodec<T>, context: SigningContext, signer: Ed25519Signer): void {
  const payload = b(vector.payload)
  assert.equal(h(codec.encode(toMessage<T>(message))), vector.payload, 'payload encoding')
  assert.deepEqual(toJson(codec.decode(payload)), message, 'payload decoding')
  const input = concat([utf8.encode(context), Uint8Array.of(0), payload])
  assert.equal(h(input), vector.signing_input, 'signing input = context || 0x00 || payload')
  assert.equal(h(signingInput(context, payload)), vector.signing_input)
  assert.equal(h(signer.sign(input)), vector.signature, 'Ed25519 signature (deterministic)')
  assert.ok(verifyEd25519(signer.publicKey, input, b(vector.signature)))
  assert.equal(h(SignedPayload.encode({ payload, signature: b(vector.signature) } as SignedPayload)), vector.signed_payload)
  const signed = SignedPayload.decode(b(vector.signed_payload))
  assert.equal(h(signed.payload), vector.payload)
  assert.equal(h(signed.signature), vector.signature)
}

async function rejectsWith (code: string, fn: () => unknown): Promise<void> {
  try {
    await fn()
  } catch (err) {
    assert.ok(isTmtpError(err), `expected a TmtpError ${code}, got ${String(err)}`)
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`)
    return
  }
  assert.fail(`expected a TmtpError ${code}, but the operation succeeded`)
}

function feedByteByByte (stream: Uint8Array, maxFrameSize: number): { frames: Uint8Array[], ends: number[] } {
  const decoder = new FrameDecoder(maxFrameSize)
  const frames: Uint8Array[] = []
  const ends: number[] = []
  for (let i = 0; i < stream.byteLength; i++) {
    for (const frame of decoder.push(stream.subarray(i, i + 1))) {
      frames.push(frame)
      ends.push(i + 1)
    }
  }
  decoder.end()
  return { frames, ends }
}

function varint (value: number): Uint8Array {
  const out: number[] = []
  for (; value >= 0x80; value = Math.floor(value / 128)) out.push((value & 0x7f) | 0x80)
  out.push(value)
  return Uint8Array.from(out)
}

type Checker = (file: V, all: Record<string, V>) => Promise<void>

const checkers: Record<string, Checker> = {
  async 'invite.json' (file) {
    assert.equal(file.signing_context, SIGNING_CONTEXT.invite)
    assert.equal(file.token_prefix, INVITE_TOKEN_PREFIX)
    const site = await checkIdentity(file.site)
    assert.ok(file.vectors.length >= 2)
    for (const v of file.vectors) {
      const invite = toMessage<Invite>(v.invite)
      assert.equal(v.invite.site, file.site.peer_id)
      assert.deepEqual(v.addrs_text.map((a: string) => h(multiaddr(a).bytes)), v.invite.addrs)
      checkSigned(v, v.invite, Invite, SIGNING_CONTEXT.invite, site)
      // inputs -> bytes
      const token = createInviteToken(site, { addrs: invite.addrs, secret: invite.secret, expires: invite.expires, ref: invite.ref, siteName: invite.siteName })
      assert.equal(token, v.token)
      assert.equal(INVITE_TOKEN_PREFIX + uint8ArrayToString(b(v.signed_payload), 'base64url'), v.token)
      assert.equal(h(inviteSecretHash(invite.secret)), v.secret_sha256)
      assert.equal(h(sha256(invite.secret)), v.secret_sha256)
      // bytes -> inputs
      const parsed = parseInviteToken(v.token, v.now)
      assert.deepEqual(toJson(parsed.invite), v.invite)
      assert.equal(h(parsed.signed), v.signed_payload)
      assert.deepEqual(toJson(openInvite(b(v.signed_payload), site.peerId, v.now)), v.invite)
      assert.deepEqual(toJson(openInvite(b(v.signed_payload), undefined, v.now)), v.invite)
    }
  },

  async 'device-key.json' (file) {
    assert.equal(file.signing_context, SIGNING_CONTEXT.deviceKey)
    const device = await checkIdentity(file.device)
    for (const v of file.vectors) {
      const key = toMessage<DeviceKey>(v.device_key)
      assert.equal(v.device_key.device, file.device.peer_id)
      assert.equal(v.device_key.x25519, file.device.x25519_public_key)
      checkSigned(v, v.device_key, DeviceKey, SIGNING_CONTEXT.deviceKey, device)
      assert.equal(h(signDeviceKey(device, key.x25519, key.created)), v.signed_payload)
      assert.deepEqual(toJson(openDeviceKey(b(v.signed_payload), device.peerId)), v.device_key)
    }
  },

  async 'key-epoch.json' (file) {
    assert.equal(file.signing_context, SIGNING_CONTEXT.keyEpoch)
    assert.deepEqual(file.hpke_suite, { mode: 0, kem_id: 0x20, kdf_id: 1, aead_id: 3 })
    assert.equal(file.info_prefix, HPKE_INFO_PREFIX)
    assert.deepEqual(file.export_contexts, {
      site_to_device: { key: EXPORT_LABEL.siteToDeviceKey, key_length: 32, base_nonce: EXPORT_LABEL.siteToDeviceNonce, base_nonce_length: 12 },
      device_to_site: { key: EXPORT_LABEL.deviceToSiteKey, key_length: 32, base_nonce: EXPORT_LABEL.deviceToSiteNonce, base_nonce_length: 12 }
    })
    const site = await checkIdentity(file.site)
    const device = await checkIdentity(file.device)
    const deviceX = x25519FromPrivateKey(b(file.device.x25519_private_key))
    for (const v of file.vectors) {
      assert.deepEqual(v.key_epoch, {
        site: file.site.peer_id, device: file.device.peer_id, epoch: v.epoch, enc: v.hpke.enc, created: v.created, expires: v.expires
      })
      checkSigned(v, v.key_epoch, KeyEpoch, SIGNING_CONTEXT.keyEpoch, site)

      // info = prefix || 0x00 || site || device || uint64be(epoch)
      const epochBytes = new Uint8Array(8)
      new DataView(epochBytes.buffer).setBigUint64(0, BigInt(v.epoch))
      assert.equal(h(concat([utf8.encode(HPKE_INFO_PREFIX), Uint8Array.of(0), site.peerId, device.peerId, epochBytes])), v.info)
      assert.equal(h(epochInfo(site.peerId, device.peerId, v.epoch)), v.info)

      // the HPKE intermediates: the ephemeral key pair, the X25519 output from both sides
      const skE = b(v.hpke.ephemeral_private_key)
      assert.equal(h(x25519FromPrivateKey(skE).publicKey), v.hpke.enc)
      assert.equal(h(x25519.getSharedSecret(skE, deviceX.publicKey)), v.hpke.dh)
      assert.equal(h(x25519.getSharedSecret(deviceX.privateKey, b(v.hpke.enc))), v.hpke.dh)
      assert.equal(v.hpke.kem_context, v.hpke.enc + file.device.x25519_public_key)
      const trace = hpkeTrace(b(v.ephemeral_ikm), deviceX.publicKey, b(v.info))
      assert.deepEqual(toJson(trace), {
        ephemeral_private_key: v.hpke.ephemeral_private_key,
        enc: v.hpke.enc,
        dh: v.hpke.dh,
        kem_context: v.hpke.kem_context,
        shared_secret: v.hpke.shared_secret,
        key_schedule_context: v.hpke.key_schedule_context,
        secret: v.hpke.secret,
        exporter_secret: v.hpke.exporter_secret
      })
      for (const dir of ['site_to_device', 'device_to_site'] as const) {
        const ctx = file.export_contexts[dir]
        assert.equal(h(hpkeExport(b(v.hpke.exporter_secret), utf8.encode(ctx.key), 32)), v.exports[dir].key)
        assert.equal(h(hpkeExport(b(v.hpke.exporter_secret), utf8.encode(ctx.base_nonce), 12)), v.exports[dir].base_nonce)
      }

      // inputs -> bytes: the site makes the epoch with the fixed ephemeral IKM
      const made = await createKeyEpoch({
        site, device: device.peerId, deviceX25519: deviceX.publicKey, epoch: v.epoch, created: v.created, expires: v.expires, ephemeralIkm: b(v.ephemeral_ikm)
      })
      assert.equal(h(made.signed), v.signed_payload)
      assert.deepEqual(toJson(made.epoch), v.key_epoch)
      assert.deepEqual(keysJson(made.keys), v.exports)

      // bytes -> inputs: the device opens it
      const opened = await openKeyEpoch(b(v.signed_payload), { site: site.peerId, device: device.peerId, devicePrivateKey: deviceX.privateKey })
      assert.deepEqual(toJson(opened.epoch), v.key_epoch)
      assert.deepEqual(keysJson(opened.keys), v.exports)
    }
  },

  async 'envelope.json' (file) {
    const site = await checkIdentity(file.site)
    const device = await checkIdentity(file.device)
    const deviceX = x25519FromPrivateKey(b(file.device.x25519_private_key))
    const opened = await openKeyEpoch(b(file.key_epoch.signed_payload), { site: site.peerId, device: device.peerId, devicePrivateKey: deviceX.privateKey })
    assert.equal(opened.epoch.epoch, file.key_epoch.epoch)
    assert.deepEqual(keysJson(opened.keys), file.key_epoch.exports)
    const directions = new Set<string>()
    for (const v of file.vectors) {
      directions.add(v.direction)
      checkEnvelopeVector(v, file, opened.keys)
    }
    assert.deepEqual([...directions].sort(), ['device_to_site', 'site_to_device'])
  },

  async 'ack.json' (file) {
    assert.equal(file.signing_context, SIGNING_CONTEXT.ack)
    const signers = new Map<string, Ed25519Signer>()
    for (const json of [file.site, file.device]) signers.set(json.peer_id, await checkIdentity(json))
    assert.ok(file.vectors.some((v: V) => v.ack.ids.length === 1))
    assert.ok(file.vectors.some((v: V) => v.ack.ids.length > 1))
    for (const v of file.vectors) {
      const signer = signers.get(v.ack.receiver)
      assert.ok(signer !== undefined, 'the receiver is one of the file\'s keys')
      const ack = toMessage<AckBody>(v.ack)
      checkSigned(v, v.ack, AckBody, SIGNING_CONTEXT.ack, signer)
      assert.equal(h(signAck(signer, ack.sender, ack.ids, ack.time)), v.signed_payload)
      assert.deepEqual(toJson(openAck(b(v.signed_payload), ack.sender, ack.receiver)), v.ack)
    }
  },

  async 'leave.json' (file) {
    assert.equal(file.signing_context, SIGNING_CONTEXT.leave)
    const site = await checkIdentity(file.site)
    const device = await checkIdentity(file.device)
    for (const v of file.vectors) {
      const leave = toMessage<Leave>(v.leave)
      assert.equal(v.leave.site, file.site.peer_id)
      assert.equal(v.leave.device, file.device.peer_id)
      checkSigned(v, v.leave, Leave, SIGNING_CONTEXT.leave, device)
      assert.equal(h(signLeave(device, site.peerId, leave.time)), v.signed_payload)
      assert.deepEqual(toJson(openLeave(b(v.signed_payload), site.peerId, device.peerId)), v.leave)
    }
  },

  async 'address-record.json' (file) {
    assert.equal(file.signing_context, SIGNING_CONTEXT.addressRecord)
    for (const v of file.vectors) {
      const signer = await checkIdentity(v.signer)
      const record = toMessage<AddressRecord>(v.record)
      assert.equal(v.record.peer, v.signer.peer_id)
      assert.equal(h(addressRecordKey(signer.peerId)), v.key)
      assert.equal(h(utf8.encode('/tmtp-addr/')) + v.signer.peer_id, v.key, 'key = "/tmtp-addr/" || PeerId')
      assert.deepEqual(v.addrs_text.map((a: string) => h(multiaddr(a).bytes)), v.record.addrs)
      checkSigned(v, v.record, AddressRecord, SIGNING_CONTEXT.addressRecord, signer)
      assert.equal(h(signAddressRecord(signer, v.addrs_text, record.seq, record.expires)), v.signed_payload)
      const opened = openAddressRecord(b(v.key), b(v.signed_payload), record.seq)
      assert.deepEqual(opened.addrs.map(a => a.toString()), v.addrs_text)
      assert.equal(opened.seq, record.seq)
      assert.equal(opened.expires, record.expires)
    }
  },

  async 'ed25519.json' (file) {
    assert.ok(file.cases.some((c: V) => c.valid === true) && file.cases.some((c: V) => c.valid === false))
    for (const c of file.cases) {
      assert.equal(typeof c.valid, 'boolean')
      assert.equal(verifyEd25519(b(c.public_key), b(c.message), b(c.signature)), c.valid, c.name)
    }
  },

  async 'framing.json' (file, all) {
    assert.equal(file.max_frame_size, MAX_FRAME_SIZE)
    assert.equal(file.max_control_frame_size, MAX_CONTROL_FRAME_SIZE)
    assert.deepEqual(file.frames.map((f: V) => f.length), [0, 1, 127, 128, 300, 16384])
    for (const v of file.frames) {
      const frame = b(v.frame)
      assert.equal(frame.byteLength, v.length)
      assert.equal(v.length_prefix, h(varint(v.length)))
      assert.equal(v.encoded, v.length_prefix + v.frame)
      assert.equal(h(encodeFrame(frame)), v.encoded)
      assert.deepEqual(decodeFrames(b(v.encoded), file.max_frame_size).map(h), [v.frame])
      assert.deepEqual(feedByteByByte(b(v.encoded), file.max_frame_size), { frames: [frame], ends: [frame.byteLength + v.length_prefix.length / 2] })
    }

    const streams = [file.concatenated, ...file.streams]
    for (const v of streams) {
      const frames = v.frames.map(b)
      assert.equal(h(encodeFrames(frames)), v.encoded)
      assert.equal(v.encoded, frames.map((f: Uint8Array) => h(encodeFrame(f))).join(''))
      assert.deepEqual(decodeFrames(b(v.encoded), file.max_frame_size).map(h), v.frames)
      const fed = feedByteByByte(b(v.encoded), file.max_frame_size)
      assert.deepEqual(fed.frames.map(h), v.frames)
      assert.deepEqual(fed.ends, v.frame_ends)
    }

    // the Push and Receipt frames carry the other files' bytes, re-encoding to the same frame
    const [push, receipt] = file.streams
    assert.equal(push.message, 'Push')
    assert.equal(receipt.message, 'Receipt')
    const pushes = push.frames.map((f: string) => Push.decode(b(f)))
    assert.deepEqual(pushes.map((p: Push) => h(Push.encode(p))), push.frames)
    assert.equal(h(SignedPayload.encode(pushes[0].epoch)), all['key-epoch.json'].vectors[0].signed_payload)
    const envelopes = all['envelope.json'].vectors
    assert.deepEqual(pushes.slice(1).map((p: Push) => h(Envelope.encode(p.envelope as Envelope))), [envelopes[0].envelope, envelopes[1].envelope])
    const receipts = receipt.frames.map((f: string) => Receipt.decode(b(f)))
    assert.deepEqual(receipts.map((r: Receipt) => h(Receipt.encode(r))), receipt.frames)
    const ack = openAck(SignedPayload.encode(receipts[0].ack), b(envelopes[0].header.sender), b(envelopes[0].header.recipient))
    assert.deepEqual(ack.ids.map(h), [envelopes[0].header.id, envelopes[1].header.id])

    // a set oneof member at its defaults is still written, and decodes as set
    assert.deepEqual(file.oneof.map((v: V) => `${v.message}.${v.member as string}`), ['Push.epoch', 'Push.envelope', 'Receipt.ack', 'Receipt.reject', 'Receipt.error'])
    for (const v of file.oneof) {
      const codec: MessageCodec<any> = v.message === 'Push' ? Push : Receipt
      const decoded = await operations[v.message === 'Push' ? 'decode_push' : 'decode_receipt']({ frame: v.frame }) as Record<string, unknown>
      assert.deepEqual(Object.keys(decoded).filter(k => decoded[k] !== undefined), [v.member], v.name)
      assert.equal(h(codec.encode(decoded)), v.frame, v.name)
    }
  },

  async 'blob.json' (file) {
    assert.equal(file.protocol, PROTOCOL_BLOB)
    assert.equal(file.chunk_bytes, BLOB_CHUNK_BYTES)
    assert.equal(file.aad_context, BLOB_CHUNK_CONTEXT)
    assert.equal(file.proof_context, BLOB_PROOF_CONTEXT)
    const requester = await checkIdentity(file.device)
    const keysByBlob = new Map<string, Uint8Array>(file.blobs.map((v: V) => [v.attachment.blob, b(v.attachment.key)]))
    const sealedOf: Uint8Array[][] = []
    for (const v of file.blobs) {
      const attachment = toMessage<Attachment>(v.attachment)
      const { size } = attachment
      const data = v.file === 'file_pattern' ? filePattern(size) : b(v.file)
      assert.equal(data.byteLength, size, v.name)
      assert.equal(h(sha256(data)), v.attachment.sha256, 'sha256 of the file')
      const sizeBytes = new Uint8Array(8)
      new DataView(sizeBytes.buffer).setBigUint64(0, BigInt(size))
      assert.equal(h(concat([utf8.encode(file.aad_context), Uint8Array.of(0), sizeBytes])), v.aad, 'aad = context || 0x00 || uint64be(size)')
      assert.equal(h(chunkAad(size)), v.aad)
      assert.equal(v.chunks.length, Math.ceil(size / file.chunk_bytes))
      assert.equal(chunkCount(size), v.chunks.length)
      const key = blobKey(attachment.key, size)
      const sealedChunks: Uint8Array[] = []
      const opened: Uint8Array[] = []
      v.chunks.forEach((c: V, index: number) => {
        assert.equal(c.index, index)
        const nonce = new Uint8Array(12)
        new DataView(nonce.buffer).setBigUint64(4, BigInt(index))
        assert.equal(h(nonce), c.nonce, 'nonce = I2OSP(index, 12)')
        assert.equal(h(chunkNonce(index)), c.nonce)
        const plain = data.subarray(index * file.chunk_bytes, Math.min(size, (index + 1) * file.chunk_bytes))
        const sealed = chacha20poly1305(attachment.key, nonce, b(v.aad)).encrypt(plain)
        checkSealedChunk(c, sealed)
        assert.equal(h(sealChunk(key, index, plain)), h(sealed))
        opened.push(openChunk(key, index, sealed))
        sealedChunks.push(sealed)
      })
      assert.equal(h(concat(opened, size)), h(data), 'the chunks open to the file')
      sealedOf.push(sealedChunks)
    }
    const site = await checkIdentity(file.envelope.site)
    for (const frame of file.frames) {
      const codec: MessageCodec<any> = frame.message === 'BlobRequest' ? BlobRequest : BlobReply
      const body = b(frame.body)
      assert.equal(h(encodeFrame(body)), frame.frame, frame.name)
      const value = decodeMessage(codec, body, frame.message)
      assert.deepEqual(toJson(value), frame.value, frame.name)
      assert.equal(h(codec.encode(value)), frame.body)
      if (frame.message !== 'BlobRequest') continue
      const key = keysByBlob.get(frame.value.blob) as Uint8Array
      const input = concat([utf8.encode(file.proof_context), Uint8Array.of(0), requester.peerId])
      assert.equal(h(hmac(sha256, key, input)), frame.value.proof, 'proof = HMAC-SHA256(key, context || 0x00 || device PeerId)')
      assert.equal(h(blobProof(key, requester.peerId)), frame.value.proof)
      assert.ok(checkBlobProof(key, requester.peerId, b(frame.value.proof)))
      assert.ok(!checkBlobProof(key, site.peerId, b(frame.value.proof)), 'a proof is bound to its device')
    }
    const device = await checkIdentity(file.envelope.device)
    const epoch = await openKeyEpoch(b(file.envelope.key_epoch.signed_payload), { site: site.peerId, device: device.peerId, devicePrivateKey: b(file.envelope.device.x25519_private_key) })
    assert.deepEqual(keysJson(epoch.keys), file.envelope.key_epoch.exports)
    assert.ok(file.envelope.vector.content.attachments.length > 0, 'the envelope lists attachments')
    checkEnvelopeVector(file.envelope.vector, file.envelope, epoch.keys)
    const codes = new Set(file.failures.map((c: V) => c.error))
    assert.deepEqual([...codes].sort(), ['BAD_FRAME', 'DECRYPT_FAILED'])
    for (const c of file.failures) {
      const { input } = c
      const sealed = input.sealed !== undefined ? b(input.sealed) : sealedOf[input.sealed_of.blob][input.sealed_of.chunk]
      await rejectsWith(c.error, () => openChunk(blobKey(b(input.key), input.size), input.index, sealed)).catch(err => {
        throw new Error(`${c.name}: ${(err as Error).message}`, { cause: err })
      })
    }
  },

  async 'duplicate.json' (file) {
    assert.equal(file.max_clock_skew_ms, MAX_CLOCK_SKEW_MS)
    for (const json of Object.values(file.keys)) await checkIdentity(json)
    const outcomes = new Set(file.cases.map((c: V) => c.outcome))
    for (const outcome of ['acknowledge', 'store', 'EXPIRED', 'WRONG_RECIPIENT', 'WRONG_SIGNER']) assert.ok(outcomes.has(outcome), `a case with outcome ${outcome}`)
    for (const c of file.cases) {
      let outcome: string
      try {
        outcome = receiveWithStore(c.input)
      } catch (err) {
        if (!isTmtpError(err)) throw err
        outcome = err.code
      }
      assert.equal(outcome, c.outcome, c.name)
    }
  },

  async 'negative.json' (file) {
    assert.equal(file.max_clock_skew_ms, MAX_CLOCK_SKEW_MS)
    for (const json of Object.values(file.keys)) await checkIdentity(json)
    const codes = new Set(Object.values(ErrorCode) as string[])
    const required = ['DECRYPT_FAILED', 'EXPIRED', 'BAD_SIGNATURE', 'WRONG_SIGNER', 'BAD_FRAME', 'FRAME_TOO_LARGE', 'UNSUPPORTED_VERSION', 'BAD_TOKEN', 'WRONG_RECIPIENT', 'BAD_TIMESTAMP', 'UNKNOWN_EPOCH']
    assert.deepEqual(required.filter(code => !file.cases.some((c: V) => c.error === code)), [], 'every required error code has a case')
    const names = new Set<string>()
    for (const c of file.cases) {
      assert.ok(!names.has(c.name), `duplicate case name ${c.name}`)
      names.add(c.name)
      assert.ok(codes.has(c.error), `${c.name}: ${c.error} is an error code`)
      const operation = operations[c.operation]
      assert.ok(operation !== undefined, `${c.name}: unknown operation ${c.operation}`)
      await rejectsWith(c.error, async () => await operation(c.input)).catch(err => {
        throw new Error(`${c.name}: ${(err as Error).message}`, { cause: err })
      })
      if (c.original !== undefined) {
        await operation({ ...c.input, ...c.original }).catch(err => {
          throw new Error(`${c.name}: with the original inputs the operation must succeed, got ${String(err)}`, { cause: err })
        })
      }
    }
  }
}

/** One vector of envelope.json (or an envelope of another file with the same fields): inputs to bytes and back. */
function checkEnvelopeVector (v: V, file: V, keys: { siteToDevice: DirectionKey, deviceToSite: DirectionKey }): void {
  assert.deepEqual({ key: v.key, base_nonce: v.base_nonce }, file.key_epoch.exports[v.direction])
  const key = directionKeyOf(v)
  const [from, to] = v.direction === 'site_to_device' ? [file.site, file.device] : [file.device, file.site]
  assert.equal(v.header.sender, from.peer_id)
  assert.equal(v.header.recipient, to.peer_id)
  assert.equal(v.header.epoch, file.key_epoch.epoch)
  const header = toMessage<EnvelopeHeader>(v.header)

  // inputs -> bytes
  const contentBytes = encodeContent(toMessage(v.content))
  assert.equal(h(contentBytes), v.content_bytes)
  assert.equal(h(EnvelopeHeader.encode(header)), v.header_bytes)
  const seq = new Uint8Array(12)
  new DataView(seq.buffer).setBigUint64(4, BigInt(v.header.seq))
  assert.equal(h(b(v.base_nonce).map((x, i) => x ^ seq[i])), v.nonce, 'nonce = base_nonce XOR uint96be(seq)')
  assert.equal(h(messageNonce(key.baseNonce, header.seq)), v.nonce)
  assert.equal(h(chacha20poly1305(key.keyBytes, b(v.nonce), b(v.header_bytes)).encrypt(contentBytes)), v.ciphertext)
  assert.equal(b(v.ciphertext).byteLength, contentBytes.byteLength + 16)
  assert.equal(h(Envelope.encode({ header: b(v.header_bytes), ciphertext: b(v.ciphertext) } as Envelope)), v.envelope)
  assert.equal(h(sealEnvelope(key, header, contentBytes)), v.envelope)

  // bytes -> inputs
  const parsed = parseEnvelope(b(v.envelope))
  assert.deepEqual(toJson(parsed.header), v.header)
  assert.equal(h(parsed.headerBytes), v.header_bytes)
  assert.equal(h(parsed.ciphertext), v.ciphertext)
  checkEnvelopeHeader(parsed.header, { sender: b(from.peer_id), recipient: b(to.peer_id), now: v.now })
  assert.equal(h(decryptContent(key, parsed)), v.content_bytes)
  assert.deepEqual(toJson(decryptEnvelope(key, parsed)), v.opened_content)
  assert.deepEqual(toJson(decryptEnvelope(keys[camel(v.direction)], parsed)), v.opened_content)
}

/** File byte i of blob.json's file_pattern: (i * 7 + 3) mod 251. */
function filePattern (size: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 7 + 3) % 251)
}

/** A sealed chunk as blob.json records it: whole, or its length, SHA-256 and tag. */
function checkSealedChunk (json: V, sealed: Uint8Array): void {
  if (json.sealed !== undefined) assert.equal(h(sealed), json.sealed)
  else assert.deepEqual({ length: sealed.byteLength, sha256: h(sha256(sealed)), tag: h(sealed.subarray(sealed.byteLength - 16)) }, { length: json.sealed_length, sha256: json.sealed_sha256, tag: json.tag })
}

/** spec 11.6 without duplicates: `epoch` and `epoch_expires` (steps 9 and 10) name the one epoch the receiver holds, when given. */
function receiveEnvelope (input: V, key: DirectionKey): unknown {
  const parsed = parseEnvelope(b(input.envelope))
  checkEnvelopeHeader(parsed.header, { sender: b(input.sender), recipient: b(input.recipient), now: input.now })
  if (input.epoch !== undefined && parsed.header.epoch !== input.epoch) throw new TmtpError(ErrorCode.UNKNOWN_EPOCH, `no epoch ${parsed.header.epoch}`)
  if (input.epoch_expires !== undefined && parsed.header.created > input.epoch_expires + MAX_CLOCK_SKEW_MS) throw new TmtpError(ErrorCode.EXPIRED, 'created after its epoch expired')
  return decryptEnvelope(key, parsed)
}

/** spec 11.6 with a store of (sender, id) pairs: steps 1 to 5, then step 6 (a duplicate is acknowledged), then the rest. */
function receiveWithStore (input: V): 'acknowledge' | 'store' {
  const parsed = parseEnvelope(b(input.envelope))
  const { header } = parsed
  if (!equalBytes(header.recipient, b(input.recipient))) throw new TmtpError(ErrorCode.WRONG_RECIPIENT, 'for another node')
  if (!equalBytes(header.sender, b(input.sender))) throw new TmtpError(ErrorCode.WRONG_SIGNER, 'from another sender')
  if (input.stored.some((s: V) => s.sender === input.sender && s.id === h(header.id))) return 'acknowledge'
  receiveEnvelope(input, directionKeyOf(input))
  return 'store'
}

/** A Push or Receipt frame (spec 5): canonically encoded, exactly one member of its oneof set. */
function decodeFrameMessage<T extends object> (codec: MessageCodec<T>, frame: string, what: string): T {
  const value = decodeCanonical(codec, b(frame), what)
  if (Object.values(value).filter(v => v !== undefined).length !== 1) throw new TmtpError(ErrorCode.BAD_FRAME, `${what} must set exactly one member`)
  return value
}

/** The operations of negative.json, as spec/vectors/README.md defines them. */
const operations: Record<string, (input: V) => Promise<unknown>> = {
  async receive_envelope (input) {
    return receiveEnvelope(input, directionKeyOf(input))
  },
  async open_key_epoch_then_receive_envelope (input) {
    const opened = await openKeyEpoch(b(input.signed_epoch), { site: b(input.site), device: b(input.device), devicePrivateKey: b(input.device_x25519_private_key) })
    return receiveEnvelope(input, opened.keys[camel(input.direction)])
  },
  async open_key_epoch (input) {
    return await openKeyEpoch(b(input.signed_payload), { site: b(input.site), device: b(input.device), devicePrivateKey: b(input.device_x25519_private_key) })
  },
  async open_invite (input) {
    return openInvite(b(input.signed_payload), input.site === null ? undefined : b(input.site), input.now)
  },
  async parse_invite_token (input) {
    return parseInviteToken(input.token, input.now)
  },
  async open_ack (input) {
    return openAck(b(input.signed_payload), b(input.sender), b(input.receiver))
  },
  async open_device_key (input) {
    return openDeviceKey(b(input.signed_payload), b(input.device))
  },
  async open_leave (input) {
    return openLeave(b(input.signed_payload), b(input.site), b(input.device))
  },
  async decode_push (input) {
    return decodeFrameMessage(Push, input.frame, 'Push')
  },
  async decode_receipt (input) {
    return decodeFrameMessage(Receipt, input.frame, 'Receipt')
  },
  async decode_frames (input) {
    // all at once, then one byte at a time: the same outcome
    const all = (): unknown => decodeFrames(b(input.stream), input.max_frame_size)
    let first: unknown
    try {
      all()
    } catch (err) {
      first = err
    }
    let second: unknown
    try {
      feedByteByByte(b(input.stream), input.max_frame_size)
    } catch (err) {
      second = err
    }
    assert.equal(isTmtpError(second) ? second.code : second, isTmtpError(first) ? first.code : first, 'byte-by-byte decoding fails the same way')
    if (first !== undefined) throw first
    return undefined
  }
}

/** What every vector file holds beside its vectors. */
export function checkFileHeader (file: V): void {
  assert.equal(typeof file.description, 'string')
  assert.ok(file.description.length > 0)
  assert.equal(file.version, 1)
}

/** Checks the vector file `name` both ways; `all` holds every file by name (some refer to others'). */
export async function checkVectorFile (name: string, all: Record<string, V>): Promise<void> {
  const checker = checkers[name]
  assert.ok(checker !== undefined, `spec/vectors/${name} has no checker in test/spec/vector-checks.ts`)
  await checker(all[name], all)
}
