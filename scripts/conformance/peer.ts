import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { Ed25519Signer, peerIdFromString, peerIdToString } from '../../src/crypto/ed25519.js'
import { generateX25519, type X25519KeyPair } from '../../src/crypto/x25519.js'
import { DEFAULTS } from '../../src/node/defaults.js'
import { createTmtpLibp2p, type TmtpLibp2p } from '../../src/node/libp2p.js'
import { MAX_CONTROL_FRAME_SIZE, MAX_FRAME_SIZE, PROTOCOL_JOIN, PROTOCOL_LEAVE } from '../../src/protocol/constants.js'
import { Conversation, type Answer } from './conversation.js'
import type { Stream } from '@libp2p/interface'

/** The largest frame body on a stream of `protocol` (spec 14). */
export function maxFrameOf (protocol: string): number {
  return protocol === PROTOCOL_JOIN || protocol === PROTOCOL_LEAVE ? MAX_CONTROL_FRAME_SIZE : MAX_FRAME_SIZE
}

/** A node under test: its PeerId and the multiaddr (ending in /p2p/<PeerId>) the kit dials. */
export interface Target {
  addr: Multiaddr
  peerId: string
  /** The binary PeerId (spec 4.1). */
  id: Uint8Array
}

export function targetOf (addr: string): Target {
  const ma = multiaddr(addr)
  const peerId = ma.getComponents().findLast(c => c.name === 'p2p')?.value
  if (peerId === undefined) throw new Error(`${addr} does not end with /p2p/<PeerId>`)
  return { addr: ma, peerId, id: peerIdFromString(peerId) }
}

export interface ExchangeOptions {
  /** Half-close after writing (a peer that stalls keeps its write side open). @default true */
  closeWrite?: boolean
  /** Give up reading after this long. @default 10 s */
  timeoutMs?: number
}

/**
 * One identity the kit plays: a libp2p node on 127.0.0.1 with TCP, Noise, Yamux, identify
 * and ping (spec 13), an Ed25519 key and an X25519 device key. It speaks TMTP only through
 * what the suites write and read, byte for byte.
 */
export class KitPeer {
  readonly signer: Ed25519Signer
  readonly x25519: X25519KeyPair
  readonly libp2p: TmtpLibp2p

  private constructor (signer: Ed25519Signer, libp2p: TmtpLibp2p) {
    this.signer = signer
    this.x25519 = generateX25519()
    this.libp2p = libp2p
  }

  /** A started peer; `listen: false` makes one that can only dial (the node under test cannot reach it). */
  static async start (opts: { listen?: boolean } = {}): Promise<KitPeer> {
    const signer = Ed25519Signer.generate()
    const listen = opts.listen === false ? [] : ['/ip4/127.0.0.1/tcp/0']
    const libp2p = await createTmtpLibp2p({ signer, listen, connections: DEFAULTS.site })
    await libp2p.start()
    return new KitPeer(signer, libp2p)
  }

  get peerId (): string {
    return peerIdToString(this.signer.peerId)
  }

  /** The binary PeerId (spec 4.1). */
  get id (): Uint8Array {
    return this.signer.peerId
  }

  addrs (): Multiaddr[] {
    return this.libp2p.getMultiaddrs()
  }

  async stop (): Promise<void> {
    await this.libp2p.stop()
  }

  /** Dials the target (one connection, which later streams share). */
  async connect (target: Target): Promise<void> {
    await this.libp2p.dial(target.addr, { signal: AbortSignal.timeout(10_000) })
  }

  /** Closes every connection to `peerId`. */
  async disconnect (peerId: string): Promise<void> {
    for (const connection of this.libp2p.getConnections()) {
      if (connection.remotePeer.toString() === peerId) await connection.close().catch(() => { connection.abort(new Error('kit hang-up')) })
    }
  }

  async open (target: Target, protocol: string): Promise<Conversation> {
    const stream = await this.libp2p.dialProtocol(target.addr, protocol, { signal: AbortSignal.timeout(10_000) })
    return new Conversation(stream, maxFrameOf(protocol))
  }

  /** Opens a stream, writes `bytes` (raw: the caller frames them) and reads everything the target answers. */
  async exchange (target: Target, protocol: string, bytes: Uint8Array, opts: ExchangeOptions = {}): Promise<Answer> {
    const conversation = await this.open(target, protocol)
    await conversation.write(bytes)
    if (opts.closeWrite ?? true) await conversation.closeWrite()
    return await conversation.rest(opts.timeoutMs ?? 10_000)
  }

  /** Serves `protocol`: each inbound stream becomes a Conversation for `handler`. */
  async handle (protocol: string, handler: (conversation: Conversation, remote: string) => Promise<void>): Promise<void> {
    await this.libp2p.handle(protocol, async (stream: Stream, connection) => {
      const conversation = new Conversation(stream, maxFrameOf(protocol))
      try {
        await handler(conversation, connection.remotePeer.toString())
      } catch {
        conversation.abort()
      }
    }, { maxInboundStreams: 64 })
  }
}
