/**
 * The TMTP DHT (spec section 16): the kad-dht service configured for TMTP's own network,
 * signed address records, publishing, lookups and bootstrap peers. It knows libp2p and
 * nothing of the stores.
 */
export * from './address-record.js'
export * from './address-scope.js'
export * from './bootstrap.js'
export * from './constants.js'
export * from './dht.js'
export * from './dht-requests.js'
export * from './discovery.js'
export * from './lookup.js'
export * from './multiaddr.js'
export * from './publisher.js'
export * from './put-limiter.js'
export * from './record-store.js'
