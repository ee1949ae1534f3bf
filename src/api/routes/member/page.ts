import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ApiError } from '../../errors.js'
import type { FastifyPluginAsync } from 'fastify'

/**
 * Where `npm run build` writes the inbox page (src/web, bundled by esbuild): <package>/dist/web,
 * reached from this file whether it runs as src/api/routes/member/page.ts (tsx) or as
 * dist/api/routes/member/page.js.
 */
export const WEB_ROOT = fileURLToPath(new URL('../../../../dist/web/', import.meta.url))

/**
 * The page's Content-Security-Policy. Scripts and styles come from the page's own files only
 * (no inline script, no eval, no inline style or event handler attribute), requests go to this
 * API only, nothing may frame the page, and DOM sinks take only values that DOMPurify's
 * Trusted Types policy made. `img-src` is wider than 'self' for one reason: a member may let a
 * site's messages load remote images (https only); the page's sanitizer (src/web/render.ts)
 * removes every image address but data: images unless the member allowed that site.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: https:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  'trusted-types dompurify'
].join('; ')

/** Sent with each of the page's files. */
const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // revalidated each time: a rebuilt page is never mixed with an older script
  'cache-control': 'no-cache'
}

/** The page's files: URL path, file in WEB_ROOT, media type. */
const FILES: Array<[string, string, string]> = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/main.js', 'main.js', 'text/javascript; charset=utf-8'],
  ['/inbox.css', 'inbox.css', 'text/css; charset=utf-8']
]

/**
 * The inbox page at GET / and its script and style sheet, without a token: the page holds no
 * secret (it gets the token from the address's fragment, which never reaches a server, or from
 * the member). The Host check still applies, so a DNS-rebound page gets nothing.
 */
export const pageRoutes: FastifyPluginAsync = async app => {
  for (const [path, file, type] of FILES) {
    app.get(path, { config: { public: true }, schema: { hide: true } }, async (_request, reply) => {
      let body: Buffer
      try {
        body = await readFile(join(WEB_ROOT, file))
      } catch {
        throw new ApiError('NOT_FOUND', 'the inbox page is not built: "npm run build" writes it to dist/web')
      }
      return await reply.headers(PAGE_HEADERS).type(type).send(body)
    })
  }
}
