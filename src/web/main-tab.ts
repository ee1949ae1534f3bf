import { InboxApp } from './app.js'
import { byId } from './dom.js'
import { takeFragment } from './fragment.js'
import { NodeBackend } from './node-backend.js'

/**
 * The page's entry with the member node in the tab (tab.html): any web server can host the
 * page's files, a site's included; the device, its keys and its messages live in this
 * browser's IndexedDB. An invite link (`tab.html#invite=tmtp1:…`) offers to join its site.
 */

/** The IndexedDB name of the tab's member node. */
const DATA = 'tmtp-member'

async function start (): Promise<void> {
  const { invite } = takeFragment()
  byId('connection').textContent = 'Starting the device…'
  let backend: NodeBackend
  try {
    backend = await NodeBackend.start(DATA)
  } catch (err) {
    byId('connection').textContent = `This browser cannot run the device: ${(err as Error).message}`
    return
  }
  // a device in the tab has no token to lose: nothing signs it out
  const app = new InboxApp({ backend, onUnauthorized: () => {} })
  await app.start()
  if (invite !== undefined) app.offerJoin(invite)
  window.addEventListener('hashchange', () => {
    const next = takeFragment().invite
    if (next !== undefined) app.offerJoin(next)
  })
  window.addEventListener('pagehide', () => { backend.close() })
}

start().catch(err => { byId('connection').textContent = `The inbox failed: ${(err as Error).message}` })
