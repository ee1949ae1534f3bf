/**
 * Builds the inbox page into dist/web (part of `npm run build`):
 *   main.js  the page on a member node's local API (`tmtp start` serves it at /, index.html)
 *   tab.js   the page with the member node in the tab (tab.html: any web server may host it)
 * The tab's bundle holds the member node for a browser: the package's #imports resolve to their
 * browser sources (IndexedDB, WebSockets, WebCrypto and @noble), never to node:*.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { browserImports } from './lib/browser-imports.js'

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)))
const OUT = join(ROOT, 'dist/web')

const common = { bundle: true, minify: true, format: 'esm', target: 'es2022', platform: 'browser', logLevel: 'warning' } as const

await mkdir(OUT, { recursive: true })
await build({ ...common, entryPoints: [join(ROOT, 'src/web/main.ts'), join(ROOT, 'src/web/inbox.css')], outdir: OUT })
await build({
  ...common,
  entryPoints: { tab: join(ROOT, 'src/web/main-tab.ts') },
  outdir: OUT,
  plugins: [browserImports(ROOT)],
  // libraries of the libp2p stack read these Node globals here and there; a page has none
  define: { 'process.env.NODE_DEBUG': 'undefined', global: 'globalThis' }
})
const page = await readFile(join(ROOT, 'src/web/index.html'), 'utf8')
await writeFile(join(OUT, 'index.html'), page)
// the same page, with the device in the tab instead of behind a local API
await writeFile(join(OUT, 'tab.html'), page.replace('src="main.js"', 'src="tab.js"'))
