import { RateLimiter } from '../util/index.js'
import type { SiteStore } from '../store/index.js'

export interface ReplyQuotaLimits {
  /** Replies a device may post per minute. */
  repliesPerMinute: number
  /** Replies a member may post per minute, all its devices together. */
  repliesPerMinutePerMember: number
  /** Bytes of a member's replies the site keeps. */
  replyBytesPerMember: number
}

/**
 * What one member may have the site store (spec 15.3, "quota"): a rate per device and per
 * member, and the bytes of its stored replies, so that one member cannot fill the site's disk
 * or crowd out the others. Shared by every post stream of the node.
 */
export class ReplyQuota {
  private readonly limits: ReplyQuotaLimits
  private readonly store: SiteStore
  private readonly now: () => number
  private readonly perDevice: RateLimiter
  private readonly perMember: RateLimiter

  constructor (limits: ReplyQuotaLimits, store: SiteStore, now: () => number = Date.now) {
    this.limits = limits
    this.store = store
    this.now = now
    this.perDevice = new RateLimiter(limits.repliesPerMinute, 60_000)
    this.perMember = new RateLimiter(limits.repliesPerMinutePerMember, 60_000)
  }

  /** How many of these replies (their sizes in bytes, in order) the member's device may have stored now; counts those. */
  async grant (device: string, member: string, sizes: number[]): Promise<number> {
    let room = this.limits.replyBytesPerMember - await this.store.replyBytes(member)
    let fit = 0
    while (fit < sizes.length && sizes[fit] <= room) room -= sizes[fit++]
    const now = this.now()
    const byDevice = this.perDevice.take(device, fit, now)
    const granted = this.perMember.take(member, byDevice, now)
    this.perDevice.giveBack(device, byDevice - granted)
    return granted
  }
}
