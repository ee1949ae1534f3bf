import assert from 'node:assert/strict'
import { Libp2pRecord } from '@libp2p/record'
import { Key } from 'interface-datastore'
import { toString as uint8ArrayToString } from 'uint8arrays'
import { Ed25519Signer } from '../../src/crypto/ed25519.js'
import { addressRecordKey, signAddressRecord } from '../../src/discovery/address-record.js'
import { MAX_ADDRESS_RECORD_BYTES } from '../../src/discovery/constants.js'
import { MAX_STORED_RECORD_BYTES } from '../../src/discovery/constants.js'
import { DHT_RECORD_PREFIX, DhtRecordStore } from '../../src/discovery/record-store.js'
import { isTmtpError } from '../../src/protocol/errors.js'

/** What kad-dht writes for a record: its datastore key and the record in kad-dht's wrapper. */
function stored (signer: Ed25519Signer, expires: number, addrs = ['/ip4/10.0.0.1/tcp/4001']): { key: Key, value: Uint8Array } {
  const recordKey = addressRecordKey(signer.peerId)
  const value = signAddressRecord(signer, addrs, 1, expires)
  return { key: new Key(DHT_RECORD_PREFIX + uint8ArrayToString(recordKey, 'base32'), false), value: new Libp2pRecord(recordKey, value, new Date()).serialize() }
}

function refused (code: string): (err: unknown) => boolean {
  return err => isTmtpError(err) && err.code === code
}

describe('discovery/record-store: the bounded datastore of a DHT server', () => {
  let now = 1_000_000
  const clock = (): number => now
  const own = Ed25519Signer.generate()
  const signers = Array.from({ length: 4 }, () => Ed25519Signer.generate())
  const store = (maxRecords = 2, maxBytes = 1 << 20): DhtRecordStore => new DhtRecordStore({ maxRecords, maxBytes, ownKey: addressRecordKey(own.peerId), now: clock })

  beforeEach(() => { now = 1_000_000 })

  it('the largest address record fits MAX_ADDRESS_RECORD_BYTES exactly, and its stored form MAX_STORED_RECORD_BYTES', () => {
    const addrs = Array.from({ length: 16 }, () => `/dns4/${'x'.repeat(506)}/tcp/65535`)
    const value = signAddressRecord(own, addrs, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)
    assert.equal(value.byteLength, MAX_ADDRESS_RECORD_BYTES)
    const record = new Libp2pRecord(addressRecordKey(own.peerId), value, new Date()).serialize()
    assert.ok(record.byteLength <= MAX_STORED_RECORD_BYTES, `${record.byteLength} > ${MAX_STORED_RECORD_BYTES}`)
  })

  it('keeps address records and gives them back; drops them once expired', async () => {
    const s = store()
    const a = stored(signers[0], now + 1000)
    s.put(a.key, a.value)
    assert.deepEqual(new Uint8Array(s.get(a.key)), a.value)
    assert.equal(s.has(a.key), true)
    const keys: string[] = []
    for await (const pair of s.query({ prefix: '/dht/record' })) keys.push(pair.key.toString())
    assert.deepEqual(keys, [a.key.toString()])
    now += 1000
    assert.equal(s.has(a.key), false)
    assert.throws(() => s.get(a.key), { name: 'NotFoundError' })
    assert.equal(s.size, 0)
    assert.equal(s.byteLength, 0)
  })

  it('when full, refuses new keys (RATE_LIMITED) but replaces a held record, keeps its own, and makes room from expired records', () => {
    const s = store(2)
    const [a, b, c] = signers.map((signer, i) => stored(signer, now + 1000 + i * 1000))
    s.put(a.key, a.value)
    s.put(b.key, b.value)
    assert.throws(() => s.put(c.key, c.value), refused('RATE_LIMITED'))
    // a newer record under a held key replaces it
    const newer = stored(signers[0], now + 2000)
    s.put(newer.key, newer.value)
    assert.deepEqual(new Uint8Array(s.get(a.key)), newer.value)
    // the node's own record goes in whatever the bounds
    const mine = stored(own, now + 1000)
    s.put(mine.key, mine.value)
    assert.equal(s.size, 3)
    // once a and b expire, c takes a place
    now += 2000
    s.delete(mine.key)
    s.put(c.key, c.value)
    assert.equal(s.has(b.key), false)
    assert.equal(s.has(c.key), true)
  })

  it('bounds bytes as it bounds records', () => {
    const a = stored(signers[0], now + 1000)
    const s = store(100, a.key.toString().length + a.value.byteLength + 10)
    s.put(a.key, a.value)
    const b = stored(signers[1], now + 1000)
    assert.throws(() => s.put(b.key, b.value), refused('RATE_LIMITED'))
    assert.equal(s.byteLength, a.key.toString().length + a.value.byteLength)
  })

  it('refuses provider records, other keys, records under another key and values larger than an address record can be (BAD_FRAME)', () => {
    const s = store(100)
    const a = stored(signers[0], now + 1000)
    assert.throws(() => s.put(new Key('/dht/provider/CIQ/12D3KooW'), new Uint8Array(8)), refused('BAD_FRAME'))
    assert.throws(() => s.put(new Key('/peers/x'), new Uint8Array(8)), refused('BAD_FRAME'))
    const pkKey = new Uint8Array([...new TextEncoder().encode('/pk/'), ...own.peerId])
    assert.throws(() => s.put(new Key(DHT_RECORD_PREFIX + uint8ArrayToString(pkKey, 'base32'), false), new Libp2pRecord(pkKey, own.publicKey, new Date()).serialize()), refused('BAD_FRAME'))
    const b = stored(signers[1], now + 1000)
    assert.throws(() => s.put(a.key, b.value), refused('BAD_FRAME'))
    assert.throws(() => s.put(a.key, new Uint8Array(MAX_STORED_RECORD_BYTES + 1)), refused('BAD_FRAME'))
    assert.throws(() => s.put(a.key, new Uint8Array([1, 2, 3])), refused('BAD_FRAME'))
    assert.equal(s.size, 0)
  })
})
