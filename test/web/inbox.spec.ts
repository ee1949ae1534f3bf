import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { PAGE_CSP } from '../../src/api/index.js'
import { waitFor } from '../../src/cli/time.js'
import { api, killAll, startNode, tmtp, tmtpJson, type StartedNode } from '../support/cli.js'

/**
 * The inbox page (src/web) in a real Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core), served by a member node's local API (`tmtp start`), with two real sites
 * (`tmtp start`) sending to it over 127.0.0.1. Every request for another host is caught and
 * counted: a message must load nothing remote unless the member allowed it for its site.
 * The tests follow one member through one session, in order.
 */

const CHROMIUM = '/usr/bin/chromium'
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
/** A 1×1 PNG: what the caught remote image requests get. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=', 'base64')
const PASSPHRASE = 'a long browser passphrase'

interface Remote { requests: string[] }

/** Catches every request that leaves 127.0.0.1: an image gets a PNG (error.png fails), anything else fails. */
async function catchRemote (context: BrowserContext, remote: Remote): Promise<void> {
  await context.route(url => url.protocol.startsWith('http') && url.hostname !== '127.0.0.1', async route => {
    const url = route.request().url()
    remote.requests.push(url)
    if (/\.png$/.test(url) && !url.endsWith('error.png')) await route.fulfill({ status: 200, contentType: 'image/png', body: PNG })
    else await route.abort()
  })
}

/** Waits until an element matching `selector` contains `text`. */
async function shows (page: Page, selector: string, text: string | RegExp): Promise<void> {
  await page.locator(selector, { hasText: text }).first().waitFor({ timeout: 20_000 })
}

/** The focused element as "tag:accessible name" (aria-label, its label, or its text). */
async function focused (page: Page): Promise<string> {
  return await page.evaluate(() => {
    const e = document.activeElement as HTMLElement | null
    if (e === null || e === document.body) return 'body'
    const label = e.getAttribute('aria-label') ?? ((e as HTMLInputElement).labels?.[0]?.textContent ?? e.textContent ?? '')
    return `${e.tagName.toLowerCase()}:${label.replace(/\s+/g, ' ').trim()}`
  })
}

/** Presses Tab until the focused element's name starts with `target` (or `max` presses); returns every name passed. */
async function tabTo (page: Page, target: string, max = 40): Promise<string[]> {
  const seen: string[] = []
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab')
    seen.push(await focused(page))
    if (seen[seen.length - 1].startsWith(target)) return seen
  }
  throw new Error(`Tab never reached ${target}: ${seen.join(' | ')}`)
}

describe('web: the inbox page in Chromium, served by tmtp start', function () {
  this.timeout(120_000)

  let root: string
  let memberDir: string
  let site: StartedNode
  let other: StartedNode
  let member: StartedNode
  let token: string
  let browser: Browser
  let context: BrowserContext
  let page: Page
  const remote: Remote = { requests: [] }
  const pageErrors: string[] = []

  async function send (from: StartedNode, subject: string, body: string): Promise<string> {
    return (await from.client!.post<{ id: string }>('/v1/messages', { to: ['ann'], subject, body })).id
  }

  async function open (subject: string): Promise<void> {
    await page.locator('#message-list button', { hasText: subject }).click()
    await shows(page, '#message-subject', subject)
  }

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `Debian's Chromium is needed at ${CHROMIUM}: apt-get install -y chromium (.ci/run installs it)`)
    root = await mkdtemp(join(tmpdir(), 'tmtp-web-'))
    memberDir = join(root, 'member')
    await Promise.all([
      tmtpJson(['init', '--role', 'site', '--name', 'Web Club', '--data', join(root, 'site')]),
      tmtpJson(['init', '--role', 'site', '--name', 'Other Club', '--data', join(root, 'other')]),
      tmtpJson(['init', '--role', 'member', '--name', 'ann-laptop', '--data', memberDir])
    ])
    ;[site, other, member, browser] = await Promise.all([
      startNode(join(root, 'site')),
      startNode(join(root, 'other')),
      startNode(memberDir),
      chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS })
    ])
    token = (await readFile(join(memberDir, 'api.token'), 'utf8')).trim()
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true })
    await catchRemote(context, remote)
    // records the notifications the page shows (headless Chromium shows them nowhere)
    await context.addInitScript(() => {
      const shown: Array<{ title: string, body?: string }> = []
      Object.defineProperty(window, '__notifications', { value: shown })
      const Real = window.Notification
      window.Notification = class extends Real {
        constructor (title: string, options?: NotificationOptions) {
          super(title, options)
          shown.push({ title, body: options?.body })
        }
      }
    })
    page = await context.newPage()
    page.on('pageerror', err => { pageErrors.push(err.message) })
  })

  afterEach(() => {
    assert.deepEqual(pageErrors, [], 'no error in the page')
  })

  after(async () => {
    await browser?.close()
    await killAll()
    await rm(root, { recursive: true, force: true })
  })

  it('is served with a strict CSP; tmtp open signs the browser in through an owner-only file, and the token leaves the address', async () => {
    const res = await fetch(`${member.url}/`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-security-policy'), PAGE_CSP)
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer')

    // a browser opener that notes what it was asked to open
    const bin = join(root, 'bin')
    const opened = join(root, 'opened.txt')
    await mkdir(bin)
    await writeFile(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`, { mode: 0o755 })
    const run = await tmtp(['open', '--data', memberDir], { env: { PATH: `${bin}:${process.env.PATH ?? ''}` } })
    assert.equal(run.code, 0, run.stderr)
    assert.match(run.stdout, /opened the inbox \(http:\/\/127\.0\.0\.1:\d+\/\) in your browser/)
    assert.ok(!run.stdout.includes(token) && !run.stderr.includes(token), 'tmtp open prints no token')
    const file = await waitFor('the browser opener', async () => await readFile(opened, 'utf8').catch(() => undefined))
    assert.equal(file, join(memberDir, 'inbox.html'), 'the opener gets a file, not the token')
    assert.equal((await stat(file)).mode & 0o777, 0o600)

    await page.goto(pathToFileURL(file).href)
    await page.waitForURL(`${member.url}/`)
    await shows(page, '#connection', 'Live')
    assert.equal(page.url(), `${member.url}/`, 'the token left the address bar')
    assert.equal(await page.evaluate(() => sessionStorage.getItem('tmtp:api-token')), token)
    await shows(page, '#empty', 'No messages yet')

    const printed = await tmtp(['open', '--print', '--data', memberDir])
    assert.equal(printed.code, 0, printed.stderr)
    assert.equal(printed.stdout.trim(), `${member.url}/#token=${token}`)
    const wrongRole = await tmtp(['open', '--data', join(root, 'site'), '--json'])
    assert.equal(wrongRole.code, 1)
    assert.equal(JSON.parse(wrongRole.stderr).error.code, 'WRONG_ROLE')
  })

  it('joins a site by a pasted invite, and another by an invite link (#invite=)', async () => {
    const pasted = await site.client!.post<{ token: string }>('/v1/invites', { ref: 'ann' })
    await page.getByRole('button', { name: 'Join a site' }).click()
    await page.getByLabel('Invite').fill(pasted.token)
    await page.getByRole('button', { name: 'Join', exact: true }).click()
    await shows(page, '#notice', 'You joined Web Club')
    await shows(page, '#site-list', 'Web Club')

    const link = await other.client!.post<{ token: string }>('/v1/invites', { ref: 'ann' })
    await page.goto(`${member.url}/#invite=${link.token}`)
    const dialog = page.getByRole('dialog', { name: 'Join a site' })
    await dialog.waitFor()
    assert.equal(await page.getByLabel('Invite').inputValue(), link.token)
    assert.equal(page.url(), `${member.url}/`, 'the invite left the address bar')
    await dialog.getByRole('button', { name: 'Join', exact: true }).click()
    await shows(page, '#site-list', 'Other Club')
    const joined = (await api<{ sites: Array<{ peerId: string }> }>(member, '/v1/sites')).sites.map(s => s.peerId).sort()
    assert.deepEqual(joined, [site.ready.peerId, other.ready.peerId].sort())
  })

  it('lists messages newest first with their unread state; opening one renders its Markdown and marks it read', async () => {
    await send(site, 'First', 'the first')
    await shows(page, '#message-list', 'First')
    const second = await send(site, 'Second', '## A title\n\nSome **bold** text and [a link](https://example.org/page).\n\n- one\n- two')
    await shows(page, '#message-list', 'Second')
    const items = page.locator('#message-list li')
    assert.deepEqual((await items.allTextContents()).map(t => t.replace(/Web Club.*/, '')), ['UnreadSecond', 'UnreadFirst'])
    assert.deepEqual(await items.evaluateAll(lis => lis.map(li => li.className)), ['unread', 'unread'])
    assert.equal(await page.title(), '(2) TMTP inbox')

    await open('Second')
    assert.equal(await page.locator('#message-body h4').textContent(), 'A title')
    assert.equal(await page.locator('#message-body strong').textContent(), 'bold')
    assert.equal(await page.locator('#message-body li').count(), 2)
    const link = page.locator('#message-body a')
    assert.equal(await link.getAttribute('href'), 'https://example.org/page')
    assert.equal(await link.getAttribute('target'), '_blank')
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer')
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'message-subject', 'the opened message has the focus')
    assert.deepEqual(await items.evaluateAll(lis => lis.map(li => li.className)), ['read', 'unread'])
    const read = async (): Promise<boolean | undefined> => (await api<{ messages: Array<{ id: string, read: boolean }> }>(member, '/v1/inbox')).messages.find(m => m.id === second)?.read
    assert.equal(await read(), true)

    await page.getByRole('button', { name: 'Mark unread' }).click()
    await shows(page, '#notice', 'Marked unread')
    assert.deepEqual(await items.evaluateAll(lis => lis.map(li => li.className)), ['unread', 'unread'])
    assert.equal(await read(), false)
  })

  it('a message can run no script and loads nothing remote, unless the member allows remote images for its site', async () => {
    const evil = [
      '<script>window.__xss = "script"</script>',
      '<img src="https://tracker.example/error.png" onerror="window.__xss = \'onerror\'">',
      '<iframe src="https://tracker.example/frame.html"></iframe>',
      '<link rel="stylesheet" href="https://tracker.example/style.css">',
      '<style>@import url(https://tracker.example/import.css);</style>',
      '<div style="background: url(https://tracker.example/background.png)">styled</div>',
      '<svg><image href="https://tracker.example/svg.png"/></svg>',
      '<form action="https://tracker.example/form"><button>send</button></form>',
      '',
      '[run me](javascript:window.__xss=%22link%22) [data](data:text/html,hello) [relative](/v1/sites) [fine](https://example.org/)',
      '',
      '![pixel](https://tracker.example/pixel.png) ![plain](http://tracker.example/plain.png)'
    ].join('\n')
    await send(site, 'Evil', evil)
    await shows(page, '#message-list', 'Evil')
    await open('Evil')
    const body = page.locator('#message-body')
    assert.equal(await body.locator('script, iframe, link, style, form, svg, [onerror], [style]').count(), 0)
    assert.equal(await body.locator('img').count(), 0)
    assert.equal(await body.locator('.blocked-image').count(), 3)
    assert.deepEqual(await body.locator('a[href]').evaluateAll(as => as.map(a => a.getAttribute('href'))), ['https://example.org/'])
    await body.getByText('run me').click()
    await page.waitForTimeout(200)
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss), undefined, 'no script ran')
    assert.deepEqual(remote.requests, [], 'nothing was requested from another host')
    await shows(page, '#message-remote', 'Remote images are not loaded for this site')

    await page.getByRole('button', { name: 'Load them for this site' }).click()
    await waitFor('the allowed remote images', () => remote.requests.length >= 2)
    assert.deepEqual([...remote.requests].sort(), ['https://tracker.example/error.png', 'https://tracker.example/pixel.png'], 'https images only, and only images')
    assert.equal(await body.locator('img').count(), 2)
    assert.equal(await body.locator('.blocked-image').count(), 1, 'http stays out')
    await page.waitForTimeout(200)
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: string }).__xss), undefined, 'the failed image ran no handler')
    assert.deepEqual(await page.evaluate(() => Object.keys(localStorage)), [`tmtp:remote-content:${site.ready.peerId}`], 'allowed for that site alone')

    // the setting is per site, in the site's tools; turned off, the images go again
    await page.locator('#site-list button', { hasText: 'Other Club' }).click()
    assert.equal(await page.getByLabel('Load remote images in this site\'s messages').isChecked(), false)
    await page.locator('#site-list button', { hasText: 'Web Club' }).click()
    const toggle = page.getByLabel('Load remote images in this site\'s messages')
    assert.equal(await toggle.isChecked(), true)
    await toggle.uncheck()
    assert.equal(await body.locator('img').count(), 0)
    await page.locator('#site-list button', { hasText: 'All sites' }).click()
  })

  it('a reply reaches the site', async () => {
    await open('Second')
    await page.getByLabel('Reply').fill('Thanks, from the browser')
    await page.getByRole('button', { name: 'Send reply' }).click()
    await shows(page, '#notice', 'Reply queued')
    const reply = await waitFor('the reply at the site', async () => (await api<{ replies: Array<{ body: string, replyTo: string, subject: string }> }>(site, '/v1/replies')).replies.find(r => r.body === 'Thanks, from the browser'))
    assert.equal(reply.subject, 'Re: Second')
    assert.equal(await page.getByLabel('Reply').inputValue(), '')
  })

  it('the keyboard alone reaches every action, in dialogs too', async () => {
    await page.reload()
    await shows(page, '#connection', 'Live')
    const header = await tabTo(page, 'button:Backup')
    for (const name of ['a:Skip to messages', 'button:Join a site', 'button:Blocked']) assert.ok(header.includes(name), `${name} in ${header.join(' | ')}`)
    // a dialog holds the focus, and gives it back when it closes
    await page.keyboard.press('Enter')
    assert.equal(await focused(page), 'input:Passphrase (8 characters or more)')
    assert.deepEqual([...await tabTo(page, 'input:The passphrase again', 1), ...await tabTo(page, 'button:Download the backup', 1), ...await tabTo(page, 'button:Close', 1)].length, 3)
    await page.keyboard.press('Escape')
    // the dialog's close event (which gives the focus back) is a task of its own: a Tab pressed
    // before it ran would be undone by it (seen under load)
    await page.evaluate(async () => { await new Promise(resolve => setTimeout(resolve, 0)) })
    assert.equal(await focused(page), 'button:Backup')
    await tabTo(page, 'button:Turn on notifications', 1)
    await tabTo(page, 'button:All sites')
    await tabTo(page, 'button:Web Club')
    await page.keyboard.press('Enter')
    const tools = await tabTo(page, 'button:Leave')
    assert.deepEqual(tools.slice(-3), ['input:Load remote images in this site\'s messages', 'button:Block', 'button:Leave'])
    await tabTo(page, 'button:Second')
    await page.keyboard.press('Enter')
    await shows(page, '#message-subject', 'Second')
    assert.equal(await focused(page), 'h2:Second')
    const view = await tabTo(page, 'button:Send reply')
    assert.deepEqual(view, ['a:a link', 'button:Mark unread', 'button:Delete', 'textarea:Reply', 'button:Send reply'])
    for (let i = 0; i < 5; i++) await page.keyboard.press('Shift+Tab')
    assert.equal(await focused(page), 'button:Back to messages')
    await page.keyboard.press('Enter')
    assert.equal(await page.locator('#message').isHidden(), true)
    assert.match(await focused(page), /^button:Second/, 'the focus goes back to the message in the list')
  })

  it('a message that arrives while the page is open shows up at the top, with a notification, and the focus stays', async () => {
    await context.grantPermissions(['notifications'], { origin: member.url })
    await page.getByRole('button', { name: 'Turn on notifications' }).click()
    await shows(page, '#notify-button', 'Notifications are on')
    // a keyboard user in the list stays where they are when the list changes
    await page.locator('#message-list button', { hasText: 'Second' }).focus()
    await send(site, 'Live one', 'arrived while the page was open')
    await shows(page, '#message-list li:first-child.unread', 'Live one')
    assert.match(await focused(page), /^button:Second/)
    await shows(page, '#notice', 'New message from Web Club: Live one')
    assert.deepEqual(await page.evaluate(() => (window as unknown as { __notifications: unknown[] }).__notifications), [{ title: 'Web Club', body: 'Live one' }])
  })

  it('a message sent to a group of the site shows the group\'s name beside the site\'s', async () => {
    await site.client!.post('/v1/groups', { name: 'Class 3B', members: ['ann'] })
    await site.client!.post('/v1/messages', { groups: ['Class 3B'], subject: 'Outing', body: 'Friday' })
    await shows(page, '#message-list li:first-child', 'Outing')
    assert.match(await page.locator('#message-list li:first-child .from').textContent() ?? '', /^Web Club · Class 3B$/)
    await open('Outing')
    assert.equal(await page.locator('#message-from').textContent(), 'From Web Club · Class 3B')
    await page.locator('#back-button').click()
  })

  it('a message\'s attachment downloads from its button, under its own name', async () => {
    const file = join(root, 'Plan für Freitag.pdf')
    const bytes = Buffer.from(Array.from({ length: 150_000 }, (_, i) => (i * 7) % 251))
    await writeFile(file, bytes)
    const uploaded = await site.client!.upload<{ id: string }>('/v1/attachments', file, { name: 'Plan für Freitag.pdf' }, 'application/pdf')
    await site.client!.post('/v1/messages', { to: ['ann'], subject: 'Plan', body: 'attached', attachments: [uploaded.id] })
    await shows(page, '#message-list li:first-child', 'Plan')
    await open('Plan')
    const button = page.getByRole('button', { name: /^Download Plan für Freitag\.pdf \(150,000 bytes\)$/ })
    const [download] = await Promise.all([page.waitForEvent('download'), button.click()])
    assert.equal(download.suggestedFilename(), 'Plan für Freitag.pdf')
    const saved = join(root, 'downloaded.pdf')
    await download.saveAs(saved)
    assert.ok((await readFile(saved)).equals(bytes))
    await page.locator('#back-button').click()
  })

  it('deletes a message with its attachment\'s file, once the member confirmed it', async () => {
    await open('Plan')
    const confirm = page.getByRole('dialog', { name: 'Delete this message?' })
    await page.getByRole('button', { name: 'Delete', exact: true }).click()
    await confirm.getByRole('button', { name: 'Cancel' }).click()
    assert.equal(await page.locator('#message').isVisible(), true, 'cancelled: the message stays')
    await page.getByRole('button', { name: 'Delete', exact: true }).click()
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click()
    await shows(page, '#notice', 'The message was deleted')
    assert.equal(await page.locator('#message').isHidden(), true)
    assert.equal(await page.locator('#message-list button', { hasText: 'Plan' }).count(), 0)
    const subjects = (await api<{ messages: Array<{ subject: string }> }>(member, '/v1/inbox')).messages.map(m => m.subject)
    assert.ok(!subjects.includes('Plan'), subjects.join(', '))
    assert.deepEqual(await readdir(join(memberDir, 'attachments')), [], 'the file went with its message')
  })

  it('blocks, unblocks and leaves a site', async () => {
    const peer = other.ready.peerId
    const blocks = async (): Promise<string[]> => (await api<{ blocks: Array<{ peer: string }> }>(member, '/v1/blocks')).blocks.map(b => b.peer)
    await page.locator('#site-list button', { hasText: 'Other Club' }).click()
    await shows(page, '#site-name', 'Other Club')
    await page.getByRole('button', { name: 'Block', exact: true }).click()
    await shows(page, '#notice', 'Other Club is blocked')
    await shows(page, '#site-state', 'blocked')
    assert.deepEqual(await blocks(), [peer])

    await page.getByRole('button', { name: 'Blocked', exact: true }).click()
    const dialog = page.getByRole('dialog', { name: 'Blocked' })
    await dialog.getByRole('button', { name: 'Unblock Other Club' }).click()
    await shows(page, '#blocked-empty', 'No one is blocked')
    assert.deepEqual(await blocks(), [])
    await dialog.getByRole('button', { name: 'Close' }).click()
    assert.equal(await page.getByRole('button', { name: 'Block', exact: true }).isVisible(), true)

    await page.getByRole('button', { name: 'Leave', exact: true }).click()
    const confirm = page.getByRole('dialog', { name: 'Leave Other Club?' })
    await confirm.getByRole('button', { name: 'Leave' }).click()
    await shows(page, '#notice', 'You left Other Club; the site was told')
    await shows(page, '#site-state', 'You left this site')
    assert.equal(await page.getByRole('button', { name: 'Leave', exact: true }).isHidden(), true)
    const left = (await api<{ sites: Array<{ peerId: string, left?: number }> }>(member, '/v1/sites')).sites.find(s => s.peerId === peer)
    assert.equal(typeof left?.left, 'number')
    await page.locator('#site-list button', { hasText: 'All sites' }).click()
  })

  it('is readable on a phone-sized screen: no horizontal scroll', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })
    await catchRemote(phone, remote)
    try {
      const small = await phone.newPage()
      await small.goto(`${member.url}/#token=${token}`)
      await shows(small, '#connection', 'Live')
      const wide = `${'x'.repeat(300)}\n\nhttps://example.org/${'long-path/'.repeat(30)}\n\n\`\`\`\n${'code '.repeat(80)}\n\`\`\`\n\n| a | b | c | d | e | f |\n|---|---|---|---|---|---|\n| ${Array(6).fill('cell-with-long-content').join(' | ')} |`
      await send(site, 'Wide', wide)
      await shows(small, '#message-list', 'Wide')
      const overflow = async (): Promise<number[]> => await small.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth])
      const [listWidth, viewport] = await overflow()
      assert.ok(listWidth <= viewport, `the list is ${listWidth} px wide in ${viewport}`)
      await small.locator('#message-list button', { hasText: 'Wide' }).tap()
      await shows(small, '#message-subject', 'Wide')
      const [messageWidth] = await overflow()
      assert.ok(messageWidth <= viewport, `the message is ${messageWidth} px wide in ${viewport}`)
    } finally {
      await phone.close()
    }
  })

  it('refuses an inline script: the CSP holds', async () => {
    const result = await page.evaluate(async () => {
      const violations: string[] = []
      document.addEventListener('securitypolicyviolation', e => { violations.push(e.effectiveDirective) })
      const script = document.createElement('script')
      script.append(document.createTextNode('window.__inline = true'))
      document.body.append(script)
      await new Promise(resolve => setTimeout(resolve, 100))
      return { ran: (window as unknown as { __inline?: boolean }).__inline === true, violations }
    })
    assert.equal(result.ran, false, 'the inline script did not run')
    assert.ok(result.violations.some(v => v === 'script-src-elem' || v === 'require-trusted-types-for'), result.violations.join(', '))
  })

  it('exports the identity as an encrypted backup that tmtp init --restore makes the same device of', async () => {
    await page.getByRole('button', { name: 'Backup', exact: true }).click()
    const dialog = page.getByRole('dialog', { name: 'Back up this device' })
    assert.equal(await dialog.locator('#import-form').isHidden(), true, 'the Node member restores with the command')
    await shows(page, '#import-elsewhere', 'tmtp init --role member --restore FILE')
    await dialog.getByLabel('Passphrase (8 characters or more)').fill(PASSPHRASE)
    await dialog.getByLabel('The passphrase again').fill(`${PASSPHRASE}!`)
    await dialog.getByRole('button', { name: 'Download the backup' }).click()
    await shows(page, '#backup-status', 'The two passphrases differ')
    await dialog.getByLabel('The passphrase again').fill(PASSPHRASE)
    const [download] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('button', { name: 'Download the backup' }).click()])
    assert.match(download.suggestedFilename(), /^tmtp-identity-\w{8}\.json$/)
    const file = join(root, 'backup.json')
    await download.saveAs(file)
    await shows(page, '#backup-status', 'The backup was downloaded')

    const restoredDir = join(root, 'restored')
    const restored = await tmtp(['init', '--role', 'member', '--data', restoredDir, '--restore', file, '--json'], { env: { TMTP_BACKUP_PASSPHRASE: PASSPHRASE } })
    assert.equal(restored.code, 0, restored.stderr)
    const out = JSON.parse(restored.stdout)
    assert.equal(out.peerId, member.ready.peerId, 'the restored device has the same PeerId')
    assert.deepEqual(out.restoredSites.map((s: { name: string, left?: number }) => `${s.name}${s.left !== undefined ? ' (left)' : ''}`).sort(), ['Other Club (left)', 'Web Club'])
    for (const key of ['identity.key', 'encryption.key']) assert.deepEqual(await readFile(join(restoredDir, key)), await readFile(join(memberDir, key)), key)
    // a device that is not running has no page to open
    const notRunning = await tmtp(['open', '--data', restoredDir, '--json'])
    assert.equal(notRunning.code, 2)
    assert.equal(JSON.parse(notRunning.stderr).error.code, 'NOT_RUNNING')
  })
})
