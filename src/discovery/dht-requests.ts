import { AsyncLocalStorage } from 'node:async_hooks'
import type { Connection } from '@libp2p/interface'
import type { KadDHTComponents } from '@libp2p/kad-dht'

/**
 * Who sent the DHT request this node is handling. kad-dht's request handlers, validators and
 * datastore are not told which peer asked; a DHT server needs it to limit PUT_VALUE per peer
 * and per address. The handler of the DHT protocol runs inside an AsyncLocalStorage scope
 * that holds the requester, and everything it awaits (validators, datastore writes) sees it.
 * Outside a request (this node's own queries and publications) there is none.
 */
export interface DhtRequester {
  /** The remote PeerId. */
  peer: string
  /** The remote network address: an IPv4 address, the /64 prefix of an IPv6 one, else the whole multiaddr. */
  address: string
}

const current = new AsyncLocalStorage<DhtRequester>()

/** The requester of the DHT request being handled here; undefined outside one. */
export function dhtRequester (): DhtRequester | undefined {
  return current.getStore()
}

/**
 * The registrar kad-dht is given: libp2p's, except that the handler kad-dht registers for
 * `protocol` runs with its requester set (dhtRequester).
 */
export function registrarWithRequesters (registrar: KadDHTComponents['registrar'], protocol: string): KadDHTComponents['registrar'] {
  return new Proxy(registrar, {
    get (target, prop) {
      if (prop === 'handle') {
        return async (...[p, handler, options]: Parameters<typeof target.handle>) => {
          const wrapped: typeof handler = p === protocol
            ? async (stream, connection) => { await current.run(requesterOf(connection), async () => { await handler(stream, connection) }) }
            : handler
          await target.handle(p, wrapped, options)
        }
      }
      const value: unknown = Reflect.get(target, prop)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
}

function requesterOf (connection: Connection): DhtRequester {
  const ip = connection.remoteAddr.getComponents().find(c => c.name === 'ip4' || c.name === 'ip6')
  const address = ip?.value === undefined
    ? connection.remoteAddr.toString()
    : ip.name === 'ip6' ? ipv6Prefix64(ip.value) : ip.value
  return { peer: connection.remotePeer.toString(), address }
}

/**
 * The /64 network of an IPv6 address, e.g. '2001:db8:0:1::/64': one host usually holds a
 * whole /64, so counting per address would let it use 2^64 of them.
 */
export function ipv6Prefix64 (address: string): string {
  const [head, tail] = address.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? left : [...left, ...new Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  return groups.slice(0, 4).map(g => (g === '' ? '0' : g.toLowerCase().replace(/^0+(?=.)/, ''))).join(':') + '::/64'
}
