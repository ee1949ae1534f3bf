/**
 * What an address's fragment hands the page: `#token=…` (the member API's token, from
 * `tmtp open`) or `#invite=tmtp1:…` (an invite link). A fragment never reaches a server or its
 * log; the page still removes it from the address bar (and so from the history) at once.
 */
export interface FragmentParams {
  token?: string
  invite?: string
}

/** Reads and removes the fragment's token and invite; other fragments (a skip link's) are left alone. */
export function takeFragment (): FragmentParams {
  const params: FragmentParams = {}
  for (const part of location.hash.replace(/^#/, '').split('&')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    const name = part.slice(0, eq)
    let value: string
    try {
      // no "+" to space: tokens are base64url
      value = decodeURIComponent(part.slice(eq + 1))
    } catch {
      continue
    }
    if ((name === 'token' || name === 'invite') && value !== '') params[name] = value
  }
  if (params.token !== undefined || params.invite !== undefined) history.replaceState(null, '', location.pathname + location.search)
  return params
}
