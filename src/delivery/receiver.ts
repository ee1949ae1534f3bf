import * as varint from 'uint8-varint'
import { ACK_DEFER_MAX_IDS, codeToWire, decodeCanonical, decodeMessage, Envelope, EnvelopeHeader, ErrorCode, isTmtpError, MAX_ACK_IDS, MAX_IN_FLIGHT, MESSAGE_ID_BYTES, Push, Receipt, SignedPayload, TmtpError, type Reject } from '../protocol/index.js'
import { parseEnvelope, signAck, type Ed25519Signer, type ParsedEnvelope } from '../crypto/index.js'
import { nextTurn, toHex } from '../util/index.js'
import type { FramedStream } from './framed-stream.js'
import type { Logger } from '@libp2p/interface'

/** An envelope that passed every check and may be stored. */
export interface Accepted<T> {
  idHex: string
  id: Uint8Array
  parsed: ParsedEnvelope
  /** The encoded Envelope as received (a view into its frame): canonical, so what Envelope.encode would write again. */
  envelope: Uint8Array
  value: T
}

/**
 * What the receiving side of a deliver or post stream plugs in (spec: "Receiving an
 * envelope"): who may send, the checks and decryption, deduplication and the durable store.
 */
export interface InboundSink<T> {
  /** Throws NOT_MEMBER or BLOCKED before anything from the peer is decoded. */
  admit: (remote: Uint8Array) => Promise<void>
  /** Verifies and durably stores a signed key epoch; absent where epoch frames are not allowed. */
  acceptEpoch?: (remote: Uint8Array, signed: Uint8Array) => Promise<void>
  /** Checks and opens one envelope; throws TmtpError with the reject code. */
  open: (remote: Uint8Array, parsed: ParsedEnvelope) => T
  /**
   * Throws NOT_MEMBER when the peer lost its right to send since `admit` (a member removed, a
   * device that left): checked again before every batch is stored, so that a stream opened
   * before a removal carries nothing in after it.
   */
  recheck?: (remote: Uint8Array) => Promise<void>
  /**
   * How many of these new envelopes (in order) the peer may have stored now; the rest stay
   * unacknowledged and the stream ends with RATE_LIMITED, so that the peer keeps them and
   * sends them later. Absent: all of them.
   */
  quota?: (remote: Uint8Array, accepted: Array<Accepted<T>>) => Promise<number>
  /** For each id (hex), whether it is already stored. */
  known: (idsHex: string[]) => Promise<boolean[]>
  /** Stores new envelopes durably, all or nothing; throws STORAGE_FAILURE. */
  store: (remote: Uint8Array, accepted: Array<Accepted<T>>) => Promise<void>
}

export interface ReceiverOptions {
  self: Ed25519Signer
  remote: Uint8Array
  log: Logger
  now?: () => number
  /** Called when the stream is closed with an error code (the peer may be penalised for it). */
  onRefused?: (code: ErrorCode) => void
  /** How long stored ids may wait for one ack after the stream's last ack (spec 15.2, deferred acks: the node keeps it within ACK_DELAY_MS). @default 0: every batch is acknowledged at once */
  ackDelayMs?: number
}

/**
 * Runs the receiving end of one deliver or post stream: envelopes are checked as they
 * arrive, stored in group-committed batches while reading goes on, and acknowledged with
 * one signed receipt per batch once the batch is durable. Small batches that follow an ack
 * closely wait for the next ack (at most `ackDelayMs` after the last): a device that gets a
 * steady trickle signs, and its site verifies, a few acks a second, not one per message.
 */
export async function receiveEnvelopes<T> (framed: FramedStream, sink: InboundSink<T>, opts: ReceiverOptions): Promise<void> {
  const now = opts.now ?? Date.now
  const sendError = async (err: TmtpError): Promise<void> => {
    opts.log('closing stream: %s %s', err.code, err.message)
    opts.onRefused?.(err.code)
    try {
      await framed.write([Receipt.encode({ error: { code: codeToWire(err.code), detail: err.message } })])
      await framed.close()
    } catch {
      framed.abort(err)
    }
  }

  try {
    await sink.admit(opts.remote)
  } catch (err) {
    if (!isTmtpError(err)) throw err
    await sendError(err)
    return
  }

  // envelopes to acknowledge once durable; `accepted` is absent for a refused envelope that
  // turned out to be stored already (spec: "Receiving an envelope", step 6)
  let pending: Array<{ id: Uint8Array, idHex: string, accepted?: Accepted<T> }> = []
  let pendingIds = new Set<string>()
  // stored, and not acknowledged yet (deferred acks)
  let held: Uint8Array[] = []
  const ackDelayMs = opts.ackDelayMs ?? 0
  let lastAckAt = -Infinity
  let ackTimer: ReturnType<typeof setTimeout> | undefined
  let ackDue = false
  let reading = true
  let inFlight = 0
  let flushing: Promise<void> | undefined
  let failure: TmtpError | undefined

  const ackHeld = async (): Promise<void> => {
    clearTimeout(ackTimer)
    ackTimer = undefined
    ackDue = false
    if (held.length === 0) return
    const ids = held
    held = []
    const frames: Uint8Array[] = []
    for (let i = 0; i < ids.length; i += MAX_ACK_IDS) {
      const ack = SignedPayload.decode(signAck(opts.self, opts.remote, ids.slice(i, i + MAX_ACK_IDS), now()))
      frames.push(Receipt.encode({ ack }))
    }
    lastAckAt = performance.now()
    await framed.write(frames)
    inFlight -= ids.length
  }

  /** Acknowledges what is held now, or by `ackDelayMs` after the last ack (spec 15.2, deferred acks). */
  const ackOrDefer = async (): Promise<void> => {
    const wait = lastAckAt + ackDelayMs - performance.now()
    if (!reading || wait <= 0 || held.length >= ACK_DEFER_MAX_IDS) {
      await ackHeld()
    } else if (ackTimer === undefined) {
      ackTimer = setTimeout(() => {
        ackTimer = undefined
        ackDue = true
        startFlush()
      }, wait)
    }
  }

  const flush = async (): Promise<void> => {
    for (;;) {
      if (ackDue && pending.length === 0 && failure === undefined) await ackHeld()
      if (pending.length === 0 || failure !== undefined) return
      const batch = pending
      pending = []
      pendingIds = new Set()
      const seen = await sink.known(batch.map(a => a.idHex))
      const fresh = batch.flatMap((entry, i) => entry.accepted !== undefined && !seen[i] ? [entry.accepted] : [])
      await sink.recheck?.(opts.remote)
      const allowed = sink.quota === undefined ? fresh.length : await sink.quota(opts.remote, fresh)
      const stored = fresh.slice(0, allowed)
      await sink.store(opts.remote, stored)
      // what is acknowledged: what was stored now or before; envelopes over the quota are not
      const over = new Set(fresh.slice(allowed).map(a => a.idHex))
      for (const entry of batch) if (!over.has(entry.idHex)) held.push(entry.id)
      if (over.size > 0) {
        await ackHeld()
        throw new TmtpError(ErrorCode.RATE_LIMITED, `over this site's quota: ${over.size} envelopes not stored, send them later`)
      }
      await ackOrDefer()
    }
  }

  const startFlush = (): void => {
    // after a failure nothing more is stored or acknowledged: restarting would spin for ever
    if (flushing !== undefined || (pending.length === 0 && !ackDue) || failure !== undefined) return
    // the batch starts after the event loop has handled the frames already read, so that one
    // store and one signed ack cover a whole window rather than the first chunk of it
    flushing = nextTurn().then(flush).catch(async (err: unknown) => {
      failure = isTmtpError(err) ? err : new TmtpError(ErrorCode.INTERNAL, 'store failed', { cause: err })
      // a peer no longer admitted, or over its quota, is told so; a failed store aborts the stream
      if (failure.code === ErrorCode.NOT_MEMBER || failure.code === ErrorCode.RATE_LIMITED) await sendError(failure)
      else framed.abort(failure)
    }).finally(() => {
      flushing = undefined
      startFlush()
    })
  }

  /**
   * Reject frames for refused envelopes, except those already stored that passed steps 1 to 5:
   * they are acknowledged again (step 6 comes before the expiry, timestamp, epoch and
   * decryption checks, so a resend of what is stored settles whatever changed since).
   */
  const rejectOrReack = async (refused: Refused[]): Promise<Uint8Array[]> => {
    if (refused.length === 0) return []
    const candidates = refused.filter(r => r.afterStep5)
    const known = candidates.length === 0 ? [] : await sink.known(candidates.map(r => toHex(r.reject.id)))
    const stored = new Set(candidates.filter((_, i) => known[i]))
    const frames: Uint8Array[] = []
    refused.forEach(r => {
      const idHex = toHex(r.reject.id)
      if (r.afterStep5 && pendingIds.has(idHex)) {
        // a duplicate of one in the uncommitted batch: that one's acknowledgement covers it
        inFlight--
      } else if (stored.has(r)) {
        pending.push({ id: r.reject.id, idHex })
        pendingIds.add(idHex)
      } else {
        inFlight--
        frames.push(Receipt.encode({ reject: r.reject as Reject }))
      }
    })
    return frames
  }

  try {
    for await (const frames of framed.batches()) {
      if (failure !== undefined) break
      const refused: Refused[] = []
      for (const frame of frames) {
        const push = decodeCanonical(Push, frame, 'push frame')
        if (push.epoch !== undefined) {
          if (sink.acceptEpoch === undefined) throw new TmtpError(ErrorCode.BAD_FRAME, 'key epochs are not sent on this stream')
          await sink.acceptEpoch(opts.remote, SignedPayload.encode(push.epoch))
          continue
        }
        if (push.envelope === undefined) throw new TmtpError(ErrorCode.BAD_FRAME, 'push frame carries nothing this node knows')
        if (++inFlight > MAX_IN_FLIGHT) throw new TmtpError(ErrorCode.WINDOW_EXCEEDED, `more than ${MAX_IN_FLIGHT} envelopes unacknowledged`)
        const outcome = accept(push.envelope, envelopeBytes(frame), sink, opts.remote)
        if ('reject' in outcome) {
          refused.push(outcome)
        } else if (!pendingIds.has(outcome.idHex)) {
          pending.push({ id: outcome.id, idHex: outcome.idHex, accepted: outcome })
          pendingIds.add(outcome.idHex)
        } else {
          inFlight--
        }
      }
      await framed.write(await rejectOrReack(refused))
      startFlush()
    }
    // the sender closed its side: what is held is acknowledged now
    reading = false
    for (let f = flushing; f !== undefined; f = flushing) await f
    if (failure !== undefined) return
    await ackHeld()
    await framed.close()
  } catch (err) {
    if (!isTmtpError(err)) {
      opts.log.error('receiver failed: %e', err)
      framed.abort(err as Error)
      return
    }
    if (failure === undefined) await sendError(err)
  } finally {
    clearTimeout(ackTimer)
  }
}

/** A refused envelope; `afterStep5` when it failed a check after the duplicate check's place. */
interface Refused { reject: { id: Uint8Array, code: number, detail: string }, afterStep5: boolean }

type Outcome<T> = Accepted<T> | Refused

/** Steps 4 and 5 of "Receiving an envelope": they come before the duplicate check. */
const BEFORE_DUPLICATE_CHECK = new Set<string>([ErrorCode.WRONG_RECIPIENT, ErrorCode.WRONG_SIGNER])

function accept<T> (envelope: Envelope, bytes: Uint8Array, sink: InboundSink<T>, remote: Uint8Array): Outcome<T> {
  let parsed: ParsedEnvelope | undefined
  try {
    parsed = parseEnvelope(envelope)
    const value = sink.open(remote, parsed)
    return { id: parsed.header.id, idHex: toHex(parsed.header.id), parsed, envelope: bytes, value }
  } catch (err) {
    if (!isTmtpError(err)) throw err
    const id = parsed?.header.id ?? readId(envelope)
    // without a readable id the sender cannot be told which envelope failed
    if (id === undefined) throw err
    // parseEnvelope covers steps 1 to 3: an envelope it refused is no duplicate, whatever its id
    const afterStep5 = parsed !== undefined && !BEFORE_DUPLICATE_CHECK.has(err.code)
    return { reject: { id, code: codeToWire(err.code), detail: err.message }, afterStep5 }
  }
}

/**
 * The envelope's bytes in a canonical Push{envelope} frame (decodeCanonical checked it): after
 * the field's one tag byte and its length (a varint), the rest of the frame. Stored as they came, where
 * encoding the decoded envelope again copied each one more time (issue #14).
 */
function envelopeBytes (frame: Uint8Array): Uint8Array {
  return frame.subarray(1 + varint.encodingLength(varint.decode(frame, 1)))
}

function readId (envelope: Envelope): Uint8Array | undefined {
  try {
    // the strict decoder: a header it refuses (a uint32 above 2^32 - 1, a wrong wire type) did
    // not decode, whatever a lenient decoder would make of it (spec 5, 11.6)
    const header = decodeMessage(EnvelopeHeader, envelope.header, 'envelope header')
    return header.id.byteLength === MESSAGE_ID_BYTES ? header.id : undefined
  } catch {
    return undefined
  }
}
