import { kadDHT, passthroughMapper, removePublicAddressesMapper, type KadDHT, type KadDHTComponents, type KadDHTInit } from '@libp2p/kad-dht'
import { ErrorCode, TmtpError } from '../protocol/index.js'
import { addressRecordKey, createAddressRecordValidator, selectAddressRecord } from './address-record.js'
import { ADDRESS_RECORD_NAMESPACE, DEFAULT_INITIAL_QUERY_SELF_INTERVAL_MS, DHT_PROTOCOL } from './constants.js'
import { dhtRequester, registrarWithRequesters } from './dht-requests.js'
import { DhtPutLimiter, type DhtPutLimits } from './put-limiter.js'
import { DhtRecordStore } from './record-store.js'

/**
 * The kad-dht service of a TMTP node (spec: "The DHT"). TMTP runs its own Kademlia network
 * under '/tmtp/kad/1.0.0', never the public IPFS DHT, and stores one kind of record in it:
 * signed address records under "/tmtp-addr/" || PeerId.
 *
 * kad-dht needs the `identify` and `ping` services beside it (it refuses to start without
 * ping, and learns which peers speak its protocol through identify); createTmtpLibp2p has both.
 */

/**
 * Which peers answer DHT queries. Sites and bootstrap nodes are DHT servers; member devices
 * are clients: they query and publish but never hold records for others, so a phone or
 * laptop that comes and goes does not churn the routing tables of the servers.
 */
export type DhtRole = 'site' | 'bootstrap' | 'member'

/**
 * Which addresses of other peers the DHT keeps in its routing table and passes on.
 * - 'all' (passthroughMapper): public, private and loopback addresses alike. TMTP must work
 *   on a private network and on loopback (spec: "The DHT"); kad-dht's own default
 *   (removePrivateAddressesMapper) drops every private address, so on such a network the
 *   routing tables stay empty and every lookup fails. The cost: on the Internet a node may
 *   hand out and try private addresses of remote peers that it cannot reach (a wasted dial,
 *   not a security problem: the Noise handshake authenticates the PeerId).
 * - 'lan' (removePublicAddressesMapper): only private and loopback addresses, for a DHT
 *   that must stay within one private network.
 */
export type DhtAddressFilter = 'all' | 'lan'

/** What a DHT server holds and accepts for others (spec: "The DHT", "Resource use"; config.json limits dhtMaxRecords, …). */
export interface DhtLimits extends DhtPutLimits {
  /** Address records kept for other nodes. */
  maxRecords: number
  /** Bytes of those records. */
  maxBytes: number
}

export interface TmtpDhtInit {
  /** This node's role: 'member' runs the DHT in client mode, 'site' and 'bootstrap' in server mode. */
  role: DhtRole
  /** The bounds of what this node stores and accepts as a server (DEFAULTS in src/node/defaults.ts). */
  limits: DhtLimits
  /**
   * Told of each DHT request this server refused, with the requesting peer and the code of
   * the refusal; a node bans peers that cause too many (src/node/peer-guard.ts). kad-dht
   * aborts the stream of a refused request, and whatever the peer wrote on it stays buffered
   * until kad-dht's 10 s message timeout lets go of the stream: without a ban, a peer that
   * keeps writing refused requests keeps that memory in use.
   */
  onRefused?: (peer: string, code: ErrorCode) => void
  /**
   * Serve DHT queries. A site that cannot accept them (behind NAT, or kept out of others'
   * routing tables) may run as a client and still look peers up and publish its record.
   *
   * @default true, except for role 'member'
   */
  server?: boolean
  /** @default 'all' (see DhtAddressFilter) */
  addresses?: DhtAddressFilter
  /**
   * Delay before the first self-query after start. Every query of a new node waits for
   * it (docs/LIBP2P-NOTES.md, trap 5); tests shorten it.
   *
   * @default 1000
   */
  initialQuerySelfIntervalMs?: number
  /**
   * Interval of the self-queries after the first, which keep the neighbourhood of this
   * node's own id in its routing table.
   *
   * @default kad-dht's (5 minutes)
   */
  querySelfIntervalMs?: number
  /**
   * How many "highest seq seen" entries the address-record validator remembers to refuse
   * replays of older records (spec: "Validation").
   *
   * @default 10000
   */
  seenRecords?: number
}

/**
 * kad-dht's built-in validator of public-key records ('/pk/' keys) accepts any public key
 * under its own hash: storage that costs no signature. TMTP serves address records only;
 * every other namespace has no validator, and kad-dht refuses records of those itself (as it
 * does keys without a namespace, of fewer than three '/'-separated parts).
 */
function refusePublicKeyRecord (): never {
  throw new TmtpError(ErrorCode.BAD_FRAME, 'a TMTP DHT server stores address records only (no /pk/ records)')
}

/**
 * The kad-dht options of a TMTP node. Exposed for tests and for nodes assembled by hand.
 * With `limiter`, a PUT_VALUE request for an address record is counted against its peer and
 * address before the record's signature is checked.
 */
export function tmtpDhtInit (init: TmtpDhtInit, limiter?: DhtPutLimiter): KadDHTInit {
  const validate = createAddressRecordValidator({ size: init.seenRecords })
  const options: KadDHTInit = {
    protocol: DHT_PROTOCOL,
    clientMode: !(init.server ?? init.role !== 'member'),
    peerInfoMapper: (init.addresses ?? 'all') === 'lan' ? removePublicAddressesMapper : passthroughMapper,
    validators: {
      [ADDRESS_RECORD_NAMESPACE]: (key, value, opts) => {
        const requester = dhtRequester()
        if (requester !== undefined) limiter?.admit(requester)
        validate(key, value, opts)
      },
      pk: refusePublicKeyRecord
    },
    selectors: { [ADDRESS_RECORD_NAMESPACE]: selectAddressRecord },
    initialQuerySelfInterval: init.initialQuerySelfIntervalMs ?? DEFAULT_INITIAL_QUERY_SELF_INTERVAL_MS
  }
  if (init.querySelfIntervalMs !== undefined) options.querySelfInterval = init.querySelfIntervalMs
  return options
}

/**
 * The kad-dht service factory of a TMTP node, for `services: { dht: tmtpDht({ role, limits }) }`.
 * kad-dht gets libp2p's components with two changes: its own datastore, a DhtRecordStore
 * within `limits` (libp2p's datastore, in memory and unbounded, keeps the peer store only),
 * and a registrar that tells its request handlers who is asking (dht-requests.ts), for the
 * PUT_VALUE limits.
 */
export function tmtpDht (init: TmtpDhtInit): (components: KadDHTComponents) => KadDHT {
  const limiter = new DhtPutLimiter(init.limits)
  const factory = kadDHT(tmtpDhtInit(init, limiter))
  return components => {
    const datastore = new DhtRecordStore({
      maxRecords: init.limits.maxRecords,
      maxBytes: init.limits.maxBytes,
      ownKey: addressRecordKey(components.peerId.toMultihash().bytes)
    })
    const registrar = registrarWithRequesters(components.registrar, DHT_PROTOCOL, (requester, code) => { init.onRefused?.(requester.peer, code) })
    return factory(new Proxy(components, {
      get: (target, prop) => prop === 'datastore' ? datastore : prop === 'registrar' ? registrar : Reflect.get(target, prop)
    }))
  }
}
