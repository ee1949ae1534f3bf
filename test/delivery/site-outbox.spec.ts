import assert from 'node:assert/strict'
import { logger } from '@libp2p/logger'
import { fromString as uint8ArrayFromString, toString as uint8ArrayToString } from 'uint8arrays'
import { signAck } from '../../src/crypto/ack.js'
import { Ed25519Signer, peerIdToString } from '../../src/crypto/ed25519.js'
import { generateX25519 } from '../../src/crypto/x25519.js'
import { SiteOutbox, type SiteOutboxOptions } from '../../src/delivery/site-outbox.js'
import { NodeError } from '../../src/util/node-error.js'
import { waitFor } from '../../src/cli/time.js'
import { openTempSiteStore } from '../support/site-store.js'
import type { SiteEvent } from '../../src/delivery/send-request.js'
import type { SiteStore } from '../../src/store/site-store.js'
import type { BroadcastEvent } from '../../src/store/event-journal.js'
import type { Write } from '../../src/store/database.js'

const HOUR = 3600_000

describe('delivery/site-outbox', () => {
  const site = Ed25519Signer.generate()
  let handle: Awaited<ReturnType<typeof openTempSiteStore>>
  let now: number
  let events: SiteEvent[]
  let finished: BroadcastEvent[]

  beforeEach(async () => {
    handle = await openTempSiteStore()
    now = 1_700_000_000_000
    events = []
    finished = []
  })
  afterEach(async () => { await handle.close() })

  /** A member `ref` with `count` devices, written as a join would. */
  async function member (store: SiteStore, ref: string, count = 1): Promise<Array<{ signer: Ed25519Signer, peer: string }>> {
    const devices = Array.from({ length: count }, () => {
      const signer = Ed25519Signer.generate()
      return { signer, peer: peerIdToString(signer.peerId) }
    })
    const record = { id: `m-${ref}`, ref, created: now, devices: devices.map(d => d.peer) }
    for (const d of devices) {
      const invite = { hash: `${ref}-${d.peer}`, ref, created: now, expires: now + HOUR, used: { at: now, device: d.peer, member: record.id } }
      const device = { peerId: d.peer, member: record.id, x25519: uint8ArrayToString(generateX25519().publicKey, 'base16'), name: 'phone', joined: now, addrs: [] }
      await store.write(store.admitDevice(record, device, invite, true))
    }
    return devices
  }

  const outbox = (store: SiteStore, maxQueuePerDevice = 100, sealSince?: number, more: Partial<SiteOutboxOptions> = {}): SiteOutbox => new SiteOutbox({
    store,
    signer: site,
    epochAgeMs: 24 * HOUR,
    defaultTtlMs: HOUR,
    maxTtlMs: 24 * HOUR,
    maxQueuePerDevice,
    sealSince,
    now: () => now,
    onEvent: e => { events.push(e) },
    directMaxDevices: 100,
    fanoutBatch: 256,
    deviceCacheSize: 1000,
    onBroadcast: e => { finished.push(e) },
    log: logger('tmtp:test'),
    ...more
  })

  it('hands each device stream 256 frames in flight whatever the others hold, and more only from the budget they share; a stopped stream gives its share back', async () => {
    const [ann] = await member(handle.store, 'ann')
    const [bob] = await member(handle.store, 'bob')
    const box = outbox(handle.store, 1000, undefined, { sharedInFlight: 50 })
    for (let n = 0; n < 400; n++) await box.send({ to: ['ann', 'bob'], subject: `s${n}`, body: 'b' })
    const [a, b] = [box.queue(ann.peer), box.queue(bob.peer)]
    const stops = [a.subscribe(() => {}), b.subscribe(() => {})]
    const aFirst = await a.next(1024, undefined, new Set())
    assert.equal(aFirst.length, 256 + 50, 'its own 256 and the whole budget')
    const bFirst = await b.next(1024, undefined, new Set())
    assert.equal(bFirst.length, 256, 'its own 256: nothing left to share')
    // ann's device acknowledges 100: it holds 206, below its own 256, and the budget is whole again
    await a.acknowledged(aFirst.slice(0, 100), signAck(ann.signer, site.peerId, aFirst.slice(0, 100).map(e => uint8ArrayFromString(e.idHex, 'base16')), now), now)
    const bMore = await b.next(1024, bFirst.at(-1)?.key, new Set(bFirst.map(e => e.key)))
    assert.equal(bMore.length, 50)
    assert.equal((await a.next(1024, aFirst.at(-1)?.key, new Set(aFirst.slice(100).map(e => e.key)))).length, 50, 'its own 256 less the 206 it holds')
    // bob's sender stops: what it held comes back to the budget
    stops[1]()
    assert.equal((await a.next(1024, undefined, new Set())).length, 50)
    stops[0]()
    // two streams reading at once: the first holds the budget while it reads, so the second gets
    // its own 256 only, though the first found 300 entries (ann's 400 less 100 delivered), not 306
    const again = [a.subscribe(() => {}), b.subscribe(() => {})]
    const [aNow, bNow] = await Promise.all([a.next(1024, undefined, new Set()), b.next(1024, undefined, new Set())])
    assert.deepEqual([aNow.length, bNow.length], [300, 256])
    for (const stop of again) stop()
  })

  it('queues one sealed envelope per device, settles acknowledged ones with the proof, and counts both in the same writes', async () => {
    const [ann] = await member(handle.store, 'ann')
    const box = outbox(handle.store)
    const sent = await Promise.all([1, 2, 3].map(async n => await box.send({ to: ['ann'], subject: `s${n}`, body: 'b' })))
    assert.deepEqual(await handle.store.counts(), { queued: 3, delivered: 0, expired: 0, rejected: 0, dropped: 0, replaced: 0 })
    const queue = box.queue(ann.peer)
    const entries = await queue.next(10, undefined, new Set())
    assert.deepEqual(entries.map(e => e.idHex).sort(), sent.map(s => s.id).sort())
    assert.equal(await queue.epochFrame?.(entries[0].epoch) !== undefined, true)

    const proof = signAck(ann.signer, site.peerId, entries.slice(0, 2).map(e => uint8ArrayFromString(e.idHex, 'base16')), now)
    await queue.acknowledged(entries.slice(0, 2), proof, now + 5)
    assert.deepEqual(await handle.store.counts(), { queued: 1, delivered: 2, expired: 0, rejected: 0, dropped: 0, replaced: 0 })
    assert.deepEqual(events.map(e => [e.type, e.id, e.device, e.member]), entries.slice(0, 2).map(e => ['delivered', e.idHex, ann.peer, 'm-ann']))
    const status = await handle.store.messageStatus(entries[0].idHex, { limit: 1000 })
    assert.equal(status?.devices[0].state, 'delivered')
    assert.equal(status?.devices[0].proof, uint8ArrayToString(proof, 'base64'))
    assert.deepEqual((await queue.next(10, undefined, new Set())).map(e => e.idHex), [entries[2].idHex])

    // the counters live in the database: a reopened store reads them back, no scan
    const reopened = await handle.reopen()
    assert.deepEqual(await reopened.counts(), { queued: 1, delivered: 2, expired: 0, rejected: 0, dropped: 0, replaced: 0 })
  })

  it('has work for a device exactly while envelopes are queued for it, whether its state is loaded or not', async () => {
    const [ann] = await member(handle.store, 'ann')
    const box = outbox(handle.store)
    assert.equal(await box.hasWork(ann.peer), false)
    await box.send({ to: ['ann'], subject: 's', body: 'b' })
    assert.equal(await box.hasWork(ann.peer), true)
    assert.equal(await outbox(handle.store).hasWork(ann.peer), true, 'from the store, by an outbox that has not loaded the device')
    const queue = box.queue(ann.peer)
    const entries = await queue.next(10, undefined, new Set())
    await queue.acknowledged(entries, signAck(ann.signer, site.peerId, entries.map(e => uint8ArrayFromString(e.idHex, 'base16')), now), now)
    assert.equal(await box.hasWork(ann.peer), false)
  })

  it('hands a running sender what is queued while it runs from memory, once it read the outbox to its end, and reads LevelDB when memory cannot vouch', async () => {
    const [ann] = await member(handle.store, 'ann')
    const box = outbox(handle.store)
    const queue = box.queue(ann.peer)
    const unsubscribe = queue.subscribe(() => {})
    let reads = 0
    const outboxPage = handle.store.outboxPage.bind(handle.store)
    handle.store.outboxPage = async (...args) => { reads++; return await outboxPage(...args) }
    const first = await box.send({ to: ['ann'], subject: 's1', body: 'b' })
    const [e1] = await queue.next(10, undefined, new Set())
    assert.equal(e1.idHex, first.id)
    assert.equal(reads, 1)

    const later = await Promise.all(['s2', 's3'].map(async subject => await box.send({ to: ['ann'], subject, body: 'b' })))
    const fresh = await queue.next(10, e1.key, new Set([e1.key]))
    assert.equal(reads, 1, 'from memory')
    assert.deepEqual(fresh.map(e => e.idHex).sort(), later.map(l => l.id).sort())
    // what memory gave is what the store holds, field by field
    const stored = await outbox(handle.store).queue(ann.peer).next(10, e1.key, new Set())
    const plain = (entries: typeof fresh): typeof fresh => entries.map(e => ({ ...e, frame: Uint8Array.from(e.frame) }))
    assert.deepEqual(plain(fresh), plain(stored))
    assert.equal(reads, 2)

    // a higher urgency sorts before the cursor: memory cannot vouch, the store is read
    const urgent = await box.send({ to: ['ann'], subject: 's4', body: 'b', urgency: 'high' })
    const cursor = fresh[1].key
    assert.deepEqual(await queue.next(10, cursor, new Set()), [])
    assert.equal(reads, 3)
    const inFlight = new Set([e1.key, ...fresh.map(e => e.key)])
    const [u] = await queue.next(10, undefined, inFlight)
    assert.equal(u.idHex, urgent.id)
    assert.equal(reads, 4)

    // one that expired while in memory is settled expired, not sent
    const short = await box.send({ to: ['ann'], subject: 's5', body: 'b', ttlMs: 1000 })
    now += 2000
    assert.deepEqual(await queue.next(10, u.key, new Set()), [])
    assert.equal(reads, 4, 'from memory')
    assert.equal((await handle.store.messageStatus(short.id, { limit: 1000 }))?.devices[0].state, 'expired')
    unsubscribe()
  })

  it('reads a page of the outbox sized by what is in flight after the cursor: none when reading on, all of them from the start', async () => {
    const [ann] = await member(handle.store, 'ann')
    const box = outbox(handle.store)
    const queue = box.queue(ann.peer)
    const limits: number[] = []
    const outboxPage = handle.store.outboxPage.bind(handle.store)
    handle.store.outboxPage = async (device, options) => { limits.push(options.limit); return await outboxPage(device, options) }
    const sent: string[] = []
    for (const subject of ['s1', 's2', 's3', 's4', 's5', 's6']) sent.push((await box.send({ to: ['ann'], subject, body: 'b' })).id)
    const first = await queue.next(2, undefined, new Set())
    const inFlight = new Set(first.map(e => e.key))
    const more = await queue.next(2, first[1].key, inFlight)
    assert.deepEqual(more.map(e => e.idHex), sent.slice(2, 4))
    assert.deepEqual(limits, [2, 2], 'reading on from the cursor, what is in flight sorts before it')

    // a higher urgency read from the start leaves the cursor before the four in flight
    for (const e of more) inFlight.add(e.key)
    const urgent = await box.send({ to: ['ann'], subject: 'u', body: 'b', urgency: 'high' })
    const [u] = await queue.next(1, undefined, inFlight)
    assert.equal(u.idHex, urgent.id)
    const rest = await queue.next(2, u.key, inFlight)
    assert.deepEqual(rest.map(e => e.idHex), sent.slice(4))
    assert.deepEqual(limits, [2, 2, 5, 6], 'one page each, past the four in flight')
  })

  it('drops a device\'s queue once when two drop it at the same time (a removal, and the courier finding it gone)', async () => {
    const [ann] = await member(handle.store, 'ann')
    const box = outbox(handle.store)
    await Promise.all([1, 2, 3].map(async n => await box.send({ to: ['ann'], subject: `s${n}`, body: 'b' })))
    await Promise.all([box.dropDevice(ann.peer, 'removed'), box.dropDevice(ann.peer, 'gone')])
    assert.deepEqual(await handle.store.counts(), { queued: 0, delivered: 0, expired: 0, rejected: 0, dropped: 3, replaced: 0 })
    assert.equal(events.filter(e => e.type === 'dropped').length, 3)
  })

  it('marks expired what outlived its TTL, replaces an undelivered message of the same topic, and refuses a send when every device is full (QUEUE_FULL)', async () => {
    const [ann] = await member(handle.store, 'ann')
    const box = outbox(handle.store, 2)
    const old = await box.send({ to: ['ann'], subject: 'old', body: 'b', ttlMs: 1000 })
    const first = await box.send({ to: ['ann'], subject: 'v1', body: 'b', topic: 'score' })
    const second = await box.send({ to: ['ann'], subject: 'v2', body: 'b', topic: 'score' })
    assert.deepEqual(events.map(e => [e.type, e.id]), [['replaced', first.id]])
    now += 2000
    assert.equal(await box.sweepExpired(), 1)
    assert.deepEqual(events.map(e => [e.type, e.id]), [['replaced', first.id], ['expired', old.id]])
    await box.send({ to: ['ann'], subject: 'fills', body: 'b' })
    // two queued now (second, fills): the next send finds the device full
    await assert.rejects(box.send({ to: ['ann'], subject: 'too many', body: 'b' }), (err: unknown) => err instanceof NodeError && err.code === 'QUEUE_FULL')
    assert.deepEqual(await handle.store.counts(), { queued: 2, delivered: 0, expired: 1, rejected: 0, dropped: 0, replaced: 1 })
    assert.deepEqual((await box.queue(ann.peer).next(10, undefined, new Set())).map(e => e.idHex)[0], second.id)
  })

  it('returns the first send for a repeated idempotency key and queues nothing more', async () => {
    await member(handle.store, 'ann', 2)
    const box = outbox(handle.store)
    const a = await box.send({ to: ['ann'], subject: 's', body: 'b', idempotencyKey: 'order-1' })
    const b = await box.send({ to: ['ann'], subject: 'other', body: 'x', idempotencyKey: 'order-1' })
    assert.equal(a.duplicate, false)
    assert.deepEqual({ ...b, duplicate: false }, a)
    assert.equal(b.duplicate, true)
    assert.equal((await handle.store.counts()).queued, 2)
  })

  it('counts what an older database holds when it has no counters yet', async () => {
    await member(handle.store, 'ann')
    const box = outbox(handle.store)
    await box.send({ to: ['ann'], subject: 's', body: 'b' })
    await box.send({ to: ['ann'], subject: 's', body: 'b', ttlMs: 1 })
    now += 10
    await box.sweepExpired()
    // as a node before the counters left it: no cnt: keys
    await handle.db.write(['queued', 'delivered', 'expired', 'rejected', 'dropped', 'replaced'].map(s => ({ key: `cnt:${s}` })))
    assert.deepEqual(await (await handle.reopen()).counts(), { queued: 1, delivered: 0, expired: 1, rejected: 0, dropped: 0, replaced: 0 })
  })

  it('after an unclean start without fsync, seals under a new epoch: a rolled-back sequence number never meets the old keys again', async () => {
    const [ann] = await member(handle.store, 'ann')
    await outbox(handle.store).send({ to: ['ann'], subject: 'before', body: 'b' })
    const [before] = await outbox(handle.store).queue(ann.peer).next(10, undefined, new Set())
    now += 1000
    // the node restarted after a crash: epochs made before this start are not sealed under again
    const restarted = outbox(await handle.reopen(), 100, now)
    await restarted.send({ to: ['ann'], subject: 'after', body: 'b' })
    const entries = await restarted.queue(ann.peer).next(10, undefined, new Set())
    assert.equal(entries.length, 2)
    assert.ok(entries[1].epoch > before.epoch, `a new epoch (${entries[1].epoch} after ${before.epoch})`)
    await outbox(handle.store, 100, 0).send({ to: ['ann'], subject: 'again', body: 'b' })
    const again = await outbox(handle.store).queue(ann.peer).next(10, undefined, new Set())
    assert.equal(again[2].epoch, entries[1].epoch, 'after a clean start the current epoch goes on')
  })

  describe('broadcasts', () => {
    /** Fan-outs of 2 devices a batch, for sends to more than 2 devices. */
    const SMALL = { directMaxDevices: 2, fanoutBatch: 2 }

    /** Every device's outbox: the sequence numbers of its entries, by message id. */
    async function outboxes (box: SiteOutbox, devices: Array<{ peer: string }>): Promise<Array<Map<string, number[]>>> {
      return await Promise.all(devices.map(async d => {
        const byId = new Map<string, number[]>()
        for (const e of await box.queue(d.peer).next(100, undefined, new Set())) byId.set(e.idHex, [...(byId.get(e.idHex) ?? []), Number(e.key.split(':')[3])])
        return byId
      }))
    }

    /** Five devices: ann's two, bob's, cat's, dan's. */
    async function five (): Promise<Array<{ signer: Ed25519Signer, peer: string }>> {
      return [...await member(handle.store, 'ann', 2), ...await member(handle.store, 'bob'), ...await member(handle.store, 'cat'), ...await member(handle.store, 'dan')]
    }

    it('accepts a send to more devices than directMaxDevices at once and fans it out in batches: one copy per device, counted, paged in the order resolved', async () => {
      const devices = await five()
      const box = outbox(handle.store, 100, undefined, SMALL)
      const sent = await box.send({ all: true, subject: 'all', body: 'b' })
      assert.deepEqual({ devices: sent.devices, fanout: sent.fanout, recipients: sent.recipients }, { devices: 5, fanout: true, recipients: [] })
      await waitFor('the fan-out', async () => (await handle.store.messageStatus(sent.id, { limit: 1 }))?.counts.pending === 0)
      for (const byId of await outboxes(box, devices)) assert.deepEqual([...byId], [[sent.id, [1]]])
      const status = await handle.store.messageStatus(sent.id, { limit: 2 })
      assert.deepEqual(status?.counts, { pending: 0, queued: 5, delivered: 0, expired: 0, rejected: 0, dropped: 0, replaced: 0 })
      assert.equal(status?.total, 5)
      const paged: string[] = []
      let after: string | undefined
      for (let page = 0; page < 5; page++) {
        const p = await handle.store.messageStatus(sent.id, { after, limit: 2 })
        assert.ok(p !== undefined)
        paged.push(...p.devices.map(d => d.device))
        assert.ok(p.devices.every(d => d.state === 'queued' && d.seq === 1))
        if (p.next === null) break
        after = p.next
      }
      assert.deepEqual(paged.sort(), devices.map(d => d.peer).sort())
      // a cursor of another message, or one the store did not make, is refused
      const other = await box.send({ to: ['ann'], subject: 'direct', body: 'b' })
      assert.deepEqual({ devices: other.devices, fanout: other.fanout }, { devices: 2, fanout: false })
      for (const cursor of [status?.next ?? '', 'bm90IGEgY3Vyc29y']) {
        const otherId = cursor === status?.next ? other.id : sent.id
        await assert.rejects(handle.store.messageStatus(otherId, { after: cursor, limit: 2 }), (err: unknown) => err instanceof NodeError && err.code === 'INVALID_ARGUMENT')
      }
    })

    it('resumes a fan-out stopped between batches from its durable cursor: each device gets one copy, no sequence number twice, with at most `deviceCacheSize` states in memory', async () => {
      const devices = await five()
      const box = outbox(handle.store, 100, undefined, { ...SMALL, deviceCacheSize: 2 })
      const direct = await box.send({ to: ['bob'], subject: 'first', body: 'b' })
      const sent = await box.send({ all: true, subject: 'all', body: 'b' })
      await box.stop()
      const partway = await handle.store.messageStatus(sent.id, { limit: 5 })
      assert.ok((partway?.counts.pending ?? 0) > 0, 'stopped before the fan-out ended')
      // a new outbox on the reopened store, as after a restart
      const restarted = outbox(await handle.reopen(), 100, undefined, { ...SMALL, deviceCacheSize: 2 })
      await restarted.loadBroadcasts()
      await restarted.resumeFanouts()
      await waitFor('the fan-out', async () => (await handle.store.messageStatus(sent.id, { limit: 1 }))?.counts.pending === 0)
      const byDevice = await outboxes(restarted, devices)
      byDevice.forEach((byId, i) => {
        const bob = devices[i].peer === devices[2].peer
        assert.deepEqual(Object.fromEntries(byId), bob ? { [direct.id]: [1], [sent.id]: [2] } : { [sent.id]: [1] })
      })
      // evicted states are read back with their sequence numbers: a second broadcast goes on from them
      const again = await restarted.send({ all: true, subject: 'again', body: 'b' })
      await waitFor('the second fan-out', async () => (await handle.store.messageStatus(again.id, { limit: 1 }))?.counts.pending === 0)
      for (const [i, byId] of (await outboxes(restarted, devices)).entries()) {
        assert.deepEqual(byId.get(again.id), [devices[i].peer === devices[2].peer ? 3 : 2])
      }
    })

    it('reports once: no event per copy in the journal, one broadcast event with the counts when the last copy settled; a full queue drops its copy', async () => {
      const devices = await five()
      const journaled: unknown[] = []
      const journal = (list: unknown[]): Write[] => { journaled.push(...list); return [] }
      const box = outbox(handle.store, 1, undefined, { ...SMALL, journal })
      await box.send({ to: ['cat'], subject: 'fills cat', body: 'b' })
      const sent = await box.send({ all: true, subject: 'all', body: 'b', report: 'once' })
      await waitFor('the fan-out', async () => (await handle.store.messageStatus(sent.id, { limit: 1 }))?.counts.pending === 0)
      const cat = devices[3]
      for (const d of devices) {
        const queue = box.queue(d.peer)
        const entries = (await queue.next(10, undefined, new Set())).filter(e => e.idHex === sent.id)
        assert.equal(entries.length, d === cat ? 0 : 1)
        if (entries.length > 0) await queue.acknowledged(entries, signAck(d.signer, site.peerId, entries.map(e => uint8ArrayFromString(e.idHex, 'base16')), now), now + 1)
      }
      const counts = { queued: 0, delivered: 4, expired: 0, rejected: 0, dropped: 1, replaced: 0 }
      assert.deepEqual(finished.map(e => [e.id, e.devices, e.counts]), [[sent.id, 5, counts]])
      assert.deepEqual(journaled.filter(e => (e as { id: string }).id === sent.id), [{ type: 'broadcast', id: sent.id, created: now, at: now + 1, devices: 5, counts }])
      assert.equal(events.filter(e => e.id === sent.id).length, 5, 'the copies are still events of the node')
      const status = await handle.store.messageStatus(sent.id, { limit: 5 })
      assert.deepEqual(status?.counts, { pending: 0, ...counts })
      assert.equal(status?.devices.find(d => d.device === cat.peer)?.code, 'QUEUE_FULL')
    })

    it('a topic: a broadcast replaces a member\'s older queued message of it, and its copy not sealed yet is replaced by a newer one', async () => {
      const devices = await five()
      const [annPhone, annLaptop, bob] = devices
      const box = outbox(handle.store, 100, undefined, SMALL)
      const older = await box.send({ to: ['bob'], subject: 'score 1', body: 'b', topic: 'score' })
      await box.stop()
      now += 1
      const broadcast = await box.send({ all: true, subject: 'score 2', body: 'b', topic: 'score' })
      now += 1
      // sent to ann after the broadcast was accepted, before its fan-out reached her
      const newer = await box.send({ to: ['ann'], subject: 'score 3', body: 'b', topic: 'score' })
      const restarted = outbox(handle.store, 100, undefined, SMALL)
      await restarted.loadBroadcasts()
      await restarted.resumeFanouts()
      await waitFor('the fan-out', async () => (await handle.store.messageStatus(broadcast.id, { limit: 1 }))?.counts.pending === 0)
      const status = await handle.store.messageStatus(broadcast.id, { limit: 5 })
      const stateOf = (peer: string): string | undefined => status?.devices.find(d => d.device === peer)?.state
      assert.deepEqual([stateOf(annPhone.peer), stateOf(annLaptop.peer), stateOf(bob.peer)], ['replaced', 'replaced', 'queued'])
      assert.equal(status?.devices.find(d => d.device === annPhone.peer)?.detail, `replaced by ${newer.id}`)
      assert.deepEqual(status?.counts, { pending: 0, queued: 3, delivered: 0, expired: 0, rejected: 0, dropped: 0, replaced: 2 })
      assert.equal((await handle.store.messageStatus(older.id, { limit: 1 }))?.devices[0].state, 'replaced', 'bob\'s older message of the topic')
      assert.deepEqual((await outboxes(restarted, devices)).map(byId => [...byId.keys()]), [[newer.id], [newer.id], [broadcast.id], [broadcast.id], [broadcast.id]])
    })

    it('expires the copies of a broadcast whose time ran out before the fan-out reached them', async () => {
      await five()
      const box = outbox(handle.store, 100, undefined, SMALL)
      await box.stop()
      const sent = await box.send({ all: true, subject: 'late', body: 'b', ttlMs: 1000 })
      now += 2000
      const restarted = outbox(handle.store, 100, undefined, SMALL)
      await restarted.loadBroadcasts()
      await restarted.resumeFanouts()
      await waitFor('the fan-out', async () => (await handle.store.messageStatus(sent.id, { limit: 1 }))?.counts.pending === 0)
      assert.deepEqual((await handle.store.messageStatus(sent.id, { limit: 1 }))?.counts, { pending: 0, queued: 0, delivered: 0, expired: 5, rejected: 0, dropped: 0, replaced: 0 })
      assert.deepEqual(finished.map(e => e.id), [sent.id])
    })
  })
})
