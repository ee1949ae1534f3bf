import { ErrorCode, TmtpError } from '../protocol/index.js'
import { RateLimiter } from '../util/index.js'
import type { DhtRequester } from './dht-requests.js'

export interface DhtPutLimits {
  /** PUT_VALUE requests a peer may make per minute. */
  putsPerMinute: number
  /** PUT_VALUE requests per minute from one network address (DhtRequester.address), all its peers together. */
  putsPerMinutePerIp: number
}

/**
 * Limits the PUT_VALUE requests a DHT server accepts, per peer and per network address, before
 * it checks their signature or stores them: a PeerId costs nothing to make, an address does.
 * Each limiter remembers at most 10 000 keys (src/util/rate-limit.ts).
 */
export class DhtPutLimiter {
  private readonly limits: DhtPutLimits
  private readonly perPeer: RateLimiter
  private readonly perAddress: RateLimiter
  private readonly now: () => number

  constructor (limits: DhtPutLimits, now: () => number = Date.now) {
    this.limits = limits
    this.perPeer = new RateLimiter(limits.putsPerMinute, 60_000)
    this.perAddress = new RateLimiter(limits.putsPerMinutePerIp, 60_000)
    this.now = now
  }

  /** Counts one PUT_VALUE of `requester`; RATE_LIMITED when its peer or its address is over its limit. */
  admit (requester: DhtRequester): void {
    const now = this.now()
    const peerOk = this.perPeer.allow(requester.peer, now)
    const addressOk = this.perAddress.allow(requester.address, now)
    if (!peerOk) throw new TmtpError(ErrorCode.RATE_LIMITED, `more than ${this.limits.putsPerMinute} DHT records a minute from this peer`)
    if (!addressOk) throw new TmtpError(ErrorCode.RATE_LIMITED, `more than ${this.limits.putsPerMinutePerIp} DHT records a minute from this address`)
  }
}
