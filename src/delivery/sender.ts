import { openAck } from '../crypto/index.js'
import { codeFromWire, decodeCanonical, ErrorCode, isTmtpError, Push, Receipt, SignedPayload, TmtpError } from '../protocol/index.js'
import type { FramedStream } from './framed-stream.js'
import type { Logger } from '@libp2p/interface'
import { toHex } from '../util/index.js'

/** An envelope waiting in an outbox, stored as its ready-to-send Push frame. */
export interface QueuedEnvelope {
  key: string
  idHex: string
  epoch: number
  /** An encoded Push{envelope}. */
  frame: Uint8Array
}

/**
 * The sending side's outbox for one peer, as the sender engine sees it (spec 15.2, "/tmtp/deliver/1.0.0").
 * Expired entries are the queue's business: next() never returns them.
 */
export interface OutboundQueue<E extends QueuedEnvelope = QueuedEnvelope> {
  /** Up to `limit` entries in send order, after key `after` (from the start when undefined), skipping `exclude`. */
  next: (limit: number, after: string | undefined, exclude: ReadonlySet<string>) => Promise<E[]>
  /** The signed KeyEpoch (SignedPayload bytes) to send before the first envelope of an epoch; absent on post streams. */
  epochFrame?: (epoch: number) => Promise<Uint8Array>
  /** Records delivery with the receiver's signed acknowledgement as proof. */
  acknowledged: (entries: E[], proof: Uint8Array, at: number) => Promise<void>
  /** Records a permanent refusal: the entry leaves the outbox. */
  rejected: (entry: E, code: ErrorCode, detail: string) => Promise<void>
  /**
   * Calls listener whenever entries are added, with the smallest new key if known (else the
   * sender reads the queue from its start again); returns the unsubscribe function.
   */
  subscribe: (listener: (first?: string) => void) => () => void
}

export interface SenderOptions {
  self: Uint8Array
  remote: Uint8Array
  window: number
  receiptTimeoutMs: number
  idleTimeoutMs: number
  log: Logger
}

/**
 * Why a sending session ended; a failed one says whether the receiver acknowledged anything
 * first (a delivery succeeded: the retry counter starts again, spec 15.2 "Retry").
 */
export type SenderResult = { drained: true } | { drained: false, error: TmtpError, delivered?: boolean }

/**
 * Runs the sending end of one deliver or post stream: keeps up to `window` envelopes
 * unacknowledged, writes each refill as one transport write, applies receipts as they
 * come, and closes once nothing has been queued for the idle timeout.
 */
export async function sendEnvelopes<E extends QueuedEnvelope> (framed: FramedStream, queue: OutboundQueue<E>, opts: SenderOptions): Promise<SenderResult> {
  const inFlight = new Map<string, E>()
  const inFlightKeys = new Set<string>()
  const sentEpochs = new Set<number>()
  let cursor: string | undefined
  let restart = false
  /** Entries were queued since the sender last read its queue: it must read again before sleeping. */
  let queued = false
  let ended: TmtpError | undefined
  let receiverClosed = false
  let lastReceipt = Date.now()
  let delivered = false
  const failed = (error: TmtpError): SenderResult => ({ drained: false, error, delivered })
  let wake: (() => void) | undefined

  /** A signal given while the loop was not asleep (reading the queue, writing): the next sleep is skipped. */
  let signalled = false
  const signal = (): void => {
    signalled = true
    const w = wake
    wake = undefined
    w?.()
  }
  const sleep = async (ms: number): Promise<void> => {
    if (signalled) {
      signalled = false
      return
    }
    let timer: NodeJS.Timeout | undefined
    await new Promise<void>(resolve => {
      wake = resolve
      timer = setTimeout(resolve, ms)
    })
    clearTimeout(timer)
    signalled = false
  }
  const unsubscribe = queue.subscribe(first => {
    // entries queued after the cursor are found by reading on from it; only one that sorts
    // before it (a higher urgency) needs the queue read from the start, past what is in flight
    if (first === undefined || cursor === undefined || first <= cursor) restart = true
    queued = true
    signal()
  })

  /**
   * Keys settled while the queue is being read: the read works on a snapshot that may still
   * hold them, and they are no longer in flight to be excluded, so they would be sent again.
   */
  const settledDuringRead = new Set<string>()
  let reading = false
  const settle = (entries: E[]): void => {
    for (const e of entries) {
      inFlight.delete(e.idHex)
      inFlightKeys.delete(e.key)
      if (reading) settledDuringRead.add(e.key)
    }
  }

  const reader = (async () => {
    for await (const frames of framed.batches()) {
      const acked: E[] = []
      const proofs: Uint8Array[] = []
      for (const frame of frames) {
        const receipt = decodeCanonical(Receipt, frame, 'receipt frame')
        if (receipt.ack !== undefined) {
          const proof = SignedPayload.encode(receipt.ack)
          const body = openAck(proof, opts.self, opts.remote)
          const entries = body.ids.map(id => inFlight.get(toHex(id))).filter(e => e !== undefined)
          if (entries.length > 0) {
            acked.push(...entries)
            for (let i = 0; i < entries.length; i++) proofs.push(proof)
          }
        } else if (receipt.reject !== undefined) {
          const entry = inFlight.get(toHex(receipt.reject.id))
          if (entry !== undefined) {
            await queue.rejected(entry, codeFromWire(receipt.reject.code), receipt.reject.detail)
            settle([entry])
          }
        } else if (receipt.error !== undefined) {
          throw new TmtpError(codeFromWire(receipt.error.code), `receiver closed the stream: ${receipt.error.detail}`)
        } else {
          throw new TmtpError(ErrorCode.BAD_FRAME, 'receipt frame carries nothing this node knows')
        }
      }
      lastReceipt = Date.now()
      await applyAcks(queue, acked, proofs)
      if (acked.length > 0) delivered = true
      settle(acked)
      signal()
    }
    // the receiver closed the stream: the end of an idle stream unless envelopes are in flight (spec 15.2)
    receiverClosed = true
    signal()
  })().catch((err: unknown) => {
    ended = isTmtpError(err) ? err : new TmtpError(ErrorCode.INTERNAL, 'stream failed', { cause: err })
    signal()
  })

  try {
    for (;;) {
      if (ended !== undefined) return failed(ended)
      if (receiverClosed) {
        if (inFlight.size > 0) {
          ended = new TmtpError(ErrorCode.INTERNAL, 'receiver closed the stream with envelopes in flight')
          return failed(ended)
        }
        await framed.close()
        return { drained: true }
      }
      if (restart) {
        cursor = undefined
        restart = false
      }
      if (inFlight.size < opts.window) {
        queued = false
        reading = true
        let entries: E[]
        try {
          entries = (await queue.next(opts.window - inFlight.size, cursor, inFlightKeys)).filter(e => !settledDuringRead.has(e.key))
        } finally {
          reading = false
          settledDuringRead.clear()
        }
        if (entries.length > 0) {
          const frames: Uint8Array[] = []
          for (const e of entries) {
            if (queue.epochFrame !== undefined && !sentEpochs.has(e.epoch)) {
              frames.push(Push.encode({ epoch: SignedPayload.decode(await queue.epochFrame(e.epoch)) }))
              sentEpochs.add(e.epoch)
            }
            frames.push(e.frame)
            if (inFlight.size === 0) lastReceipt = Date.now()
            inFlight.set(e.idHex, e)
            inFlightKeys.add(e.key)
          }
          cursor = entries[entries.length - 1].key
          await framed.write(frames)
          continue
        }
      }
      if (inFlight.size === 0) {
        // queued while the queue was being read: the read may have missed it, and its wake-up
        // came before anyone slept
        if (queued) continue
        await sleep(opts.idleTimeoutMs)
        if (!queued && inFlight.size === 0 && ended === undefined) {
          await framed.close()
          return { drained: true }
        }
      } else {
        await sleep(Math.max(1, lastReceipt + opts.receiptTimeoutMs - Date.now()))
        if (inFlight.size > 0 && Date.now() - lastReceipt >= opts.receiptTimeoutMs && ended === undefined) {
          ended = new TmtpError(ErrorCode.TIMEOUT, `no receipt for ${opts.receiptTimeoutMs} ms`)
        }
      }
    }
  } catch (err) {
    ended ??= isTmtpError(err) ? err : new TmtpError(ErrorCode.INTERNAL, 'sending failed', { cause: err })
    return failed(ended)
  } finally {
    unsubscribe()
    if (ended !== undefined) framed.abort(ended)
    await reader
  }
}

/** One outbox update per proof, so a batch acknowledgement is one write. */
async function applyAcks<E extends QueuedEnvelope> (queue: OutboundQueue<E>, acked: E[], proofs: Uint8Array[]): Promise<void> {
  let start = 0
  while (start < acked.length) {
    let end = start + 1
    while (end < acked.length && proofs[end] === proofs[start]) end++
    await queue.acknowledged(acked.slice(start, end), proofs[start], Date.now())
    start = end
  }
}
