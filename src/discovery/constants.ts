import { DHT_PROTOCOL_PREFIX } from '../protocol/constants.js'

/**
 * Constants of TMTP discovery (spec/tmtp.md, "The DHT"). Values fixed by the spec are
 * marked with their subsection; node settings (publish interval, lifetime, timeouts) are
 * defaults that a node may change.
 */

/**
 * spec: "The DHT", protocol id. kad-dht 16 takes `protocol` as the complete protocol id
 * (its default is '/ipfs/kad/1.0.0'), not as a prefix, so the id is built here.
 */
export const DHT_PROTOCOL = `${DHT_PROTOCOL_PREFIX}/kad/1.0.0`

/** spec: "Address records", key: the namespace kad-dht dispatches validators and selectors on. */
export const ADDRESS_RECORD_NAMESPACE = 'tmtp-addr'

/** spec: "Address records", key: key = "/tmtp-addr/" || PeerId (38 bytes, binary). */
export const ADDRESS_RECORD_KEY_PREFIX = `/${ADDRESS_RECORD_NAMESPACE}/`

/** spec: "Address records", limits: addresses per record. */
export const MAX_RECORD_ADDRS = 16

/** spec: "Address records", limits: bytes of one binary multiaddr (a DNS name of 253 bytes fits). */
export const MAX_RECORD_ADDR_BYTES = 512

/**
 * spec: "Address records", limits: bytes of an address record's value (the SignedPayload), at
 * most what a record of 16 addresses of 512 bytes can take: payload = peer (2 + 38) + 16 × addr
 * (3 + 512) + seq and expires (2 × (1 + 8)) = 8298; SignedPayload = payload (1 + 2 + 8298) +
 * signature (2 + 64) = 8367. Checked before anything is decoded, so that unknown fields
 * (which the payload may carry) cannot make a record, and what a DHT server keeps, larger.
 */
export const MAX_ADDRESS_RECORD_BYTES = 8367

/** spec: "Address records", limits: `expires` lies at most this far after `now` (clock skew added). */
export const MAX_RECORD_LIFETIME_MS = 48 * 3600_000

/** Node setting (spec 16.6, "Publishing, refresh and expiry"): lifetime of the records a node signs. */
export const DEFAULT_RECORD_LIFETIME_MS = 2 * 3600_000

/** Node setting (spec 16.6, "Publishing, refresh and expiry"): a node republishes its record this often. */
export const DEFAULT_REPUBLISH_INTERVAL_MS = 30 * 60_000

/** Node setting: a lookup gives up after this long. */
export const DEFAULT_LOOKUP_TIMEOUT_MS = 10_000

/** Node setting: one publication (dht.put to the closest servers) gives up after this long. */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 30_000

/**
 * Node setting: kad-dht's self-query interval right after start (its default is 1 s; the
 * first query of a new node waits for it, docs/LIBP2P-NOTES.md, trap 5).
 */
export const DEFAULT_INITIAL_QUERY_SELF_INTERVAL_MS = 1_000

/**
 * The most bytes of one stored kad-dht record: kad-dht wraps the address record (at most
 * MAX_ADDRESS_RECORD_BYTES) in a libp2p Record with its key (2 + 49 bytes) and the time it
 * was received (an RFC 3339 text of about 26 bytes); the rest is headroom for that text.
 */
export const MAX_STORED_RECORD_BYTES = MAX_ADDRESS_RECORD_BYTES + 3 + 51 + 64
