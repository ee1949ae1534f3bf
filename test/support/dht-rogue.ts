import { generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { Libp2pRecord } from '@libp2p/record'
import { peerIdFromString } from '@libp2p/peer-id'
import * as varint from 'uint8-varint'
import { multiaddr } from '@multiformats/multiaddr'
import { Ed25519Signer, peerIdFromPublicKey } from '../../src/crypto/ed25519.js'
import { signingInput } from '../../src/crypto/signing.js'
import { addressRecordKey } from '../../src/discovery/address-record.js'
import { DHT_PROTOCOL } from '../../src/discovery/constants.js'
import { DEFAULTS } from '../../src/node/defaults.js'
import { createTmtpLibp2p, type TmtpLibp2p } from '../../src/node/libp2p.js'
import { SIGNING_CONTEXT, type SigningContext } from '../../src/protocol/constants.js'
import { AddressRecord, SignedPayload } from '../../src/protocol/pb/tmtp.js'
import type { PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * A peer that speaks the TMTP DHT protocol (/tmtp/kad/1.0.0) by hand, to push what kad-dht
 * would store on a peer's say-so: records of every kind (PUT_VALUE) and provider records
 * (ADD_PROVIDER). Messages are kad-dht's protobuf `Message`, length-prefixed, encoded here
 * because kad-dht does not export its codec.
 */

const PUT_VALUE = 0
const ADD_PROVIDER = 2

function field (tag: number, bytes: Uint8Array): Uint8Array {
  return Buffer.concat([varint.encode(tag << 3 | 2), varint.encode(bytes.byteLength), bytes])
}

/** A kad-dht message, length-prefixed as on the wire. */
function frame (type: number, ...fields: Uint8Array[]): Uint8Array {
  const body = Buffer.concat([Buffer.from([0x08, type]), ...fields])
  return Buffer.concat([varint.encode(body.byteLength), body])
}

/** PUT_VALUE of `value` under `key`, in kad-dht's record wrapper. */
export function putValue (key: Uint8Array, value: Uint8Array): Uint8Array {
  return frame(PUT_VALUE, field(2, key), field(3, new Libp2pRecord(key, value, new Date()).serialize()))
}

/** ADD_PROVIDER for a random sha2-256 multihash, naming the sender (`peer`) at `addrs`. */
export function addProvider (peer: Uint8Array, addrs: Uint8Array[]): Uint8Array {
  const multihash = Buffer.concat([Buffer.from([0x12, 0x20]), randomBytes(32)])
  const provider = Buffer.concat([field(1, peer), ...addrs.map(a => field(2, a))])
  return frame(ADD_PROVIDER, field(2, multihash), field(9, provider))
}

/**
 * A fresh Ed25519 identity, made the quick way (a generated key pair, not Ed25519Signer's
 * derivation from a seed, four times slower): the rogue makes tens of thousands.
 */
function freshIdentity (): { peerId: Uint8Array, sign: (context: SigningContext, payload: Uint8Array) => Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const spki = publicKey.export({ format: 'der', type: 'spki' })
  return {
    peerId: peerIdFromPublicKey(new Uint8Array(spki.subarray(spki.byteLength - 32))),
    sign: (context, payload) => SignedPayload.encode({ payload: payload as Uint8Array<ArrayBuffer>, signature: sign(null, signingInput(context, payload), privateKey) })
  }
}

/** An address record signed by its peer, a fresh identity; its payload followed by `extra` bytes (an unknown field) if given. */
function signedRecord (addrs: Uint8Array[], extra?: Uint8Array): { key: Uint8Array, value: Uint8Array } {
  const id = freshIdentity()
  const record = AddressRecord.encode({ peer: id.peerId as Uint8Array<ArrayBuffer>, addrs: addrs as Array<Uint8Array<ArrayBuffer>>, seq: Date.now(), expires: Date.now() + 3600_000 })
  const payload = extra === undefined ? record : Buffer.concat([record, extra])
  return { key: addressRecordKey(id.peerId), value: id.sign(SIGNING_CONTEXT.addressRecord, payload) }
}

/** A valid address record of a fresh identity, `addrs` many addresses of about `addrBytes` bytes each (a DNS name). */
export function validRecord (addrs = 1, addrBytes = 8): { key: Uint8Array, value: Uint8Array } {
  const addr = multiaddr(`/dns4/${'x'.repeat(Math.max(1, addrBytes - 6))}/tcp/1`).bytes
  return signedRecord(Array.from({ length: addrs }, () => addr))
}

/** An address record whose signature does not verify (its last byte flipped). */
export function forgedRecord (): { key: Uint8Array, value: Uint8Array } {
  const { key, value } = validRecord()
  value[value.byteLength - 1] ^= 1
  return { key, value }
}

/** An address record validly signed by its peer whose payload also carries `extra` bytes of an unknown field. */
export function paddedRecord (extra: number): { key: Uint8Array, value: Uint8Array } {
  return signedRecord([], field(15, randomBytes(extra)))
}

/** A public-key record kad-dht's own `pk` validator accepts: an Ed25519 key under its identity multihash. */
export function publicKeyRecord (): { key: Uint8Array, value: Uint8Array } {
  const value = Buffer.concat([Buffer.from([0x08, 0x01, 0x12, 0x20]), randomBytes(32)])
  return { key: Buffer.concat([Buffer.from('/pk/'), Buffer.from([0x00, value.byteLength]), value]), value }
}

export interface FloodResult {
  /** Streams opened. */
  streams: number
  /** Answers the node wrote (kad-dht echoes a stored PUT_VALUE). */
  answers: number
  /** Streams that closed while they were being opened, and were opened again. */
  failedOpens: number
}

export class DhtRogue {
  readonly libp2p: TmtpLibp2p
  readonly signer: Ed25519Signer

  private constructor (signer: Ed25519Signer, libp2p: TmtpLibp2p) {
    this.signer = signer
    this.libp2p = libp2p
  }

  static async start (): Promise<DhtRogue> {
    const signer = Ed25519Signer.generate()
    const libp2p = await createTmtpLibp2p({ signer, listen: ['/ip4/127.0.0.1/tcp/0'], connections: DEFAULTS.site })
    await libp2p.start()
    return new DhtRogue(signer, libp2p)
  }

  async stop (): Promise<void> {
    await this.libp2p.stop()
  }

  /**
   * Writes `messages` to the node `peer`, `perStream` to a stream, `parallel` streams at a
   * time, as fast as the node reads them. kad-dht answers requests on a stream in order and
   * resets the stream at the first one it refuses: the requests written behind it are never
   * read. Every stream ends (closed, reset, or after `streamTimeoutMs`) before this resolves;
   * it rejects when the node refuses new streams (10 attempts), e.g. once it banned the rogue.
   */
  async flood (peer: string, addrs: Multiaddr[], messages: Uint8Array[], opts: { perStream: number, parallel: number, streamTimeoutMs?: number }): Promise<FloodResult> {
    const target = peerIdFromString(peer)
    await this.libp2p.peerStore.merge(target, { multiaddrs: addrs })
    const result: FloodResult = { streams: 0, answers: 0, failedOpens: 0 }
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < messages.length) {
        const batch = messages.slice(next, next + opts.perStream)
        next += batch.length
        const stream = await this.open(target, result)
        result.streams++
        await this.send(stream, batch, result, opts.streamTimeoutMs ?? 10_000)
      }
    }
    await Promise.all(Array.from({ length: opts.parallel }, worker))
    return result
  }

  /**
   * A new DHT stream to `target`. The node may close a stream while it is being negotiated
   * (it is busy resetting the ones it refused): such a stream is counted and opened again.
   */
  private async open (target: PeerId, result: FloodResult): Promise<Stream> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.libp2p.dialProtocol(target, DHT_PROTOCOL, { signal: AbortSignal.timeout(5_000) })
      } catch (err) {
        result.failedOpens++
        if (attempt === 10) throw new Error(`cannot open a DHT stream: ${err instanceof Error ? err.message : String((err as Event)?.type ?? err)}`)
        await new Promise(resolve => setTimeout(resolve, 10 * attempt))
      }
    }
  }

  private async send (stream: Stream, batch: Uint8Array[], result: FloodResult, timeoutMs: number): Promise<void> {
    let pending = new Uint8Array(0)
    const ended = new Promise<void>(resolve => {
      stream.addEventListener('close', () => { resolve() }, { once: true })
    })
    // count the answers (length-prefixed messages) and discard them, so the node never waits on its writes
    stream.addEventListener('message', event => {
      pending = Buffer.concat([pending, event.data.subarray()])
      while (pending.byteLength > 0) {
        const length = varint.decode(pending)
        const start = varint.encodingLength(length)
        if (pending.byteLength < start + length) break
        pending = pending.subarray(start + length)
        result.answers++
      }
    })
    // the whole batch in one write: the fewest frames to encrypt and decrypt, as a rogue that
    // wants to push as much as it can would do; kad-dht reads the messages out of the bytes
    if (stream.status === 'open' && !stream.send(Buffer.concat(batch))) {
      await Promise.race([new Promise<void>(resolve => { stream.addEventListener('drain', () => { resolve() }, { once: true }) }), ended])
    }
    if (stream.status === 'open') await stream.close({ signal: AbortSignal.timeout(timeoutMs) }).catch(() => { stream.abort(new Error('the node kept the stream open')) })
    await ended
  }
}
