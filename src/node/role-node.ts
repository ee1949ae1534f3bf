import { TypedEventEmitter } from 'main-event'
import type { NodeLimits } from './limits.js'
import type { TmtpLibp2p } from './libp2p.js'
import type { NodeShell } from './node-shell.js'
import type { StorageFailure } from './storage-health.js'
import type { Logger } from '@libp2p/interface'

/** The events every role node emits. */
export interface RoleNodeEvents {
  /** A write failed: the node refuses every write (and acknowledges nothing more) until restarted. */
  storage: CustomEvent<StorageFailure>
}

/**
 * What the site and member nodes share on top of their shell: identity, libp2p, limits,
 * the storage-failure event, and events that a throwing listener cannot break.
 */
export abstract class RoleNode<Events extends RoleNodeEvents> extends TypedEventEmitter<Events> {
  readonly peerId: string
  readonly libp2p: TmtpLibp2p
  /** The first write that failed, if one did (see the `storage` event). */
  readonly storageFailure: () => StorageFailure | undefined
  protected readonly shell: NodeShell
  protected readonly log: Logger
  protected readonly limits: NodeLimits

  constructor (shell: NodeShell, limits: NodeLimits) {
    super()
    this.shell = shell
    this.peerId = shell.peerId
    this.libp2p = shell.libp2p
    this.log = shell.log
    this.limits = limits
    // a narrower Events still has this `storage` event: RoleNodeEvents says so
    this.storageFailure = shell.watchStorage(failure => { this.dispatch('storage', failure as never) })
  }

  /** Dispatches an event; a listener that throws is logged, never allowed to break the caller (a delivery, a receipt). */
  protected dispatch<K extends keyof Events & string> (type: K, detail: Events[K] extends CustomEvent<infer D> ? D : never): void {
    try {
      this.safeDispatchEvent(type, { detail })
    } catch (err) {
      this.log.error('an event listener threw: %e', err)
    }
  }

  multiaddrs (): string[] {
    return this.shell.multiaddrs()
  }
}
