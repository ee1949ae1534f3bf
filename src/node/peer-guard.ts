import { RateLimiter } from '../util/index.js'
import { ErrorCode } from '../protocol/index.js'

export interface PeerGuardOptions {
  /** Stream refusals a peer may cause per minute; one more and it is banned. */
  refusalsPerMinute: number
  /** How long a banned peer's connections are refused. */
  banMs: number
  log: (format: string, ...args: unknown[]) => void
  now?: () => number
}

/**
 * The codes that close a stream because of what the remote peer did (spec: "Limits"). A
 * refusal for our own fault (STORAGE_FAILURE, INTERNAL) or a rejected envelope inside an
 * accepted stream is not the peer's misbehaviour and is not counted.
 */
const PEER_FAULTS = new Set<string>([
  ErrorCode.NOT_MEMBER, ErrorCode.BLOCKED, ErrorCode.BAD_FRAME, ErrorCode.FRAME_TOO_LARGE,
  ErrorCode.WINDOW_EXCEEDED, ErrorCode.RATE_LIMITED, ErrorCode.INVITE_UNKNOWN, ErrorCode.BAD_SIGNATURE,
  ErrorCode.WRONG_SIGNER, ErrorCode.TIMEOUT
])

/** The most banned peers remembered: a flood of fresh PeerIds cannot grow memory without bound. */
const MAX_BANNED = 10_000

/**
 * Rate-limits peers that keep opening streams this node refuses: past the limit the peer is
 * disconnected and its connections are refused (by the libp2p connection gater) for a while.
 * Per-stream checks already bound what one stream costs; this bounds how often a peer may
 * make the node pay it.
 */
export class PeerGuard {
  private readonly opts: PeerGuardOptions
  private readonly refusals: RateLimiter
  private readonly banned = new Map<string, number>()
  private readonly now: () => number
  private banListener?: (peer: string) => void

  constructor (opts: PeerGuardOptions) {
    this.opts = opts
    this.now = opts.now ?? Date.now
    this.refusals = new RateLimiter(opts.refusalsPerMinute, 60_000)
  }

  /** Counts a stream refused with `code`; bans the peer once it is over its limit. */
  refused (peer: string, code: string): void {
    if (!PEER_FAULTS.has(code) || this.isBanned(peer)) return
    if (this.refusals.allow(peer, this.now())) return
    // the ban is the penalty for this window: afterwards the peer starts with a clean count
    this.refusals.reset(peer)
    this.banned.delete(peer)
    this.banned.set(peer, this.now() + this.opts.banMs)
    if (this.banned.size > MAX_BANNED) this.banned.delete(this.banned.keys().next().value as string)
    this.opts.log('banning %s for %d ms: more than %d refused streams a minute', peer, this.opts.banMs, this.opts.refusalsPerMinute)
    this.banListener?.(peer)
  }

  /** Registers the one listener told of each peer just banned (the node closes its connections). */
  onBan (listener: (peer: string) => void): void {
    this.banListener = listener
  }

  isBanned (peer: string): boolean {
    const until = this.banned.get(peer)
    if (until === undefined) return false
    if (this.now() < until) return true
    this.banned.delete(peer)
    return false
  }

  /** Peers banned now. */
  get size (): number {
    return this.banned.size
  }
}
