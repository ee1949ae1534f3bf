import { BackendError, type Block, type Connection, type IdentityBackup, type InboxBackend, type Joined, type Left, type Message, type Reply, type Site } from './backend.js'
import { readEvents } from './event-stream.js'
import type { MemberStatusResponse } from '../api/index.js'

/** Reconnecting to the event stream waits 1 s, doubling up to 30 s. */
const RETRY_BASE_MS = 1000
const RETRY_CAP_MS = 30_000

/**
 * The inbox page's back end on a member node's local HTTP API (`tmtp start`): every call is a
 * request with the bearer token in the Authorization header, and new messages come from
 * GET /v1/events read with fetch() (EventSource cannot send that header). The token stays in
 * a private field: never in a URL, an error or a log.
 */
export class HttpBackend implements InboxBackend {
  readonly importsBackups = false
  readonly #base: string
  readonly #token: string
  readonly #messageListeners = new Set<(message: Message) => void>()
  readonly #connectionListeners = new Set<(state: Connection) => void>()
  #feed?: AbortController

  constructor (base: string, token: string) {
    this.#base = base.replace(/\/+$/, '')
    this.#token = token
  }

  async #request<T> (method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}`, accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    let response: Response
    try {
      response = await fetch(this.#base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit' })
    } catch {
      throw new BackendError('NOT_RUNNING', 'the member node does not answer: is "tmtp start" running?')
    }
    const text = await response.text()
    const parsed = text === '' ? undefined : JSON.parse(text) as unknown
    if (response.ok) return parsed as T
    const error = (parsed as { error?: { code?: unknown, message?: unknown } } | undefined)?.error
    throw new BackendError(typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`, typeof error?.message === 'string' ? error.message : `${method} ${path}: HTTP ${response.status}`)
  }

  async device (): Promise<{ peerId: string }> {
    const status = await this.#request<MemberStatusResponse>('GET', '/v1/status')
    return { peerId: status.peerId }
  }

  async sites (): Promise<Site[]> {
    return (await this.#request<{ sites: Site[] }>('GET', '/v1/sites')).sites
  }

  async inbox (site?: string): Promise<Message[]> {
    return (await this.#request<{ messages: Message[] }>('GET', `/v1/inbox${site === undefined ? '' : `?site=${encodeURIComponent(site)}`}`)).messages
  }

  async read (id: string, site: string): Promise<Message> {
    return await this.#request('GET', `/v1/inbox/${encodeURIComponent(id)}?site=${encodeURIComponent(site)}`)
  }

  async attachment (id: string, site: string, index: number): Promise<Blob> {
    const path = `/v1/inbox/${encodeURIComponent(id)}/attachments/${index}?site=${encodeURIComponent(site)}`
    let response: Response
    try {
      response = await fetch(this.#base + path, { headers: { authorization: `Bearer ${this.#token}` }, cache: 'no-store', credentials: 'omit' })
    } catch {
      throw new BackendError('NOT_RUNNING', 'the member node does not answer: is "tmtp start" running?')
    }
    if (response.ok) return await response.blob()
    const error = (JSON.parse(await response.text() || '{}') as { error?: { code?: unknown, message?: unknown } }).error
    throw new BackendError(typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`, typeof error?.message === 'string' ? error.message : `GET ${path}: HTTP ${response.status}`)
  }

  async deleteMessage (id: string, site: string): Promise<void> {
    await this.#request('DELETE', `/v1/inbox/${encodeURIComponent(id)}?site=${encodeURIComponent(site)}`)
  }

  async markRead (id: string, site: string, read: boolean): Promise<void> {
    await this.#request('PUT', `/v1/inbox/${encodeURIComponent(id)}/read?site=${encodeURIComponent(site)}`, { read })
  }

  async reply (id: string, site: string, body: string): Promise<Reply> {
    return await this.#request('POST', `/v1/inbox/${encodeURIComponent(id)}/reply?site=${encodeURIComponent(site)}`, { body })
  }

  async join (token: string): Promise<Joined> {
    return await this.#request('POST', '/v1/join', { token })
  }

  async leave (site: string): Promise<Left> {
    return await this.#request('DELETE', `/v1/sites/${encodeURIComponent(site)}`)
  }

  async block (peer: string): Promise<void> {
    await this.#request('POST', '/v1/blocks', { peer })
  }

  async unblock (peer: string): Promise<void> {
    await this.#request('DELETE', `/v1/blocks/${encodeURIComponent(peer)}`)
  }

  async blocked (): Promise<Block[]> {
    return (await this.#request<{ blocks: Block[] }>('GET', '/v1/blocks')).blocks
  }

  async exportBackup (passphrase: string): Promise<IdentityBackup> {
    return await this.#request('POST', '/v1/identity/backup', { passphrase })
  }

  async importBackup (): Promise<{ peerId: string }> {
    throw new BackendError('UNSUPPORTED', 'a member node on a computer restores a backup with "tmtp init --role member --restore FILE"')
  }

  onMessage (listener: (message: Message) => void): () => void {
    this.#messageListeners.add(listener)
    this.#startFeed()
    return () => { this.#messageListeners.delete(listener) }
  }

  onConnection (listener: (state: Connection) => void): () => void {
    this.#connectionListeners.add(listener)
    this.#startFeed()
    return () => { this.#connectionListeners.delete(listener) }
  }

  close (): void {
    this.#feed?.abort()
    this.#messageListeners.clear()
    this.#connectionListeners.clear()
  }

  #announce (state: Connection): void {
    for (const listener of this.#connectionListeners) listener(state)
  }

  /** Reads GET /v1/events until closed, reconnecting with backoff; a refused token ends it. */
  #startFeed (): void {
    if (this.#feed !== undefined) return
    const feed = new AbortController()
    this.#feed = feed
    const run = async (): Promise<void> => {
      let delay = RETRY_BASE_MS
      while (!feed.signal.aborted) {
        try {
          const response = await fetch(`${this.#base}/v1/events`, { headers: { authorization: `Bearer ${this.#token}`, accept: 'text/event-stream' }, cache: 'no-store', credentials: 'omit', signal: feed.signal })
          if (response.status === 401) {
            this.#announce('unauthorized')
            return
          }
          if (response.ok && response.body !== null) {
            for await (const event of readEvents(response.body)) {
              if (event.event === 'ready') {
                delay = RETRY_BASE_MS
                this.#announce('live')
              } else if (event.event === 'message') {
                const message = JSON.parse(event.data) as Message
                for (const listener of this.#messageListeners) listener(message)
              }
            }
          }
        } catch {
          // the node stopped or the network failed: retried below
        }
        if (feed.signal.aborted) return
        this.#announce('offline')
        await new Promise(resolve => setTimeout(resolve, delay))
        delay = Math.min(delay * 2, RETRY_CAP_MS)
      }
    }
    // run() catches the feed's failures; only a listener that throws ends it
    run().catch(() => { this.#announce('offline') })
  }
}
