import { BackendError, type Block, type Connection, type IdentityBackup, type InboxBackend, type Message, type Site } from './backend.js'
import { byId, download, el, formatTime, timeElement } from './dom.js'
import { allowRemoteContent, remoteContentAllowed } from './prefs.js'
import { render } from './render.js'

/**
 * The inbox: sites, messages newest first with their unread state, a message view with reply,
 * joining, leaving, blocking, notifications of new messages, and the identity backup. It talks
 * to an InboxBackend only, whichever runs the member node. The static structure is in
 * index.html; this fills it with text nodes and sanitized fragments (render.ts) only.
 */

const TITLE = 'TMTP inbox'

/**
 * Replaces a list's items; the item that had the focus (by its data-key) has it again, so that
 * a message arriving does not throw a keyboard user out of the list.
 */
function replaceItems (list: HTMLElement, items: HTMLElement[]): void {
  const active = document.activeElement
  const key = active instanceof HTMLElement && list.contains(active) ? active.dataset.key : undefined
  list.replaceChildren(...items)
  if (key !== undefined) list.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`)?.focus()
}

function messageKey (m: { site: string, id: string }): string {
  return `${m.site}/${m.id}`
}

/** Newest first: by the time the device received it, then as the site numbered them. */
function newestFirst (a: Message, b: Message): number {
  return b.received - a.received || b.created - a.created || b.seq - a.seq
}

function errorText (err: unknown): string {
  if (err instanceof BackendError) return `${err.message} (${err.code})`
  return err instanceof Error ? err.message : String(err)
}

export interface InboxOptions {
  backend: InboxBackend
  /** Called when the back end refuses the member's credentials. */
  onUnauthorized: () => void
}

export class InboxApp {
  private readonly backend: InboxBackend
  private readonly onUnauthorized: () => void
  /** Every listener the app adds goes when it stops. */
  private readonly listeners = new AbortController()
  private readonly unsubscribe: Array<() => void> = []
  private sites: Site[] = []
  private blocks = new Map<string, Block>()
  private readonly messages = new Map<string, Message>()
  /** Messages that arrived live while a refresh fetched the inbox: its snapshot may be older than they are. */
  private readonly arrivedDuringRefresh = new Map<string, Message>()
  private refreshing = 0
  private selectedSite?: string
  private opened?: Message
  private peerId = ''
  private connection: Connection | undefined

  constructor (options: InboxOptions) {
    this.backend = options.backend
    this.onUnauthorized = options.onUnauthorized
  }

  async start (): Promise<void> {
    this.wire()
    this.unsubscribe.push(
      this.backend.onMessage(message => { this.received(message) }),
      this.backend.onConnection(state => { this.connectionChanged(state) })
    )
    this.peerId = (await this.backend.device()).peerId
    await this.refresh()
    byId('inbox').hidden = false
    byId('actions').hidden = false
    this.renderNotifyButton()
  }

  stop (): void {
    this.listeners.abort()
    for (const off of this.unsubscribe) off()
    this.backend.close()
    byId('inbox').hidden = true
    byId('actions').hidden = true
    document.title = TITLE
  }

  /** Offers to join with an invite (from an invite link). */
  offerJoin (invite: string): void {
    byId('join-intro').textContent = 'An invite link brought you here. Join the site that sent it?'
    byId<HTMLTextAreaElement>('join-token').value = invite
    this.showDialog('join-dialog')
  }

  private on<K extends keyof HTMLElementEventMap> (id: string, type: K, handler: (event: HTMLElementEventMap[K]) => void): void {
    byId(id).addEventListener(type, handler, { signal: this.listeners.signal })
  }

  /** Runs an action; a failure is told to the member (or signs out, when the token was refused): it never rejects. */
  private async act (what: string, action: () => Promise<void>): Promise<boolean> {
    try {
      await action()
      return true
    } catch (err) {
      if (err instanceof BackendError && err.code === 'UNAUTHORIZED') this.onUnauthorized()
      else this.notice(`${what} failed: ${errorText(err)}`)
      return false
    }
  }

  private notice (text: string): void {
    byId('notice').textContent = text
  }

  private wire (): void {
    const submit = (id: string, handler: () => Promise<void>): void => {
      this.on(id, 'submit', event => {
        event.preventDefault()
        const button = (event.currentTarget as HTMLFormElement).querySelector<HTMLButtonElement>('button[type=submit]')
        if (button !== null) button.disabled = true
        handler().finally(() => { if (button !== null) button.disabled = false })
      })
    }
    this.on('join-button', 'click', () => {
      byId('join-intro').textContent = 'Paste the invite the site gave you: it starts with tmtp1:.'
      this.showDialog('join-dialog')
    })
    this.on('blocked-button', 'click', () => { this.showBlocked() })
    this.on('backup-button', 'click', () => {
      byId('import-form').hidden = !this.backend.importsBackups
      byId('import-elsewhere').hidden = this.backend.importsBackups
      byId('backup-status').textContent = ''
      this.showDialog('backup-dialog')
    })
    this.on('notify-button', 'click', () => { Notification.requestPermission().finally(() => { this.renderNotifyButton() }) })
    this.on('back-button', 'click', () => { this.closeMessage() })
    this.on('unread-button', 'click', () => { this.markUnread() })
    this.on('delete-button', 'click', () => { this.deleteMessage() })
    this.on('remote-toggle', 'change', event => { this.setRemote((event.currentTarget as HTMLInputElement).checked) })
    this.on('message-remote-allow', 'click', () => { if (this.opened !== undefined) this.setRemote(true, this.opened.site) })
    this.on('block-button', 'click', () => { this.toggleBlock() })
    this.on('leave-button', 'click', () => { this.leave() })
    submit('reply-form', async () => { await this.reply() })
    submit('join-form', async () => { await this.join() })
    submit('export-form', async () => { await this.exportBackup() })
    submit('import-form', async () => { await this.importBackup() })
    for (const button of document.querySelectorAll<HTMLButtonElement>('dialog [data-close]')) {
      button.addEventListener('click', () => { button.closest('dialog')?.close() }, { signal: this.listeners.signal })
    }
  }

  private showDialog (id: string): HTMLDialogElement {
    const dialog = byId<HTMLDialogElement>(id)
    const opener = document.activeElement
    for (const error of dialog.querySelectorAll('.error')) error.textContent = ''
    if (dialog.open) return dialog
    dialog.addEventListener('close', () => { if (opener instanceof HTMLElement) opener.focus() }, { once: true })
    dialog.showModal()
    return dialog
  }

  /** Asks before something that cannot be undone; resolves with the member's answer. */
  private async confirm (title: string, text: string, yes: string): Promise<boolean> {
    byId('confirm-heading').textContent = title
    byId('confirm-text').textContent = text
    const button = byId('confirm-yes')
    button.textContent = yes
    const dialog = this.showDialog('confirm-dialog')
    return await new Promise(resolve => {
      const answer = (): void => {
        dialog.close()
        resolve(true)
      }
      button.addEventListener('click', answer, { once: true })
      dialog.addEventListener('close', () => {
        button.removeEventListener('click', answer)
        resolve(false)
      }, { once: true })
    })
  }

  private async refresh (): Promise<void> {
    this.refreshing++
    let sites: Site[], messages: Message[], blocks: Block[]
    try {
      [sites, messages, blocks] = await Promise.all([this.backend.sites(), this.backend.inbox(), this.backend.blocked()])
    } finally {
      this.refreshing--
    }
    this.sites = sites
    this.blocks = new Map(blocks.map(b => [b.peer, b]))
    this.messages.clear()
    for (const message of messages) this.messages.set(messageKey(message), message)
    // a message that arrived while the inbox was being fetched stays, whether the snapshot has it or not
    for (const [key, message] of this.arrivedDuringRefresh) if (!this.messages.has(key)) this.messages.set(key, message)
    if (this.refreshing === 0) this.arrivedDuringRefresh.clear()
    if (this.selectedSite !== undefined && !sites.some(s => s.peerId === this.selectedSite)) this.selectedSite = undefined
    this.renderSites()
    this.renderList()
  }

  /** The site's name, and the name of the site's group the message was sent to, if any (spec 11.2). */
  private sender (m: Message): string {
    const site = this.siteName(m.site)
    return m.group !== '' ? `${site} · ${m.group}` : site
  }

  private siteName (peer: string): string {
    const site = this.sites.find(s => s.peerId === peer)
    const name = site?.name ?? [...this.messages.values()].find(m => m.site === peer)?.siteName ?? ''
    return name !== '' ? name : `site ${peer.slice(-8)}`
  }

  private unreadCount (site?: string): number {
    let count = 0
    for (const m of this.messages.values()) if (!m.read && (site === undefined || m.site === site)) count++
    return count
  }

  private renderSites (): void {
    const choice = (label: string, site: string | undefined, state: string): HTMLLIElement => {
      const unread = this.unreadCount(site)
      const button = el('button', 'site', el('span', 'name', label))
      button.type = 'button'
      if (state !== '') button.append(el('span', 'state', ` (${state})`))
      if (unread > 0) button.append(el('span', 'count', `${unread} unread`))
      button.setAttribute('aria-current', String(this.selectedSite === site))
      button.dataset.key = site ?? ''
      button.addEventListener('click', () => { this.selectSite(site) })
      return el('li', '', button)
    }
    const sites = [...this.sites].sort((a, b) => this.siteName(a.peerId).localeCompare(this.siteName(b.peerId)))
    replaceItems(byId('site-list'), [
      choice('All sites', undefined, ''),
      ...sites.map(s => choice(this.siteName(s.peerId), s.peerId, s.left !== undefined ? 'left' : this.blocks.has(s.peerId) ? 'blocked' : ''))
    ])
    this.renderSiteTools()
  }

  private renderSiteTools (): void {
    const tools = byId('site-tools')
    const site = this.sites.find(s => s.peerId === this.selectedSite)
    tools.hidden = site === undefined
    if (site === undefined) return
    const blocked = this.blocks.has(site.peerId)
    byId('site-name').textContent = this.siteName(site.peerId)
    byId('site-state').replaceChildren(
      site.left !== undefined ? `You left this site on ${formatTime(site.left)}.` : `Joined on ${formatTime(site.joined)} as member ${site.member}${blocked ? '; blocked' : ''}.`,
      el('br', ''),
      el('span', 'peer', `PeerId ${site.peerId}`)
    )
    byId<HTMLInputElement>('remote-toggle').checked = remoteContentAllowed(site.peerId)
    byId('block-button').textContent = blocked ? 'Unblock' : 'Block'
    byId('block-button').hidden = site.left !== undefined
    byId('leave-button').hidden = site.left !== undefined
  }

  private renderList (): void {
    const shown = [...this.messages.values()].filter(m => this.selectedSite === undefined || m.site === this.selectedSite).sort(newestFirst)
    replaceItems(byId('message-list'), shown.map(m => {
      const button = el('button', 'item',
        el('span', 'subject', m.subject !== '' ? m.subject : '(no subject)'),
        el('span', 'from', this.sender(m)),
        timeElement(m.received)
      )
      button.type = 'button'
      button.dataset.key = messageKey(m)
      if (!m.read) button.prepend(el('span', 'badge', 'Unread'))
      button.addEventListener('click', () => { this.openMessage(m) })
      return el('li', m.read ? 'read' : 'unread', button)
    }))
    byId('empty').hidden = shown.length > 0
    const unread = this.unreadCount()
    document.title = unread > 0 ? `(${unread}) ${TITLE}` : TITLE
  }

  private selectSite (site: string | undefined): void {
    this.selectedSite = site
    this.renderSites()
    this.renderList()
  }

  private async openMessage (m: Message): Promise<void> {
    await this.act('Opening the message', async () => {
      const message = await this.backend.read(m.id, m.site)
      this.messages.set(messageKey(message), message)
      this.opened = message
      this.renderSites()
      this.renderList()
      this.renderMessage()
      byId('message').hidden = false
      byId('message-subject').focus()
    })
  }

  private renderMessage (): void {
    const m = this.opened
    if (m === undefined) return
    byId('message-subject').textContent = m.subject !== '' ? m.subject : '(no subject)'
    byId('message-from').textContent = `From ${this.sender(m)}`
    const time = byId<HTMLTimeElement>('message-time')
    time.textContent = formatTime(m.created)
    time.dateTime = new Date(m.created).toISOString()
    const rendered = render(m.body, m.contentType, remoteContentAllowed(m.site))
    byId('message-body').replaceChildren(rendered.body)
    byId('message-remote').hidden = rendered.blockedImages === 0 || remoteContentAllowed(m.site)
    this.renderAttachments(m)
  }

  /** The message's files: a download button each (the device fetches the file from its site first if it does not hold it yet). */
  private renderAttachments (m: Message): void {
    const list = byId('message-attachments')
    list.hidden = m.attachments.length === 0
    list.replaceChildren(...m.attachments.map(a => {
      const button = el('button', '', `Download ${a.name} (${a.size.toLocaleString()} bytes)`)
      button.type = 'button'
      button.addEventListener('click', () => {
        this.act(`Downloading ${a.name}`, async () => { download(a.name, await this.backend.attachment(m.id, m.site, a.index), a.mediaType) })
      })
      return el('li', '', button)
    }))
  }

  private closeMessage (): void {
    const key = this.opened === undefined ? undefined : messageKey(this.opened)
    this.opened = undefined
    byId('message').hidden = true
    byId('message-body').replaceChildren()
    byId('message-attachments').replaceChildren()
    const item = [...document.querySelectorAll<HTMLButtonElement>('#message-list button')].find(b => b.dataset.key === key)
    if (item !== undefined) item.focus()
    else byId('messages-heading').focus()
  }

  private async markUnread (): Promise<void> {
    const m = this.opened
    if (m === undefined) return
    await this.act('Marking it unread', async () => {
      await this.backend.markRead(m.id, m.site, false)
      this.messages.set(messageKey(m), { ...m, read: false })
      this.renderSites()
      this.renderList()
      this.closeMessage()
      this.notice('Marked unread.')
    })
  }

  /** Deletes the open message from the device, with its attachments' files, once the member confirmed it. */
  private async deleteMessage (): Promise<void> {
    const m = this.opened
    if (m === undefined) return
    const files = m.attachments.length > 0 ? ', with its attachments,' : ''
    if (!await this.confirm('Delete this message?', `It goes from this device${files} for good: the site sending it again adds nothing.`, 'Delete')) return
    await this.act('Deleting the message', async () => {
      await this.backend.deleteMessage(m.id, m.site)
      const key = messageKey(m)
      this.messages.delete(key)
      this.arrivedDuringRefresh.delete(key)
      this.renderSites()
      this.renderList()
      this.closeMessage()
      this.notice('The message was deleted.')
    })
  }

  private async reply (): Promise<void> {
    const m = this.opened
    const field = byId<HTMLTextAreaElement>('reply-body')
    const body = field.value.trim()
    if (m === undefined || body === '') return
    await this.act('Sending the reply', async () => {
      await this.backend.reply(m.id, m.site, body)
      field.value = ''
      this.notice(`Reply queued: it goes to ${this.siteName(m.site)} as soon as the site is reachable.`)
    })
  }

  private setRemote (allowed: boolean, site = this.selectedSite): void {
    if (site === undefined) return
    allowRemoteContent(site, allowed)
    this.renderSiteTools()
    if (this.opened?.site === site) this.renderMessage()
  }

  private async toggleBlock (): Promise<void> {
    const site = this.selectedSite
    if (site === undefined) return
    const blocked = this.blocks.has(site)
    await this.act(blocked ? 'Unblocking' : 'Blocking', async () => {
      if (blocked) await this.backend.unblock(site)
      else await this.backend.block(site)
      this.blocks = new Map((await this.backend.blocked()).map(b => [b.peer, b]))
      this.renderSites()
      this.notice(`${this.siteName(site)} is ${blocked ? 'no longer blocked' : 'blocked: nothing it sends is accepted'}.`)
    })
  }

  private async leave (): Promise<void> {
    const site = this.selectedSite
    if (site === undefined) return
    const name = this.siteName(site)
    if (!await this.confirm(`Leave ${name}?`, 'Leaving is for good: the site is told, and nothing it sends is accepted again. Its messages stay here.', 'Leave')) return
    await this.act('Leaving', async () => {
      const left = await this.backend.leave(site)
      await this.refresh()
      this.notice(left.notified ? `You left ${name}; the site was told.` : `You left ${name}; the site could not be told, but nothing it sends is accepted.`)
    })
  }

  private async join (): Promise<void> {
    const field = byId<HTMLTextAreaElement>('join-token')
    const token = field.value.trim()
    if (token === '') return
    try {
      const joined = await this.backend.join(token)
      field.value = ''
      byId<HTMLDialogElement>('join-dialog').close()
      await this.refresh()
      this.notice(`You joined ${joined.siteName !== '' ? joined.siteName : joined.site}.`)
    } catch (err) {
      if (err instanceof BackendError && err.code === 'UNAUTHORIZED') this.onUnauthorized()
      else byId('join-error').textContent = `The site did not let you join: ${errorText(err)}`
    }
  }

  private async showBlocked (): Promise<void> {
    await this.act('Listing the blocked peers', async () => {
      this.blocks = new Map((await this.backend.blocked()).map(b => [b.peer, b]))
      this.renderBlocked()
      this.showDialog('blocked-dialog')
    })
  }

  private renderBlocked (): void {
    const blocks = [...this.blocks.values()]
    byId('blocked-empty').hidden = blocks.length > 0
    byId('blocked-list').replaceChildren(...blocks.map(b => {
      const button = el('button', '', 'Unblock')
      button.type = 'button'
      button.setAttribute('aria-label', `Unblock ${this.siteName(b.peer)}`)
      button.addEventListener('click', () => {
        this.act('Unblocking', async () => {
          await this.backend.unblock(b.peer)
          this.blocks.delete(b.peer)
          this.renderBlocked()
          this.renderSites()
          this.notice(`${this.siteName(b.peer)} is no longer blocked.`)
        })
      })
      return el('li', '', el('span', 'name', this.siteName(b.peer)), ' ', el('span', 'peer', b.peer), ' ', button)
    }))
  }

  private async exportBackup (): Promise<void> {
    const passphrase = byId<HTMLInputElement>('export-passphrase')
    const again = byId<HTMLInputElement>('export-confirm')
    const status = byId('backup-status')
    if (passphrase.value !== again.value) {
      status.textContent = 'The two passphrases differ.'
      return
    }
    status.textContent = 'Encrypting the backup…'
    try {
      const backup = await this.backend.exportBackup(passphrase.value)
      download(`tmtp-identity-${this.peerId.slice(-8)}.json`, JSON.stringify(backup, null, 2) + '\n', 'application/json')
      passphrase.value = ''
      again.value = ''
      status.textContent = 'The backup was downloaded. Keep the file and its passphrase safe.'
    } catch (err) {
      status.textContent = `The backup failed: ${errorText(err)}`
    }
  }

  private async importBackup (): Promise<void> {
    const file = byId<HTMLInputElement>('import-file').files?.[0]
    const passphrase = byId<HTMLInputElement>('import-passphrase')
    const status = byId('backup-status')
    if (file === undefined) return
    try {
      const backup = JSON.parse(await file.text()) as IdentityBackup
      const { peerId } = await this.backend.importBackup(backup, passphrase.value)
      passphrase.value = ''
      status.textContent = `This device is now ${peerId}.`
      this.peerId = peerId
      await this.refresh()
    } catch (err) {
      status.textContent = `The restore failed: ${err instanceof SyntaxError ? 'the file is not a backup' : errorText(err)}`
    }
  }

  private renderNotifyButton (): void {
    const button = byId<HTMLButtonElement>('notify-button')
    if (!('Notification' in window)) return
    button.hidden = false
    const permission = Notification.permission
    button.disabled = permission !== 'default'
    button.textContent = permission === 'granted' ? 'Notifications are on' : permission === 'denied' ? 'Notifications are blocked' : 'Turn on notifications'
  }

  private received (message: Message): void {
    const key = messageKey(message)
    if (this.messages.has(key)) return
    this.messages.set(key, message)
    if (this.refreshing > 0) this.arrivedDuringRefresh.set(key, message)
    this.renderSites()
    this.renderList()
    const from = this.sender(message)
    this.notice(`New message from ${from}: ${message.subject}`)
    if ('Notification' in window && Notification.permission === 'granted') {
      try {
        const notification = new Notification(from, { body: message.subject, tag: key })
        notification.addEventListener('click', () => {
          window.focus()
          this.openMessage(message)
        })
      } catch {
        // some browsers (Chrome on Android) show notifications from a service worker only: the notice above stays
      }
    }
  }

  private connectionChanged (state: Connection): void {
    if (state === 'unauthorized') {
      this.onUnauthorized()
      return
    }
    const before = this.connection
    this.connection = state
    byId('connection').textContent = state === 'live' ? 'Live: new messages show up as they arrive.' : 'Offline: reconnecting…'
    // listed again once the feed is up: messages may have come before it was (at start, or while it was down)
    if (state === 'live' && before !== 'live') this.act('Listing the inbox', async () => { await this.refresh() })
  }
}
