import { createMemberNode, openBackup, restoreMemberDevice, sealBackup, type DeviceIdentity, type MemberNode } from '../node/browser.js'
import { BackendError, type Block, type Connection, type IdentityBackup, type InboxBackend, type Joined, type Left, type Message, type Reply, type Site } from './backend.js'

/**
 * The inbox page's back end on a member node running in this tab: the page itself is the
 * device. Its keys, messages and fetched attachments are in the browser's IndexedDB (under
 * `dataDir`), it reaches its sites over WebSockets and keeps one connection to each while the
 * tab is open (the site delivers over it: a tab cannot listen), and it acknowledges only what
 * IndexedDB stored. It fetches attachments as a device run by `tmtp start` does: the small
 * ones when their message arrives, the others when the member downloads them.
 */
export class NodeBackend implements InboxBackend {
  readonly importsBackups = true
  readonly #dataDir: string
  /** Replaced when a backup is imported: the node restarts as the restored device. */
  #node: MemberNode
  readonly #messageListeners = new Set<(message: Message) => void>()

  private constructor (dataDir: string, node: MemberNode) {
    this.#dataDir = dataDir
    this.#node = this.#attach(node)
  }

  /** Starts the tab's member node on its IndexedDB data (made on first use). */
  static async start (dataDir: string): Promise<NodeBackend> {
    return new NodeBackend(dataDir, await startNode(dataDir))
  }

  /** Hands the node's messages to the page's listeners, which outlive a node replaced by a restore. */
  #attach (node: MemberNode): MemberNode {
    node.addEventListener('message', event => {
      for (const listener of this.#messageListeners) listener(event.detail)
    })
    return node
  }

  async device (): Promise<{ peerId: string }> {
    return { peerId: this.#node.peerId }
  }

  sites = async (): Promise<Site[]> => await call(async () => await this.#node.sites())
  inbox = async (site?: string): Promise<Message[]> => await call(async () => await this.#node.inbox({ site }))
  read = async (id: string, site: string): Promise<Message> => await call(async () => await this.#node.read(id, { site }))
  markRead = async (id: string, site: string, read: boolean): Promise<void> => { await call(async () => { await this.#node.markRead(id, read, { site }) }) }
  reply = async (id: string, site: string, body: string): Promise<Reply> => await call(async () => await this.#node.reply(id, { body, site }))
  /** The file from the tab's IndexedDB, fetched from the site first if the device does not hold it yet. */
  attachment = async (id: string, site: string, index: number): Promise<Blob> => await call(async () => await (await this.#node.attachmentFile(id, index, { site })).blob())
  deleteMessage = async (id: string, site: string): Promise<void> => { await call(async () => { await this.#node.deleteMessage(id, { site }) }) }
  join = async (token: string): Promise<Joined> => await call(async () => await this.#node.join(token))
  leave = async (site: string): Promise<Left> => await call(async () => await this.#node.leave(site))
  block = async (peer: string): Promise<void> => { await call(async () => { await this.#node.block(peer) }) }
  unblock = async (peer: string): Promise<void> => { await call(async () => { await this.#node.unblock(peer) }) }
  blocked = async (): Promise<Block[]> => await call(async () => await this.#node.blocked())

  onMessage (listener: (message: Message) => void): () => void {
    this.#messageListeners.add(listener)
    return () => { this.#messageListeners.delete(listener) }
  }

  onConnection (listener: (state: Connection) => void): () => void {
    // the node is in the tab: its feed of messages is up while the tab is open
    listener('live')
    return () => {}
  }

  async exportBackup (passphrase: string): Promise<IdentityBackup> {
    return await call(async () => await withIdentity(await this.#node.exportIdentity(), async identity => await sealBackup(identity, passphrase)))
  }

  /**
   * Makes the tab the backup's device: the backup is opened first (a wrong passphrase changes
   * nothing), then the node stops, the identity and sites go into IndexedDB, and the node
   * starts again as that device (as it was, if the restore failed). The tab's own device is
   * replaced only while it has no site: the sites of one that has would go on delivering to a
   * device that no longer exists anywhere.
   */
  async importBackup (backup: IdentityBackup, passphrase: string): Promise<{ peerId: string }> {
    return await call(async () => await withIdentity(await openBackup(backup, passphrase), async identity => {
      const current = this.#node.peerId
      if (backup.peerId !== current && (await this.#node.sites()).length > 0) {
        throw new BackendError('DEVICE_IN_USE', `this tab is already the device ${current}, a member of sites: restore the backup in another browser profile`)
      }
      await this.#node.stop()
      try {
        await restoreMemberDevice(this.#dataDir, identity)
      } finally {
        this.#node = this.#attach(await startNode(this.#dataDir))
      }
      return { peerId: this.#node.peerId }
    }))
  }

  close (): void {
    this.#node.stop().catch(() => {})
  }
}

/** The tab's member node: no listen address (a tab cannot listen) and no DHT, so the device reaches its sites itself. */
async function startNode (dataDir: string): Promise<MemberNode> {
  return await createMemberNode({ dataDir, listen: [], dht: false, deviceName: 'browser' })
}

/** Runs `action` on a device's identity, then zeroes its keys: they are in the tab's memory no longer than needed. */
async function withIdentity<T> (identity: DeviceIdentity, action: (identity: DeviceIdentity) => Promise<T>): Promise<T> {
  try {
    return await action(identity)
  } finally {
    identity.ed25519.fill(0)
    identity.x25519.fill(0)
  }
}

/** A node's refusal as the page's error: the same stable codes as the member API's (and the backup's). */
async function call<T> (action: () => Promise<T>): Promise<T> {
  try {
    return await action()
  } catch (err) {
    if (err instanceof BackendError) throw err
    const code = (err as { code?: unknown }).code
    throw new BackendError(typeof code === 'string' ? code : 'INTERNAL', (err as Error).message)
  }
}
