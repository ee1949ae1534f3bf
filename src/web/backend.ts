import type { BackupResponse, BlocksResponse, InboxMessageResponse, JoinResponse, LeaveResponse, PostResponse, SiteResponse } from '../api/index.js'

/**
 * What the inbox page asks of a member node. The page (app.ts) knows only this interface, so
 * the same page runs on the member node's local HTTP API (http-backend.ts: `tmtp start`) and
 * on a member node running in the tab. The shapes are the member API's answers.
 */

export type Message = InboxMessageResponse
export type Site = SiteResponse
export type Block = BlocksResponse['blocks'][number]
export type Reply = PostResponse
export type Joined = JoinResponse
export type Left = LeaveResponse
export type IdentityBackup = BackupResponse

/** The state of the back end's feed of new messages. */
export type Connection = 'live' | 'offline' | 'unauthorized'

/** A refusal or failure, with the member API's stable code (UNAUTHORIZED, UNKNOWN_MESSAGE, INVITE_USED, ...). */
export class BackendError extends Error {
  override readonly name = 'BackendError'
  readonly code: string

  constructor (code: string, message: string) {
    super(message)
    this.code = code
  }
}

export interface InboxBackend {
  /** Whether importBackup works here (a member node on Node.js restores with `tmtp init --restore` instead). */
  readonly importsBackups: boolean
  /** This device's PeerId. */
  device: () => Promise<{ peerId: string }>
  /** Sites joined, left ones included. */
  sites: () => Promise<Site[]>
  /** Messages, of one site or all. */
  inbox: (site?: string) => Promise<Message[]>
  /** One message; marks it read. */
  read: (id: string, site: string) => Promise<Message>
  markRead: (id: string, site: string, read: boolean) => Promise<void>
  reply: (id: string, site: string, body: string) => Promise<Reply>
  /** Attachment `index` of a message, fetched from its site first if need be (the device keeps it: on disk, or in the tab's IndexedDB). */
  attachment: (id: string, site: string, index: number) => Promise<Blob>
  /** Deletes a message, with its attachments' files; its id stays known, so the site sending it again stores nothing. */
  deleteMessage: (id: string, site: string) => Promise<void>
  join: (token: string) => Promise<Joined>
  /** Leaves a site for good (the site is told; it is blocked). */
  leave: (site: string) => Promise<Left>
  block: (peer: string) => Promise<void>
  unblock: (peer: string) => Promise<void>
  blocked: () => Promise<Block[]>
  /** Calls `listener` with each message the device receives from now on; returns the unsubscribe. */
  onMessage: (listener: (message: Message) => void) => () => void
  /** Calls `listener` when the feed of new messages comes up or goes down; messages may have come in meanwhile. */
  onConnection: (listener: (state: Connection) => void) => () => void
  /** The device's identity, sealed under the passphrase (docs/backup.md). */
  exportBackup: (passphrase: string) => Promise<IdentityBackup>
  /** Makes this device the one the backup holds (where importsBackups). */
  importBackup: (backup: IdentityBackup, passphrase: string) => Promise<{ peerId: string }>
  /** Stops the feed and the listeners. */
  close: () => void
}
