/**
 * F, the required-work floor (issue #14): what one message costs when nothing but the work
 * the design cannot avoid is done, built from the project's own functions: the site seals it
 * (Content encoding, ChaCha20-Poly1305 under the epoch key, the Push frame) and stores it
 * durably in its outbox; the batch is framed; the device decodes the frames, checks and opens
 * each envelope and stores it durably in its inbox, then signs one acknowledgement for the
 * batch; the site verifies it and settles the batch (the outbox entries deleted, the proof
 * kept). Both ends run in one process, in turn, each with its own LevelDB (`Database`, one
 * group commit per side and step, fsynced as the node's default). No libp2p, no outbox
 * read-back, no deduplication read, no message or status records, no events, no windows.
 *
 * Runs in the bench's worker child (role `work`, scripts/bench/worker.ts) on the compiled
 * sources; CPU is `process.cpuUsage()`: every thread of the process, LevelDB's included.
 */
import { join } from 'node:path'
import { hrtime } from 'node:process'
import { toString as uint8ArrayToString } from 'uint8arrays'
import { checkEnvelopeHeader, decryptEnvelope, directionKey, Ed25519Signer, encodeContent, openAck, parseEnvelope, peerIdToString, randomBytes, sealPushFrame, signAck, type DirectionKey } from '../../src/crypto/index.js'
import { decodeCanonical, encodeFrames, Envelope, FrameDecoder, MAX_FRAME_SIZE, Push, Receipt, SignedPayload, WIRE_VERSION } from '../../src/protocol/index.js'
import { Database, del, pad, put, type Write } from '../../src/store/database.js'
import { newMessageId } from '../../src/delivery/ids.js'
import { DEFAULTS } from '../../src/node/defaults.js'

/** The steps, in order; each one's CPU and wall time are summed over the run. */
export const WORK_STEPS = ['seal', 'site store', 'frame', 'open', 'device store', 'sign ack', 'verify ack', 'settle'] as const
export type WorkStep = typeof WORK_STEPS[number]

export interface WorkArgs {
  /** Messages measured, after `warmup` that are not. */
  count: number
  warmup: number
  /** Messages per batch: per write to the transport, per group commit, per signed ack. */
  batch: number
  bodyBytes: number
  /** fsync every group commit (the node's default). */
  fsync: boolean
  timeoutMs: number
}

export interface WorkResult {
  count: number
  batches: number
  elapsedMs: number
  /** CPU time of the process over the measured messages, every thread, µs. */
  cpuUs: number
  /** CPU µs and wall ms per step, summed over the measured messages. */
  steps: Record<WorkStep, { cpuUs: number, wallMs: number }>
  /** Group commits written, and fsynced, by each database. */
  commits: { site: number, device: number, synced: number }
}

/** The same body as the harness's sends (scripts/lib/node-host.ts): `message <k> ` then padding. */
function body (bytes: number, k: number): string {
  const head = `message ${k} `
  return head + 'x'.repeat(Math.max(0, bytes - head.length))
}

function cpuNow (): number {
  const c = process.cpuUsage()
  return c.user + c.system
}

function msNow (): number {
  return Number(hrtime.bigint()) / 1e6
}

interface Ends {
  site: Ed25519Signer
  device: Ed25519Signer
  /** The epoch's site-to-device key, held by both ends. */
  key: DirectionKey
  siteDb: Database
  deviceDb: Database
  /** The device's PeerId as the outbox keys name it, and the site's as the inbox keys do. */
  devicePeer: string
  sitePeer: string
  seq: number
}

/** One batch through every step; adds each step's CPU and wall time to `into`. */
async function oneBatch (e: Ends, first: number, n: number, bodyBytes: number, into?: WorkResult['steps']): Promise<void> {
  let cpu = cpuNow()
  let wall = msNow()
  const step = (name: WorkStep): void => {
    const c = cpuNow()
    const w = msNow()
    if (into !== undefined) {
      into[name].cpuUs += c - cpu
      into[name].wallMs += w - wall
    }
    cpu = c
    wall = w
  }

  // the site: seal each message for the device and queue it in the outbox (as SiteOutbox.send)
  const now = Date.now()
  const frames: Uint8Array[] = []
  const outbox: Write[] = []
  const keyOf = new Map<string, string>()
  for (let k = first; k < first + n; k++) {
    const content = encodeContent({ subject: `floor-${k}`, body: body(bodyBytes, k) })
    const id = newMessageId()
    const seq = ++e.seq
    const frame = sealPushFrame(e.key, { version: WIRE_VERSION, id, sender: e.site.peerId as Uint8Array<ArrayBuffer>, recipient: e.device.peerId as Uint8Array<ArrayBuffer>, epoch: 1, seq, created: now, expires: now + 86_400_000 }, content)
    const outboxKey = `ob:${e.devicePeer}:1:${pad(seq)}`
    frames.push(frame)
    outbox.push(put(outboxKey, frame))
    keyOf.set(uint8ArrayToString(id, 'base16'), outboxKey)
  }
  step('seal')
  await e.siteDb.write(outbox)
  step('site store')
  const wire = encodeFrames(frames)
  step('frame')

  // the device: decode, check and open each envelope (as the receiver and memberInboxSink do)
  const inbox: Write[] = []
  const ids: Uint8Array[] = []
  for (const frame of new FrameDecoder(MAX_FRAME_SIZE).push(wire)) {
    const push = decodeCanonical(Push, frame, 'push frame')
    if (push.envelope === undefined) throw new Error('a push frame without an envelope')
    const parsed = parseEnvelope(push.envelope)
    checkEnvelopeHeader(parsed.header, { sender: e.site.peerId, recipient: e.device.peerId, now: Date.now() })
    decryptEnvelope(e.key, parsed)
    ids.push(parsed.header.id)
    // the inbox keeps the envelope sealed, keyed by its id: storing it again is idempotent
    inbox.push(put(`iid:${uint8ArrayToString(parsed.header.id, 'base16')}:${e.sitePeer}`, Envelope.encode({ header: parsed.headerBytes as Uint8Array<ArrayBuffer>, ciphertext: parsed.ciphertext as Uint8Array<ArrayBuffer> })))
  }
  step('open')
  await e.deviceDb.write(inbox)
  step('device store')
  const ack = SignedPayload.decode(signAck(e.device, e.site.peerId, ids, Date.now()))
  const receipt = encodeFrames([Receipt.encode({ ack })])
  step('sign ack')

  // the site: verify the acknowledgement (as the sender does) and settle what it covers
  const settled: Write[] = []
  let proof: Uint8Array | undefined
  for (const frame of new FrameDecoder(MAX_FRAME_SIZE).push(receipt)) {
    const r = decodeCanonical(Receipt, frame, 'receipt frame')
    if (r.ack === undefined) throw new Error('a receipt without an ack')
    proof = SignedPayload.encode(r.ack)
    for (const id of openAck(proof, e.site.peerId, e.device.peerId).ids) {
      const outboxKey = keyOf.get(uint8ArrayToString(id, 'base16'))
      if (outboxKey === undefined) throw new Error('an acknowledged id that was not sent')
      settled.push(del(outboxKey))
    }
  }
  if (proof === undefined || settled.length !== n) throw new Error(`the ack covers ${settled.length} of ${n} messages`)
  step('verify ack')
  await e.siteDb.write([...settled, put(`ack:${e.devicePeer}:${pad(first)}`, proof)])
  step('settle')
}

/** Runs `warmup` then `count` messages through every step in batches of `batch`, in `dir`. */
export async function requiredWork (dir: string, args: WorkArgs): Promise<WorkResult> {
  const site = Ed25519Signer.generate()
  const device = Ed25519Signer.generate()
  const [siteDb, deviceDb] = await Promise.all([
    Database.open(join(dir, 'site'), { fsync: args.fsync }),
    // as a member node opens its own
    Database.open(join(dir, 'device'), { fsync: args.fsync, memtableBytes: DEFAULTS.memberMemtableBytes })
  ])
  const ends: Ends = { site, device, key: directionKey(randomBytes(32), randomBytes(12)), siteDb, deviceDb, devicePeer: peerIdToString(device.peerId), sitePeer: peerIdToString(site.peerId), seq: 0 }
  const steps = Object.fromEntries(WORK_STEPS.map(s => [s, { cpuUs: 0, wallMs: 0 }])) as WorkResult['steps']
  const end = Date.now() + args.timeoutMs
  try {
    for (let k = 0; k < args.warmup; k += args.batch) await oneBatch(ends, -args.warmup + k, Math.min(args.batch, args.warmup - k), args.bodyBytes)
    const before = { site: siteDb.stats.batches, device: deviceDb.stats.batches, synced: siteDb.stats.synced + deviceDb.stats.synced }
    const cpu0 = cpuNow()
    const t0 = msNow()
    let done = 0
    let batches = 0
    while (done < args.count) {
      if (Date.now() >= end) throw new Error(`required work: ${done} of ${args.count} messages after ${args.timeoutMs} ms`)
      const n = Math.min(args.batch, args.count - done)
      await oneBatch(ends, done, n, args.bodyBytes, steps)
      done += n
      batches++
    }
    return {
      count: done,
      batches,
      elapsedMs: msNow() - t0,
      cpuUs: cpuNow() - cpu0,
      steps,
      commits: { site: siteDb.stats.batches - before.site, device: deviceDb.stats.batches - before.device, synced: siteDb.stats.synced + deviceDb.stats.synced - before.synced }
    }
  } finally {
    await Promise.all([siteDb.close(), deviceDb.close()])
  }
}
