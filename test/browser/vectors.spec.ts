import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { build, type Metafile } from 'esbuild'
import { chromium } from 'playwright-core'
import { VECTOR_DIR } from '../../scripts/gen-vectors.js'
import { browserImports } from '../../scripts/lib/browser-imports.js'
import type { VectorResult } from './vectors-page.js'

/**
 * spec/vectors/*.json in Chromium: src/protocol and src/crypto bundled for the browser, with
 * the crypto provider package.json gives browsers, check every vector with the checks of the
 * Node test (test/spec/vector-checks.ts), fetched from a server on 127.0.0.1.
 */

const CHROMIUM = '/usr/bin/chromium'
const ROOT = resolve(VECTOR_DIR, '../..')

async function bundlePage (): Promise<{ code: string, metafile: Metafile }> {
  const result = await build({
    entryPoints: [join(ROOT, 'test/browser/vectors-page.ts')],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    metafile: true,
    logLevel: 'silent',
    // the package's #imports (the crypto provider) at their browser sources
    plugins: [browserImports(ROOT)],
    // Node's assert for the browser; it reads these Node globals, which a page does not have
    alias: { 'node:assert': 'assert' },
    define: { 'process.env.NODE_DEBUG': 'undefined', 'process.stderr': 'undefined', 'process.emitWarning': 'undefined' }
  })
  return { code: result.outputFiles[0].text, metafile: result.metafile }
}

async function serve (routes: Map<string, { type: string, body: string }>): Promise<Server> {
  const server = createServer((req, res) => {
    const route = routes.get(req.url ?? '')
    res.writeHead(route === undefined ? 404 : 200, { 'content-type': route?.type ?? 'text/plain' })
    res.end(route?.body ?? 'not found')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return server
}

describe('spec/vectors in Chromium', function () {
  // a browser's start and the checks on pure-JS crypto
  this.timeout(120_000)

  it('checks every vector in the page with the browser crypto provider, and bundles no node:crypto', async () => {
    assert.ok(existsSync(CHROMIUM), `Debian's Chromium is needed at ${CHROMIUM}: apt-get install -y chromium (.ci/run installs it)`)
    const { code, metafile } = await bundlePage()
    assert.ok(!code.includes('node:crypto'), 'the bundle holds no node:crypto')
    const inputs = Object.keys(metafile.inputs)
    assert.ok(inputs.includes('src/crypto/provider-browser.ts'), 'the browser provider is bundled')
    assert.ok(!inputs.includes('src/crypto/provider-node.ts'), 'the Node provider is not')

    const files = readdirSync(VECTOR_DIR).filter(name => name.endsWith('.json')).sort()
    const routes = new Map([
      ['/', { type: 'text/html', body: '<!doctype html><meta charset="utf-8"><script type="module" src="/vectors.js"></script>' }],
      ['/vectors.js', { type: 'text/javascript', body: code }],
      ['/vectors/', { type: 'application/json', body: JSON.stringify(files) }],
      ...files.map(name => [`/vectors/${name}`, { type: 'application/json', body: readFileSync(join(VECTOR_DIR, name), 'utf8') }] as const)
    ])
    const server = await serve(routes)
    const profile = await mkdtemp(join(tmpdir(), 'tmtp-chromium-'))
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      chromiumSandbox: false,
      args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
    })
    try {
      const page = await context.newPage()
      const pageErrors: string[] = []
      page.on('pageerror', err => pageErrors.push(err.stack ?? err.message))
      const address = server.address()
      assert.ok(address !== null && typeof address === 'object')
      await page.goto(`http://127.0.0.1:${address.port}/`)
      const results = await page.evaluate(async () => await (globalThis as unknown as { vectorResults?: Promise<VectorResult[]> }).vectorResults)
      assert.deepEqual({ results, pageErrors }, { results: files.map(name => ({ name, error: null })), pageErrors: [] })
    } finally {
      await context.close()
      server.close()
      await rm(profile, { recursive: true, force: true })
    }
  })
})
