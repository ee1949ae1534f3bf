import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { readFile, readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { waitFor } from '../../src/cli/time.js'
import { blobProof } from '../../src/crypto/index.js'
import { FramedStream } from '../../src/delivery/index.js'
import { BlobReply, BlobRequest, BLOB_CHUNK_BYTES, codeFromWire, ErrorCode, MAX_ATTACHMENTS, MAX_FRAME_SIZE, PROTOCOL_BLOB } from '../../src/protocol/index.js'
import { BLOB_DIR } from '../../src/node/blob-files.js'
import { DATABASE_DIR } from '../../src/node/identity.js'
import { TestNet } from '../support/nodes.js'
import type { AttachmentView, MemberNode, SiteNode, SiteNodeOptions } from '../../src/node/index.js'
import { Database } from '../../src/store/database.js'
import { SiteStore } from '../../src/store/site-store.js'
import type { AttachmentStore } from '../../src/store/index.js'

/**
 * Attachments end to end over TCP on 127.0.0.1 (spec 15.6): a file uploaded once, sealed once,
 * listed by a send, fetched by each recipient device in chunks on /tmtp/blob/1.0.0 (at once
 * when small, else when asked), refused to a device that was not sent it, fetched again past
 * a corrupted chunk, and deleted by the site once every device fetched it or its message
 * expired. Real LevelDB and files in a temporary folder.
 */
describe('node: attachments', function () {
  this.timeout(60_000)
  let net: TestNet
  let site: SiteNode

  async function startSite (options: Partial<SiteNodeOptions> = {}): Promise<SiteNode> {
    site = await net.site('site', { attachmentHoldMs: 1_000, ...options })
    return site
  }

  beforeEach(async () => { net = await TestNet.create() })
  afterEach(async () => { await net.cleanup() })

  async function device (ref: string, autoFetchBytes = 0): Promise<MemberNode> {
    const node = await net.member(ref, { autoFetchBytes })
    await node.join((await site.createInvite({ ref })).token)
    return node
  }

  async function upload (bytes: Uint8Array, name: string, mediaType = 'application/pdf'): Promise<AttachmentView> {
    async function * body (): AsyncGenerator<Uint8Array> {
      // pieces that do not line up with the chunks
      for (let at = 0; at < bytes.byteLength; at += 10_007) yield bytes.subarray(at, at + 10_007)
    }
    return await site.uploadAttachment({ name, mediaType, size: bytes.byteLength, body: body() })
  }

  /** The site's TCP addresses, to listen on again after a restart: devices reach it where they know it. */
  function siteListen (): string[] {
    return site.multiaddrs().filter(a => a.includes('/tcp/') && !a.includes('/ws')).map(a => a.replace(/\/p2p\/.*$/, ''))
  }

  /** Past an upload's hold (1 s here, and the 5 s of grace after it): only its recipients keep a blob now. */
  async function pastHold (): Promise<void> {
    await new Promise(resolve => setTimeout(resolve, 6_500))
  }

  const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

  async function delivered (member: MemberNode, id: string): Promise<void> {
    await waitFor(`message ${id} on ${member.peerId}`, async () => (await member.inbox()).some(m => m.id === id))
  }

  /** The blob files the site holds. */
  async function siteBlobs (): Promise<string[]> {
    return (await readdir(join(net.path('site'), BLOB_DIR))).filter(name => !name.endsWith('.part'))
  }

  /** Asks the site for a blob on a raw /tmtp/blob/1.0.0 stream; answers the code of its refusal, or the chunks it sent. */
  async function rawRequest (member: MemberNode, blob: string, proof: Uint8Array, first = 0): Promise<ErrorCode | number> {
    return await rawFrames(member, [BlobRequest.encode({ blob: Buffer.from(blob, 'hex'), first, fetched: false, proof: proof as Uint8Array<ArrayBuffer> })])
  }

  /** Writes frames (or raw bytes) on a /tmtp/blob/1.0.0 stream; answers the code of the site's refusal, or the chunks it sent. */
  async function rawFrames (member: MemberNode, frames: Uint8Array[], raw?: Uint8Array): Promise<ErrorCode | number> {
    const stream = await member.libp2p.dialProtocol(peerIdFromString(site.peerId), PROTOCOL_BLOB)
    const framed = new FramedStream(stream, MAX_FRAME_SIZE)
    if (raw !== undefined) stream.send(raw)
    else await framed.write(frames)
    let chunks = 0
    for await (const frames of framed.batches()) {
      for (const frame of frames) {
        const reply = BlobReply.decode(frame)
        if (reply.error !== undefined) return codeFromWire(reply.error.code)
        chunks++
      }
    }
    return chunks
  }

  it('a small attachment reaches two members at once (autoFetchBytes), whole and checked; the site deletes it once both fetched it', async () => {
    await startSite()
    const [ann, bob] = [await device('ann', 1024 * 1024), await device('bob', 1024 * 1024)]
    const file = randomBytes(3 * BLOB_CHUNK_BYTES + 123)
    const uploaded = await upload(file, 'Invoice 2025-11.pdf')
    assert.deepEqual({ size: uploaded.size, sha256: uploaded.sha256, name: uploaded.name, mediaType: uploaded.mediaType }, { size: file.byteLength, sha256: sha256(file), name: 'Invoice 2025-11.pdf', mediaType: 'application/pdf' })
    assert.equal('key' in uploaded, false, 'the content key never leaves the node')
    const sent = await site.send({ to: ['ann', 'bob'], subject: 'Your invoice', body: 'attached', attachments: [uploaded.id] })
    for (const member of [ann, bob]) {
      await delivered(member, sent.id)
      const message = await waitFor('the attachment fetched', async () => {
        const m = (await member.inbox()).find(m => m.id === sent.id)
        return m?.attachments[0].state === 'fetched' && m
      })
      assert.deepEqual(message.attachments.map(a => ({ name: a.name, size: a.size, sha256: a.sha256, mediaType: a.mediaType })), [{ name: 'Invoice 2025-11.pdf', size: file.byteLength, sha256: sha256(file), mediaType: 'application/pdf' }])
      const saved = await member.attachmentFile(sent.id, 0)
      assert.equal(sha256(await readFile(saved.path)), sha256(file))
    }
    // both reported it fetched and its hold is over: deleted at the second report, or by the sweep after the hold
    await waitFor('the blob deleted', async () => (await siteBlobs()).length === 0 && await site.attachment(uploaded.id).then(() => false, () => true))
    await assert.rejects(site.attachment(uploaded.id), { code: 'UNKNOWN_ATTACHMENT' })
  })

  it('a report of a fetched attachment that fails (the site down as the device finishes) is owed and sent again once the site is back, which deletes the blob before its message expires', async () => {
    await startSite()
    const ann = await net.member('ann', { autoFetchBytes: 0, retryBaseMs: 200, retryCapMs: 1_000 })
    await ann.join((await site.createInvite({ ref: 'ann' })).token)
    const file = randomBytes(2 * BLOB_CHUNK_BYTES + 5)
    const uploaded = await upload(file, 'report.bin')
    const sent = await site.send({ to: ['ann'], subject: 'Report', body: '', attachments: [uploaded.id] })
    await delivered(ann, sent.id)
    const listen = siteListen()
    await net.stop(site)
    // the device holds every chunk (as a fetch leaves them after the last) when the site goes
    // away: it checks the file and owes the site its report
    await writeFile(join(net.path('ann'), 'attachments', `${site.peerId}-${sent.id}-0.part`), file)
    const saved = await ann.attachmentFile(sent.id, 0)
    assert.equal(sha256(await readFile(saved.path)), sha256(file))
    const attachments = (ann as unknown as { attachments: { reporting: Set<string>, opts: { store: AttachmentStore } } }).attachments
    const owed = async (): Promise<string[]> => { const out = []; for await (const r of attachments.opts.store.owed()) out.push(r.blob); return out }
    await waitFor('the first report tried and failed', async () => attachments.reporting.size === 0, 30_000)
    assert.deepEqual(await owed(), [uploaded.id], 'the failed report is owed')
    assert.deepEqual(await siteBlobs(), [uploaded.id])

    await startSite({ listen })
    // the device reconnects and reports again: the site deletes the blob, its message 7 days from expiry
    await waitFor('the blob deleted', async () => (await siteBlobs()).length === 0 && await site.attachment(uploaded.id).then(() => false, () => true))
    await waitFor('the report settled', async () => (await owed()).length === 0)
  })

  it('devices removed from the site stop counting as recipients: a member removed, a device that left; the blob goes once no device is waited for', async () => {
    await startSite()
    const [ann, bob, carl] = [await device('ann'), await device('bob'), await device('carl', 1024 * 1024)]
    const [fileA, fileB] = [randomBytes(BLOB_CHUNK_BYTES + 1), randomBytes(1000)]
    const [a, b] = [await upload(fileA, 'a.bin'), await upload(fileB, 'b.bin')]
    const sent = await site.send({ to: ['ann', 'bob', 'carl'], subject: 'Two', body: '', attachments: [a.id, b.id] })
    for (const member of [ann, bob]) await delivered(member, sent.id)
    await waitFor('carl fetched both', async () => (await carl.inbox()).find(m => m.id === sent.id)?.attachments.every(x => x.state === 'fetched') === true)
    await pastHold()
    assert.deepEqual((await siteBlobs()).sort(), [a.id, b.id].sort(), 'ann and bob have not fetched them')

    await site.removeMember('ann')
    await new Promise(resolve => setTimeout(resolve, 500))
    assert.deepEqual((await siteBlobs()).sort(), [a.id, b.id].sort(), 'bob has not fetched them')
    // bob's report is the last one blob a waits for: ann's removal counts as done
    await bob.attachmentFile(sent.id, 0)
    await waitFor('blob a deleted', async () => !(await siteBlobs()).includes(a.id))
    assert.deepEqual(await siteBlobs(), [b.id])
    // bob leaves: blob b waited for him only
    await bob.leave(site.peerId)
    await waitFor('blob b deleted', async () => (await siteBlobs()).length === 0 && await site.attachment(b.id).then(() => false, () => true))
  })

  it('a member removed while the site is down (its recount never ran): the sweep at start stops waiting for its devices', async () => {
    await startSite()
    const [ann, bob] = [await device('ann'), await device('bob', 1024 * 1024)]
    const uploaded = await upload(randomBytes(1000), 'a.bin')
    const sent = await site.send({ to: ['ann', 'bob'], subject: 'One', body: '', attachments: [uploaded.id] })
    await delivered(ann, sent.id)
    await waitFor('bob fetched it', async () => (await bob.inbox()).find(m => m.id === sent.id)?.attachments[0].state === 'fetched')
    const listen = siteListen()
    await pastHold()
    await net.stop(site)
    assert.deepEqual(await siteBlobs(), [uploaded.id], 'ann has not fetched it')
    // ann's removal written as removeMember writes it, and the site stopping before its recount
    const db = await Database.open(join(net.path('site'), DATABASE_DIR), { fsync: false })
    try {
      const store = await SiteStore.open(db)
      const member = await store.memberByName('ann')
      assert.ok(member !== undefined)
      await store.write(store.removeMember(member, Date.now()))
    } finally {
      await db.close()
    }
    await startSite({ listen })
    assert.deepEqual(await siteBlobs(), [], 'deleted by the sweep at start')
  })

  it('a message with 16 attachments: all fetched in turn, none refused, though a site takes 8 streams of a protocol per connection', async () => {
    await startSite()
    const ann = await device('ann', 1024 * 1024)
    const retried: string[] = []
    ann.addEventListener('attachment', event => { if (event.detail.state === 'retrying') retried.push(event.detail.code ?? '') })
    const files = Array.from({ length: MAX_ATTACHMENTS }, () => randomBytes(2 * BLOB_CHUNK_BYTES + 7))
    const uploads = []
    for (const [i, file] of files.entries()) uploads.push(await upload(file, `part-${i}.bin`))
    const sent = await site.send({ to: ['ann'], subject: 'Many', body: '', attachments: uploads.map(u => u.id) })
    await delivered(ann, sent.id)
    const message = await waitFor('every attachment fetched', async () => {
      const m = (await ann.inbox()).find(m => m.id === sent.id)
      return m?.attachments.every(a => a.state !== 'wanted') === true && m
    })
    assert.deepEqual(message.attachments.map(a => a.state), files.map(() => 'fetched'))
    assert.deepEqual(retried, [], 'no stream was refused: the device keeps to fewer at once')
    for (const [i, file] of files.entries()) assert.equal(sha256(await readFile((await ann.attachmentFile(sent.id, i)).path)), sha256(file))
  })

  it('a broadcast (its copies sealed in the background) carries the attachment to each device', async () => {
    await startSite()
    const [ann, bob] = [await device('ann'), await device('bob')]
    const file = randomBytes(BLOB_CHUNK_BYTES + 1)
    const uploaded = await upload(file, 'timetable.pdf')
    const sent = await site.send({ all: true, report: 'once', subject: 'Timetable', body: '', attachments: [uploaded.id] })
    assert.equal(sent.fanout, true)
    for (const member of [ann, bob]) {
      await delivered(member, sent.id)
      assert.equal(sha256(await readFile((await member.attachmentFile(sent.id, 0)).path)), sha256(file))
    }
  })

  it('a large attachment waits until asked for; a corrupted chunk is refused (DECRYPT_FAILED) and fetched again', async () => {
    await startSite()
    const ann = await device('ann')
    const file = randomBytes(6 * BLOB_CHUNK_BYTES + 5)
    const uploaded = await upload(file, 'course.bin', '')
    const sent = await site.send({ to: ['ann'], subject: 'Course', body: '', attachments: [uploaded.id] })
    await delivered(ann, sent.id)
    assert.equal((await ann.inbox())[0].attachments[0].state, 'available', 'above autoFetchBytes: not fetched until asked')
    assert.equal((await ann.inbox())[0].attachments[0].mediaType, 'application/octet-stream')

    // chunk 4 altered on the site's disk: the device refuses it, keeps chunks 0 to 3, and asks again from 4
    const path = join(net.path('site'), BLOB_DIR, uploaded.id)
    const sealed = await readFile(path)
    const altered = Buffer.from(sealed)
    altered[4 * (BLOB_CHUNK_BYTES + 16) + 100] ^= 0x01
    await writeFile(path, altered)
    const refused: string[] = []
    ann.addEventListener('attachment', event => {
      if (event.detail.state !== 'retrying') return
      refused.push(event.detail.code ?? '')
      // the site's copy is good again before the device asks again
      writeFile(path, sealed).catch(() => {})
    })
    const saved = await ann.attachmentFile(sent.id, 0)
    assert.deepEqual(refused, [ErrorCode.DECRYPT_FAILED])
    assert.equal(sha256(await readFile(saved.path)), sha256(file))
    assert.equal((await ann.inbox())[0].attachments[0].state, 'fetched')

    // the device keeps the file until the member deletes the message; its id stays known
    await ann.deleteMessage(sent.id)
    assert.deepEqual(await ann.inbox(), [])
    assert.deepEqual(await readdir(join(net.path('ann'), 'attachments')), [], 'the file went with the message')
    await assert.rejects(ann.attachmentFile(sent.id, 0), { code: 'UNKNOWN_MESSAGE' })
  })

  it('a transfer cut by a restart of the site resumes from the chunks the device kept', async () => {
    await startSite({ maxAttachmentBytes: 128 * 1024 * 1024 })
    const ann = await net.member('ann', { autoFetchBytes: 0, retryBaseMs: 500, retryCapMs: 2_000 })
    await ann.join((await site.createInvite({ ref: 'ann' })).token)
    const file = randomBytes(96 * 1024 * 1024)
    const uploaded = await upload(file, 'big.bin')
    const sent = await site.send({ to: ['ann'], subject: 'Big', body: '', attachments: [uploaded.id] })
    await delivered(ann, sent.id)
    const listen = siteListen()
    const part = join(net.path('ann'), 'attachments', `${site.peerId}-${sent.id}-0.part`)
    const retried: string[] = []
    ann.addEventListener('attachment', event => { retried.push(event.detail.state) })
    const saving = ann.attachmentFile(sent.id, 0)
    await waitFor('a few chunks at the device', async () => ((await stat(part).catch(() => undefined))?.size ?? 0) > 2 * 1024 * 1024, 30_000, 2)
    await net.stop(site)
    const kept = (await stat(part)).size
    assert.ok(kept < file.byteLength, 'cut before the end')
    await startSite({ maxAttachmentBytes: 128 * 1024 * 1024, listen })
    const saved = await saving
    assert.equal(sha256(await readFile(saved.path)), sha256(file))
    assert.ok(retried.includes('retrying'), 'the device tried again after the cut')
  })

  it('a message deleted while its attachment is fetched: the fetch stops and leaves no file', async () => {
    await startSite({ maxAttachmentBytes: 128 * 1024 * 1024 })
    const ann = await device('ann')
    const uploaded = await upload(randomBytes(64 * 1024 * 1024), 'big.bin')
    const sent = await site.send({ to: ['ann'], subject: 'Big', body: '', attachments: [uploaded.id] })
    await delivered(ann, sent.id)
    const part = join(net.path('ann'), 'attachments', `${site.peerId}-${sent.id}-0.part`)
    // its outcome taken at once: it fails while the deletion is still under way
    const outcome = ann.attachmentFile(sent.id, 0).then(() => 'fetched', (err: { code?: string }) => err.code)
    await waitFor('a few chunks at the device', async () => ((await stat(part).catch(() => undefined))?.size ?? 0) > 1024 * 1024, 30_000, 2)
    await ann.deleteMessage(sent.id)
    assert.equal(await outcome, 'UNKNOWN_MESSAGE')
    assert.deepEqual(await readdir(join(net.path('ann'), 'attachments')), [])
  })

  it('a device that was not sent the message cannot fetch the blob, not even with a recipient\'s proof (UNKNOWN_BLOB)', async () => {
    await startSite()
    const [ann, eve] = [await device('ann'), await device('eve')]
    const file = randomBytes(1000)
    const uploaded = await upload(file, 'secret.txt')
    const sent = await site.send({ to: ['ann'], subject: 'For ann', body: '', attachments: [uploaded.id] })
    await delivered(ann, sent.id)
    // eve knows the blob's id but not its key: any proof she makes is refused, ann's too (bound to ann)
    const annProof = (key: Uint8Array): Uint8Array => blobProof(key, peerIdFromString(ann.peerId).toMultihash().bytes)
    assert.equal(await rawRequest(eve, uploaded.id, randomBytes(32)), ErrorCode.UNKNOWN_BLOB)
    const key = (await readAttachmentKey(ann, sent.id))
    assert.equal(await rawRequest(eve, uploaded.id, annProof(key)), ErrorCode.UNKNOWN_BLOB)
    assert.equal(await rawRequest(eve, uploaded.id, blobProof(key, peerIdFromString(eve.peerId).toMultihash().bytes)), 1, 'with the key (which only the envelope carries) a member device may fetch')
    assert.equal(await rawRequest(ann, uploaded.id, annProof(key)), 1)
    assert.equal(await rawRequest(ann, 'ff'.repeat(16), annProof(key)), ErrorCode.UNKNOWN_BLOB, 'no such blob: the same answer')
  })

  it('answers a hostile blob request with its code: a non-member, an oversize, undecodable or malformed frame, a chunk past the end', async () => {
    await startSite()
    const ann = await device('ann')
    const mallory = await net.member('mallory')
    await mallory.libp2p.dial(multiaddr(site.multiaddrs().find(a => !a.includes('/ws')) as string))
    const uploaded = await upload(randomBytes(1000), 'a.txt')
    const sent = await site.send({ to: ['ann'], subject: 'a', body: '', attachments: [uploaded.id] })
    await delivered(ann, sent.id)
    const proof = blobProof(await readAttachmentKey(ann, sent.id), peerIdFromString(ann.peerId).toMultihash().bytes)
    assert.equal(await rawRequest(mallory, uploaded.id, proof), ErrorCode.NOT_MEMBER, 'not a member device: refused before reading')
    assert.equal(await rawFrames(ann, [], Uint8Array.of(0x81, 0x80, 0x01)), ErrorCode.FRAME_TOO_LARGE, 'a request over 16 KiB, refused by its length')
    assert.equal(await rawFrames(ann, [Uint8Array.of(0x0f)]), ErrorCode.BAD_FRAME)
    assert.equal(await rawFrames(ann, [BlobRequest.encode({ blob: new Uint8Array(15), first: 0, fetched: false, proof: proof as Uint8Array<ArrayBuffer> })]), ErrorCode.BAD_FRAME)
    assert.equal(await rawRequest(ann, uploaded.id, proof, 2), ErrorCode.BAD_FRAME, 'a file of 1000 bytes has one chunk')
    assert.equal(await rawRequest(ann, uploaded.id, proof, 1), 0, 'from the end: nothing to send')
    assert.equal(await rawRequest(ann, uploaded.id, proof), 1)
  })

  it('refuses uploads and sends past their limits with stable codes', async () => {
    await startSite({ maxAttachmentBytes: 4096, maxMessageAttachmentBytes: 6000 })
    await device('ann')
    await assert.rejects(upload(randomBytes(4097), 'big.bin'), { code: 'ATTACHMENT_TOO_LARGE' })
    await assert.rejects(upload(randomBytes(10), 'a/b.txt'), { code: 'INVALID_ARGUMENT' })
    await assert.rejects(upload(randomBytes(10), 'x'.repeat(256)), { code: 'INVALID_ARGUMENT' })
    await assert.rejects(site.uploadAttachment({ name: 'short.bin', size: 100, body: (async function * () { yield new Uint8Array(99) })() }), { code: 'INVALID_ARGUMENT' })
    assert.deepEqual(await siteBlobs(), [], 'a refused upload leaves no file')
    const [a, b] = [await upload(randomBytes(4000), 'a.bin'), await upload(randomBytes(4000), 'b.bin')]
    await assert.rejects(site.send({ to: ['ann'], subject: 's', body: '', attachments: [a.id, b.id] }), { code: 'ATTACHMENTS_TOO_LARGE' })
    await assert.rejects(site.send({ to: ['ann'], subject: 's', body: '', attachments: ['00'.repeat(16)] }), { code: 'UNKNOWN_ATTACHMENT' })
    const sent = await site.send({ to: ['ann'], subject: 's', body: '', attachments: [a.id] })
    assert.equal(sent.recipients.length, 1)
    // past its hold, an upload may be listed no more
    await new Promise(resolve => setTimeout(resolve, 1_100))
    await assert.rejects(site.send({ to: ['ann'], subject: 's', body: '', attachments: [b.id] }), { code: 'UNKNOWN_ATTACHMENT' })
  })

  it('bounds the site\'s attachments together (maxStoredAttachmentBytes, uploads under way included): ATTACHMENT_STORE_FULL before a byte is read; deletions make room; a restart recounts from disk', async () => {
    // a file of 1000 bytes is one chunk: 1016 bytes sealed; room for three
    let skew = 0
    const options = { maxStoredAttachmentBytes: 3 * 1016, now: () => Date.now() + skew }
    await startSite(options)
    await device('ann', 1024 * 1024)
    const bob = await device('bob')
    const a = await upload(randomBytes(1000), 'a.bin')
    const b = await upload(randomBytes(1000), 'b.bin')
    let release = (): void => {}
    const gate = new Promise<void>(resolve => { release = resolve })
    const underWay = site.uploadAttachment({ name: 'c.bin', size: 1000, body: (async function * () { await gate; yield randomBytes(1000) })() })
    let read = false
    const refused = site.uploadAttachment({ name: 'd.bin', size: 1000, body: (async function * () { read = true; yield randomBytes(1000) })() })
    await assert.rejects(refused, { code: 'ATTACHMENT_STORE_FULL' })
    assert.equal(read, false, 'refused before a byte of it was read: the upload under way holds its room')
    release()
    const c = await underWay
    await assert.rejects(upload(randomBytes(1000), 'e.bin'), { code: 'ATTACHMENT_STORE_FULL' })
    assert.deepEqual((await siteBlobs()).sort(), [a.id, b.id, c.id].sort())

    // every recipient fetched a: deleted after its hold, its room free again
    await site.send({ to: ['ann'], subject: 'a', body: '', attachments: [a.id] })
    await delivered(bob, (await site.send({ to: ['bob'], subject: 'b, c', body: '', ttlMs: 60_000, attachments: [b.id, c.id] })).id)
    await waitFor('blob a deleted', async () => !(await siteBlobs()).includes(a.id))
    const e = await upload(randomBytes(1000), 'e.bin')
    await delivered(bob, (await site.send({ to: ['bob'], subject: 'e', body: '', ttlMs: 60_000, attachments: [e.id] })).id)
    await assert.rejects(upload(randomBytes(1000), 'f.bin'), { code: 'ATTACHMENT_STORE_FULL' })

    // the count starts from the files on disk
    const listen = siteListen()
    await net.stop(site)
    await startSite({ ...options, listen })
    assert.deepEqual((await siteBlobs()).sort(), [b.id, c.id, e.id].sort(), 'bob has fetched none of them, his message lives')
    await assert.rejects(upload(randomBytes(1000), 'f.bin'), { code: 'ATTACHMENT_STORE_FULL' })

    // bob's message expired: its blobs go (the sweep, here at a restart), and their room with them
    await net.stop(site)
    skew += 61_000
    await startSite({ ...options, listen })
    assert.deepEqual(await siteBlobs(), [])
    for (const name of ['f.bin', 'g.bin', 'h.bin']) await upload(randomBytes(1000), name)
    await assert.rejects(upload(randomBytes(1), 'i.bin'), { code: 'ATTACHMENT_STORE_FULL' })
  })

  it('deletes a blob whose message expired, though no device fetched it (the sweep, here at a restart)', async () => {
    let clock = Date.now()
    await startSite({ now: () => clock })
    const ann = await device('ann')
    const uploaded = await upload(randomBytes(2000), 'late.txt')
    const sent = await site.send({ to: ['ann'], subject: 'soon gone', body: '', ttlMs: 60_000, attachments: [uploaded.id] })
    await delivered(ann, sent.id)
    // the same TCP port after the restart: the device reaches the site where it knows it
    const listen = siteListen()
    await net.stop(site)
    assert.deepEqual(await siteBlobs(), [uploaded.id], 'kept while its message lives')
    clock += 61_000
    await startSite({ now: () => clock, listen })
    assert.deepEqual(await siteBlobs(), [], 'deleted once its message expired')
    await assert.rejects(ann.attachmentFile(sent.id, 0), { code: ErrorCode.UNKNOWN_BLOB })
    assert.deepEqual((await ann.inbox())[0].attachments.map(a => [a.state, 'code' in a ? a.code : undefined]), [['failed', ErrorCode.UNKNOWN_BLOB]])
  })
})

/** The content key of a message's first attachment, as the device holds it (only through its envelope). */
async function readAttachmentKey (member: MemberNode, id: string): Promise<Uint8Array> {
  const internals = member as unknown as { inboxRecord: (id: string, opts: object) => Promise<unknown>, openContent: (record: unknown) => Promise<{ attachments: Array<{ key: Uint8Array }> }> }
  return (await internals.openContent(await internals.inboxRecord(id, {}))).attachments[0].key
}
