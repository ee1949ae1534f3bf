import { kadDHT, passthroughMapper, removePublicAddressesMapper, type KadDHT, type KadDHTComponents, type KadDHTInit } from '@libp2p/kad-dht'
import { createAddressRecordValidator, selectAddressRecord } from './address-record.js'
import { ADDRESS_RECORD_NAMESPACE, DEFAULT_INITIAL_QUERY_SELF_INTERVAL_MS, DHT_PROTOCOL } from './constants.js'

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

export interface TmtpDhtInit {
  /** This node's role: 'member' runs the DHT in client mode, 'site' and 'bootstrap' in server mode. */
  role: DhtRole
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

/** The kad-dht options of a TMTP node. Exposed for tests and for nodes assembled by hand. */
export function tmtpDhtInit (init: TmtpDhtInit): KadDHTInit {
  const options: KadDHTInit = {
    protocol: DHT_PROTOCOL,
    clientMode: !(init.server ?? init.role !== 'member'),
    peerInfoMapper: (init.addresses ?? 'all') === 'lan' ? removePublicAddressesMapper : passthroughMapper,
    validators: { [ADDRESS_RECORD_NAMESPACE]: createAddressRecordValidator({ size: init.seenRecords }) },
    selectors: { [ADDRESS_RECORD_NAMESPACE]: selectAddressRecord },
    initialQuerySelfInterval: init.initialQuerySelfIntervalMs ?? DEFAULT_INITIAL_QUERY_SELF_INTERVAL_MS
  }
  if (init.querySelfIntervalMs !== undefined) options.querySelfInterval = init.querySelfIntervalMs
  return options
}

/** The kad-dht service factory of a TMTP node, for `services: { dht: tmtpDht({ role }) }`. */
export function tmtpDht (init: TmtpDhtInit): (components: KadDHTComponents) => KadDHT {
  return kadDHT(tmtpDhtInit(init))
}
