/** The few DOM helpers the page needs; none takes HTML (text goes in as text nodes). */

/** The element with this id; the page's HTML has it, so a missing one is a bug. */
export function byId<T extends HTMLElement = HTMLElement> (id: string): T {
  const element = document.getElementById(id)
  if (element === null) throw new Error(`the page has no #${id}`)
  return element as T
}

/** A new element with a class and children (strings become text). */
export function el<K extends keyof HTMLElementTagNameMap> (tag: K, className: string, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  if (className !== '') element.className = className
  element.append(...children)
  return element
}

/** A date and time as the reader's locale writes them, in a <time> element. */
export function timeElement (ms: number): HTMLTimeElement {
  const time = el('time', '', formatTime(ms))
  time.dateTime = new Date(ms).toISOString()
  return time
}

export function formatTime (ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

/** Offers `content` as a file download (a blob: address, revoked once the download has it). */
export function download (name: string, content: string | Blob, type: string): void {
  const url = URL.createObjectURL(new Blob([content], { type }))
  const link = el('a', '')
  link.href = url
  link.download = name
  link.hidden = true
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => { URL.revokeObjectURL(url) }, 60_000)
}
