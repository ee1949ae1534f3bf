import { isIPv6 } from 'node:net'
import { NodeError } from '../util/index.js'

/**
 * The host names the local APIs answer to (the `Host` header): loopback's, and those the
 * operator names. A web page can reach an API on 127.0.0.1 through DNS rebinding (its own
 * name made to resolve to 127.0.0.1), but the browser still sends that name as the Host, so
 * refusing names the operator did not give refuses the page. Light on purpose: the command
 * checks config.json's `apiHosts` with it without loading the API.
 */

/** 0 to 255 in decimal, without leading zeros (`127.000.0.1` is no name a browser sends). */
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)'

/** `localhost`, any address of 127.0.0.0/8, `[::1]`. */
const LOOPBACK = new RegExp(`^(?:localhost|127(?:\\.${OCTET}){3}|\\[::1\\])$`)

/** A DNS name (RFC 1123 labels) or an IPv4 address; matched case-insensitively. */
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/

/** The host of a Host header without its port, lowercased; undefined when the header is not `name[:port]`. */
function hostOf (header: string): string | undefined {
  const match = /^(\[[0-9a-f:.]+\]|[^[\]:]+)(?::(\d{1,5}))?$/i.exec(header)
  if (match === null || (match[2] !== undefined && Number(match[2]) > 65535)) return undefined
  return match[1].toLowerCase()
}

/**
 * Checks the names an operator adds to loopback's (config.json `apiHosts`, the APIs'
 * `allowedHosts`): each a DNS name, an IPv4 address or a bracketed IPv6 address, as a Host
 * header carries it, without a port (any port is accepted). Returns them lowercased; throws
 * NodeError INVALID_ARGUMENT naming the first bad one.
 */
export function checkAllowedHosts (hosts: unknown): string[] {
  if (!Array.isArray(hosts)) throw new NodeError('INVALID_ARGUMENT', 'the allowed hosts must be an array of host names')
  return hosts.map(host => {
    const name = typeof host === 'string' ? host.toLowerCase() : ''
    const ipv6 = name.startsWith('[') && name.endsWith(']') && isIPv6(name.slice(1, -1))
    if (!ipv6 && !DNS_NAME.test(name)) {
      throw new NodeError('INVALID_ARGUMENT', `allowed host ${JSON.stringify(host)} is not a host name, an IPv4 address or a bracketed IPv6 address without a port (e.g. "tmtp.internal", "192.168.1.5", "[fd00::5]")`)
    }
    return name
  })
}

/** True when a request's Host header names loopback or one of `allowed` (lowercased, from checkAllowedHosts), with or without a port. */
export function hostAllowed (header: string | undefined, allowed: ReadonlySet<string>): boolean {
  const host = header === undefined ? undefined : hostOf(header)
  return host !== undefined && (LOOPBACK.test(host) || allowed.has(host))
}
