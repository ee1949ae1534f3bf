import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { MAX_CONTROL_FRAME_SIZE, PROTOCOL_BLOB } from '../../src/protocol/constants.js'
import { ErrorCode } from '../../src/protocol/errors.js'
import type { Attachment } from '../../src/protocol/pb/tmtp.js'
import { blobProof, CHUNK_BYTES, chunksOf, openChunk, randomFile, sha256 } from './blob.js'
import { describeBlobReplies, readBlobReplies, type BlobReplies } from './blob-replies.js'
import { blobRequest, concat, frame, hex, NON_MINIMAL_PREFIX, oversizeFrame, truncated, varintOf } from './craft.js'
import { expect, expectEqual, requirement, Unmet, type Requirement } from './report.js'
import type { Driver } from './driver.js'
import type { KitDevice } from './kit-device.js'
import type { Target } from './peer.js'

/**
 * Attachments with a site under test (spec 15.6): the driver sends a message with a file the
 * kit wrote; the kit's device opens the Attachment in its copy and fetches the blob on
 * /tmtp/blob/1.0.0, checking every chunk with its own reading of the sealing (blob.ts).
 */

const req = requirement

export const SITE_BLOB_REQUIREMENTS = {
  blobServe: req('blob.serve', '15.6', 'a device that received a message listing a file fetches every chunk in order, each sealed under the Attachment\'s key (nonce = index, AAD = context and size), opening to the file of its size and SHA-256; an empty file has no chunk'),
  blobResume: req('blob.resume', '15.6', 'a request from chunk i gets chunks i to the last as stored (the same bytes); from the chunk count, none'),
  blobProof: req('blob.proof', '15.6', 'a proof made for another PeerId, a proof under another key and a blob never sent are UNKNOWN_BLOB, before a first past the end is checked'),
  blobNotMember: req('blob.not-member', '15.6', 'a peer that is no member device is answered NOT_MEMBER before its request is read, even with a valid proof'),
  blobForm: req('blob.form', '15.6', 'a request that does not decode (a uint64 over 2^64 included), a blob id of 15 bytes, a proof of 31 bytes and a first past the last chunk are BAD_FRAME'),
  blobFraming: req('blob.framing', '14', 'a request frame above 16 KiB is FRAME_TOO_LARGE, one of 16 KiB is read; a non-minimal prefix, no frame and a truncated frame are BAD_FRAME'),
  blobFetched: req('blob.fetched', '15.6', 'a report that the device fetched the blob (first 0 or the chunk count) is answered by a close without a frame; with a proof of another key, UNKNOWN_BLOB')
} as const

export interface SiteBlobSuite {
  site: Target
  driver: Driver
  run: (r: Requirement, fn: () => Promise<void>) => Promise<boolean>
  /** The member device the driver's `send-file` reaches (`to`), served with acks. */
  main: KitDevice
  to: string
  /** A new device, joined as another member (its own identity: refusals may cost a peer, spec 19). */
  joined: () => Promise<KitDevice>
  /** A new device that never joined. */
  stranger: () => Promise<KitDevice>
}

/** Bytes of the kit's file: two full chunks and a short one. */
const FILE_SIZE = 2 * CHUNK_BYTES + 1000
const SOON_MS = 15_000

export async function siteBlobs (s: SiteBlobSuite): Promise<void> {
  const R = SITE_BLOB_REQUIREMENTS
  const { site, driver, run, main } = s
  if (!driver.has('send-file')) {
    // an implementation that sends no attachments (before r4) has nothing to serve
    for (const r of Object.values(R)) await run(r, async () => { await driver.run('send-file') })
    return
  }
  const folder = await mkdtemp(join(tmpdir(), 'tmtp-conformance-files-'))
  try {
    const file = randomFile(FILE_SIZE)
    const fileName = 'kit-attachment.bin'
    await writeFile(join(folder, fileName), file)
    await writeFile(join(folder, 'kit-empty.txt'), new Uint8Array(0))
    /** Sends `name` from the folder in a message to `to`; the Attachment of the copy the main device received. */
    const sendFile = async (name: string): Promise<Attachment> => {
      const out = await driver.run<{ id?: unknown }>('send-file', { to: s.to, subject: `conformance ${name}`, body: 'a file', ttlSeconds: 3600, file: join(folder, name) })
      if (typeof out.id !== 'string') throw new Unmet('the driver\'s send-file printed no "id"')
      const id = out.id.toLowerCase()
      const deadline = Date.now() + SOON_MS
      while (!main.delivered.some(d => d.idHex === id) && Date.now() < deadline) await delay(50)
      const got = main.delivered.find(d => d.idHex === id)
      expect(got !== undefined, `message ${id} not delivered within ${SOON_MS / 1000} s`)
      expect(got.content !== undefined, `message ${id} does not open: ${got.problem ?? ''}`)
      expectEqual(got.content.attachments.length, 1, 'attachments its Content lists')
      return got.content.attachments[0]
    }
    const fetch = async (from: KitDevice, request: Uint8Array, opts: { closeWrite?: boolean } = {}): Promise<BlobReplies> =>
      readBlobReplies(await from.peer.exchange(site, PROTOCOL_BLOB, request, opts))
    const ask = async (from: KitDevice, a: Attachment, fields: { first?: number, fetched?: boolean, proof?: Uint8Array, blob?: Uint8Array } = {}): Promise<BlobReplies> =>
      await fetch(from, frame(blobRequest({ blob: a.blob, proof: blobProof(a.key, from.peer.id), ...fields })))
    const refused = async (r: BlobReplies | Promise<BlobReplies>, code: ErrorCode, what: string): Promise<void> => {
      const got = await r
      expect(got.error === code && got.chunks.length === 0 && got.problems.length === 0 && got.end === 'closed', `${what}: expected BlobReply{error: ${code}} and a close, got ${describeBlobReplies(got)}`)
    }

    let attachment: Attachment | undefined
    let served: Uint8Array[] = []
    const need = (): Attachment => { if (attachment === undefined) throw new Unmet('needs blob.serve, which failed'); return attachment }
    await run(R.blobServe, async () => {
      const a = await sendFile(fileName)
      expectEqual([a.blob.byteLength, a.key.byteLength, a.name, a.size, hex(a.sha256)], [16, 32, fileName, FILE_SIZE, hex(sha256(file))], 'the Attachment\'s blob and key lengths, name, size and SHA-256')
      const r = await ask(main, a)
      expect(r.error === undefined && r.problems.length === 0 && r.end === 'closed', `the fetch: ${describeBlobReplies(r)}`)
      expectEqual(r.chunks.map(c => c.index), [0, 1, 2], 'the chunks\' indexes')
      const opened = r.chunks.map(c => openChunk(a.key, a.size, c.index, c.sealed))
      expect(opened.every(o => o !== undefined), `chunks that do not open under the Attachment's key as spec 15.6 seals them: ${opened.flatMap((o, i) => o === undefined ? [i] : []).join(', ')}`)
      expectEqual(hex(Buffer.concat(opened as Uint8Array[])), hex(file), 'the chunks opened (the file)')
      attachment = a
      served = r.chunks.map(c => c.sealed)
      const empty = await sendFile('kit-empty.txt')
      expectEqual([empty.size, hex(empty.sha256)], [0, hex(sha256(new Uint8Array(0)))], 'the empty file\'s size and SHA-256')
      const none = await ask(main, empty)
      expect(none.error === undefined && none.chunks.length === 0 && none.problems.length === 0 && none.end === 'closed', `the empty file's fetch: ${describeBlobReplies(none)}`)
    })
    await run(R.blobResume, async () => {
      const a = need()
      const r = await ask(main, a, { first: 2 })
      expect(r.error === undefined && r.problems.length === 0 && r.end === 'closed', `from chunk 2: ${describeBlobReplies(r)}`)
      expectEqual(r.chunks.map(c => [c.index, hex(c.sealed)]), [[2, hex(served[2])]], 'the chunks from 2')
      const none = await ask(main, a, { first: chunksOf(a.size) })
      expect(none.error === undefined && none.chunks.length === 0 && none.end === 'closed', `from chunk ${chunksOf(a.size)}: ${describeBlobReplies(none)}`)
    })
    await run(R.blobProof, async () => {
      const a = need()
      const other = await s.joined()
      await refused(ask(other, a, { proof: blobProof(a.key, main.peer.id) }), ErrorCode.UNKNOWN_BLOB, 'a member device that did not receive the message, with the proof of the device that did')
      await refused(ask(main, a, { proof: blobProof(randomBytes(32), main.peer.id) }), ErrorCode.UNKNOWN_BLOB, 'a proof under another key')
      await refused(ask(main, a, { blob: randomBytes(16) }), ErrorCode.UNKNOWN_BLOB, 'a blob id never sent')
      await refused(ask(main, a, { blob: randomBytes(16), first: 1_000_000 }), ErrorCode.UNKNOWN_BLOB, 'a blob id never sent, from chunk 1000000 (step 3 before step 4)')
    })
    await run(R.blobNotMember, async () => {
      const a = need()
      const outsider = await s.stranger()
      await refused(ask(outsider, a), ErrorCode.NOT_MEMBER, 'a valid request from a peer that never joined')
      await refused(fetch(outsider, new Uint8Array(0), { closeWrite: false }), ErrorCode.NOT_MEMBER, 'a peer that never joined, writing nothing')
    })
    await run(R.blobForm, async () => {
      const a = need()
      const d = await s.joined()
      const proof = blobProof(a.key, d.peer.id)
      await refused(fetch(d, frame(Uint8Array.of(0x0a, 0x05, 0x01))), ErrorCode.BAD_FRAME, 'a request that does not decode')
      // field 2 (first) as an 11-byte varint: above 2^64
      await refused(fetch(d, frame(concat(blobRequest({ blob: a.blob, proof }), Uint8Array.of(0x10), new Uint8Array(10).fill(0xff), Uint8Array.of(0x01)))), ErrorCode.BAD_FRAME, 'a first written as a varint over 2^64')
      await refused(fetch(d, frame(blobRequest({ blob: a.blob.subarray(1), proof }))), ErrorCode.BAD_FRAME, 'a blob id of 15 bytes (with a proof of its key)')
      await refused(fetch(d, frame(blobRequest({ blob: a.blob, proof: proof.subarray(1) }))), ErrorCode.BAD_FRAME, 'a proof of 31 bytes')
      await refused(fetch(d, frame(blobRequest({ blob: a.blob, proof, first: chunksOf(a.size) + 1 }))), ErrorCode.BAD_FRAME, 'a first one past the chunk count')
    })
    await run(R.blobFraming, async () => {
      const a = need()
      const d = await s.joined()
      const body = blobRequest({ blob: a.blob, proof: blobProof(a.key, d.peer.id), first: 2 })
      // padded to exactly 16384 bytes with an unknown field (field 15), which BlobRequest ignores (spec 17)
      const padding = MAX_CONTROL_FRAME_SIZE - body.byteLength - 3
      const full = concat(body, Uint8Array.of(0x7a), varintOf(padding), new Uint8Array(padding))
      expectEqual(full.byteLength, MAX_CONTROL_FRAME_SIZE, 'the kit\'s 16 KiB frame')
      const r = await fetch(d, frame(full))
      expect(r.error === undefined && r.chunks.length === 1 && r.chunks[0].index === 2, `a request frame of 16384 bytes: ${describeBlobReplies(r)}`)
      await refused(fetch(d, oversizeFrame(MAX_CONTROL_FRAME_SIZE)), ErrorCode.FRAME_TOO_LARGE, 'a length prefix of 16385')
      await refused(fetch(d, NON_MINIMAL_PREFIX), ErrorCode.BAD_FRAME, 'a non-minimal length prefix')
      await refused(fetch(d, new Uint8Array(0)), ErrorCode.BAD_FRAME, 'a stream closed without a frame')
      await refused(fetch(d, truncated(frame(body))), ErrorCode.BAD_FRAME, 'a truncated frame')
    })
    await run(R.blobFetched, async () => {
      const a = need()
      const count = chunksOf(a.size)
      await refused(ask(main, a, { first: count, fetched: true, proof: blobProof(randomBytes(32), main.peer.id) }), ErrorCode.UNKNOWN_BLOB, 'a report with a proof of another key')
      // a report is answered without chunks whatever its first (step 3): one from chunk 0 too
      for (const first of [0, count]) {
        const r = await ask(main, a, { first, fetched: true })
        expect(r.error === undefined && r.chunks.length === 0 && r.problems.length === 0 && r.end === 'closed', `the main device's report with first ${first}: ${describeBlobReplies(r)}`)
      }
    })
  } finally {
    await rm(folder, { recursive: true, force: true })
  }
}
