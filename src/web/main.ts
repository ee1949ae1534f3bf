import { InboxApp } from './app.js'
import { BackendError } from './backend.js'
import { byId } from './dom.js'
import { takeFragment } from './fragment.js'
import { HttpBackend } from './http-backend.js'

/**
 * The page's entry on a member node's local API (`tmtp start` serves it at /). The API's token
 * arrives in the fragment (`tmtp open`) or is pasted by the member; it is kept in
 * sessionStorage, which this tab alone reads and which goes when the tab closes, and it is
 * sent only in the Authorization header of requests to this origin.
 */

const TOKEN_KEY = 'tmtp:api-token'

let app: InboxApp | undefined
/** An invite from a link, kept until the member is signed in. */
let pendingInvite: string | undefined

function storedToken (): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined
}

function showSignIn (message: string): void {
  app?.stop()
  app = undefined
  sessionStorage.removeItem(TOKEN_KEY)
  byId('connection').textContent = 'Signed out.'
  byId('signin-error').textContent = message
  byId('signin').hidden = false
  byId('signin-token').focus()
}

/** Signs in with a token and starts the inbox; never rejects (a failure shows the sign-in again). */
async function signIn (token: string): Promise<void> {
  app?.stop()
  sessionStorage.setItem(TOKEN_KEY, token)
  byId('signin').hidden = true
  byId('connection').textContent = 'Connecting…'
  const refused = 'The member node refused the token: sign in again (tmtp open).'
  const started = new InboxApp({ backend: new HttpBackend(location.origin, token), onUnauthorized: () => { showSignIn(refused) } })
  app = started
  try {
    await started.start()
  } catch (err) {
    if (app === started) showSignIn(err instanceof BackendError && err.code === 'UNAUTHORIZED' ? refused : `The member node did not answer: ${(err as Error).message}`)
    return
  }
  if (pendingInvite !== undefined) {
    started.offerJoin(pendingInvite)
    pendingInvite = undefined
  }
}

/** Acts on the fragment's token and invite, at load and when a link changes the fragment. */
function followFragment (): void {
  const { token, invite } = takeFragment()
  if (invite !== undefined) pendingInvite = invite
  if (token !== undefined) {
    signIn(token)
  } else if (app !== undefined && pendingInvite !== undefined) {
    app.offerJoin(pendingInvite)
    pendingInvite = undefined
  }
}

byId('signin-form').addEventListener('submit', event => {
  event.preventDefault()
  const field = byId<HTMLInputElement>('signin-token')
  const token = field.value.trim()
  field.value = ''
  if (token !== '') signIn(token)
})
window.addEventListener('hashchange', followFragment)

followFragment()
if (app === undefined) {
  const stored = storedToken()
  if (stored !== undefined) signIn(stored)
  else showSignIn(pendingInvite !== undefined ? 'Sign in to join the site of the invite link.' : '')
}
