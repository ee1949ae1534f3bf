import { createMemberNode, type MemberNode } from '../node/browser.js'
import { BackendError, type Block, type Connection, type IdentityBackup, type InboxBackend, type Joined, type Left, type Message, type Reply, type Site } from './backend.js'

/**
 * The inbox page's back end on a member node running in this tab: the page itself is the
 * device. Its keys and messages are in the browser's IndexedDB (under `dataDir`), it reaches
 * its sites over WebSockets and keeps one connection to each while the tab is open (the site
 * delivers over it: a tab cannot listen), and it acknowledges only what IndexedDB stored.
 */
export class NodeBackend implements InboxBackend {
  readonly importsBackups = false
  readonly #node: MemberNode

  private constructor (node: MemberNode) {
    this.#node = node
  }

  /** Starts the tab's member node on its IndexedDB data (made on first use). */
  static async start (dataDir: string): Promise<NodeBackend> {
    // no listen address (a tab cannot listen) and no DHT: the device reaches its sites itself
    return new NodeBackend(await createMemberNode({ dataDir, listen: [], dht: false, deviceName: 'browser' }))
  }

  async device (): Promise<{ peerId: string }> {
    return { peerId: this.#node.peerId }
  }

  sites = async (): Promise<Site[]> => await call(async () => await this.#node.sites())
  inbox = async (site?: string): Promise<Message[]> => await call(async () => await this.#node.inbox({ site }))
  read = async (id: string, site: string): Promise<Message> => await call(async () => await this.#node.read(id, { site }))
  markRead = async (id: string, site: string, read: boolean): Promise<void> => { await call(async () => { await this.#node.markRead(id, read, { site }) }) }
  reply = async (id: string, site: string, body: string): Promise<Reply> => await call(async () => await this.#node.reply(id, { body, site }))
  join = async (token: string): Promise<Joined> => await call(async () => await this.#node.join(token))
  leave = async (site: string): Promise<Left> => await call(async () => await this.#node.leave(site))
  block = async (peer: string): Promise<void> => { await call(async () => { await this.#node.block(peer) }) }
  unblock = async (peer: string): Promise<void> => { await call(async () => { await this.#node.unblock(peer) }) }
  blocked = async (): Promise<Block[]> => await call(async () => await this.#node.blocked())

  onMessage (listener: (message: Message) => void): () => void {
    const onMessage = (event: CustomEvent<Message>): void => { listener(event.detail) }
    this.#node.addEventListener('message', onMessage)
    return () => { this.#node.removeEventListener('message', onMessage) }
  }

  onConnection (listener: (state: Connection) => void): () => void {
    // the node is in the tab: its feed of messages is up while the tab is open
    listener('live')
    return () => {}
  }

  async exportBackup (_passphrase: string): Promise<IdentityBackup> {
    throw new BackendError('UNSUPPORTED', 'backups of a device in a browser tab are not available yet')
  }

  async importBackup (_backup: IdentityBackup, _passphrase: string): Promise<{ peerId: string }> {
    throw new BackendError('UNSUPPORTED', 'backups of a device in a browser tab are not available yet')
  }

  close (): void {
    this.#node.stop().catch(() => {})
  }
}

/** A node's refusal as the page's error: the same stable codes as the member API's. */
async function call<T> (action: () => Promise<T>): Promise<T> {
  try {
    return await action()
  } catch (err) {
    const code = (err as { code?: unknown }).code
    throw new BackendError(typeof code === 'string' ? code : 'INTERNAL', (err as Error).message)
  }
}
