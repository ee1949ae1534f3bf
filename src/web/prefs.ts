/**
 * The member's per-site choice to load remote content (images over https) in that site's
 * messages, kept by the page in localStorage under the site's PeerId. Off unless the member
 * turned it on: a remote image tells its server that, when and from where a message was read.
 */

const PREFIX = 'tmtp:remote-content:'

export function remoteContentAllowed (site: string): boolean {
  try {
    return localStorage.getItem(PREFIX + site) === 'allow'
  } catch {
    // storage disabled: nothing was allowed
    return false
  }
}

export function allowRemoteContent (site: string, allowed: boolean): void {
  if (allowed) localStorage.setItem(PREFIX + site, 'allow')
  else localStorage.removeItem(PREFIX + site)
}
