import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core'
import { waitFor } from '../../src/cli/time.js'
import { openBackup, parseBackup } from '../../src/crypto/backup.js'
import { TestNet } from '../support/nodes.js'
import type { MemberView, SiteNode, SiteNodeOptions } from '../../src/node/index.js'

/**
 * The member node in a browser tab (src/web/main-tab.ts, dist/web/tab.html): a real Chromium
 * runs the device itself, with its keys and messages in IndexedDB, and reaches a real site
 * node on 127.0.0.1 over WebSockets; the site delivers over the connection the tab opened.
 * Its identity backup (at the default scrypt cost) moves the device into another browser
 * context, which the site delivers to without a new invite.
 */

const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const WEB = resolve(fileURLToPath(new URL('../../dist/web', import.meta.url)))
/** What a web server hosting the tab's page sends: the page's own policy, and WebSockets to the sites. */
const TAB_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
const PASSPHRASE = 'the tab\'s backup passphrase'
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' }

/** A static server of dist/web on 127.0.0.1. */
async function serveWeb (): Promise<Server> {
  const server = createServer((req, res) => {
    const name = (req.url ?? '/').split(/[?#]/)[0].replace(/^\/+/, '') || 'tab.html'
    if (!/^[a-z-]+\.(html|js|css)$/.test(name)) {
      res.writeHead(404).end()
      return
    }
    readFile(join(WEB, name)).then(body => {
      res.writeHead(200, { 'content-type': TYPES[name.slice(name.lastIndexOf('.'))], 'content-security-policy': TAB_CSP, 'x-content-type-options': 'nosniff' })
      res.end(body)
    }, () => { res.writeHead(404).end() })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return server
}

/** What each suite here runs on: a site on 127.0.0.1, the page's web server, Chromium and one page. */
interface TabRig { net: TestNet, site: SiteNode, server: Server, browser: Browser, page: Page }

/** Starts a rig, the site without DHT; the page's errors go to `pageErrors`. What started is closed again if a later part fails. */
async function openRig (siteOptions: Partial<SiteNodeOptions>, contextOptions: BrowserContextOptions, pageErrors: string[]): Promise<TabRig> {
  assert.ok(existsSync(CHROMIUM), `Debian's Chromium is needed at ${CHROMIUM}: apt-get install -y chromium (.ci/run installs it)`)
  assert.ok(existsSync(join(WEB, 'tab.js')), 'the page is built: npm run build')
  const rig: Partial<TabRig> = { net: await TestNet.create() }
  try {
    rig.site = await rig.net?.site('site', { dht: false, ...siteOptions })
    rig.server = await serveWeb()
    rig.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
    rig.page = await (await rig.browser.newContext(contextOptions)).newPage()
    rig.page.on('pageerror', err => { pageErrors.push(err.message) })
    return rig as TabRig
  } catch (err) {
    await closeRig(rig)
    throw err
  }
}

async function closeRig (rig: Partial<TabRig> | undefined): Promise<void> {
  await rig?.browser?.close()
  rig?.server?.close()
  await rig?.net?.cleanup()
}

/** The page's address on the rig's web server. */
function tabUrl (server: Server): string {
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/tab.html`
}

/** Opens an invite link for `ref` in the page and joins; the member once the site recorded the tab's device. */
async function joinByLink ({ page, site, server }: Pick<TabRig, 'page' | 'site' | 'server'>, ref: string): Promise<MemberView> {
  const invite = await site.createInvite({ ref })
  await page.goto(`${tabUrl(server)}#invite=${encodeURIComponent(invite.token)}`)
  await page.locator('#join-dialog[open]').waitFor({ timeout: 30_000 })
  await page.locator('#join-form button[type=submit]').click()
  return await waitFor('the tab joined', async () => (await site.members()).find(m => m.ref === ref && m.devices.length === 1), 30_000)
}

describe('web: the member node in a browser tab', function () {
  this.timeout(120_000)
  let net: TestNet
  let server: Server
  let browser: Browser
  let page: Page
  let site: SiteNode
  let device: string
  const pageErrors: string[] = []

  before(async () => {
    ({ net, site, server, browser, page } = await openRig({}, {}, pageErrors))
  })

  after(async () => { await closeRig({ net, server, browser }) })

  it('joins from an invite link, receives over the WebSocket it opened, reads, replies, and keeps its inbox across a reload', async () => {
    const ws = site.multiaddrs().filter(a => a.includes('/ws'))
    assert.ok(ws.length > 0, `the site listens on WebSockets: ${site.multiaddrs().join(' ')}`)
    device = (await joinByLink({ page, site, server }, 'ann')).devices[0].peerId

    const sent = await site.send({ to: ['ann'], subject: 'Hello tab', body: 'It **works**.' })
    await waitFor('delivered to the tab', async () => (await site.message(sent.id)).devices[0].state === 'delivered', 30_000)
    await page.locator('#message-list button', { hasText: 'Hello tab' }).click()
    await page.locator('#message-body strong', { hasText: 'works' }).waitFor({ timeout: 10_000 })

    await page.locator('#reply-body').fill('Thanks from the browser')
    await page.locator('#reply-form button[type=submit]').click()
    const reply = await waitFor('the reply at the site', async () => (await site.replies()).find(r => r.body === 'Thanks from the browser'), 30_000)
    assert.equal(reply.device, device, 'the reply comes from the tab\'s device')

    // the device is the tab's IndexedDB: a reload keeps its identity and its inbox
    await page.reload()
    await page.locator('#message-list button', { hasText: 'Hello tab' }).waitFor({ timeout: 30_000 })
    const again = await site.send({ to: ['ann'], subject: 'After the reload', body: '' })
    await waitFor('delivered after the reload', async () => (await site.message(again.id)).devices[0].state === 'delivered', 30_000)
    assert.deepEqual((await site.message(again.id)).devices.map(d => d.device), [device])
    assert.deepEqual(pageErrors, [])
  })

  /** Opens the Backup dialog of a page. */
  async function backupDialog (tab: Page): Promise<ReturnType<Page['getByRole']>> {
    await tab.getByRole('button', { name: 'Backup', exact: true }).click()
    return tab.getByRole('dialog', { name: 'Back up this device' })
  }

  /** Downloads the tab's backup through its dialog into the test's folder as `name`; the file's path. */
  async function exportBackup (tab: Page, name: string): Promise<string> {
    const dialog = await backupDialog(tab)
    await dialog.getByLabel('Passphrase (8 characters or more)').fill(PASSPHRASE)
    await dialog.getByLabel('The passphrase again').fill(PASSPHRASE)
    const [download] = await Promise.all([tab.waitForEvent('download', { timeout: 30_000 }), dialog.getByRole('button', { name: 'Download the backup' }).click()])
    await tab.locator('#backup-status', { hasText: 'The backup was downloaded' }).waitFor({ timeout: 10_000 })
    await dialog.getByRole('button', { name: 'Close' }).last().click()
    // a download goes with its context: kept beside the nodes
    const path = net.path(name)
    await download.saveAs(path)
    return path
  }

  async function importBackup (tab: Page, file: string, passphrase: string): Promise<void> {
    const dialog = await backupDialog(tab)
    assert.equal(await dialog.locator('#import-form').isVisible(), true, 'a tab restores backups itself')
    await dialog.getByLabel('Backup file').setInputFiles(file)
    await dialog.getByLabel('Its passphrase').fill(passphrase)
    await dialog.getByRole('button', { name: 'Restore' }).click()
  }

  it('exports the device as a backup that makes another browser context the same device, which receives without a new invite', async () => {
    const file = await exportBackup(page, 'backup.json')
    // the page's file is the documented format: it opens here, on node:crypto, at the default cost
    const backup = parseBackup(await readFile(file, 'utf8'))
    assert.deepEqual([backup.peerId, backup.kdf.N], [device, 2 ** 17])
    const opened = await openBackup(backup, PASSPHRASE)
    assert.deepEqual(opened.sites.map(s => [s.peerId, s.name]), [[site.peerId, 'site']])
    // one copy of a device at a time: the first tab goes
    await page.context().close()

    const fresh = await (await browser.newContext()).newPage()
    // the tab that is the device from now on
    page = fresh
    fresh.on('pageerror', err => { pageErrors.push(err.message) })
    await fresh.goto(tabUrl(server))
    await fresh.locator('#actions:not([hidden])').waitFor({ timeout: 30_000 })
    // the fresh context made a device of its own, with no site yet: its backup, for later
    const own = await exportBackup(fresh, 'own-backup.json')
    const ownPeer = parseBackup(await readFile(own, 'utf8')).peerId
    assert.notEqual(ownPeer, device)

    await importBackup(fresh, file, 'not the passphrase')
    await fresh.locator('#backup-status', { hasText: /The restore failed: .*\(WRONG_PASSPHRASE\)/ }).waitFor({ timeout: 30_000 })
    await fresh.getByLabel('Its passphrase').fill(PASSPHRASE)
    await fresh.getByRole('button', { name: 'Restore' }).click()
    await fresh.locator('#backup-status', { hasText: `This device is now ${device}.` }).waitFor({ timeout: 30_000 })
    await fresh.getByRole('button', { name: 'Close' }).last().click()

    // the site knows the device by its PeerId: the restored tab connects and receives
    const sent = await site.send({ to: ['ann'], subject: 'After the restore', body: 'In **another** context.' })
    await waitFor('delivered to the restored tab', async () => (await site.message(sent.id)).devices[0].state === 'delivered', 30_000)
    assert.deepEqual((await site.message(sent.id)).devices.map(d => d.device), [device])
    assert.deepEqual((await site.members()).map(m => [m.ref, m.devices.length]), [['ann', 1]], 'no new member or device')
    await fresh.locator('#message-list button', { hasText: 'After the restore' }).click()
    await fresh.locator('#message-body strong', { hasText: 'another' }).waitFor({ timeout: 10_000 })

    // a device with sites is not replaced by another identity: they would deliver to no one
    await importBackup(fresh, own, PASSPHRASE)
    await fresh.locator('#backup-status', { hasText: /The restore failed: .*\(DEVICE_IN_USE\)/ }).waitFor({ timeout: 30_000 })
    const still = await site.send({ to: ['ann'], subject: 'Still this device', body: '' })
    await waitFor('delivered after the refusal', async () => (await site.message(still.id)).devices[0].state === 'delivered', 30_000)
    assert.deepEqual(pageErrors, [])
  })

  it('reconnects to its site when the site comes back, and gets what was queued meanwhile', async () => {
    // the site restarts on the same addresses (a site's ports are fixed in production)
    const listen = site.multiaddrs().map(a => a.replace(/\/p2p\/.*$/, ''))
    await net.stop(site)
    site = await net.site('site', { dht: false, listen })
    const sent = await site.send({ to: ['ann'], subject: 'While you were away', body: '' })
    await waitFor('delivered after the site came back', async () => (await site.message(sent.id)).devices[0].state === 'delivered', 30_000)
    await page.locator('#message-list button', { hasText: 'While you were away' }).waitFor({ timeout: 10_000 })
    assert.deepEqual(pageErrors, [])
  })
})

/**
 * The tab's WebSockets to its sites, through the test (Playwright's routeWebSocket): what the
 * sites send the page is counted, and can be held back from some byte on, as a transfer that
 * stalls. The page's side goes through untouched.
 */
class SiteLink {
  /** Connections opened before the last next() pass nothing more. */
  private generation = 0
  /** Bytes the sites gave the page over this generation's connections. */
  received = 0
  private limit = Infinity
  stalled = false

  async route (page: Page): Promise<void> {
    await page.routeWebSocket(() => true, ws => {
      const generation = this.generation
      const server = ws.connectToServer()
      server.onMessage(message => {
        if (generation !== this.generation || this.stalled) return
        const size = typeof message === 'string' ? Buffer.byteLength(message) : message.byteLength
        // nothing after the first message held back: the stream stays whole up to where it stalls
        if (this.received + size > this.limit) {
          this.stalled = true
          return
        }
        this.received += size
        ws.send(message)
      })
    })
  }

  /** The connections open now pass `bytes` more of what the sites send, then nothing. */
  stallAfter (bytes: number): void {
    this.limit = this.received + bytes
  }

  /** Connections opened from now on pass everything, counted from 0; those open now pass nothing more. */
  next (): void {
    this.generation++
    this.received = 0
    this.limit = Infinity
    this.stalled = false
  }
}

/** What the tab's IndexedDB holds of attachments (attachment-files-browser.ts): bytes per partial file, and the names of the whole ones. */
async function storedAttachments (page: Page): Promise<{ parts: Record<string, number>, whole: string[] }> {
  return await page.evaluate(async () => {
    const name = 'level-js-tmtp-member/attachments'
    const store = 'tmtp-member/attachments'
    if (!(await indexedDB.databases()).some(d => d.name === name)) return { parts: {}, whole: [] }
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name)
      // never made here: the tab's node makes it, with its store
      request.onupgradeneeded = () => { request.transaction?.abort() }
      request.onsuccess = () => { resolve(request.result) }
      request.onerror = () => { reject(request.error) }
    })
    try {
      const records = db.transaction(store).objectStore(store)
      // no function is named in here: tsx would name it with a helper the page does not have
      const [keys, values] = await Promise.all([records.getAllKeys() as IDBRequest<unknown[]>, records.getAll() as IDBRequest<unknown[]>].map(async request => await new Promise<unknown[]>((resolve, reject) => {
        request.onsuccess = () => { resolve(request.result) }
        request.onerror = () => { reject(request.error) }
      })))
      const parts: Record<string, number> = {}
      const whole: string[] = []
      keys.forEach((key, i) => {
        // level keeps its keys as bytes in IndexedDB
        const [kind, file] = new TextDecoder().decode(key as ArrayBuffer).split('!')
        if (kind === 'w') whole.push(file)
        else parts[file] = (parts[file] ?? 0) + (values[i] as Uint8Array).byteLength
      })
      return { parts, whole }
    } finally {
      db.close()
    }
  })
}

describe('web: attachments of the member node in a browser tab', function () {
  this.timeout(180_000)
  let net: TestNet
  let server: Server
  let browser: Browser
  let page: Page
  let site: SiteNode
  const link = new SiteLink()
  const pageErrors: string[] = []
  /** Above the device's autoFetchBytes (5 MiB): fetched when asked for. */
  const large = randomBytes(6 * 1024 * 1024 + 3)
  const small = randomBytes(100_000)

  before(async () => {
    // a blob is deleted once every device reported it fetched and a second has passed
    ({ net, site, server, browser, page } = await openRig({ attachmentHoldMs: 1_000 }, { acceptDownloads: true }, pageErrors))
    await link.route(page)
  })

  after(async () => { await closeRig({ net, server, browser }) })

  async function upload (bytes: Uint8Array, name: string, mediaType: string): Promise<string> {
    async function * body (): AsyncGenerator<Uint8Array> { yield bytes }
    return (await site.uploadAttachment({ name, mediaType, size: bytes.byteLength, body: body() })).id
  }

  /** Downloads an attachment from its button in the open message; its bytes. */
  async function download (label: RegExp): Promise<Buffer> {
    const [file] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByRole('button', { name: label }).click()])
    const path = net.path(`download-${file.suggestedFilename()}`)
    await file.saveAs(path)
    return await readFile(path)
  }

  async function openMessage (subject: string): Promise<void> {
    await page.locator('#message-list button', { hasText: subject }).click()
    await page.locator('#message-subject', { hasText: subject }).waitFor({ timeout: 10_000 })
  }

  it('fetches a small attachment when its message arrives and a large one when asked; a reload mid-fetch resumes from the chunks IndexedDB kept; deleting the message deletes them', async () => {
    await joinByLink({ page, site, server }, 'ann')

    const [smallId, largeId] = [await upload(small, 'notes.txt', 'text/plain'), await upload(large, 'lecture.mp4', 'video/mp4')]
    const sent = await site.send({ to: ['ann'], subject: 'Course material', body: 'Two files.', attachments: [smallId, largeId] })
    const [smallFile, largeFile] = [0, 1].map(index => `${site.peerId}-${sent.id}-${index}`)
    await waitFor('delivered to the tab', async () => (await site.message(sent.id)).devices[0].state === 'delivered', 30_000)

    // the small one: fetched at once, checked, kept in IndexedDB and reported (the site deletes its blob)
    await waitFor('the small attachment fetched', async () => (await storedAttachments(page)).whole.includes(smallFile), 30_000)
    await waitFor('the site deleted the small blob', async () => await site.attachment(smallId).then(() => false, () => true), 30_000)
    // the large one: not until asked for
    assert.equal((await storedAttachments(page)).parts[largeFile], undefined)
    await site.attachment(largeId)
    await openMessage('Course material')
    assert.ok((await download(/^Download notes\.txt \(100,000 bytes\)$/)).equals(small), 'from IndexedDB: the site holds it no more')

    // asked for, the large one stalls after 3 MiB; the page is reloaded in the middle of it
    link.stallAfter(3 * 1024 * 1024)
    await page.getByRole('button', { name: /^Download lecture\.mp4 / }).click()
    await waitFor('the transfer stalled', () => link.stalled, 60_000)
    // what the page received is written: the partial file stops growing
    let kept = -1
    await waitFor('the partial file kept', async () => {
      const now = (await storedAttachments(page)).parts[largeFile] ?? 0
      const settled = now === kept
      kept = now
      return settled && now > 0
    }, 30_000, 500)
    assert.ok(kept >= 2 * 1024 * 1024 && kept < large.byteLength, `kept ${kept} bytes of ${large.byteLength}`)
    link.next()
    await page.reload()
    // the device, started again, goes on with what it was fetching: from the chunks it kept
    await waitFor('the large attachment fetched after the reload', async () => (await storedAttachments(page)).whole.includes(largeFile), 60_000)
    assert.ok(link.received < large.byteLength - kept + 256 * 1024, `${link.received} bytes came after the reload, for ${large.byteLength - kept} missing: it resumed`)
    await waitFor('the site deleted the large blob', async () => await site.attachment(largeId).then(() => false, () => true), 30_000)
    await openMessage('Course material')
    assert.ok((await download(/^Download lecture\.mp4 \(6,291,459 bytes\)$/)).equals(large))
    assert.ok((await download(/^Download notes\.txt /)).equals(small), 'kept across the reload')

    // deleting the message deletes its files from IndexedDB
    await page.getByRole('button', { name: 'Delete', exact: true }).click()
    await page.getByRole('dialog', { name: 'Delete this message?' }).getByRole('button', { name: 'Delete', exact: true }).click()
    await page.locator('#notice', { hasText: 'The message was deleted' }).waitFor({ timeout: 10_000 })
    assert.deepEqual(await storedAttachments(page), { parts: {}, whole: [] })
    assert.equal(await page.locator('#message-list button', { hasText: 'Course material' }).count(), 0)
    await page.reload()
    await page.locator('#actions:not([hidden])').waitFor({ timeout: 30_000 })
    assert.equal(await page.locator('#message-list button', { hasText: 'Course material' }).count(), 0, 'gone for good')
    assert.deepEqual(pageErrors, [])
  })
})
