import { AsyncLocalStorage } from 'node:async_hooks'
import { ErrorCode, isTmtpError } from '../protocol/index.js'
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
 * `protocol` runs with its requester set (dhtRequester), and `onRefused` learns of each
 * stream of it that kad-dht aborted: it refused a request on it (kad-dht has no error
 * answers; it aborts the stream with the handler's error), with the code of that refusal.
 */
export function registrarWithRequesters (registrar: KadDHTComponents['registrar'], protocol: string, onRefused?: (requester: DhtRequester, code: ErrorCode) => void): KadDHTComponents['registrar'] {
  return new Proxy(registrar, {
    get (target, prop) {
      if (prop === 'handle') {
        return async (...[p, handler, options]: Parameters<typeof target.handle>) => {
          const wrapped: typeof handler = p === protocol
            ? async (stream, connection) => {
              const requester = requesterOf(connection)
              stream.addEventListener('close', event => {
                const code = event.local === true && event.error !== undefined ? refusalCode(event.error) : undefined
                if (code !== undefined) onRefused?.(requester, code)
              }, { once: true })
              await current.run(requester, async () => { await handler(stream, connection) })
            }
            : handler
          await target.handle(p, wrapped, options)
        }
      }
      const value: unknown = Reflect.get(target, prop)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
}

/**
 * The code of what made kad-dht abort a stream: ours (a validator, the record store, the PUT
 * limiter) as thrown; kad-dht's own timeout for a peer that kept the stream idle, TIMEOUT;
 * anything else (a key without a validator, a malformed or oversized message), BAD_FRAME.
 * None for an end of stream: kad-dht aborts every stream whose peer closes it after its last
 * request (UnexpectedEOFError), which is how every kad-dht client ends one.
 */
function refusalCode (err: Error): ErrorCode | undefined {
  if (isTmtpError(err)) return err.code
  if (err.name === 'UnexpectedEOFError') return undefined
  return err.name === 'TimeoutError' ? ErrorCode.TIMEOUT : ErrorCode.BAD_FRAME
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
