import { Libp2pRecord } from '@libp2p/record'
import { BaseDatastore } from 'datastore-core/base'
import { Key, type KeyQuery, type Pair, type Query } from 'interface-datastore'
import { NotFoundError } from 'interface-store'
import { fromString as uint8ArrayFromString, toString as uint8ArrayToString } from 'uint8arrays'
import { decodeSignedPayload, equalBytes } from '../crypto/index.js'
import { AddressRecord, decodeMessage, ErrorCode, isTmtpError, TmtpError } from '../protocol/index.js'
import { peerFromAddressRecordKey } from './address-record.js'
import { MAX_RECORD_ADDRS, MAX_STORED_RECORD_BYTES } from './constants.js'

/**
 * Where kad-dht keeps the records it stores: its datastore prefix ('/dht', kad-dht's default,
 * which tmtpDhtInit keeps) + '/record/' + the record key in base32. Its provider records go
 * under '/dht/provider/'.
 */
export const DHT_RECORD_PREFIX = '/dht/record/'

export interface DhtRecordStoreInit {
  /** The most records kept. */
  maxRecords: number
  /** The most bytes kept, counting each record's datastore key and value. */
  maxBytes: number
  /** This node's own address-record key: kad-dht stores the node's record here before it publishes it, so it is always kept. */
  ownKey: Uint8Array
  /** The clock, in ms. @default Date.now */
  now?: () => number
}

interface Entry {
  /**
   * The value's bytes as a latin1 string: a copy (the value kad-dht hands over may be a view
   * of a larger buffer, a chunk of the connection's reads, that it would keep alive), and
   * kept on V8's heap, without the ~400 bytes of objects and native memory a Uint8Array costs.
   */
  value: string
  /** The address record's `expires`: the record is dropped from then on. */
  expires: number
}

/**
 * The datastore of a TMTP DHT server's kad-dht (spec: "The DHT", "Resource use"): it keeps
 * TMTP address records only, in memory, within hard caps on records and bytes. kad-dht
 * itself bounds nothing (docs/LIBP2P-NOTES.md, trap 10): its PUT_VALUE handler stores every
 * record that passes its validator, and its ADD_PROVIDER handler every provider record.
 *
 * - A write under any other key than an address-record key (provider records, other record
 *   types) is refused with BAD_FRAME: kad-dht's ADD_PROVIDER then fails before it touches
 *   the peer store. So is a record larger than an address record can be.
 * - Expired address records are dropped: on read, and when the store is full.
 * - Full (maxRecords or maxBytes reached after dropping expired records): a record under a
 *   new key is refused with RATE_LIMITED; a newer record under a key already stored still
 *   replaces it. Records already held are never evicted for newcomers, so a flood cannot
 *   push out the records of the nodes this server already serves, which republish in place;
 *   the price is that new nodes find this server full until records expire (2 h for the
 *   records TMTP nodes sign, at most 48 h), and publish to the other closest servers.
 * - The node's own record is always kept (it may exceed the caps by that one record).
 */
export class DhtRecordStore extends BaseDatastore {
  private readonly init: DhtRecordStoreInit
  private readonly now: () => number
  private readonly ownId: string
  private readonly records = new Map<string, Entry>()
  private bytes = 0
  /** The earliest `expires` of the records held: no scan for expired records before then. */
  private nextExpiry = Infinity

  constructor (init: DhtRecordStoreInit) {
    super()
    this.init = init
    this.now = init.now ?? Date.now
    this.ownId = DHT_RECORD_PREFIX + uint8ArrayToString(init.ownKey, 'base32')
  }

  /** Records held (expired ones not yet dropped included). */
  get size (): number {
    return this.records.size
  }

  /** Bytes held: the datastore keys and values of the records. */
  get byteLength (): number {
    return this.bytes
  }

  override put (key: Key, value: Uint8Array): Key {
    const id = key.toString()
    const expires = recordExpiry(id, value)
    const old = this.records.get(id)
    const added = old === undefined ? 1 : 0
    const grown = id.length + value.byteLength - (old === undefined ? 0 : id.length + old.value.length)
    const fits = (): boolean => this.records.size + added <= this.init.maxRecords && this.bytes + grown <= this.init.maxBytes
    if (id !== this.ownId && !fits()) {
      this.dropExpired()
      if (!fits()) throw new TmtpError(ErrorCode.RATE_LIMITED, `the DHT record store is full (${this.init.maxRecords} records, ${this.init.maxBytes} bytes)`)
    }
    this.records.set(id, { value: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1'), expires })
    this.bytes += grown
    this.nextExpiry = Math.min(this.nextExpiry, expires)
    return key
  }

  override get (key: Key): Uint8Array {
    const entry = this.live(key.toString())
    if (entry === undefined) throw new NotFoundError(`no record under ${key.toString()}`)
    return Buffer.from(entry.value, 'latin1')
  }

  override has (key: Key): boolean {
    return this.live(key.toString()) !== undefined
  }

  override delete (key: Key): void {
    this.remove(key.toString())
  }

  override * _all (q: Query): Generator<Pair> {
    for (const [id, entry] of this.records) {
      if (q.prefix === undefined || id.startsWith(q.prefix)) yield { key: new Key(id), value: Buffer.from(entry.value, 'latin1') }
    }
  }

  override * _allKeys (q: KeyQuery): Generator<Key> {
    for (const id of this.records.keys()) {
      if (q.prefix === undefined || id.startsWith(q.prefix)) yield new Key(id)
    }
  }

  /** The entry under `id` unless it has expired (then it is dropped). */
  private live (id: string): Entry | undefined {
    const entry = this.records.get(id)
    if (entry !== undefined && this.now() >= entry.expires) {
      this.remove(id)
      return undefined
    }
    return entry
  }

  private remove (id: string): void {
    const entry = this.records.get(id)
    if (entry === undefined) return
    this.records.delete(id)
    this.bytes -= id.length + entry.value.length
  }

  /** Drops every expired record; scans only once the earliest expiry has passed. */
  private dropExpired (): void {
    const now = this.now()
    if (now < this.nextExpiry) return
    let next = Infinity
    for (const [id, entry] of this.records) {
      if (now >= entry.expires) this.remove(id)
      else next = Math.min(next, entry.expires)
    }
    this.nextExpiry = next
  }
}

/**
 * The `expires` of the address record kad-dht stores under datastore key `id`; BAD_FRAME for
 * anything else. kad-dht validated the record before this (its signature included); this
 * only checks what is stored is an address record under its own key, and reads its expiry.
 */
function recordExpiry (id: string, value: Uint8Array): number {
  if (!id.startsWith(DHT_RECORD_PREFIX)) throw new TmtpError(ErrorCode.BAD_FRAME, 'a TMTP DHT server stores address records only (no provider records)')
  if (value.byteLength > MAX_STORED_RECORD_BYTES) throw new TmtpError(ErrorCode.BAD_FRAME, `a stored DHT record is at most ${MAX_STORED_RECORD_BYTES} bytes`)
  try {
    const recordKey = uint8ArrayFromString(id.slice(DHT_RECORD_PREFIX.length), 'base32')
    peerFromAddressRecordKey(recordKey)
    const record = Libp2pRecord.deserialize(value)
    if (!equalBytes(record.key, recordKey)) throw new TmtpError(ErrorCode.BAD_FRAME, 'the record names another key than it is stored under')
    const signed = decodeSignedPayload(record.value, 'address record')
    return decodeMessage(AddressRecord, signed.payload, 'address record', { limits: { addrs: MAX_RECORD_ADDRS } }).expires
  } catch (err) {
    if (isTmtpError(err)) throw err
    throw new TmtpError(ErrorCode.BAD_FRAME, 'not a TMTP address record', { cause: err })
  }
}
