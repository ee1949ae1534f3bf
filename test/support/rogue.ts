import { randomBytes } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import { peerIdFromString } from '@libp2p/peer-id'
import { fromString as uint8ArrayFromString } from 'uint8arrays'
import { Ed25519Signer, peerIdFromString as peerIdBytes, peerIdToString } from '../../src/crypto/ed25519.js'
import { signDeviceKey } from '../../src/crypto/device-key.js'
import { encodeContent, sealEnvelopeMessage } from '../../src/crypto/envelope.js'
import { createKeyEpoch, type OpenedEpoch } from '../../src/crypto/epoch.js'
import { createInviteToken } from '../../src/crypto/invite.js'
import { generateX25519, type X25519KeyPair } from '../../src/crypto/x25519.js'
import { FramedStream } from '../../src/delivery/framed-stream.js'
import { drained } from '../../scripts/conformance/conversation.js'
import { createTmtpLibp2p, type TmtpLibp2p } from '../../src/node/libp2p.js'
import { DEFAULTS } from '../../src/node/defaults.js'
import { INVITE_TOKEN_PREFIX, MAX_CONTROL_FRAME_SIZE, MAX_FRAME_SIZE, PROTOCOL_JOIN, PROTOCOL_LEAVE } from '../../src/protocol/constants.js'
import { ErrorCode, codeFromWire, codeToWire } from '../../src/protocol/errors.js'
import { encodeFrame } from '../../src/protocol/framing.js'
import { JoinRequest, JoinResponse, Push, Receipt, Result, SignedPayload, type Envelope } from '../../src/protocol/pb/tmtp.js'
import type { PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** A real node under attack: what the rogue needs to reach it. */
export interface Target {
  peerId: string
  libp2p: { getMultiaddrs: () => Multiaddr[] }
}

/** How an exchange on one stream ended, and the frames the attacked node wrote on it. */
export interface Answer {
  frames: Uint8Array[]
  /** closed: the node closed the stream; reset: it aborted it (or refused it); timeout: it kept silent. */
  end: 'closed' | 'reset' | 'timeout'
}

export interface ExchangeOptions {
  /** Bytes per write; with `gapMs`, a frame trickles in. @default everything at once */
  chunkSize?: number
  gapMs?: number
  /** Close the write side after the bytes (a peer that stalls keeps it open). @default true */
  closeWrite?: boolean
  /** Give up reading after this long. @default 5000 */
  timeoutMs?: number
}

/** A deterministic byte source, so that a failing fuzz case can be replayed. */
export class Prng {
  private state: number

  constructor (seed: number) {
    this.state = seed >>> 0 || 1
  }

  next (): number {
    // xorshift32
    let x = this.state
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.state = x >>> 0
    return this.state
  }

  int (max: number): number {
    return this.next() % max
  }

  bytes (length: number): Uint8Array {
    const out = new Uint8Array(length)
    for (let i = 0; i < length; i++) out[i] = this.int(256)
    return out
  }

  /** A copy of `bytes` with 1 to 3 bytes changed, inserted or removed, or the tail cut off. */
  mutate (bytes: Uint8Array): Uint8Array {
    let out = Uint8Array.from(bytes)
    const edits = 1 + this.int(3)
    for (let e = 0; e < edits; e++) {
      const at = this.int(Math.max(out.byteLength, 1))
      switch (this.int(4)) {
        case 0: out[at] ^= 1 << this.int(8); break
        case 1: out = Uint8Array.from([...out.subarray(0, at), this.int(256), ...out.subarray(at)]); break
        case 2: out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + 1)]); break
        default: out = out.subarray(0, at)
      }
    }
    return out
  }
}

/**
 * A libp2p node that is no TMTP node: it opens TMTP streams to real nodes and writes
 * whatever a test tells it to, byte for byte. Loopback only, no DHT.
 */
export class Rogue {
  readonly signer: Ed25519Signer
  readonly libp2p: TmtpLibp2p
  readonly x25519: X25519KeyPair

  private constructor (signer: Ed25519Signer, libp2p: TmtpLibp2p) {
    this.signer = signer
    this.libp2p = libp2p
    this.x25519 = generateX25519()
  }

  /** A rogue on 127.0.0.1; `announce` replaces the addresses it tells peers (through identify). */
  static async start (opts: { announce?: string[] } = {}): Promise<Rogue> {
    const signer = Ed25519Signer.generate()
    const libp2p = await createTmtpLibp2p({ signer, listen: ['/ip4/127.0.0.1/tcp/0'], announce: opts.announce, connections: DEFAULTS.site })
    await libp2p.start()
    return new Rogue(signer, libp2p)
  }

  get peerId (): string {
    return peerIdToString(this.signer.peerId)
  }

  async stop (): Promise<void> {
    await this.libp2p.stop()
  }

  async open (target: Target, protocol: string): Promise<Stream> {
    return await this.libp2p.dialProtocol(await this.known(target), protocol, { signal: AbortSignal.timeout(5_000) })
  }

  /** Connects to `target` (one connection, that later streams share). */
  async connect (target: Target): Promise<void> {
    await this.libp2p.dial(await this.known(target), { signal: AbortSignal.timeout(5_000) })
  }

  /** The target's PeerId, with its addresses in the peer store. */
  private async known (target: Target): Promise<PeerId> {
    const peer = peerIdFromString(target.peerId)
    await this.libp2p.peerStore.merge(peer, { multiaddrs: target.libp2p.getMultiaddrs() })
    return peer
  }

  /** Opens a stream, writes `bytes` (raw: framing is the caller's), and reads what comes back. */
  async exchange (target: Target, protocol: string, bytes: Uint8Array, opts: ExchangeOptions = {}): Promise<Answer> {
    return await this.exchangeOn(await this.open(target, protocol), bytes, opts)
  }

  async exchangeOn (stream: Stream, bytes: Uint8Array, opts: ExchangeOptions = {}): Promise<Answer> {
    const maxFrame = stream.protocol === PROTOCOL_JOIN || stream.protocol === PROTOCOL_LEAVE ? MAX_CONTROL_FRAME_SIZE : MAX_FRAME_SIZE
    const framed = new FramedStream(stream, maxFrame)
    const frames: Uint8Array[] = []
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<'timeout'>(resolve => { timer = setTimeout(() => { resolve('timeout') }, opts.timeoutMs ?? 5_000) })
    const read = (async (): Promise<'closed' | 'reset'> => {
      try {
        for await (const batch of framed.batches()) frames.push(...batch)
        return 'closed'
      } catch {
        return 'reset'
      }
    })()
    const write = (async (): Promise<void> => {
      try {
        const size = opts.chunkSize ?? bytes.byteLength
        for (let i = 0; i < bytes.byteLength; i += size) {
          if (stream.status !== 'open') return
          // the 'drain' event, not stream.onDrain() (docs/LIBP2P-NOTES.md, trap 2)
          if (!stream.send(bytes.subarray(i, i + size))) await drained(stream)
          if (opts.gapMs !== undefined) await delay(opts.gapMs)
        }
        if (opts.closeWrite ?? true) await stream.close()
      } catch {
        // the node closed or reset the stream while we wrote: the read side tells how
      }
    })()
    try {
      const end = await Promise.race([read, timedOut])
      return { frames, end }
    } finally {
      clearTimeout(timer)
      if (stream.status === 'open') stream.abort(new Error('rogue done'))
      await write
    }
  }

  /** A JoinRequest from this rogue, with a device key of its own. */
  joinRequest (token: string, deviceName = 'rogue'): Uint8Array {
    // the invite's bytes unchecked: a guessed invite need not verify
    return JoinRequest.encode({
      invite: uint8ArrayFromString(token.slice(INVITE_TOKEN_PREFIX.length), 'base64url') as Uint8Array<ArrayBuffer>,
      deviceKey: signDeviceKey(this.signer, this.x25519.publicKey, Date.now()) as Uint8Array<ArrayBuffer>,
      deviceName
    })
  }

  /** Answers every join with OK (and `memberId`), so that a member who joins this rogue accepts its deliver streams. */
  async actAsSite (memberId = 'm-rogue'): Promise<void> {
    await this.libp2p.handle(PROTOCOL_JOIN, async (stream) => {
      const framed = new FramedStream(stream, MAX_CONTROL_FRAME_SIZE)
      try {
        await framed.readOne()
        await framed.write([JoinResponse.encode({ code: codeToWire(ErrorCode.OK), memberId, siteName: 'rogue', detail: '' })])
        await framed.close()
      } catch (err) {
        framed.abort(err as Error)
      }
    })
  }

  /** An invite to this rogue "site", as a member would get it. */
  invite (): string {
    return createInviteToken(this.signer, {
      addrs: this.libp2p.getMultiaddrs().map(ma => ma.decapsulateCode(421).bytes),
      secret: new Uint8Array(randomBytes(32)),
      expires: Date.now() + 60_000
    })
  }

  /** A key epoch to `device`, signed by `signer` (this rogue unless told otherwise) and naming `site`. */
  async epoch (device: string, deviceX25519: Uint8Array, opts: { number?: number, signer?: Ed25519Signer } = {}): Promise<OpenedEpoch & { signed: Uint8Array }> {
    const now = Date.now()
    return await createKeyEpoch({ site: opts.signer ?? this.signer, device: peerIdBytes(device), deviceX25519, epoch: opts.number ?? 1, created: now, expires: now + 3600_000 })
  }
}

/** An envelope sealed under `epoch` (site-to-device, or device-to-site with `toSite`). */
export function envelope (epoch: OpenedEpoch, header: { sender: string, recipient: string, id?: Uint8Array, seq?: number, epoch?: number }, toSite = false): Envelope {
  const now = Date.now()
  return sealEnvelopeMessage(toSite ? epoch.keys.deviceToSite : epoch.keys.siteToDevice, {
    version: 1,
    id: (header.id ?? new Uint8Array(randomBytes(16))) as Uint8Array<ArrayBuffer>,
    sender: peerIdBytes(header.sender) as Uint8Array<ArrayBuffer>,
    recipient: peerIdBytes(header.recipient) as Uint8Array<ArrayBuffer>,
    epoch: header.epoch ?? epoch.epoch.epoch,
    seq: header.seq ?? 1,
    created: now,
    expires: 0
  }, encodeContent({ subject: 'from the rogue', body: 'hello' }))
}

export function pushEpoch (signed: Uint8Array): Uint8Array {
  return encodeFrame(Push.encode({ epoch: SignedPayload.decode(signed) }))
}

export function pushEnvelope (env: Envelope): Uint8Array {
  return encodeFrame(Push.encode({ envelope: env }))
}

/** The answers of a deliver or post stream, decoded. */
export interface Receipts {
  acks: number
  rejects: ErrorCode[]
  error?: ErrorCode
}

export function receipts (answer: Answer): Receipts {
  const out: Receipts = { acks: 0, rejects: [] }
  for (const frame of answer.frames) {
    const r = Receipt.decode(frame)
    if (r.ack !== undefined) out.acks++
    if (r.reject !== undefined) out.rejects.push(codeFromWire(r.reject.code))
    if (r.error !== undefined) out.error = codeFromWire(r.error.code)
  }
  return out
}

/** The code of the one JoinResponse (join) or Result (leave) on a control stream; undefined if none came. */
export function joinCode (answer: Answer): ErrorCode | undefined {
  return answer.frames.length === 0 ? undefined : codeFromWire(JoinResponse.decode(answer.frames[0]).code)
}

export function resultCode (answer: Answer): ErrorCode | undefined {
  return answer.frames.length === 0 ? undefined : codeFromWire(Result.decode(answer.frames[0]).code)
}
