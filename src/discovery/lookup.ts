import { logger } from '@libp2p/logger'
import { addressRecordKey, tryOpenAddressRecord, type VerifiedAddressRecord } from './address-record.js'
import { DEFAULT_LOOKUP_TIMEOUT_MS } from './constants.js'
import { TmtpError } from '../protocol/index.js'
import type { KadDHT } from '@libp2p/kad-dht'
import type { PeerId, PeerStore } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * Finds a node's current addresses in the TMTP DHT by its PeerId (spec: "Lookups"): the
 * addresses of the newest valid address record that a `dht.get` of "/tmtp-addr/" || PeerId
 * finds. A site uses it to reach a member device, a member to reach a site.
 */

const log = logger('tmtp:discovery:lookup')

/**
 * Why a lookup found nothing:
 * - NOT_FOUND: the query ran and no server holds a valid record of the peer (it has not
 *   published, or its record expired). Retry later, with backoff.
 * - TIMEOUT: the query did not complete within the timeout (no DHT peers yet, or slow ones).
 * - ABORTED: the caller's signal aborted it.
 * - FAILED: every server asked failed or refused to answer, or the query threw. Retry later.
 */
export type LookupError = 'NOT_FOUND' | 'TIMEOUT' | 'ABORTED' | 'FAILED'

export type LookupResult =
  | { ok: true, record: VerifiedAddressRecord, addrs: Multiaddr[] }
  | { ok: false, error: LookupError, cause?: unknown }

export interface FindAddressesOptions {
  /** Merge the found addresses into this peer store, so that `libp2p.dial(peerId)` uses them. */
  peerStore?: PeerStore
  /** @default 10 s */
  timeoutMs?: number
  /** Aborts the lookup (ABORTED). */
  signal?: AbortSignal
  /** The clock, in ms since the epoch. @default Date.now */
  now?: () => number
}

/** Looks up `peer`'s address record; never throws. */
export async function findAddresses (dht: KadDHT, peer: PeerId, options: FindAddressesOptions = {}): Promise<LookupResult> {
  const now = options.now ?? Date.now
  const key = addressRecordKey(peer.toMultihash().bytes)
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_LOOKUP_TIMEOUT_MS)
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
  let best: VerifiedAddressRecord | undefined
  let bestBytes: Uint8Array = new Uint8Array(0)
  let responses = 0
  let errors = 0
  let failure: { error: LookupError, cause?: unknown } | undefined

  const consider = (value: Uint8Array): void => {
    // kad-dht validated these already; opening again costs one verification and keeps this
    // function correct whatever validators the DHT was configured with
    const record = tryOpenAddressRecord(key, value, now())
    if (record instanceof TmtpError) {
      log('ignoring an address record of %p: %s', peer, record.message)
      return
    }
    // spec "Selection": highest seq; of equal seq, the greatest bytes
    if (best === undefined || record.seq > best.seq || (record.seq === best.seq && Buffer.compare(value, bestBytes) > 0)) {
      best = record
      bestBytes = value
    }
  }

  try {
    for await (const event of dht.get(key, { signal })) {
      if (event.name === 'VALUE') {
        consider(event.value)
      } else if (event.name === 'PEER_RESPONSE' && event.messageName === 'GET_VALUE') {
        responses++
        if (event.record !== undefined) consider(event.record.value)
      } else if (event.name === 'QUERY_ERROR') {
        errors++
      }
    }
  } catch (err) {
    // kad-dht's get may throw after it found records, for instance when correcting a stale
    // server fails: the records found so far still count
    const name = (err as Error)?.name
    failure = options.signal?.aborted === true
      ? { error: 'ABORTED', cause: err }
      : timeout.aborted
        ? { error: 'TIMEOUT', cause: err }
        : name === 'NotFoundError'
          ? { error: 'NOT_FOUND', cause: err }
          : { error: 'FAILED', cause: err }
  }

  if (best === undefined) {
    if (failure !== undefined) return { ok: false, ...failure }
    return { ok: false, error: responses === 0 && errors > 0 ? 'FAILED' : 'NOT_FOUND' }
  }
  if (options.peerStore !== undefined && best.addrs.length > 0) {
    try {
      await options.peerStore.merge(peer, { multiaddrs: best.addrs })
    } catch (err) {
      log.error('cannot store the addresses of %p: %e', peer, err)
    }
  }
  return { ok: true, record: best, addrs: best.addrs }
}
