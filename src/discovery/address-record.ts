import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { decodeSignedPayload, equalBytes, PEER_ID_BYTES, publicKeyFromPeerId, signMessage, verifySignedPayload, type Ed25519Signer } from '../crypto/index.js'
import { AddressRecord, decodeMessage, ErrorCode, isTmtpError, MAX_CLOCK_SKEW_MS, SIGNING_CONTEXT, TmtpError } from '../protocol/index.js'
import { decodeMultiaddr } from './multiaddr.js'
import { ADDRESS_RECORD_KEY_PREFIX, MAX_ADDRESS_RECORD_BYTES, MAX_RECORD_ADDRS, MAX_RECORD_ADDR_BYTES, MAX_RECORD_LIFETIME_MS } from './constants.js'
import type { AbortOptions } from '@libp2p/interface'

/**
 * The signed address record a node publishes in the TMTP DHT (spec: "The DHT", "Address
 * records"): its PeerId, its current multiaddrs, a sequence number and an expiry, signed by
 * the node itself as a SignedPayload with context "tmtp/1/address-record".
 */

/** An address record that opened: the signer is `peer`, and it had not expired at `now`. */
export interface VerifiedAddressRecord {
  peer: Uint8Array
  addrs: Multiaddr[]
  seq: number
  expires: number
}

/** The `/p2p/<PeerId>` multiaddr protocol: an address in a record must not end with it. */
const P2P_CODE = 421

const KEY_PREFIX = new TextEncoder().encode(ADDRESS_RECORD_KEY_PREFIX)

/** The DHT key of a node's address record: "/tmtp-addr/" || PeerId (binary, 38 bytes). */
export function addressRecordKey (peer: Uint8Array): Uint8Array {
  publicKeyFromPeerId(peer)
  const key = new Uint8Array(KEY_PREFIX.byteLength + peer.byteLength)
  key.set(KEY_PREFIX)
  key.set(peer, KEY_PREFIX.byteLength)
  return key
}

/** The PeerId an address-record key names; BAD_FRAME for a key of any other form. */
export function peerFromAddressRecordKey (key: Uint8Array): Uint8Array {
  if (key.byteLength !== KEY_PREFIX.byteLength + PEER_ID_BYTES || !KEY_PREFIX.every((b, i) => key[i] === b)) {
    throw new TmtpError(ErrorCode.BAD_FRAME, 'not an address-record key')
  }
  const peer = key.slice(KEY_PREFIX.byteLength)
  publicKeyFromPeerId(peer)
  return peer
}

/**
 * Signs this node's address record and returns the SignedPayload bytes to put in the DHT
 * under addressRecordKey(signer.peerId). `seq` must grow with every record the node signs
 * (the time of signing in ms does); `expires` is a time in ms, at most 48 h ahead.
 * BAD_FRAME for fields the spec does not allow (too many addresses, an address that is not
 * a multiaddr or ends with /p2p, seq below 1).
 */
export function signAddressRecord (signer: Ed25519Signer, addrs: ReadonlyArray<Multiaddr | Uint8Array | string>, seq: number, expires: number): Uint8Array {
  const bytes = addrs.map(a => typeof a === 'string' ? multiaddr(a).bytes : a instanceof Uint8Array ? a : a.bytes)
  const record: AddressRecord = {
    peer: signer.peerId as Uint8Array<ArrayBuffer>,
    addrs: bytes as Array<Uint8Array<ArrayBuffer>>,
    seq,
    expires
  }
  checkFields(record)
  return signMessage(signer, SIGNING_CONTEXT.addressRecord, AddressRecord, record)
}

/**
 * Opens an address record found under `key` (spec: "Address records", validation), in the
 * spec's order. Throws a TmtpError:
 * - BAD_FRAME: key not "/tmtp-addr/" || PeerId, record longer than MAX_ADDRESS_RECORD_BYTES
 *   (8367), undecodable or not canonical, peer not a PeerId, more than 16 addresses, an
 *   address that is empty, longer than 512 bytes, not a multiaddr, or ending with /p2p; seq
 *   below 1;
 * - BAD_SIGNATURE: signature not 64 bytes or not by `peer`;
 * - WRONG_SIGNER: `peer` is not the PeerId the key names;
 * - EXPIRED: now >= expires;
 * - BAD_TIMESTAMP: expires more than 48 h (plus the 5 min clock skew) after now.
 */
export function openAddressRecord (key: Uint8Array, bytes: Uint8Array, now: number): VerifiedAddressRecord {
  const keyPeer = peerFromAddressRecordKey(key)
  if (bytes.byteLength > MAX_ADDRESS_RECORD_BYTES) throw new TmtpError(ErrorCode.BAD_FRAME, `an address record is at most ${MAX_ADDRESS_RECORD_BYTES} bytes`)
  const signed = decodeSignedPayload(bytes, 'address record')
  const record = decodeMessage(AddressRecord, signed.payload, 'address record', { limits: { addrs: MAX_RECORD_ADDRS } })
  publicKeyFromPeerId(record.peer)
  if (!equalBytes(record.peer, keyPeer)) throw new TmtpError(ErrorCode.WRONG_SIGNER, 'address record is for another peer than its key names')
  verifySignedPayload(signed, SIGNING_CONTEXT.addressRecord, record.peer, 'address record')
  const addrs = checkFields(record)
  if (now >= record.expires) throw new TmtpError(ErrorCode.EXPIRED, 'address record has expired')
  if (record.expires > now + MAX_RECORD_LIFETIME_MS + MAX_CLOCK_SKEW_MS) {
    throw new TmtpError(ErrorCode.BAD_TIMESTAMP, 'address record expires more than 48 h ahead')
  }
  return { peer: record.peer, addrs, seq: record.seq, expires: record.expires }
}

/** Like openAddressRecord, but returns the TmtpError instead of throwing it. */
export function tryOpenAddressRecord (key: Uint8Array, bytes: Uint8Array, now: number): VerifiedAddressRecord | TmtpError {
  try {
    return openAddressRecord(key, bytes, now)
  } catch (err) {
    if (isTmtpError(err)) return err
    throw err
  }
}

/**
 * A stateless kad-dht validator of the "tmtp-addr" namespace: throws the TmtpError of
 * openAddressRecord at the current time. kad-dht runs its validator on every record a peer
 * asks this node to store (PUT_VALUE), on every record a query receives and on the record it
 * holds itself, and discards the record when it throws: a forged, malformed, expired or
 * far-future record is neither stored nor returned by `get`.
 */
export function validateAddressRecord (key: Uint8Array, value: Uint8Array): void {
  openAddressRecord(key, value, Date.now())
}

export interface AddressRecordValidatorInit {
  /** How many keys to remember the highest seq of. @default 10000 */
  size?: number
  /** The clock, in ms. @default Date.now */
  now?: () => number
}

export const DEFAULT_SEEN_RECORDS = 10_000

/**
 * The validator the TMTP DHT uses: validateAddressRecord, and in addition it remembers the
 * highest seq it has accepted per key (until that record expires) and refuses a record with
 * a lower seq that a peer asks this node to store (spec: "Validation"). kad-dht's PUT_VALUE
 * handler replaces a stored record with any record that validates, so without this a replayed
 * older record (validly signed, not yet expired) would overwrite a newer one.
 *
 * How it tells a store request from a read: kad-dht 16 calls a validator without `options`
 * only from its PUT_VALUE handler; its reads (the local record, the records a query receives)
 * pass options. A stale record is let through on reads: there it loses to the newer one in
 * selectAddressRecord, and kad-dht then sends the newer record to the peer that returned the
 * stale one (a "correction"); refusing it there would leave that peer stale.
 * test/discovery/dht.spec.ts checks both behaviours against the installed kad-dht.
 *
 * Memory is bounded by `size` keys; the oldest entry is forgotten first.
 */
export function createAddressRecordValidator (init: AddressRecordValidatorInit = {}): (key: Uint8Array, value: Uint8Array, options?: AbortOptions) => void {
  const size = init.size ?? DEFAULT_SEEN_RECORDS
  const clock = init.now ?? Date.now
  const seen = new Map<string, { seq: number, expires: number }>()
  return (key, value, options) => {
    const now = clock()
    const record = openAddressRecord(key, value, now)
    const id = Buffer.from(key).toString('latin1')
    const highest = seen.get(id)
    if (highest !== undefined && now < highest.expires && record.seq <= highest.seq) {
      if (record.seq < highest.seq && options === undefined) {
        throw new TmtpError(ErrorCode.EXPIRED, 'a newer address record of this peer is known')
      }
      return
    }
    seen.delete(id)
    if (size <= 0) return
    if (seen.size >= size) seen.delete(seen.keys().next().value as string)
    seen.set(id, { seq: record.seq, expires: record.expires })
  }
}

/**
 * The kad-dht selector of the "tmtp-addr" namespace: the index of the best of several
 * records found for one key. The valid record with the highest seq wins; of valid records
 * with equal seq, the one whose bytes are greatest (byte-wise, a longer one wins over its
 * prefix), so that every node picks the same one whatever order the records came in.
 * Invalid records never win (kad-dht has validated them already; this is defence in depth).
 */
export function selectAddressRecord (key: Uint8Array, records: Uint8Array[]): number {
  const now = Date.now()
  let best = 0
  let bestSeq = -1
  records.forEach((bytes, i) => {
    const record = tryOpenAddressRecord(key, bytes, now)
    if (record instanceof TmtpError) return
    if (record.seq > bestSeq || (record.seq === bestSeq && Buffer.compare(bytes, records[best]) > 0)) {
      best = i
      bestSeq = record.seq
    }
  })
  return best
}

/** The field checks shared by signing and opening; returns the parsed addresses. */
function checkFields (record: AddressRecord): Multiaddr[] {
  if (record.addrs.length > MAX_RECORD_ADDRS) throw new TmtpError(ErrorCode.BAD_FRAME, `an address record carries at most ${MAX_RECORD_ADDRS} addresses`)
  if (!Number.isSafeInteger(record.seq) || record.seq < 1) throw new TmtpError(ErrorCode.BAD_FRAME, 'address record seq must be at least 1')
  if (!Number.isSafeInteger(record.expires)) throw new TmtpError(ErrorCode.BAD_FRAME, 'address record expiry is out of range')
  return record.addrs.map((bytes, i) => parseAddr(bytes, i))
}

function parseAddr (bytes: Uint8Array, index: number): Multiaddr {
  const what = `address record addrs[${index}]`
  if (bytes.byteLength === 0 || bytes.byteLength > MAX_RECORD_ADDR_BYTES) {
    throw new TmtpError(ErrorCode.BAD_FRAME, `${what} must be 1 to ${MAX_RECORD_ADDR_BYTES} bytes`)
  }
  const ma = decodeMultiaddr(bytes, what)
  if (ma.getComponents().at(-1)?.code === P2P_CODE) throw new TmtpError(ErrorCode.BAD_FRAME, `${what} must not end with /p2p`)
  return ma
}
