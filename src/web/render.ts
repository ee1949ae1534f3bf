import DOMPurify from 'dompurify'
import { Marked } from 'marked'

/**
 * A message body as a page fragment that can do nothing but be read: Markdown rendered by
 * marked, then sanitized by DOMPurify with an allow-list. DOMPurify parses into a document
 * that loads nothing, and the checks below run there, so an address that is refused is never
 * requested. The page's CSP (no inline script, Trusted Types) stands behind it.
 *
 * - Tags: what Markdown makes (no script, style, iframe, form, svg, input...). Attributes: no
 *   event handler, style, class, id or data-*.
 * - Links: http, https and mailto only (a javascript:, data: or relative href is dropped); each
 *   opens a new tab without opener or referrer.
 * - Images: data: images of common raster types always; https images only where the member
 *   allowed remote content for the sending site (`remote`); any other image becomes its text.
 */

const ALLOWED_TAGS = ['a', 'b', 'blockquote', 'br', 'code', 'del', 'div', 'em', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'kbd', 'li', 'ol', 'p', 'pre', 's', 'span', 'strong', 'sub', 'sup', 'table', 'tbody', 'td', 'th', 'thead', 'tr', 'ul']
const ALLOWED_ATTR = ['href', 'src', 'alt', 'title', 'start', 'align', 'colspan', 'rowspan']
const LINK_PROTOCOLS = new Set(['http:', 'https:', 'mailto:'])
const DATA_IMAGE = /^data:image\/(?:png|gif|jpeg|webp);base64,[a-z0-9+/=\s]*$/i

// a message's headings sit below the page's own (h1 the page, h2 the subject)
const markdown = new Marked({
  gfm: true,
  renderer: {
    heading ({ tokens, depth }) {
      const level = Math.min(depth + 2, 6)
      return `<h${level}>${this.parser.parseInline(tokens)}</h${level}>\n`
    }
  }
})

function linkAllowed (href: string): boolean {
  try {
    return LINK_PROTOCOLS.has(new URL(href).protocol)
  } catch {
    return false
  }
}

function imageAllowed (src: string, remote: boolean): boolean {
  if (DATA_IMAGE.test(src)) return true
  try {
    return remote && new URL(src).protocol === 'https:'
  } catch {
    return false
  }
}

const purify = DOMPurify(window)
/** Set for the one synchronous sanitize call in render(): hooks cannot take arguments. */
let remoteAllowed = false

purify.addHook('uponSanitizeAttribute', (_node, data) => {
  if (data.attrName === 'href') data.keepAttr = linkAllowed(data.attrValue)
  else if (data.attrName === 'src') data.keepAttr = imageAllowed(data.attrValue, remoteAllowed)
})
purify.addHook('afterSanitizeAttributes', node => {
  if (node.nodeName === 'A' && node.hasAttribute('href')) {
    node.setAttribute('target', '_blank')
    node.setAttribute('rel', 'noopener noreferrer')
  }
})

export interface Rendered {
  body: DocumentFragment
  /** Images left out because the sender's remote content is not allowed (or their address is not https). */
  blockedImages: number
}

/** True when the content type is Markdown (as the protocol's default, "", means). */
export function isMarkdown (contentType: string): boolean {
  const type = contentType.split(';')[0].trim().toLowerCase()
  return type === '' || type === 'text/markdown'
}

/** A message body, rendered: Markdown sanitized as above; any other content type as plain text. */
export function render (body: string, contentType: string, remote: boolean): Rendered {
  if (!isMarkdown(contentType)) {
    const pre = document.createElement('pre')
    pre.className = 'plain'
    pre.textContent = body
    const fragment = document.createDocumentFragment()
    fragment.append(pre)
    return { body: fragment, blockedImages: 0 }
  }
  remoteAllowed = remote
  let fragment: DocumentFragment
  try {
    fragment = purify.sanitize(markdown.parse(body, { async: false }), { ALLOWED_TAGS, ALLOWED_ATTR, ALLOW_DATA_ATTR: false, ALLOW_ARIA_ATTR: false, RETURN_DOM_FRAGMENT: true })
  } finally {
    remoteAllowed = false
  }
  // still in DOMPurify's document: an image without its address becomes its description
  let blockedImages = 0
  for (const img of fragment.querySelectorAll('img:not([src])')) {
    const alt = img.getAttribute('alt') ?? ''
    const note = document.createElement('span')
    note.className = 'blocked-image'
    note.textContent = `[image${alt !== '' ? `: ${alt}` : ''}]`
    img.replaceWith(note)
    blockedImages++
  }
  return { body: fragment, blockedImages }
}
