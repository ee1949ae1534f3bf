import { AsyncLocalStorage } from '#async-context'
import { networkOf } from './address-scope.js'
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
  return { peer: connection.remotePeer.toString(), address: networkOf(connection.remoteAddr) }
}
