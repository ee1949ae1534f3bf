import { randomBytes } from 'node:crypto'
import { toString as uint8ArrayToString } from 'uint8arrays'
import { signAck } from '../../src/crypto/ack.js'
import { openDeviceKey } from '../../src/crypto/device-key.js'
import { Ed25519Signer } from '../../src/crypto/ed25519.js'
import { decryptEnvelope, parseEnvelope } from '../../src/crypto/envelope.js'
import { createKeyEpoch, type OpenedEpoch } from '../../src/crypto/epoch.js'
import { INVITE_TOKEN_PREFIX, PROTOCOL_BLOB, PROTOCOL_DELIVER, PROTOCOL_JOIN, PROTOCOL_LEAVE, PROTOCOL_POST, SIGNING_CONTEXT } from '../../src/protocol/constants.js'
import { codeToWire, ErrorCode } from '../../src/protocol/errors.js'
import { decodeCanonical, decodeMessage } from '../../src/protocol/messages.js'
import { BlobRequest, Envelope, Invite, JoinRequest, JoinResponse, Push, Result, type EnvelopeHeader } from '../../src/protocol/pb/tmtp.js'
import { blobProof } from './blob.js'
import { blobChunk, blobError, concat, content, flip, frame, framed, hex, newId, receiptAck, seal, signRaw, withSignature, type ContentFields, type HeaderFields } from './craft.js'
import type { ReceivedEnvelope } from './kit-device.js'
import { KitPeer, type Target } from './peer.js'
import { readReceipts, type Receipts } from './receipts.js'
import type { Conversation } from './conversation.js'

/** A reply the member under test posted to the kit's site. */
export type Posted = ReceivedEnvelope

/** A JoinRequest the member under test sent. */
export interface JoinSeen {
  remote: string
  /** The request's invite bytes, device name, and whether its device key opened for the remote peer. */
  invite?: Uint8Array
  deviceName?: string
  problem?: string
}

/** Invite fields to set, any bytes (spec 9.1). */
export interface InviteOverrides {
  version?: number
  site?: Uint8Array
  addrs?: Uint8Array[]
  secret?: Uint8Array
  expires?: number
  ref?: string
  siteName?: string
}

/** An epoch the kit's site made for the member, with its signed bytes. */
export type KitEpoch = OpenedEpoch & { signed: Uint8Array }

/**
 * What one stream serving chunks does wrong: the chunk at `at` altered (one bit flipped), under
 * the next chunk's index (with that chunk's bytes), or one byte longer; or the stream closed
 * after chunk `after`, before the last.
 */
export type BlobFault = { kind: 'flip' | 'wrong-index' | 'long', at: number } | { kind: 'cut', after: number }

/** A blob the kit's site serves (spec 15.6): its sealed chunks, and a fault for each stream in turn. */
export interface KitBlob {
  key: Uint8Array
  chunks: Uint8Array[]
  /** The n-th stream asking for chunks does faults[n]; those after the list serve as asked. */
  faults: BlobFault[]
}

/** A /tmtp/blob/1.0.0 request the kit's site read, with the blob it named. */
export interface BlobRequestSeen {
  remote: string
  blobHex: string
  request?: BlobRequest
  problem?: string
}

/**
 * The kit playing a site against a member under test: it signs invites (valid or not) that
 * the member's driver redeems, answers /tmtp/join, /tmtp/post and /tmtp/leave as told, and
 * opens /tmtp/deliver streams to the member with whatever frames a check needs.
 */
export class KitSite {
  readonly peer: KitPeer
  readonly member: Target
  /** What the kit answers to a join. */
  joinAnswer: { code: ErrorCode, memberId: string } = { code: ErrorCode.OK, memberId: 'kit-member' }
  leaveAnswer = ErrorCode.OK
  /** 'bad-ack': answer posts with an ack whose signature fails (spec 12). */
  postMode: 'ack' | 'bad-ack' = 'ack'
  readonly joins: JoinSeen[] = []
  readonly posts: Posted[] = []
  readonly leaves: Array<{ remote: string, frame: Uint8Array }> = []
  readonly violations: string[] = []
  /** Ids of the member's posts the kit acknowledged validly. */
  readonly acked = new Set<string>()
  readonly epochs = new Map<number, KitEpoch>()
  /** The member device's X25519 key, from its join. */
  deviceX25519?: Uint8Array
  /** Blobs served on /tmtp/blob/1.0.0, by id in hex; any other id is UNKNOWN_BLOB. */
  readonly blobs = new Map<string, KitBlob>()
  readonly blobRequests: BlobRequestSeen[] = []
  private seq = 0
  private postStreams = 0
  private readonly chunkStreams = new Map<string, number>()

  private constructor (peer: KitPeer, member: Target) {
    this.peer = peer
    this.member = member
  }

  static async start (member: Target): Promise<KitSite> {
    const site = new KitSite(await KitPeer.start(), member)
    await site.peer.handle(PROTOCOL_JOIN, async (c, remote) => { await site.serveJoin(c, remote) })
    await site.peer.handle(PROTOCOL_POST, async (c, remote) => { await site.servePost(c, remote) })
    await site.peer.handle(PROTOCOL_LEAVE, async (c, remote) => { await site.serveLeave(c, remote) })
    await site.peer.handle(PROTOCOL_BLOB, async (c, remote) => { await site.serveBlob(c, remote) })
    return site
  }

  async stop (): Promise<void> {
    await this.peer.stop()
  }

  /** The invite fields of a valid invite to this site; override any of them. */
  inviteFields (fields: InviteOverrides = {}): Invite {
    return {
      version: 1,
      site: this.peer.id,
      addrs: this.peer.addrs().map(a => a.decapsulateCode(421).bytes),
      secret: new Uint8Array(randomBytes(32)),
      expires: Date.now() + 3600_000,
      ref: '',
      siteName: 'conformance kit',
      ...fields
    } as Invite
  }

  /** The SignedPayload bytes of an invite (spec 9.1), signed by this site unless `signer` is given. */
  inviteBytes (fields: InviteOverrides = {}, signer: Ed25519Signer = this.peer.signer, payload?: Uint8Array): Uint8Array {
    return signRaw(signer, SIGNING_CONTEXT.invite, payload ?? Invite.encode(this.inviteFields(fields)))
  }

  token (fields: InviteOverrides = {}): string {
    return tokenOf(this.inviteBytes(fields))
  }

  /** A new epoch for the member (spec 10), held by the kit. */
  async epoch (number: number, times: { created?: number, expires?: number } = {}): Promise<KitEpoch> {
    if (this.deviceX25519 === undefined) throw new Error('the member has not joined this kit site')
    const created = times.created ?? Date.now()
    const made = await createKeyEpoch({ site: this.peer.signer, device: this.member.id, deviceX25519: this.deviceX25519, epoch: number, created, expires: times.expires ?? created + 3600_000 })
    this.epochs.set(number, made)
    return made
  }

  /** The header of the next envelope to the member under `epoch`; override any field. */
  header (epoch: number, fields: Partial<HeaderFields> = {}): HeaderFields {
    return { id: newId(), sender: this.peer.id, recipient: this.member.id, epoch, seq: ++this.seq, created: Date.now(), expires: 0, ...fields }
  }

  /** An envelope sealed with the site-to-device key of `keyEpoch` (default: the header's epoch). */
  envelope (h: HeaderFields, c: ContentFields | Uint8Array = { subject: 'kit', body: 'hello' }, keyEpoch = h.epoch): Envelope {
    const epoch = this.epochs.get(keyEpoch)
    if (epoch === undefined) throw new Error(`the kit holds no epoch ${keyEpoch}`)
    return seal(epoch.keys.siteToDevice, h, c instanceof Uint8Array ? c : content(c))
  }

  /** Opens a deliver stream to the member, writes `bytes`, and reads its receipts (spec 15.2). */
  async deliver (bytes: Uint8Array): Promise<Receipts> {
    const answer = await this.peer.exchange(this.member, PROTOCOL_DELIVER, bytes)
    return readReceipts(answer, this.peer.id, this.member.id)
  }

  /** Waits until `count` posts in all have arrived (or `timeoutMs` passes). */
  async postsArrived (count: number, timeoutMs: number): Promise<Posted[]> {
    const deadline = Date.now() + timeoutMs
    while (this.posts.length < count && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    return this.posts
  }

  private async serveJoin (conversation: Conversation, remote: string): Promise<void> {
    const next = await conversation.next(10_000)
    const seen: JoinSeen = { remote }
    this.joins.push(seen)
    if (!(next instanceof Uint8Array)) {
      seen.problem = `no JoinRequest (${next})`
      conversation.abort()
      return
    }
    try {
      const request = decodeMessage(JoinRequest, next, 'join request')
      seen.invite = request.invite
      seen.deviceName = request.deviceName
      if (remote === this.member.peerId) this.deviceX25519 = openDeviceKey(request.deviceKey, this.member.id).x25519
    } catch (err) {
      seen.problem = (err as Error).message
    }
    await conversation.write(frame(JoinResponse.encode({ code: codeToWire(this.joinAnswer.code), memberId: this.joinAnswer.memberId, siteName: 'conformance kit', detail: '' })))
    await conversation.closeWrite()
    await conversation.rest(5_000)
  }

  private async servePost (conversation: Conversation, remote: string): Promise<void> {
    const stream = ++this.postStreams
    let batch: Uint8Array[] = []
    for (;;) {
      const next = await conversation.next(batch.length > 0 ? 50 : 30_000)
      if (next === 'timeout' && batch.length > 0) {
        await this.ackPosts(conversation, batch)
        batch = []
        continue
      }
      if (!(next instanceof Uint8Array)) break
      const posted = this.readPost(next, stream, remote)
      if (posted !== undefined) batch.push(Buffer.from(posted.idHex, 'hex'))
    }
    if (batch.length > 0) await this.ackPosts(conversation, batch)
    await conversation.closeWrite()
  }

  private readPost (bytes: Uint8Array, stream: number, remote: string): Posted | undefined {
    let push: Push
    try {
      push = decodeCanonical(Push, bytes, 'push frame')
    } catch (err) {
      this.violations.push(`a post frame that is not canonical: ${(err as Error).message}`)
      return undefined
    }
    if (push.envelope === undefined || push.epoch !== undefined) {
      this.violations.push('a post frame that is not exactly a Push{envelope}')
      return undefined
    }
    const posted: Posted = { stream, at: Date.now(), bytes: Envelope.encode(push.envelope), idHex: '', header: {} as EnvelopeHeader }
    try {
      if (remote !== this.member.peerId) throw new Error(`posted by ${remote}, not the member under test`)
      const parsed = parseEnvelope(posted.bytes)
      posted.header = parsed.header
      posted.idHex = hex(parsed.header.id)
      if (this.acked.has(posted.idHex)) this.violations.push(`post ${posted.idHex} sent again after a valid acknowledgement`)
      const epoch = this.epochs.get(parsed.header.epoch)
      if (epoch === undefined) throw new Error(`sealed under epoch ${parsed.header.epoch}, which the kit never issued`)
      posted.content = decryptEnvelope(epoch.keys.deviceToSite, parsed)
    } catch (err) {
      posted.problem = (err as Error).message
      this.violations.push(`a post that does not open: ${posted.problem}`)
    }
    this.posts.push(posted)
    return posted.idHex === '' ? undefined : posted
  }

  private async ackPosts (conversation: Conversation, ids: Uint8Array[]): Promise<void> {
    const ack = signAck(this.peer.signer, this.member.id, ids, Date.now())
    if (this.postMode === 'bad-ack') {
      await conversation.write(frame(receiptAck(withSignature(ack, Ed25519Signer.generate().sign(ack)))))
      return
    }
    if (await conversation.write(frame(receiptAck(ack)))) for (const id of ids) this.acked.add(hex(id))
  }

  /** One request, then the chunks from `first` (with the stream's fault), nothing for a report, or UNKNOWN_BLOB. */
  private async serveBlob (conversation: Conversation, remote: string): Promise<void> {
    const next = await conversation.next(10_000)
    const seen: BlobRequestSeen = { remote, blobHex: '' }
    this.blobRequests.push(seen)
    if (!(next instanceof Uint8Array)) {
      seen.problem = `no BlobRequest (${next})`
      conversation.abort()
      return
    }
    try {
      seen.request = decodeMessage(BlobRequest, next, 'blob request')
      seen.blobHex = hex(seen.request.blob)
    } catch (err) {
      seen.problem = (err as Error).message
      conversation.abort()
      return
    }
    const request = seen.request
    const blob = this.blobs.get(seen.blobHex)
    if (blob === undefined || hex(request.proof) !== hex(blobProof(blob.key, this.member.id))) {
      await conversation.write(frame(blobError(ErrorCode.UNKNOWN_BLOB)))
    } else if (!request.fetched) {
      const stream = this.chunkStreams.get(seen.blobHex) ?? 0
      this.chunkStreams.set(seen.blobHex, stream + 1)
      await this.writeChunks(conversation, blob, request.first, blob.faults[stream])
    }
    await conversation.closeWrite()
    await conversation.rest(10_000)
  }

  private async writeChunks (conversation: Conversation, blob: KitBlob, first: number, fault: BlobFault | undefined): Promise<void> {
    for (let i = first; i < blob.chunks.length; i++) {
      let reply = blobChunk(i, blob.chunks[i])
      if (fault?.kind !== 'cut' && fault?.at === i) {
        if (fault.kind === 'flip') reply = blobChunk(i, flip(blob.chunks[i], 7))
        else if (fault.kind === 'wrong-index') reply = blobChunk(i + 1, blob.chunks[i + 1])
        else reply = blobChunk(i, concat(blob.chunks[i], Uint8Array.of(0)))
      }
      if (!await conversation.write(frame(reply))) return
      // the device refuses the bad chunk and aborts; a cut ends the stream after its chunk
      if ((fault?.kind === 'cut' && fault.after === i) || (fault?.kind !== 'cut' && fault?.at === i)) return
    }
  }

  private async serveLeave (conversation: Conversation, remote: string): Promise<void> {
    const next = await conversation.next(10_000)
    if (next instanceof Uint8Array) this.leaves.push({ remote, frame: next })
    await conversation.write(framed(Result.encode({ code: codeToWire(this.leaveAnswer), detail: '' })))
    await conversation.closeWrite()
    await conversation.rest(5_000)
  }
}

export function tokenOf (signedInvite: Uint8Array): string {
  return INVITE_TOKEN_PREFIX + uint8ArrayToString(signedInvite, 'base64url')
}
