import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { PROTOCOL_BLOB } from '../../src/protocol/constants.js'
import { ErrorCode } from '../../src/protocol/errors.js'
import { EnvelopeHeader, type Attachment, type Envelope } from '../../src/protocol/pb/tmtp.js'
import { blobProof, CHUNK_BYTES, randomFile, sealFile, sha256 } from './blob.js'
import { hex, type ContentFields } from './craft.js'
import { expect, expectEqual, requirement, Unmet, type Requirement } from './report.js'
import type { Driver } from './driver.js'
import type { BlobFault, KitSite } from './kit-site.js'
import type { Target } from './peer.js'

/**
 * Attachments with a member device under test (spec 11.2, 15.6): the kit's site seals files
 * with its own reading of the sealing (blob.ts), delivers a message listing them and serves
 * their chunks, faults included; the driver's `save` writes an attachment into a folder.
 */

const req = requirement

export const MEMBER_BLOB_REQUIREMENTS = {
  attachmentFetch: req('attachment.fetch', '15.6', 'an attachment is fetched on /tmtp/blob/1.0.0 with one BlobRequest (the blob, first 0, the proof of its key for the device) and saved as the file; an empty one is saved empty'),
  attachmentName: req('attachment.name', '11.2', 'a file is saved under what follows the last / or \\ of its name, inside the folder given'),
  attachmentCorrupt: req('attachment.corrupt', '15.6', 'a chunk that does not authenticate, comes under another index or is one byte long is refused: the device asks again from at most that chunk, or fails, and never saves a wrong file'),
  attachmentResume: req('attachment.resume', '15.6', 'a stream that ends after chunk 0 of 3 is resumed with a request from chunk 1, and the file is saved whole'),
  attachmentHash: req('attachment.hash', '15.6', 'chunks that authenticate but make a file of another SHA-256 than the Attachment\'s are discarded: the save fails DECRYPT_FAILED and writes no file'),
  attachmentRefused: req('attachment.refused', '15.6', 'UNKNOWN_BLOB fails the save with that code, writes no file, and the device asks the site for that blob once, whatever is asked after'),
  attachmentLimits: req('attachment.limits', '11.2', 'Content with 17 attachments, a name of 0 or 256 bytes, a media_type of 129, a blob of 15, a sha256 of 31 or a key of 31 bytes is rejected BAD_FRAME; 16 at the limits are accepted'),
  blobNotHandled: req('blob.not-handled', '15', 'the member does not handle /tmtp/blob/1.0.0')
} as const

export interface MemberBlobSuite {
  member: Target
  driver: Driver
  run: (r: Requirement, fn: () => Promise<void>) => Promise<boolean>
  /** A kit site the member joined, holding epoch 1 for it (Unmet if that failed). */
  site: () => KitSite
  /** Delivers one envelope from the site and checks that it alone is acknowledged. */
  accepted: (env: Envelope) => Promise<void>
  /** Delivers one envelope from the site and checks that it is rejected with `code`. */
  rejected: (env: Envelope, code: ErrorCode, what: string) => Promise<void>
}

/** Bytes of the kit's files: two full chunks and a short one. */
const FILE_SIZE = 2 * CHUNK_BYTES + 1000

interface SealedFile { file: Uint8Array, attachment: Attachment }

export async function memberBlobs (s: MemberBlobSuite): Promise<void> {
  const R = MEMBER_BLOB_REQUIREMENTS
  const { member, driver, run } = s
  const folders: string[] = []
  /** A file sealed as spec 15.6 says, served by the site with `faults`; `sealedFrom` seals other bytes than the Attachment describes. */
  const serve = (name: string, opts: { size?: number, faults?: BlobFault[], sealedFrom?: Uint8Array } = {}): SealedFile => {
    const file = randomFile(opts.size ?? FILE_SIZE)
    const key = Uint8Array.from(randomBytes(32))
    const blob = Uint8Array.from(randomBytes(16))
    s.site().blobs.set(hex(blob), { key, chunks: sealFile(key, opts.sealedFrom ?? file), faults: opts.faults ?? [] })
    return { file, attachment: { blob, name, mediaType: 'application/octet-stream', size: file.byteLength, sha256: sha256(file), key } as Attachment }
  }
  const message = (attachments: Attachment[], c: ContentFields = {}): Envelope => {
    const site = s.site()
    return site.envelope(site.header(1), { subject: 'conformance attachments', body: 'files', attachments, ...c })
  }
  /** Delivers a message listing `files`; its id in hex. */
  const deliver = async (...files: SealedFile[]): Promise<string> => {
    const env = message(files.map(f => f.attachment))
    await s.accepted(env)
    return hex(idOf(env))
  }
  /** The driver saves attachment `index` of message `id` into a new folder: the folder's files afterwards, and the failure if it failed. */
  const save = async (id: string, index: number): Promise<{ files: Map<string, Uint8Array>, failure?: { code?: string, message: string } }> => {
    const dir = await mkdtemp(join(tmpdir(), 'tmtp-conformance-save-'))
    folders.push(dir)
    const failure = await driver.failure('save', { id, site: s.site().peer.peerId, index, dir })
    const files = new Map<string, Uint8Array>()
    for (const name of await readdir(dir)) files.set(name, Uint8Array.from(await readFile(join(dir, name))))
    return { files, failure }
  }
  const saved = async (id: string, index: number, f: SealedFile, what: string, name = f.attachment.name): Promise<void> => {
    const out = await save(id, index)
    expect(out.failure === undefined, `${what}: the save failed: ${out.failure?.code ?? ''} ${out.failure?.message ?? ''}`)
    expectEqual([...out.files.keys()], [name], `${what}: the files in the folder`)
    expect(hex(out.files.get(name) as Uint8Array) === hex(f.file), `${what}: the file saved is not the file sealed (${out.files.get(name)?.byteLength ?? 0} bytes of ${f.file.byteLength})`)
  }
  const requestsFor = (f: SealedFile): NonNullable<KitSite['blobRequests'][number]['request']>[] => {
    const seen = s.site().blobRequests.filter(r => r.blobHex === hex(f.attachment.blob))
    const bad = seen.find(r => r.problem !== undefined || r.remote !== member.peerId)
    if (bad !== undefined) throw new Unmet(`a blob request from ${bad.remote}: ${bad.problem ?? 'not the member under test'}`)
    return seen.map(r => r.request!)
  }
  /** The first of every request for chunks of `f`. */
  const firsts = (f: SealedFile): number[] => requestsFor(f).filter(r => !r.fetched).map(r => r.first)

  if (!driver.has('save')) {
    // an implementation that fetches no attachments (before r4) is not held to them
    for (const r of Object.values(R)) await run(r, async () => { await driver.run('save') })
    return
  }
  try {
    await run(R.attachmentFetch, async () => {
      const f = serve('kit-file.bin')
      const empty = serve('empty.bin', { size: 0 })
      const id = await deliver(f, empty)
      await saved(id, 0, f, 'attachment 0 (3 chunks)')
      const requests = requestsFor(f)
      expect(requests.length >= 1, 'no request for the blob')
      const proof = hex(blobProof(f.attachment.key, member.id))
      for (const r of requests) {
        expectEqual([r.blob.byteLength, hex(r.proof)], [16, proof], 'a request\'s blob length and proof (HMAC-SHA256 of the key over the context and the device\'s PeerId)')
      }
      expectEqual(requests.filter(r => !r.fetched).map(r => r.first), [0], 'the requests for chunks, by first')
      await saved(id, 1, empty, 'attachment 1 (0 bytes)')
    })
    await run(R.attachmentName, async () => {
      const f = serve('..\\..\\kit/../kit-named.txt', { size: 10 })
      await saved(await deliver(f), 0, f, 'a name with path parts', 'kit-named.txt')
    })
    await run(R.attachmentCorrupt, async () => {
      const faults: Array<[string, BlobFault]> = [
        ['chunk 1 altered', { kind: 'flip', at: 1 }],
        ['chunk 2 where chunk 1 was due', { kind: 'wrong-index', at: 1 }],
        ['chunk 1 one byte long', { kind: 'long', at: 1 }]
      ]
      for (const [what, fault] of faults) {
        const f = serve(`kit-${fault.kind}.bin`, { faults: [fault] })
        const id = await deliver(f)
        const out = await save(id, 0)
        if (out.failure !== undefined) {
          expect(out.files.size === 0, `${what}: the save failed (${out.failure.code ?? ''}) but left ${[...out.files.keys()].join(', ')}`)
          continue
        }
        expect(hex(out.files.get(f.attachment.name) ?? new Uint8Array(0)) === hex(f.file), `${what}: the file saved is not the file sealed`)
        const [first, ...again] = firsts(f)
        expect(first === 0 && again.length >= 1 && again[0] <= 1, `${what}: requests from chunks ${[first, ...again].join(', ')}`)
      }
    })
    await run(R.attachmentResume, async () => {
      const f = serve('kit-cut.bin', { faults: [{ kind: 'cut', after: 0 }] })
      await saved(await deliver(f), 0, f, 'a file whose first stream ended after chunk 0')
      expectEqual(firsts(f), [0, 1], 'the requests for chunks, by first')
    })
    await run(R.attachmentHash, async () => {
      const f = serve('kit-other.bin', { sealedFrom: randomFile(FILE_SIZE) })
      const out = await save(await deliver(f), 0)
      expect(out.failure !== undefined, 'the save of a file whose SHA-256 is not the Attachment\'s succeeded')
      expectEqual(out.failure.code, ErrorCode.DECRYPT_FAILED, 'the save\'s error code')
      expectEqual([...out.files.keys()], [], 'the files in the folder')
    })
    await run(R.attachmentRefused, async () => {
      const f = serve('kit-gone.bin')
      s.site().blobs.delete(hex(f.attachment.blob))
      const id = await deliver(f)
      for (const attempt of ['the save', 'a second save']) {
        const out = await save(id, 0)
        expectEqual(out.failure?.code, ErrorCode.UNKNOWN_BLOB, `${attempt}'s error code`)
        expectEqual([...out.files.keys()], [], `the files in the folder after ${attempt}`)
      }
      await delay(1_000)
      expectEqual(requestsFor(f).length, 1, 'requests for the blob the site answered UNKNOWN_BLOB')
    })
    await run(R.attachmentLimits, async () => {
      // large files: a device fetching small ones at once would only be refused UNKNOWN_BLOB
      const one = (fields: Partial<Attachment> = {}): Attachment => ({
        blob: Uint8Array.from(randomBytes(16)), name: 'n', mediaType: '', size: 1_000_000_000, sha256: new Uint8Array(32), key: new Uint8Array(32).fill(7), ...fields
      } as Attachment)
      const over: Array<[string, Attachment[]]> = [
        ['17 attachments', Array.from({ length: 17 }, () => one())],
        ['a name of 0 bytes', [one({ name: '' })]],
        ['a name of 256 bytes', [one({ name: 'ü'.repeat(127) + 'ab' })]],
        ['a media_type of 129 bytes', [one({ mediaType: 'a/' + 't'.repeat(127) })]],
        ['a blob of 15 bytes', [one({ blob: new Uint8Array(15) })]],
        ['a sha256 of 31 bytes', [one({ sha256: new Uint8Array(31) })]],
        ['a key of 31 bytes', [one({ key: new Uint8Array(31) })]]
      ]
      for (const [what, attachments] of over) await s.rejected(message(attachments), ErrorCode.BAD_FRAME, what)
      await s.accepted(message(Array.from({ length: 16 }, () => one({ name: 'ü'.repeat(127) + 'a', mediaType: 'a/' + 't'.repeat(126) }))))
    })
    await run(R.blobNotHandled, async () => {
      const opened = await s.site().peer.open(member, PROTOCOL_BLOB).then(c => { c.abort(); return true }, () => false)
      expect(!opened, 'a /tmtp/blob/1.0.0 stream to the member was negotiated')
    })
  } finally {
    for (const dir of folders) await rm(dir, { recursive: true, force: true })
  }
}

function idOf (env: Envelope): Uint8Array {
  return EnvelopeHeader.decode(env.header).id
}
