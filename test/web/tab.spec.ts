import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { waitFor } from '../../src/cli/time.js'
import { TestNet } from '../support/nodes.js'
import type { SiteNode } from '../../src/node/index.js'

/**
 * The member node in a browser tab (src/web/main-tab.ts, dist/web/tab.html): a real Chromium
 * runs the device itself, with its keys and messages in IndexedDB, and reaches a real site
 * node on 127.0.0.1 over WebSockets; the site delivers over the connection the tab opened.
 */

const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const WEB = resolve(fileURLToPath(new URL('../../dist/web', import.meta.url)))
/** What a web server hosting the tab's page sends: the page's own policy, and WebSockets to the sites. */
const TAB_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
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

describe('web: the member node in a browser tab', function () {
  this.timeout(120_000)
  let net: TestNet
  let server: Server
  let browser: Browser
  let page: Page
  let site: SiteNode
  const pageErrors: string[] = []

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `Debian's Chromium is needed at ${CHROMIUM}: apt-get install -y chromium (.ci/run installs it)`)
    assert.ok(existsSync(join(WEB, 'tab.js')), 'the page is built: npm run build')
    net = await TestNet.create()
    site = await net.site('site', { dht: false })
    server = await serveWeb()
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
    page = await (await browser.newContext()).newPage()
    page.on('pageerror', err => { pageErrors.push(err.message) })
  })

  after(async () => {
    await browser?.close()
    server?.close()
    await net?.cleanup()
  })

  const base = (): string => `http://127.0.0.1:${(server.address() as { port: number }).port}/tab.html`

  it('joins from an invite link, receives over the WebSocket it opened, reads, replies, and keeps its inbox across a reload', async () => {
    const ws = site.multiaddrs().filter(a => a.includes('/ws'))
    assert.ok(ws.length > 0, `the site listens on WebSockets: ${site.multiaddrs().join(' ')}`)
    const invite = await site.createInvite({ ref: 'ann' })
    await page.goto(`${base()}#invite=${encodeURIComponent(invite.token)}`)
    await page.locator('#join-dialog[open]').waitFor({ timeout: 30_000 })
    await page.locator('#join-form button[type=submit]').click()
    const member = await waitFor('the tab joined', async () => (await site.members()).find(m => m.ref === 'ann' && m.devices.length === 1), 30_000)
    const device = member.devices[0].peerId

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
})
