import { fromString as uint8ArrayFromString } from 'uint8arrays'
import { signAck } from '../../src/crypto/ack.js'
import { signDeviceKey } from '../../src/crypto/device-key.js'
import { Ed25519Signer } from '../../src/crypto/ed25519.js'
import { decryptEnvelope, parseEnvelope } from '../../src/crypto/envelope.js'
import { openKeyEpoch, type OpenedEpoch } from '../../src/crypto/epoch.js'
import { INVITE_TOKEN_PREFIX, PROTOCOL_DELIVER, PROTOCOL_JOIN } from '../../src/protocol/constants.js'
import { codeFromWire, ErrorCode } from '../../src/protocol/errors.js'
import { decodeCanonical, decodeMessage } from '../../src/protocol/messages.js'
import { Envelope, JoinRequest, JoinResponse, Push, SignedPayload, type Content, type EnvelopeHeader } from '../../src/protocol/pb/tmtp.js'
import { frame, framed, hex, receiptAck, receiptError, receiptReject, withSignature } from './craft.js'
import { KitPeer, type Target } from './peer.js'
import type { Conversation } from './conversation.js'

/** An envelope the node under test sent the kit (delivered to its device, or posted to its site). */
export interface ReceivedEnvelope {
  /** Which stream (1, 2, …) it came on. */
  stream: number
  at: number
  /** The encoded Envelope as received. */
  bytes: Uint8Array
  idHex: string
  header: EnvelopeHeader
  content?: Content
  /** Why it could not be opened, if it could not. */
  problem?: string
}

/**
 * What the kit's device answers on a deliver stream: acknowledge (signed, spec 12), abort
 * without answering, answer BLOCKED at once, acknowledge with a signature by another key, reject
 * each envelope, or write a Receipt with no member set.
 */
export type DeliverMode = 'ack' | 'abort' | 'blocked' | 'bad-ack' | 'reject' | 'no-member'

/** The answer to a join: the code and member id, or the end of the stream. */
export interface JoinAnswer {
  code?: ErrorCode
  memberId?: string
  siteName?: string
  end: string
}

/**
 * The kit playing a member device against a site under test: it joins with crafted
 * JoinRequests and serves /tmtp/deliver/1.0.0, checking everything the site writes there.
 */
export class KitDevice {
  readonly peer: KitPeer
  readonly site: Target
  mode: DeliverMode = 'ack'
  readonly delivered: ReceivedEnvelope[] = []
  /** Deliver streams opened by the site, in order, with when they opened. */
  readonly streams: number[] = []
  /** Everything the site wrote that breaks the spec, as sentences. */
  readonly violations: string[] = []
  /** Valid signed KeyEpochs the site pushed, by number. */
  readonly epochs = new Map<number, OpenedEpoch & { signed: Uint8Array }>()
  /** Per stream: did a Push{epoch} for the envelope's epoch come before it (spec 15.2)? */
  readonly epochFirst: boolean[] = []

  private constructor (peer: KitPeer, site: Target) {
    this.peer = peer
    this.site = site
  }

  static async start (site: Target, opts: { listen?: boolean } = {}): Promise<KitDevice> {
    const device = new KitDevice(await KitPeer.start(opts), site)
    await device.peer.handle(PROTOCOL_DELIVER, async (conversation, remote) => { await device.serve(conversation, remote) })
    return device
  }

  async stop (): Promise<void> {
    await this.peer.stop()
  }

  /** A JoinRequest for `token` with this device's key, or with the parts given. */
  joinRequest (token: string, parts: { deviceKey?: Uint8Array, deviceName?: string, invite?: Uint8Array } = {}): Uint8Array {
    return JoinRequest.encode({
      invite: parts.invite ?? tokenBytes(token),
      deviceKey: parts.deviceKey ?? signDeviceKey(this.peer.signer, this.peer.x25519.publicKey, Date.now()),
      deviceName: parts.deviceName ?? 'conformance kit'
    } as JoinRequest)
  }

  /** Writes `bytes` on a join stream and reads the one JoinResponse. */
  async joinWith (bytes: Uint8Array, opts: { closeWrite?: boolean, timeoutMs?: number } = {}): Promise<JoinAnswer> {
    const answer = await this.peer.exchange(this.site, PROTOCOL_JOIN, bytes, opts)
    if (answer.frames.length === 0) return { end: answer.end }
    const response = decodeMessage(JoinResponse, answer.frames[0], 'join response')
    return { code: codeFromWire(response.code), memberId: response.memberId, siteName: response.siteName, end: answer.end }
  }

  async join (token: string): Promise<JoinAnswer> {
    return await this.joinWith(frame(this.joinRequest(token)))
  }

  /** Waits until `count` envelopes in all have been delivered (or `timeoutMs` passes). */
  async deliveries (count: number, timeoutMs: number): Promise<ReceivedEnvelope[]> {
    const deadline = Date.now() + timeoutMs
    while (this.delivered.length < count && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    return this.delivered
  }

  /** Closes the kit's side of every open deliver stream (spec 15.2: a device MAY close an idle stream). */
  async closeIdle (): Promise<void> {
    for (const conversation of this.open) await conversation.closeWrite()
  }

  private readonly open = new Set<Conversation>()

  private async serve (conversation: Conversation, remote: string): Promise<void> {
    const stream = this.streams.push(Date.now())
    if (remote !== this.site.peerId) {
      this.violations.push(`a deliver stream from ${remote}, which is not the site under test`)
      conversation.abort()
      return
    }
    if (this.mode === 'blocked') {
      await conversation.write(frame(receiptError(ErrorCode.BLOCKED)))
      await conversation.closeWrite()
      await conversation.rest(5_000)
      return
    }
    this.open.add(conversation)
    try {
      await this.receive(conversation, stream)
    } finally {
      this.open.delete(conversation)
    }
  }

  /** Reads Push frames and answers each envelope as `mode` said when it arrived. */
  private async receive (conversation: Conversation, stream: number): Promise<void> {
    const held = new Set<number>()
    let batch: Array<{ id: Uint8Array, mode: DeliverMode }> = []
    for (;;) {
      // a short wait: frames already sent arrive together; then the batch is answered
      const next = await conversation.next(batch.length > 0 ? 50 : 90_000)
      if (next === 'timeout' && batch.length > 0) {
        await this.answer(conversation, batch)
        batch = []
        continue
      }
      if (!(next instanceof Uint8Array)) break
      const push = this.readPush(next)
      if (push?.epoch !== undefined) {
        await this.acceptEpoch(SignedPayload.encode(push.epoch), held)
      } else if (push?.envelope !== undefined) {
        const delivered = this.openEnvelope(push.envelope, stream, held)
        if (this.mode === 'abort') {
          conversation.abort()
          return
        }
        batch.push({ id: uint8ArrayFromString(delivered.idHex, 'base16'), mode: this.mode })
      }
    }
    if (batch.length > 0) await this.answer(conversation, batch)
    await conversation.closeWrite()
  }

  private readPush (bytes: Uint8Array): Push | undefined {
    try {
      const push = decodeCanonical(Push, bytes, 'push frame')
      if ((push.epoch === undefined) === (push.envelope === undefined)) this.violations.push('a Push frame without exactly one member set')
      return push
    } catch (err) {
      this.violations.push(`a Push frame that is not canonically encoded: ${(err as Error).message}`)
      return undefined
    }
  }

  private async acceptEpoch (signedBytes: Uint8Array, held: Set<number>): Promise<void> {
    try {
      const opened = await openKeyEpoch(signedBytes, { site: this.site.id, device: this.peer.id, devicePrivateKey: this.peer.x25519.privateKey })
      const known = this.epochs.get(opened.epoch.epoch)
      if (known !== undefined && hex(known.signed) !== hex(signedBytes)) this.violations.push(`epoch ${opened.epoch.epoch} issued twice with different bytes`)
      this.epochs.set(opened.epoch.epoch, { ...opened, signed: signedBytes })
      held.add(opened.epoch.epoch)
    } catch (err) {
      this.violations.push(`a key epoch that does not open: ${(err as Error).message}`)
    }
  }

  private openEnvelope (envelope: Envelope, stream: number, held: Set<number>): ReceivedEnvelope {
    const bytes = Envelope.encode(envelope)
    const delivered: ReceivedEnvelope = { stream, at: Date.now(), bytes, idHex: '', header: {} as EnvelopeHeader }
    try {
      const parsed = parseEnvelope(bytes)
      delivered.header = parsed.header
      delivered.idHex = hex(parsed.header.id)
      if (this.acked.has(delivered.idHex)) this.violations.push(`message ${delivered.idHex} delivered again after a valid acknowledgement`)
      this.epochFirst.push(held.has(parsed.header.epoch))
      const epoch = this.epochs.get(parsed.header.epoch)
      if (epoch === undefined) throw new Error(`names epoch ${parsed.header.epoch}, which the site never pushed`)
      delivered.content = decryptEnvelope(epoch.keys.siteToDevice, parsed)
    } catch (err) {
      delivered.problem = (err as Error).message
      this.violations.push(`an envelope that does not open: ${delivered.problem}`)
    }
    this.delivered.push(delivered)
    return delivered
  }

  private async answer (conversation: Conversation, batch: Array<{ id: Uint8Array, mode: DeliverMode }>): Promise<void> {
    const ids = (mode: DeliverMode): Uint8Array[] => batch.filter(b => b.mode === mode).map(b => b.id)
    const answers: Uint8Array[] = []
    const acked = ids('ack')
    if (acked.length > 0) answers.push(receiptAck(signAck(this.peer.signer, this.site.id, acked, Date.now())))
    // another key's signature, naming the kit as receiver: the site's check of spec 12, step 5
    const forged = ids('bad-ack')
    if (forged.length > 0) answers.push(receiptAck(withSignature(signAck(this.peer.signer, this.site.id, forged, Date.now()), Ed25519Signer.generate().sign(new Uint8Array(8)))))
    for (const id of ids('reject')) answers.push(receiptReject(id, ErrorCode.EXPIRED))
    if (ids('no-member').length > 0) answers.push(new Uint8Array(0))
    if (await conversation.write(framed(...answers))) {
      for (const id of acked) this.acked.set(hex(id), Date.now())
    }
  }

  /** Ids the kit acknowledged with a valid ack, and when. */
  readonly acked = new Map<string, number>()
}

/** The SignedPayload bytes of an invite token (spec 9.2), unchecked. */
export function tokenBytes (token: string): Uint8Array {
  return uint8ArrayFromString(token.trim().slice(INVITE_TOKEN_PREFIX.length), 'base64url')
}
