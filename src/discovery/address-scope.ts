import { isPrivate } from '@libp2p/utils'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { MAX_RECORD_ADDR_BYTES, MAX_RECORD_ADDRS } from './constants.js'

/**
 * Which addresses of other peers a node stores and dials (spec 16.2, 16.8): a peer chooses
 * the addresses it announces (at join, through identify, in its address record), so a node
 * that dials whatever it is told can be pointed at any host and port of its own network.
 *
 * - 'all': public, private and loopback addresses (a node on one machine or a private
 *   network, and the tests; the default, as the DHT's address filter);
 * - 'lan': private and loopback addresses only (a deployment that stays on one network);
 * - 'public': public addresses only, never a private or loopback one, nor a DNS name (which
 *   may resolve to one): what a site on the Internet should use.
 */
export const ADDRESS_SCOPES = ['all', 'lan', 'public'] as const

export type AddressScope = typeof ADDRESS_SCOPES[number]

/** What a TCP address may start with (an IP address or a DNS name); the port comes next. */
const HOSTS = new Set(['ip4', 'ip6', 'dns', 'dns4', 'dns6'])

/** What may follow the port: nothing (TCP), or WebSockets, plain or over TLS (a member in a browser dials these). */
const WEB_SOCKETS = new Set(['', 'ws', 'wss', 'tls/ws'])

/** Whether a node of `scope` may dial `ma`: TCP or WebSockets over an IP address (or a DNS name, in scope 'all'), in scope. */
export function inScope (ma: Multiaddr, scope: AddressScope): boolean {
  const [host, port, ...rest] = ma.getComponents()
  if (!HOSTS.has(host?.name) || port?.name !== 'tcp' || !WEB_SOCKETS.has(rest.map(c => c.name).join('/'))) return false
  const isName = host.name.startsWith('dns')
  if (scope === 'all') return true
  if (isName) return false
  return scope === 'lan' ? isPrivate(ma) : !isPrivate(ma)
}

/**
 * The addresses of a peer worth keeping among those it announced: each a valid multiaddr of
 * at most MAX_RECORD_ADDR_BYTES, without /p2p, in scope; no duplicates, at most
 * MAX_RECORD_ADDRS (as an address record holds). Anything else is dropped, not an error:
 * a peer's other addresses stay usable.
 */
export function keepableAddrs (addrs: ReadonlyArray<string | Multiaddr>, scope: AddressScope): string[] {
  const kept = new Set<string>()
  for (const addr of addrs) {
    if (kept.size >= MAX_RECORD_ADDRS) break
    let ma: Multiaddr
    try {
      ma = typeof addr === 'string' ? multiaddr(addr) : addr
    } catch {
      continue
    }
    if (ma.bytes.byteLength > MAX_RECORD_ADDR_BYTES || !inScope(ma, scope)) continue
    kept.add(ma.toString())
  }
  return [...kept]
}

/**
 * The network a remote address comes from, for per-address bounds: its IP address, or for
 * IPv6 its /64 (one host usually holds a whole /64: counting per address would let it use
 * 2^64 of them); another kind of address as it is.
 */
export function networkOf (ma: Multiaddr): string {
  const ip = ma.getComponents().find(c => c.name === 'ip4' || c.name === 'ip6')
  if (ip?.value === undefined) return ma.toString()
  return ip.name === 'ip6' ? ipv6Prefix64(ip.value) : ip.value
}

/** The /64 network of an IPv6 address, e.g. '2001:db8:0:1::/64'. */
export function ipv6Prefix64 (address: string): string {
  const [head, tail] = address.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? left : [...left, ...new Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
  return groups.slice(0, 4).map(g => (g === '' ? '0' : g.toLowerCase().replace(/^0+(?=.)/, ''))).join(':') + '::/64'
}
